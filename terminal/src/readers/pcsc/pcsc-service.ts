import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import { connect } from 'node:net';
import type { Logger } from 'pino';
import { isServiceLoss } from './pcsc-errors.js';
import { type NfcPcscContext, type NfcPcscReader, loadNfcPcsc } from './nfc-pcsc-module.js';

/** pcscd's socket. pcscd 1.9 hard-codes it; the client library honours PCSCLITE_CSOCK_NAME. */
export const DEFAULT_PCSCD_SOCKET = '/run/pcscd/pcscd.comm';

export function pcscdSocketPath(): string {
  return process.env.PCSCLITE_CSOCK_NAME ?? DEFAULT_PCSCD_SOCKET;
}

/**
 * Checks that pcscd accepts connections on its socket. A socket file alone is not enough: pcscd
 * killed by SIGKILL leaves the file behind, and connecting to it is refused.
 */
export function probePcscd(socketPath = pcscdSocketPath(), timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const timer = setTimeout(() => finish(false), timeoutMs);
    function finish(up: boolean) {
      clearTimeout(timer);
      socket.destroy();
      resolve(up);
    }
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

export interface PcscServiceOptions {
  logger: Logger;
  socketPath?: string;
  /** First retry delay after pcscd was found down, in ms; doubles up to `maxRetryMs`. Default 250. */
  initialRetryMs?: number;
  /** Maximum retry delay, in ms. Default 5000. */
  maxRetryMs?: number;
  /** Creates the PC/SC context; default `new NFC()` from nfc-pcsc. Tests pass a fake. */
  createContext?: () => Promise<NfcPcscContext>;
  /** Checks that pcscd accepts connections; default probePcscd. */
  probe?: (socketPath: string) => Promise<boolean>;
  /**
   * Returns an identity of pcscd's socket file that changes when pcscd makes it anew, or
   * undefined when it is missing. Default: the file's inode number.
   */
  socketIdentity?: (socketPath: string) => number | undefined;
  /** Milliseconds between checks of the socket's identity while a context is open. Default 1000. */
  watchdogMs?: number;
}

function socketInode(socketPath: string): number | undefined {
  try {
    return statSync(socketPath).ino;
  } catch {
    return undefined;
  }
}

export interface PcscServiceEvents {
  reader: [NfcPcscReader];
  up: [];
  down: [Error];
}

/**
 * Owns the PC/SC context and keeps one alive while pcscd runs. It probes pcscd's socket before
 * every `new NFC()`, because `@pokusew/pcsclite` retries SCardEstablishContext in a synchronous
 * loop while pcscd is not running, which blocks the event loop until pcscd comes back. When pcscd
 * stops or restarts, the context is closed and a new one is made with exponential backoff.
 * NOTE: pcscd can still stop between a successful probe and `new NFC()`; then the constructor
 * blocks until pcscd is back. Running the addon in a child process would remove that window.
 */
export class PcscService extends EventEmitter<PcscServiceEvents> {
  readonly socketPath: string;
  private context: NfcPcscContext | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private retryMs: number;
  private serviceUp = false;
  private connecting: Promise<void> | undefined;
  /** The socket's identity when the open context was made. */
  private contextSocket: number | undefined;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly options: PcscServiceOptions) {
    super();
    this.socketPath = options.socketPath ?? pcscdSocketPath();
    this.retryMs = this.initialRetryMs;
  }

  /** True while a PC/SC context is open. */
  get isUp(): boolean {
    return this.serviceUp;
  }

  /** Makes the first connection attempt; when pcscd is down it keeps retrying in the background. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // A context learns that pcscd died only from an error that its status loop reports. If pcscd
    // restarts before one is reported, the old context may stay open on the dead daemon, so the
    // socket file that the new pcscd makes is watched as well.
    this.watchdog = setInterval(() => this.checkSocket(), this.options.watchdogMs ?? 1000);
    this.watchdog.unref();
    await this.connectOnce();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.connecting;
    this.closeContext();
    this.serviceUp = false;
  }

  /** Drops the current context and makes a new one, as after a reader error that invalidates handles. */
  reconnect(reason: Error): void {
    if (!this.running) return;
    this.lost(reason);
  }

  private get initialRetryMs(): number {
    return this.options.initialRetryMs ?? 250;
  }

  private connectOnce(): Promise<void> {
    this.connecting ??= this.tryConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async tryConnect(): Promise<void> {
    const probe = this.options.probe ?? probePcscd;
    const up = await probe(this.socketPath);
    if (!this.running) return;
    if (!up) {
      this.markDown(new Error(`pcscd is not accepting connections on ${this.socketPath}`));
      this.scheduleRetry();
      return;
    }

    let context: NfcPcscContext;
    try {
      context = await (this.options.createContext ?? defaultContext)();
    } catch (error) {
      this.markDown(error as Error);
      this.scheduleRetry();
      return;
    }
    if (!this.running) {
      closeQuietly(context);
      return;
    }

    this.context = context;
    this.contextSocket = this.socketIdentity();
    context.on('reader', (reader: NfcPcscReader) => {
      // Every reader emits 'error' when pcscd stops; one with no listener would crash the process.
      reader.on('error', (error: Error) => this.options.logger.debug({ reader: reader.name, err: error }, 'PC/SC reader error'));
      this.emit('reader', reader);
    });
    context.on('error', (error: Error) => {
      if (this.context !== context) return;
      if (isServiceLoss(error)) this.lost(error);
      else this.options.logger.warn({ err: error }, 'PC/SC context error');
    });
    this.retryMs = this.initialRetryMs;
    this.serviceUp = true;
    this.options.logger.info({ socket: this.socketPath }, 'PC/SC context established');
    this.emit('up');
  }

  private lost(error: Error): void {
    this.closeContext();
    this.markDown(error);
    this.scheduleRetry();
  }

  private socketIdentity(): number | undefined {
    return (this.options.socketIdentity ?? socketInode)(this.socketPath);
  }

  /** Drops the open context when pcscd's socket file was made anew or removed since the context was made. */
  private checkSocket(): void {
    if (!this.running || !this.serviceUp || this.connecting) return;
    const current = this.socketIdentity();
    if (current === this.contextSocket) return;
    const reason = current === undefined ? `pcscd's socket ${this.socketPath} is gone` : `pcscd's socket ${this.socketPath} was made anew, so pcscd restarted`;
    this.lost(new Error(reason));
  }

  private markDown(error: Error): void {
    const wasUp = this.serviceUp;
    this.serviceUp = false;
    // Logged at warn once per outage, then at debug on each retry.
    if (wasUp || this.retryMs === this.initialRetryMs) this.options.logger.warn({ err: error, retryMs: this.retryMs }, 'pcscd unavailable; retrying');
    else this.options.logger.debug({ err: error, retryMs: this.retryMs }, 'pcscd still unavailable');
    this.emit('down', error);
  }

  private scheduleRetry(): void {
    if (!this.running || this.timer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.options.maxRetryMs ?? 5000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running) void this.connectOnce();
    }, delay);
  }

  private closeContext(): void {
    const context = this.context;
    this.context = undefined;
    if (context) closeQuietly(context);
  }
}

async function defaultContext(): Promise<NfcPcscContext> {
  const { NFC } = await loadNfcPcsc();
  return new NFC();
}

/** Closes a context; nfc-pcsc emits 'error' (SCARD_E_CANCELLED) while closing, which is expected. */
function closeQuietly(context: NfcPcscContext): void {
  context.on('error', () => undefined);
  try {
    context.close();
  } catch {
    // A context whose pcscd is gone may throw on close; it is discarded either way.
  }
}
