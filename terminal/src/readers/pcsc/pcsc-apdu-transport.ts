import type { Logger } from 'pino';
import type { ApduTransport } from '../../ports/apdu-transport.js';
import { CardIoError, ReaderIoError } from '../../ports/card-reader.js';
import { mapTransmitError } from './pcsc-errors.js';
import type { NfcPcscReader } from './nfc-pcsc-module.js';
import { PcscService, type PcscServiceOptions } from './pcsc-service.js';
import { matchesReaderName, type ReaderNameFilter, redirectErrorEvents } from './reader-selection.js';
import { readerModelOf } from './reader-models.js';

/** SCARD_PROTOCOL_T0 as nfc-pcsc reports the connection protocol. */
const PROTOCOL_T0 = 1;

export interface PcscApduTransportOptions {
  logger: Logger;
  /** The PSAM slot: a substring or pattern of its PC/SC name. Default: the first slot the model table marks as contact. */
  readerName?: ReaderNameFilter;
  service?: PcscService;
  serviceOptions?: Omit<PcscServiceOptions, 'logger'>;
  /** How long start() waits for the slot and its PSAM, in ms. Default 5000. */
  startTimeoutMs?: number;
}

/**
 * An ApduTransport over a PSAM in a PC/SC contact slot, for ApduSecureAccessModule. Under T=0 a
 * case-4 command goes out without its Le, as ISO 7816-3 maps case 4 onto T=0; the PSAM then answers
 * 61xx and the exchange helper fetches the data with GET RESPONSE. The PSAM stays in its slot, so
 * the transport keeps nfc-pcsc's card connection for as long as the slot reports the card.
 */
export class PcscApduTransport implements ApduTransport {
  private readonly service: PcscService;
  private readonly ownsService: boolean;
  private reader: NfcPcscReader | undefined;
  private present = false;
  private atrBytes: Uint8Array | undefined;
  private waiters: (() => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private readonly onReader = (reader: NfcPcscReader) => this.adopt(reader);

  constructor(private readonly options: PcscApduTransportOptions) {
    this.ownsService = options.service === undefined;
    this.service = options.service ?? new PcscService({ logger: options.logger, ...options.serviceOptions });
  }

  /** PC/SC name of the slot in use. */
  get name(): string | undefined {
    return this.reader?.name;
  }

  /** ATR of the PSAM in the slot. */
  get atr(): Uint8Array | undefined {
    return this.atrBytes;
  }

  /** Waits until the slot reports a PSAM; rejects with ReaderIoError after `startTimeoutMs`. */
  async start(): Promise<void> {
    this.service.on('reader', this.onReader);
    if (this.ownsService) await this.service.start();
    if (this.present) return;
    const timeoutMs = this.options.startTimeoutMs ?? 5000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== ready);
        const where = this.reader ? `slot "${this.reader.name}" has no PSAM` : 'no PSAM slot found';
        reject(new ReaderIoError(`PSAM not ready after ${timeoutMs} ms: ${where}`));
      }, timeoutMs);
      const ready = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(ready);
    });
  }

  async stop(): Promise<void> {
    this.service.off('reader', this.onReader);
    this.reader = undefined;
    this.present = false;
    if (this.ownsService) await this.service.stop();
  }

  transmit(command: Uint8Array): Promise<Uint8Array> {
    const copy = Buffer.from(command);
    const result = this.queue.then(() => this.send(copy));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async send(command: Buffer): Promise<Uint8Array> {
    const reader = this.reader;
    if (!reader || !this.present) throw new ReaderIoError(reader ? `no PSAM in slot "${reader.name}"` : 'PSAM slot not found');
    const outgoing = reader.connection?.protocol === PROTOCOL_T0 ? withoutCase4Le(command) : command;
    let response: Buffer;
    try {
      response = await reader.transmit(outgoing, readerModelOf(reader.name).maxResponseLength);
    } catch (error) {
      throw mapTransmitError(error, `PSAM slot "${reader.name}"`);
    }
    if (response.length < 2) throw new CardIoError(`PSAM slot "${reader.name}": ${response.length}-byte response`, 'transport');
    return Uint8Array.from(response);
  }

  private adopt(reader: NfcPcscReader): void {
    if (this.reader) return;
    const wanted = this.options.readerName === undefined ? readerModelOf(reader.name).slot === 'contact' : matchesReaderName(reader.name, this.options.readerName);
    if (!wanted) return;
    this.reader = reader;
    reader.autoProcessing = false;
    redirectErrorEvents(reader);
    reader.on('card', (card: { atr?: Buffer }) => {
      if (this.reader !== reader) return;
      this.present = true;
      this.atrBytes = Uint8Array.from(card.atr ?? []);
      this.options.logger.info({ slot: reader.name }, 'PSAM present');
      for (const waiter of this.waiters.splice(0)) waiter();
    });
    reader.on('card.off', () => {
      if (this.reader !== reader) return;
      this.present = false;
      this.options.logger.error({ slot: reader.name }, 'PSAM removed from its slot');
    });
    reader.on('error', (error: Error) => this.options.logger.warn({ slot: reader.name, err: error }, 'PSAM slot error'));
    reader.on('end', () => {
      if (this.reader !== reader) return;
      this.reader = undefined;
      this.present = false;
      this.options.logger.error({ slot: reader.name }, 'PSAM slot removed; waiting for it to come back');
    });
  }
}

/** Drops Le from a case-4 short APDU (CLA INS P1 P2 Lc data Le); other cases are returned unchanged. */
export function withoutCase4Le(command: Buffer): Buffer {
  if (command.length < 6) return command;
  const lc = command[4] ?? 0;
  if (lc !== 0 && command.length === 5 + lc + 1) return command.subarray(0, command.length - 1);
  return command;
}
