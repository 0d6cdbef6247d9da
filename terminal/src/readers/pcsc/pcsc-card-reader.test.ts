import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CardIoError, type CardSession, ReaderIoError } from '../../ports/card-reader.js';
import { MemoryDriverScreen } from '../../ports/driver-screen.js';
import { classifyAtr } from './atr-classification.js';
import { type NfcPcscContext, loadNfcPcsc } from './nfc-pcsc-module.js';
import { PcscApduTransport, withoutCase4Le } from './pcsc-apdu-transport.js';
import { PcscCardReader } from './pcsc-card-reader.js';
import { PCSC_CODE, mapTransmitError, pcscCodeOf } from './pcsc-errors.js';
import { PcscService } from './pcsc-service.js';
import { readerModelOf } from './reader-models.js';
import { DriverScreenServiceAlert, READER_SERVICE_DOWN_ALERT_ID } from './service-alert.js';

const logger = pino({ level: 'silent' });
const ISO_14443_4_ATR = Buffer.from('3B888001000000007171008188', 'hex');
const MIFARE_1K_ATR = Buffer.from('3B8F8001804F0CA000000306030001000000006A', 'hex');

/** A raw `@pokusew/pcsclite` CardReader: enough for nfc-pcsc's Reader to connect and transmit. */
class FakeRawReader extends EventEmitter {
  readonly SCARD_STATE_EMPTY = 0x10;
  readonly SCARD_STATE_PRESENT = 0x20;
  readonly SCARD_SHARE_SHARED = 2;
  readonly SCARD_SHARE_DIRECT = 3;
  readonly SCARD_LEAVE_CARD = 0;
  state = 0;
  connected = false;
  readonly sent: Buffer[] = [];
  reply: (command: Buffer) => Buffer | Error = () => Buffer.from('9000', 'hex');

  constructor(readonly name: string) {
    super();
  }

  connect(_options: unknown, callback: (error: Error | null, protocol?: number) => void) {
    this.connected = true;
    setImmediate(() => callback(null, 2));
  }

  disconnect(_disposition: number, callback: (error: Error | null) => void) {
    this.connected = false;
    setImmediate(() => callback(null));
  }

  transmit(data: Buffer, _length: number, _protocol: number, callback: (error: Error | null, response?: Buffer) => void) {
    this.sent.push(Buffer.from(data));
    const answer = this.reply(data);
    setImmediate(() => (answer instanceof Error ? callback(answer) : callback(null, answer)));
  }

  insert(atr: Buffer) {
    this.emit('status', { state: this.SCARD_STATE_PRESENT, atr });
    this.state = this.SCARD_STATE_PRESENT;
  }

  removeCard() {
    this.emit('status', { state: this.SCARD_STATE_EMPTY });
    this.state = this.SCARD_STATE_EMPTY;
  }
}

/** A PC/SC context that hands out nfc-pcsc Readers over fake raw readers. */
class FakeContext extends EventEmitter implements NfcPcscContext {
  closed = false;
  close() {
    this.closed = true;
  }
}

async function readerWithFake(name = 'ACS ACR1252 Dual Reader PICC 00 00') {
  const { Reader } = await loadNfcPcsc();
  const context = new FakeContext();
  const service = new PcscService({ logger, probe: async () => true, createContext: async () => context, initialRetryMs: 10 });
  const reader = new PcscCardReader({ logger, service });
  await reader.start();
  await service.start();
  const raw = new FakeRawReader(name);
  context.emit('reader', new Reader(raw));
  return { reader, raw, context, service };
}

function nextEvent<T>(emitter: EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

describe('PcscCardReader with a fake raw reader', () => {
  it('opens a session per card and closes it on removal', async () => {
    const { reader, raw, service } = await readerWithFake();
    expect(reader.health).toBe('ok');
    expect(reader.readerModel?.id).toBe('acr1252u');

    const arrived = nextEvent<CardSession>(reader, 'card');
    raw.insert(ISO_14443_4_ATR);
    const session = await arrived;
    expect(session.protocol).toBe('iso14443-4');
    expect(Buffer.from(session.atr)).toEqual(ISO_14443_4_ATR);
    raw.reply = () => Buffer.from('6F009000', 'hex');
    expect(Buffer.from(await session.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x00))).toString('hex')).toBe('6f009000');

    const removed = nextEvent<CardSession>(reader, 'removed');
    raw.removeCard();
    expect((await removed).id).toBe(session.id);
    await expect(session.transmit(Uint8Array.of(0x00, 0xb0, 0x95, 0x00, 0x1e))).rejects.toBeInstanceOf(CardIoError);
    await reader.stop();
    await service.stop();
  });

  it('reads the UID of a MIFARE Classic card', async () => {
    const { reader, raw, service } = await readerWithFake();
    raw.reply = (command) => (command.toString('hex') === 'ffca000000' ? Buffer.from('04a2b3c49000', 'hex') : Buffer.from('6d00', 'hex'));
    const arrived = nextEvent<CardSession>(reader, 'card');
    raw.insert(MIFARE_1K_ATR);
    const session = await arrived;
    expect(session.protocol).toBe('mifare-classic');
    expect(Buffer.from(session.uid ?? []).toString('hex')).toBe('04a2b3c4');
    await reader.stop();
    await service.stop();
  });

  it('maps a removed-card transmit error to CardIoError', async () => {
    const { reader, raw, service } = await readerWithFake();
    const arrived = nextEvent<CardSession>(reader, 'card');
    raw.insert(ISO_14443_4_ATR);
    const session = await arrived;
    raw.reply = () => new Error('SCardTransmit error: Card was removed.(0x80100069)');
    const error = await session.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x00)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CardIoError);
    expect((error as CardIoError).reason).toBe('removed');
    await reader.stop();
    await service.stop();
  });

  it('reconnects after a reader-unavailable transmit error', async () => {
    const { reader, raw, context, service } = await readerWithFake();
    const arrived = nextEvent<CardSession>(reader, 'card');
    raw.insert(ISO_14443_4_ATR);
    const session = await arrived;
    const health: string[] = [];
    reader.on('health', (value) => health.push(value));
    raw.reply = () => new Error('SCardTransmit error: Reader unavailable.(0x80100017)');
    await expect(session.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x00))).rejects.toBeInstanceOf(ReaderIoError);
    expect(context.closed).toBe(true);
    expect(health).toEqual(['fault', 'down']);
    await reader.stop();
    await service.stop();
  });

  it('ignores readers of other slots', async () => {
    const { reader, service } = await readerWithFake('Virtual PCD 00 01');
    expect(reader.health).toBe('degraded');
    await reader.stop();
    await service.stop();
  });

  it('raises the service alert while pcscd is down', async () => {
    let up = false;
    const screen = new MemoryDriverScreen();
    const alert = new DriverScreenServiceAlert({ screen });
    const reader = new PcscCardReader({
      logger,
      serviceAlert: alert,
      serviceOptions: { probe: async () => up, createContext: async () => new FakeContext(), initialRetryMs: 5, maxRetryMs: 10 },
    });
    await reader.start();
    expect(reader.health).toBe('down');
    expect(screen.alerts.get(READER_SERVICE_DOWN_ALERT_ID)?.severity).toBe('critical');
    up = true;
    await expect.poll(() => screen.alerts.size).toBe(0);
    expect(alert.statusDetails()).toEqual({ devices: { reader: 'ok' }, alerts: [] });
    await reader.stop();
  });
});

describe('PC/SC error mapping', () => {
  const cases: { code: number; expected: 'removed' | 'timeout' | 'transport' | 'reader' }[] = [
    { code: PCSC_CODE.SCARD_W_REMOVED_CARD, expected: 'removed' },
    { code: PCSC_CODE.SCARD_E_NO_SMARTCARD, expected: 'removed' },
    { code: PCSC_CODE.SCARD_E_NOT_TRANSACTED, expected: 'removed' },
    { code: PCSC_CODE.SCARD_W_RESET_CARD, expected: 'transport' },
    { code: PCSC_CODE.SCARD_E_TIMEOUT, expected: 'timeout' },
    { code: PCSC_CODE.SCARD_W_UNRESPONSIVE_CARD, expected: 'timeout' },
    { code: PCSC_CODE.SCARD_E_READER_UNAVAILABLE, expected: 'reader' },
    { code: PCSC_CODE.SCARD_F_COMM_ERROR, expected: 'reader' },
    { code: PCSC_CODE.SCARD_E_NO_SERVICE, expected: 'reader' },
    { code: 0x80100099, expected: 'reader' },
  ];
  for (const { code, expected } of cases) {
    it(`maps 0x${code.toString(16)} to ${expected}`, () => {
      const error = mapTransmitError(new Error(`SCardTransmit error: any text.(0x${code.toString(16)})`), 'test');
      if (expected === 'reader') expect(error).toBeInstanceOf(ReaderIoError);
      else expect((error as CardIoError).reason).toBe(expected);
    });
  }

  it('reads the code from a wrapped nfc-pcsc error', () => {
    const wrapped = Object.assign(new Error('An error occurred while transmitting.'), { previous: new Error('SCardTransmit error: Card was removed.(0x80100069)') });
    expect(pcscCodeOf(wrapped)).toBe(PCSC_CODE.SCARD_W_REMOVED_CARD);
  });

  it('ignores message text without a code', () => {
    expect(pcscCodeOf(new Error('Card was removed.'))).toBeUndefined();
    expect(mapTransmitError(new Error('Card was removed.'), 'test')).toBeInstanceOf(ReaderIoError);
  });

  it('maps nfc-pcsc card_not_connected to a removed card', () => {
    const error = mapTransmitError(Object.assign(new Error('No card or connection available.'), { code: 'card_not_connected' }), 'test');
    expect((error as CardIoError).reason).toBe('removed');
  });
});

describe('ATR classification', () => {
  it('classifies PC/SC contactless ATRs', () => {
    expect(classifyAtr(ISO_14443_4_ATR).kind).toBe('iso14443-4');
    expect(classifyAtr(MIFARE_1K_ATR)).toEqual({ kind: 'mifare-classic', cardName: 'MIFARE Classic 1K' });
  });

  it('rejects Ultralight, contact and garbled ATRs', () => {
    expect(classifyAtr(Buffer.from('3B8F8001804F0CA0000003060300030000000068', 'hex')).kind).toBe('unsupported');
    expect(classifyAtr(Buffer.from('3B6A000050534D2D42555346415245', 'hex')).kind).toBe('unsupported');
    expect(classifyAtr(Buffer.from('3B', 'hex')).kind).toBe('unsupported');
    expect(classifyAtr(new Uint8Array(0)).kind).toBe('unsupported');
  });
});

describe('reader models and PSAM slot', () => {
  it('matches model names', () => {
    expect(readerModelOf('Virtual PCD 00 00').id).toBe('vpcd');
    expect(readerModelOf('Virtual PCD 00 01').slot).toBe('contact');
    expect(readerModelOf('ACS ACR122U PICC Interface 00 00').id).toBe('acr122u');
    expect(readerModelOf('Some Reader 00 00').id).toBe('unknown');
  });

  it('drops Le from case-4 commands only', () => {
    expect(withoutCase4Le(Buffer.from('8070000024' + '00'.repeat(0x24) + '08', 'hex')).length).toBe(5 + 0x24);
    expect(withoutCase4Le(Buffer.from('00B0960006', 'hex')).toString('hex')).toBe('00b0960006');
    expect(withoutCase4Le(Buffer.from('00A40000023F00', 'hex')).toString('hex')).toBe('00a40000023f00');
  });

  it('rejects a transmit before the PSAM is present', async () => {
    const transport = new PcscApduTransport({ logger, serviceOptions: { probe: async () => false, initialRetryMs: 1000 }, startTimeoutMs: 20 });
    await expect(transport.start()).rejects.toThrow(/PSAM not ready after 20 ms/);
    await expect(transport.transmit(Uint8Array.of(0x00, 0xb0, 0x96, 0x00, 0x06))).rejects.toBeInstanceOf(ReaderIoError);
    await transport.stop();
  });
});
