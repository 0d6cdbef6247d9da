import { mifare } from '@busfare/shared-protocol';
import {
  ACK_FRAME,
  MIFARE_CMD,
  PN532_COMMAND,
  PN532_STATUS,
  Pn532FrameDecoder,
  TFI_HOST_TO_PN532,
  TFI_PN532_TO_HOST,
  encodeErrorFrame,
  encodeFrame,
  encodeTypeATarget,
  type TypeATarget,
} from '@busfare/terminal';
import { SerialPort } from 'serialport';
import type { ApduCard } from '../cards/apdu-card.js';
import type { TearPhase } from './in-process-reader.js';

/** Chooses the card exchange a planned tear happens at, by the bytes sent inside InDataExchange. */
export type TearMatcher = (command: Uint8Array) => boolean;

/** Firmware version a PN532 v1.6 reports: IC 32, version 1, revision 6, support 07. */
const FIRMWARE_VERSION = Uint8Array.of(0x32, 0x01, 0x06, 0x07);
const DIAGNOSE = 0x00;
const RF_CONFIGURATION = 0x32;

const VALUE_KINDS: Record<number, PendingValueOperation['kind']> = {
  [MIFARE_CMD.decrement]: 'decrement',
  [MIFARE_CMD.increment]: 'increment',
  [MIFARE_CMD.restore]: 'restore',
};

interface PendingValueOperation {
  kind: 'increment' | 'decrement' | 'restore';
  block: number;
  value: number;
}

/**
 * A PN532 module at the far end of a serial line, with a virtual card in its field. It sends an
 * ACK and then the response for each command frame, and a NACK from the host makes it resend the
 * last response. InListPassiveTarget lists the card. InDataExchange passes APDUs to an ISO-DEP card
 * unchanged and turns MIFARE commands into the PC/SC pseudo-APDUs the virtual M1 card implements.
 * Once the card is taken away, or torn away by `tearAt`, InDataExchange returns status 01
 * (time-out), as a PN532 does when the card is silent. A card put in the field stays idle until
 * InListPassiveTarget activates it, so a card swapped in during a session does not respond to
 * that session's exchanges, just as a real card in the ISO/IEC 14443-3 idle state ignores them.
 * NOTE: every MIFARE operation the card rejects returns status 14, the authentication error.
 * A real PN532 may report a NAK to READ or WRITE with another code.
 */
export class Pn532Emulator {
  private readonly decoder = new Pn532FrameDecoder();
  private card: ApduCard | undefined;
  /** Whether InListPassiveTarget has activated the card in the field since it entered. */
  private activated = false;
  private lastResponse: Uint8Array | undefined;
  private pendingValue: PendingValueOperation | undefined;
  private tear: { matches: TearMatcher; phase: TearPhase } | undefined;
  private mute = false;

  constructor(private readonly write: (bytes: Uint8Array) => void) {}

  /** Puts a card in the field, replacing any card there. The card responds once InListPassiveTarget has activated it. */
  present(card: ApduCard): void {
    this.card = card;
    this.activated = false;
    this.pendingValue = undefined;
  }

  /** Takes the card out of the field. */
  remove(): void {
    this.card = undefined;
    this.activated = false;
  }

  get cardInField(): ApduCard | undefined {
    return this.card;
  }

  /** Removes the card at the first card exchange `matches` accepts, before or after the card acts on it. */
  tearAt(matches: TearMatcher, phase: TearPhase): void {
    this.tear = { matches, phase };
  }

  /** Makes the module read frames and send nothing back, like one that hung or lost power. */
  setMute(mute: boolean): void {
    this.mute = mute;
  }

  /** Feeds bytes the host wrote. */
  receive(chunk: Uint8Array): void {
    for (const frame of this.decoder.push(chunk)) {
      if (this.mute) continue;
      if (frame.kind === 'nack') {
        if (this.lastResponse) this.write(this.lastResponse);
      } else if (frame.kind === 'info') {
        if (frame.tfi !== TFI_HOST_TO_PN532 || frame.data.length === 0) {
          this.write(encodeErrorFrame());
          continue;
        }
        this.write(ACK_FRAME);
        const code = frame.data[0]!;
        const answer = this.answer(code, frame.data.subarray(1));
        const response = answer === undefined ? encodeErrorFrame() : encodeFrame(TFI_PN532_TO_HOST, Uint8Array.from([code + 1, ...answer]));
        this.lastResponse = response;
        this.write(response);
      }
      // An ACK from the host aborts a command. This module completes every command at once, so an ACK changes nothing.
    }
  }

  private answer(code: number, params: Uint8Array): Uint8Array | undefined {
    switch (code) {
      case PN532_COMMAND.GetFirmwareVersion:
        return FIRMWARE_VERSION;
      case PN532_COMMAND.SAMConfiguration:
      case RF_CONFIGURATION:
        return new Uint8Array(0);
      case PN532_COMMAND.InListPassiveTarget:
        return this.listTarget(params);
      case PN532_COMMAND.InRelease:
        this.activated = false;
        return Uint8Array.of(0x00);
      case DIAGNOSE:
        if (params[0] !== 0x06) return undefined;
        return Uint8Array.of(this.card && this.activated ? PN532_STATUS.ok : PN532_STATUS.timeout);
      case PN532_COMMAND.InDataExchange:
        return this.dataExchange(params);
      default:
        return undefined;
    }
  }

  private listTarget(params: Uint8Array): Uint8Array {
    if (params[1] !== 0x00) return Uint8Array.of(0x00);
    const card = this.card;
    if (!card) return Uint8Array.of(0x00);
    this.pendingValue = undefined;
    this.activated = true;
    // Anticollision starts a new presentation: the M1 card drops its authentication on GET UID.
    if (card.protocol === 'mifare-classic') card.process(mifare.getUid());
    return Uint8Array.from([0x01, ...encodeTypeATarget(targetOf(card))]);
  }

  private dataExchange(params: Uint8Array): Uint8Array {
    const card = this.card;
    if (params[0] !== 0x01 || !card || !this.activated) return Uint8Array.of(PN532_STATUS.timeout);
    const command = params.subarray(1);
    const tear = this.tear?.matches(command) ? this.tear : undefined;
    if (tear) {
      this.tear = undefined;
      this.card = undefined;
      if (tear.phase === 'before-card') return Uint8Array.of(PN532_STATUS.timeout);
    }
    const answer = card.protocol === 'iso14443-4' ? Uint8Array.from([PN532_STATUS.ok, ...card.process(command)]) : this.mifareCommand(card, command);
    return tear ? Uint8Array.of(PN532_STATUS.timeout) : answer;
  }

  private mifareCommand(card: ApduCard, command: Uint8Array): Uint8Array {
    const refused = Uint8Array.of(PN532_STATUS.mifareAuthentication);
    const run = (apdu: Uint8Array): Uint8Array | undefined => {
      const response = card.process(apdu);
      const ok = response.length >= 2 && response[response.length - 2] === 0x90 && response[response.length - 1] === 0x00;
      return ok ? response.subarray(0, response.length - 2) : undefined;
    };
    const block = command[1] ?? 0;
    switch (command[0]) {
      case MIFARE_CMD.authA:
      case MIFARE_CMD.authB: {
        if (command.length < 12) return Uint8Array.of(PN532_STATUS.invalidParameter);
        // Crypto1 starts from the UID bytes in the command, so a card fails an authentication that
        // names other bytes than the last four of its UID.
        if (!Buffer.from(command.subarray(8, 12)).equals(Buffer.from(targetOf(card).uid.subarray(-4)))) return refused;
        run(mifare.loadKey(0, command.subarray(2, 8)));
        return run(mifare.authenticate(block, command[0] === MIFARE_CMD.authA ? 'A' : 'B', 0)) ? Uint8Array.of(PN532_STATUS.ok) : refused;
      }
      case MIFARE_CMD.read: {
        const data = run(mifare.readBlock(block));
        return data ? Uint8Array.from([PN532_STATUS.ok, ...data]) : refused;
      }
      case MIFARE_CMD.write:
        if (command.length !== 18) return Uint8Array.of(PN532_STATUS.invalidParameter);
        return run(mifare.writeBlock(block, command.subarray(2))) ? Uint8Array.of(PN532_STATUS.ok) : refused;
      case MIFARE_CMD.decrement:
      case MIFARE_CMD.increment:
      case MIFARE_CMD.restore: {
        if (command.length !== 6) return Uint8Array.of(PN532_STATUS.invalidParameter);
        const value = new DataView(command.buffer, command.byteOffset + 2, 4).getUint32(0, true);
        this.pendingValue = { kind: VALUE_KINDS[command[0]]!, block, value };
        return Uint8Array.of(PN532_STATUS.ok);
      }
      case MIFARE_CMD.transfer: {
        const pending = this.pendingValue;
        this.pendingValue = undefined;
        if (!pending) return refused;
        if (pending.kind === 'restore') return run(mifare.restoreValue(pending.block, block)) ? Uint8Array.of(PN532_STATUS.ok) : refused;
        // The virtual card applies a value operation to its own block only.
        if (pending.block !== block) return refused;
        return run(mifare.valueOperation(block, pending.kind, pending.value)) ? Uint8Array.of(PN532_STATUS.ok) : refused;
      }
      default:
        return refused;
    }
  }
}

/** Builds the target data the module reports at activation: ATQA, SAK, UID and, for ISO-DEP, the ATS. */
export function targetOf(card: ApduCard): TypeATarget {
  const uid = card.uid ?? Uint8Array.of(0x08, 0x12, 0x34, 0x56);
  if (card.protocol === 'mifare-classic') return { tg: 1, atqa: Uint8Array.of(0x00, 0x04), sak: 0x08, uid };
  // The ATS carries the historical bytes of the card's PC/SC ATR (3B 8n 80 01 hist TCK): FSCI 256,
  // 106 kbit/s only, FWI 7, SFGI 0, no NAD or CID.
  const historical = historicalOfAtr(card.atr);
  const ats = Uint8Array.from([5 + historical.length, 0x78, 0x00, 0x70, 0x00, ...historical]);
  return { tg: 1, atqa: Uint8Array.of(0x00, 0x04), sak: 0x20, uid, ats };
}

function historicalOfAtr(atr: Uint8Array): Uint8Array {
  const count = (atr[1] ?? 0) & 0x0f;
  return atr[2] === 0x80 && atr[3] === 0x01 ? atr.slice(4, 4 + count) : new Uint8Array(0);
}

export interface PtyPn532Emulator {
  emulator: Pn532Emulator;
  close(): Promise<void>;
}

/** Runs a Pn532Emulator on a serial device or pseudo-terminal, e.g. one end of a socat pty pair. */
export async function openPn532Emulator(path: string, baudRate = 115_200): Promise<PtyPn532Emulator> {
  const port = new SerialPort({ path, baudRate, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  const emulator = new Pn532Emulator((bytes) => void port.write(Buffer.from(bytes)));
  port.on('data', (chunk: Buffer) => emulator.receive(chunk));
  port.on('error', () => undefined);
  return {
    emulator,
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}
