import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { fromHex, toHex } from '@busfare/shared-protocol';
import { CardIoError, LineSplitter, type Logger, type ReaderToTerminal, type TapOutcome, type TerminalToReader } from '@busfare/terminal';
import type { ApduCard, ApduProcessor } from '../cards/apdu-card.js';
import { PsamTransport } from '../psam/psam-transport.js';
import { InProcessCardReader, type InProcessCardSession, type TearPhase } from './in-process-reader.js';

export interface SocketReaderHostOptions {
  /** Path of the Unix domain socket the terminal connects to. */
  path: string;
  /** The PSAM in the reader's contact slot. */
  psam: ApduProcessor;
  logger: Logger;
  cardLatencyMs?: number;
  psamLatencyMs?: number;
  /**
   * Called after the card processed a command and before its response goes back. Returning
   * true withholds the response, as when the terminal dies at that moment.
   */
  afterCardCommand?: (command: Uint8Array, session: InProcessCardSession) => boolean;
}

/** Result of one card presentation as the bench sees it. */
export interface HostedTap {
  /** Outcome the door display showed; undefined when the terminal sent none (killed, link lost, timed out). */
  outcome?: TapOutcome;
  /** Whether DEBIT reached the card, so the card may have been debited. */
  debitSent: boolean;
  sessionId: number;
}

interface HostEvents {
  connected: [];
  disconnected: [];
}

/** CLA 80, INS 54: DEBIT FOR PURCHASE. */
function isDebit(command: Uint8Array): boolean {
  return command.length >= 2 && command[0] === 0x80 && command[1] === 0x54;
}

/**
 * The reader process side of a socket-attached simulated reader: the contactless field with
 * virtual cards (tears and link latency from InProcessCardReader) and a PSAM slot, served to
 * one terminal process over a Unix domain socket. The cards live here, so a terminal that is
 * killed leaves every card with its true balance.
 */
export class SocketReaderHost extends EventEmitter<HostEvents> {
  readonly reader: InProcessCardReader;
  private readonly psam: PsamTransport;
  private server: Server | undefined;
  private terminal: Socket | undefined;
  private readonly outcomeWaiters = new Map<number, (outcome: TapOutcome | undefined) => void>();
  private readonly debitSessions = new Set<number>();

  constructor(private readonly options: SocketReaderHostOptions) {
    super();
    this.reader = new InProcessCardReader({ name: `socket reader ${options.path}`, apduLatencyMs: options.cardLatencyMs ?? 0 });
    this.psam = new PsamTransport(options.psam, { latencyMs: options.psamLatencyMs ?? 0 });
    this.reader.on('card', (session) => this.send({ type: 'card', session: session.id, atr: toHex(session.atr), protocol: session.protocol, ...(session.uid ? { uid: toHex(session.uid) } : {}) }));
    this.reader.on('removed', (session) => this.send({ type: 'removed', session: session.id }));
  }

  get connected(): boolean {
    return this.terminal !== undefined;
  }

  async listen(): Promise<void> {
    rmSync(this.options.path, { force: true });
    await this.reader.start();
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.terminal?.destroy();
    await this.reader.stop();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.options.path, { force: true });
  }

  /** Resolves when a terminal is connected, or false after timeoutMs. */
  async waitConnected(timeoutMs: number): Promise<boolean> {
    if (this.connected) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        resolve(false);
      }, timeoutMs);
      const onConnected = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.once('connected', onConnected);
    });
  }

  /**
   * Presents a card until the terminal reports the outcome (or the link drops, or timeoutMs
   * passes), then takes it away. A tear plan makes the card leave at that APDU.
   */
  async tap(card: ApduCard, options: { tear?: { apduIndex: number; phase: TearPhase }; timeoutMs?: number } = {}): Promise<HostedTap> {
    if (options.tear) this.reader.tearAt(options.tear.apduIndex, options.tear.phase);
    else this.reader.cancelTear();
    const session = this.reader.present(card);
    const outcome = await new Promise<TapOutcome | undefined>((resolve) => {
      const timer = setTimeout(() => finish(undefined), options.timeoutMs ?? 5_000);
      const finish = (value: TapOutcome | undefined) => {
        clearTimeout(timer);
        this.outcomeWaiters.delete(session.id);
        resolve(value);
      };
      this.outcomeWaiters.set(session.id, finish);
      if (!this.connected) finish(undefined);
    });
    if (this.reader.currentSession === session) this.reader.remove();
    const debitSent = this.debitSessions.delete(session.id);
    return { outcome, debitSent, sessionId: session.id };
  }

  private accept(socket: Socket): void {
    // One terminal per reader: a new connection replaces an old one left by a killed process.
    this.terminal?.destroy();
    this.terminal = socket;
    socket.setNoDelay(true);
    const splitter = new LineSplitter((line) => this.onLine(socket, line));
    socket.on('data', (chunk) => splitter.push(chunk));
    socket.on('error', (error) => this.options.logger.debug({ err: error }, 'reader host connection error'));
    socket.on('close', () => {
      if (this.terminal !== socket) return;
      this.terminal = undefined;
      // The terminal is gone: the rider takes the card away and its tap has no outcome.
      this.reader.remove();
      for (const finish of [...this.outcomeWaiters.values()]) finish(undefined);
      this.emit('disconnected');
    });
    this.emit('connected');
  }

  private onLine(socket: Socket, line: string): void {
    let message: TerminalToReader;
    try {
      message = JSON.parse(line) as TerminalToReader;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'ignored an invalid line from the terminal');
      return;
    }
    if (message.type === 'outcome') {
      this.outcomeWaiters.get(message.session)?.(message.outcome);
    } else if (message.type === 'transmit') {
      void this.transmit(socket, message);
    }
  }

  private async transmit(socket: Socket, message: Extract<TerminalToReader, { type: 'transmit' }>): Promise<void> {
    const command = fromHex(message.apdu);
    let reply: ReaderToTerminal;
    if (message.slot === 'psam') {
      try {
        reply = { type: 'response', id: message.id, apdu: toHex(await this.psam.transmit(command)) };
      } catch (error) {
        this.options.logger.warn({ err: error }, 'PSAM command failed');
        reply = { type: 'response', id: message.id, error: 'transport' };
      }
    } else {
      const session = this.reader.currentSession;
      if (!session || session.id !== message.session) {
        reply = { type: 'response', id: message.id, error: 'removed' };
      } else {
        if (isDebit(command)) this.debitSessions.add(session.id);
        try {
          const response = await session.transmit(command);
          if (this.options.afterCardCommand?.(command, session)) return;
          reply = { type: 'response', id: message.id, apdu: toHex(response) };
        } catch (error) {
          reply = { type: 'response', id: message.id, error: error instanceof CardIoError ? error.reason : 'transport' };
        }
      }
    }
    if (socket === this.terminal) socket.write(`${JSON.stringify(reply)}\n`);
  }

  private send(message: ReaderToTerminal): void {
    this.terminal?.write(`${JSON.stringify(message)}\n`);
  }
}
