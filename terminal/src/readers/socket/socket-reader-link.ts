import { EventEmitter } from 'node:events';
import { type Socket, connect } from 'node:net';
import { fromHex, toHex } from '@busfare/shared-protocol';
import type { Logger } from '../../logger.js';
import type { ApduTransport } from '../../ports/apdu-transport.js';
import { CardIoError, type CardProtocol, type CardReader, type CardReaderEvents, type CardSession, ReaderIoError } from '../../ports/card-reader.js';
import type { TapOutcome } from '../../tap/tap-outcome.js';
import { LineSplitter, type TerminalToReader, readerToTerminalSchema } from './reader-link-protocol.js';

export interface SocketReaderLinkOptions {
  /** Path of the reader's Unix domain socket. */
  path: string;
  terminalId: string;
  logger: Logger;
  /** Milliseconds an APDU waits for its response. */
  apduTimeoutMs?: number;
  /** Milliseconds between reconnect attempts. */
  reconnectMs?: number;
}

interface PendingRequest {
  resolve(response: Uint8Array): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  slot: 'card' | 'psam';
}

/** A card presented on the socket-attached reader. */
class SocketCardSession implements CardSession {
  removed = false;

  constructor(
    readonly id: number,
    readonly atr: Uint8Array,
    readonly protocol: CardProtocol,
    private readonly link: SocketReaderLink,
    readonly uid?: Uint8Array,
  ) {}

  transmit(command: Uint8Array): Promise<Uint8Array> {
    if (this.removed) return Promise.reject(new CardIoError(`card of session ${this.id} left the field`, 'removed'));
    return this.link.request({ slot: 'card', session: this.id, apdu: toHex(command) });
  }
}

/**
 * The terminal's end of a simulated reader in another process: its CardReader (contactless
 * field) and the ApduTransport of its PSAM slot, over one Unix domain socket that is reconnected
 * whenever it drops. A dropped link removes the card in the field and fails its open APDUs.
 */
export class SocketReaderLink extends EventEmitter<CardReaderEvents> implements CardReader {
  readonly name: string;
  /** The PSAM slot of this reader. */
  readonly psam: ApduTransport = { transmit: (command) => this.request({ slot: 'psam', apdu: toHex(command) }) };
  private socket: Socket | undefined;
  private connected = false;
  private stopped = true;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, PendingRequest>();
  private current: SocketCardSession | undefined;
  private connectWaiters: (() => void)[] = [];

  constructor(private readonly options: SocketReaderLinkOptions) {
    super();
    this.name = `socket reader ${options.path}`;
  }

  /** Connects (and keeps reconnecting until stop()); resolves once the first connection is up. */
  async start(): Promise<void> {
    if (!this.stopped) return this.waitConnected();
    this.stopped = false;
    this.open();
    return this.waitConnected();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
    this.dropLink('reader link stopped');
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Tells the reader process what the door display showed for a session. */
  sendOutcome(session: number, outcome: TapOutcome): void {
    this.send({ type: 'outcome', session, outcome });
  }

  /** @internal Sends one APDU and resolves with the response. */
  request(target: { slot: 'card'; session: number; apdu: string } | { slot: 'psam'; apdu: string }): Promise<Uint8Array> {
    if (!this.connected) {
      const error = target.slot === 'card' ? new CardIoError('reader link is down', 'transport') : new ReaderIoError('reader link is down, so the PSAM slot is unreachable');
      return Promise.reject(error);
    }
    this.nextId += 1;
    const id = this.nextId;
    return new Promise<Uint8Array>((resolve, reject) => {
      const timeoutMs = this.options.apduTimeoutMs ?? 2_000;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(target.slot === 'card' ? new CardIoError(`card response timed out after ${timeoutMs} ms`, 'timeout') : new ReaderIoError(`PSAM response timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, slot: target.slot });
      this.send({ type: 'transmit', id, ...target });
    });
  }

  private waitConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.connectWaiters.push(resolve));
  }

  private open(): void {
    const socket = connect({ path: this.options.path });
    this.socket = socket;
    const splitter = new LineSplitter((line) => this.onLine(line));
    socket.on('connect', () => {
      this.connected = true;
      this.send({ type: 'hello', terminalId: this.options.terminalId });
      this.options.logger.info({ path: this.options.path }, 'reader link connected');
      this.emit('health', 'ok');
      for (const waiter of this.connectWaiters.splice(0)) waiter();
    });
    socket.on('data', (chunk) => splitter.push(chunk));
    socket.on('error', (error) => this.options.logger.debug({ err: error, path: this.options.path }, 'reader link error'));
    socket.on('close', () => {
      const wasConnected = this.connected;
      this.dropLink('reader link closed');
      if (wasConnected) this.options.logger.warn({ path: this.options.path }, 'reader link closed, reconnecting');
      if (!this.stopped) this.reconnectTimer = setTimeout(() => this.open(), this.options.reconnectMs ?? 200);
    });
  }

  private dropLink(reason: string): void {
    const wasConnected = this.connected;
    this.connected = false;
    for (const [id, request] of this.pending) {
      clearTimeout(request.timer);
      request.reject(request.slot === 'card' ? new CardIoError(reason, 'transport') : new ReaderIoError(reason));
      this.pending.delete(id);
    }
    this.removeCurrent();
    if (wasConnected) this.emit('health', 'down');
  }

  private onLine(line: string): void {
    let message;
    try {
      message = readerToTerminalSchema.parse(JSON.parse(line));
    } catch (error) {
      this.options.logger.warn({ err: error }, 'ignored an invalid message from the reader');
      return;
    }
    if (message.type === 'card') {
      this.removeCurrent();
      const session = new SocketCardSession(message.session, fromHex(message.atr), message.protocol, this, message.uid === undefined ? undefined : fromHex(message.uid));
      this.current = session;
      this.emit('card', session);
    } else if (message.type === 'removed') {
      if (this.current?.id === message.session) this.removeCurrent();
    } else {
      const request = this.pending.get(message.id);
      if (!request) return;
      this.pending.delete(message.id);
      clearTimeout(request.timer);
      if (message.apdu !== undefined) request.resolve(fromHex(message.apdu));
      else if (request.slot === 'card') request.reject(new CardIoError(`card failed: ${message.error ?? 'no response'}`, message.error ?? 'transport'));
      else request.reject(new ReaderIoError(`PSAM failed: ${message.error ?? 'no response'}`));
    }
  }

  private removeCurrent(): void {
    const session = this.current;
    if (!session) return;
    this.current = undefined;
    session.removed = true;
    this.emit('removed', session);
  }

  private send(message: TerminalToReader): void {
    if (!this.socket || !this.connected) return;
    this.socket.write(`${JSON.stringify(message)}\n`);
  }
}
