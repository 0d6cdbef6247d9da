import { SerialPort } from 'serialport';
import type { PositionSource } from '../ports/position-source.js';
import { resolveDevicePath } from './device-path.js';
import { NmeaSourceBase, type NmeaSourceOptions } from './nmea-source-base.js';

/** The part of `SerialPort` the source uses, so tests can pass serialport's mock binding. */
export interface SerialPortLike {
  readonly path: string;
  open(callback: (error: Error | null) => void): void;
  close(callback?: (error: Error | null) => void): void;
  readonly isOpen: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close' | 'error', listener: (error?: Error | null) => void): this;
  removeAllListeners(): this;
}

export interface SerialNmeaOptions extends NmeaSourceOptions {
  /** Device path; prefer a stable `/dev/serial/by-id/...` name over `/dev/ttyUSBn`. */
  path: string;
  /** Default 9600, the NMEA 0183 standard rate. */
  baudRate?: number;
  /** Pattern searched when `path` has gone, for a receiver that comes back under another name, e.g. `/dev/serial/by-id/usb-*GNSS*`. */
  rescanPattern?: string;
  /** First reconnect delay in ms; it doubles on each failure up to `reconnectMaxMs`. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  createPort?: (path: string, baudRate: number) => SerialPortLike;
}

const defaultCreatePort = (path: string, baudRate: number): SerialPortLike =>
  new SerialPort({ path, baudRate, autoOpen: false });

/**
 * Fixes from an NMEA receiver on a serial port. When the port closes or fails it reopens with
 * exponential backoff, looking for the receiver under `rescanPattern` if its path has gone.
 * Health: `down` while closed, `degraded` while open without a fix, `ok` with fixes.
 */
export class SerialNmeaPositionSource extends NmeaSourceBase implements PositionSource {
  private port: SerialPortLike | undefined;
  private running = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelayMs: number;
  private openedPath: string | undefined;

  constructor(private readonly options: SerialNmeaOptions) {
    super(options);
    this.reconnectDelayMs = options.reconnectInitialMs ?? 500;
  }

  /** Path of the open port, or undefined while disconnected. */
  get currentPath(): string | undefined {
    return this.openedPath;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.setHealth('down');
    await this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const port = this.port;
    this.port = undefined;
    this.openedPath = undefined;
    if (port) {
      port.removeAllListeners();
      port.on('error', () => undefined);
      if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    }
    this.endInput();
    this.setHealth('down');
  }

  private async connect(): Promise<void> {
    const path = resolveDevicePath(this.options.path, this.options.rescanPattern);
    const baudRate = this.options.baudRate ?? 9600;
    const create = this.options.createPort ?? defaultCreatePort;

    let port: SerialPortLike;
    try {
      port = create(path, baudRate);
    } catch (error) {
      this.scheduleReconnect(path, error as Error);
      return;
    }
    const error = await new Promise<Error | null>((resolve) => port.open(resolve));
    if (!this.running) {
      if (!error) port.close();
      return;
    }
    if (error) {
      this.scheduleReconnect(path, error);
      return;
    }

    this.port = port;
    this.openedPath = path;
    this.reconnectDelayMs = this.options.reconnectInitialMs ?? 500;
    port.on('data', (chunk) => this.feed(chunk));
    port.on('error', (portError) => this.handleLoss(port, portError ?? undefined));
    port.on('close', (closeError) => this.handleLoss(port, closeError ?? undefined));
    this.logger?.info({ path, baudRate }, 'GNSS serial port opened');
    this.setHealth('degraded');
  }

  private handleLoss(port: SerialPortLike, error: Error | undefined): void {
    if (port !== this.port) return;
    this.port = undefined;
    const path = this.openedPath;
    this.openedPath = undefined;
    port.removeAllListeners();
    port.on('error', () => undefined);
    if (port.isOpen) port.close();
    this.endInput();
    this.setHealth('down');
    this.logger?.warn({ path, err: error }, 'GNSS serial port lost');
    if (this.running) this.scheduleReconnect(path ?? this.options.path, error);
  }

  private scheduleReconnect(path: string, error: Error | undefined): void {
    const delayMs = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(delayMs * 2, this.options.reconnectMaxMs ?? 10_000);
    this.logger?.warn({ path, delayMs, err: error }, 'GNSS serial port unavailable, retrying');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.running) void this.connect();
    }, delayMs);
  }
}
