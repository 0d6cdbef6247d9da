import type { Readable } from 'node:stream';
import type { PositionSource } from '../ports/position-source.js';
import { NmeaSourceBase, type NmeaSourceOptions } from './nmea-source-base.js';

/** Fixes from NMEA 0183 text on any readable stream (a pipe, a socket, a file). */
export class NmeaStreamPositionSource extends NmeaSourceBase implements PositionSource {
  private readonly onData = (chunk: Buffer | string) => this.feed(chunk);
  private readonly onEnd = () => {
    this.endInput();
    this.setHealth('down');
  };
  private readonly onError = (error: Error) => {
    this.endInput();
    this.setHealth('down');
    this.logger?.error({ err: error }, 'NMEA stream failed');
    if (this.listenerCount('error') > 0) this.emit('error', error);
  };

  constructor(
    private readonly stream: Readable,
    options: NmeaSourceOptions = {},
  ) {
    super(options);
  }

  async start(): Promise<void> {
    this.setHealth('degraded');
    this.stream.on('data', this.onData);
    this.stream.once('end', this.onEnd);
    this.stream.once('error', this.onError);
  }

  async stop(): Promise<void> {
    this.clearIdleFlush();
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('error', this.onError);
  }
}
