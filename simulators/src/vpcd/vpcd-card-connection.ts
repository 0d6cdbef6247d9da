import { EventEmitter } from 'node:events';
import { type Socket, connect } from 'node:net';
import type { ApduProcessor } from '../cards/apdu-card.js';
import type { TearPhase } from '../reader/in-process-reader.js';

/** TCP port on which vpcd in server mode listens for the card of slot 0; slot n listens on this port + n. */
export const VPCD_BASE_PORT = 0x8c7b;

/** Control bytes vpcd sends as one-byte messages. Only GET_ATR expects a response. */
export const VPCD_CONTROL = { powerOff: 0x00, powerOn: 0x01, reset: 0x02, getAtr: 0x04 } as const;

/** The only host this client connects to: vpcd runs in a private network namespace that has only `lo`. */
const VPCD_HOST = '127.0.0.1';

export interface VpcdCardConnectionOptions {
  /** vpcd slot number (0 or 1 in Debian's vpcd 3.3); the port is VPCD_BASE_PORT + slot. Default 0. */
  slot?: number;
  /** ATR to report; default the card's own `atr`. A PSAM (an ApduProcessor) needs one given here. */
  atr?: Uint8Array;
  /** How long insert() keeps retrying a refused connection while pcscd starts its driver, in ms. Default 3000. */
  connectRetryMs?: number;
}

export interface VpcdCardConnectionEvents {
  inserted: [];
  removed: [];
  /** A command APDU reached the card (zero-based index within this insertion). */
  apdu: [number];
  error: [Error];
}

interface PlannedTear {
  apduIndex: number;
  phase: TearPhase;
}

/**
 * Puts a simulated card or PSAM into a vpcd virtual reader, so the real pcscd and the PC/SC
 * client libraries see it. vpcd's socket protocol frames every message in both directions as a
 * 2-byte big-endian length and a payload. A 1-byte payload from vpcd is a control byte (VPCD_CONTROL),
 * and a longer one is a command APDU that the card answers with its response APDU. Being connected
 * means the card is in the field, so closing the socket removes it.
 */
export class VpcdCardConnection extends EventEmitter<VpcdCardConnectionEvents> {
  readonly port: number;
  private socket: Socket | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private apdus = 0;
  private plannedTear: PlannedTear | undefined;
  private readonly connectRetryMs: number;

  constructor(
    private card: ApduProcessor & { readonly atr?: Uint8Array },
    private readonly options: VpcdCardConnectionOptions = {},
  ) {
    super();
    const slot = options.slot ?? 0;
    if (!Number.isInteger(slot) || slot < 0 || slot > 15) throw new RangeError(`invalid vpcd slot ${slot}: expected an integer from 0 to 15`);
    this.port = VPCD_BASE_PORT + slot;
    this.connectRetryMs = options.connectRetryMs ?? 3000;
    if (!this.atr) throw new TypeError('the card has no ATR: pass options.atr for an APDU processor such as a PSAM');
  }

  get isInserted(): boolean {
    return this.socket !== undefined;
  }

  /** Command APDUs received since the last insert(). */
  get apduCount(): number {
    return this.apdus;
  }

  /** Replaces the card; takes effect at the next insert(). */
  setCard(card: ApduProcessor & { readonly atr?: Uint8Array }): void {
    if (this.socket) throw new Error('remove the current card before setting another one');
    this.card = card;
  }

  /** Connects to vpcd, which pcscd then reports as a card inserted. Retries refused connections for `connectRetryMs`. */
  async insert(): Promise<void> {
    if (this.socket) return;
    const deadline = Date.now() + this.connectRetryMs;
    for (;;) {
      try {
        this.socket = await this.open();
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ECONNREFUSED' || Date.now() >= deadline) {
          throw new Error(`cannot connect to vpcd at ${VPCD_HOST}:${this.port}: ${(error as Error).message}; is pcscd running with the vpcd reader?`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    this.apdus = 0;
    this.pending = Buffer.alloc(0);
    this.emit('inserted');
  }

  /** Closes the socket, which pcscd reports as the card removed. Resolves once the socket is closed. */
  async remove(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  /**
   * Removes the card when command APDU number `apduIndex` (zero-based, counted from the next
   * insert() when no card is in) arrives: before the card processes it, or after it processed it
   * but before the response goes back.
   */
  tearAt(apduIndex: number, phase: TearPhase): void {
    if (!Number.isInteger(apduIndex) || apduIndex < 0) throw new RangeError(`invalid APDU index ${apduIndex}: expected an integer of 0 or more`);
    this.plannedTear = { apduIndex, phase };
  }

  cancelTear(): void {
    this.plannedTear = undefined;
  }

  private get atr(): Uint8Array | undefined {
    return this.options.atr ?? this.card.atr;
  }

  private open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: VPCD_HOST, port: this.port });
      // vpcd 3.3 reads the length and the payload separately; without NODELAY every answer waits on Nagle.
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        // A reset socket (pcscd killed) also closes it, which reports the card removed; 'error' is only for listeners.
        socket.on('error', (error) => {
          if (this.listenerCount('error') > 0) this.emit('error', error);
        });
        socket.on('data', (chunk) => this.receive(socket, chunk));
        socket.once('close', () => this.closed(socket));
        resolve(socket);
      });
    });
  }

  private closed(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.emit('removed');
  }

  private receive(socket: Socket, chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 2 && this.socket === socket) {
      const length = this.pending.readUInt16BE(0);
      if (this.pending.length < 2 + length) return;
      const payload = this.pending.subarray(2, 2 + length);
      this.pending = this.pending.subarray(2 + length);
      if (length === 1) this.control(socket, payload[0] ?? 0);
      else if (length > 1) this.command(socket, Uint8Array.from(payload));
    }
  }

  private control(socket: Socket, code: number): void {
    // Power off, power on and reset change nothing on a simulated card; only GET ATR is answered.
    if (code === VPCD_CONTROL.getAtr) this.send(socket, this.atr ?? new Uint8Array(0));
  }

  private command(socket: Socket, apdu: Uint8Array): void {
    const index = this.apdus;
    this.apdus += 1;
    this.emit('apdu', index);
    const tear = this.plannedTear?.apduIndex === index ? this.plannedTear : undefined;
    if (tear) this.plannedTear = undefined;
    if (tear?.phase === 'before-card') {
      socket.destroy();
      return;
    }
    const response = this.card.process(apdu);
    if (tear) {
      socket.destroy();
      return;
    }
    this.send(socket, response);
  }

  private send(socket: Socket, payload: Uint8Array): void {
    const frame = Buffer.alloc(2 + payload.length);
    frame.writeUInt16BE(payload.length, 0);
    frame.set(payload, 2);
    socket.write(frame);
  }
}
