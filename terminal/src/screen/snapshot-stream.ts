import type { ServerResponse } from 'node:http';

/** Interval of the SSE comment line that keeps the kiosk's connection from idling out. */
const KEEP_ALIVE_MS = 15_000;

/**
 * Sends the latest driver-screen snapshot to every open Server-Sent Events stream. A new stream
 * gets the latest one at once; an unchanged snapshot is not sent again.
 */
export class SnapshotStream {
  private readonly streams = new Set<ServerResponse>();
  private readonly keepAlive: NodeJS.Timeout;
  private latest?: string;

  constructor() {
    this.keepAlive = setInterval(() => this.writeAll(': keep-alive\n\n'), KEEP_ALIVE_MS);
    this.keepAlive.unref();
  }

  open(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    response.write('retry: 1000\n\n');
    if (this.latest !== undefined) response.write(this.latest);
    this.streams.add(response);
    response.on('close', () => this.streams.delete(response));
  }

  /** Sends a snapshot when it differs from the last one sent; returns whether it was sent. */
  publish(snapshot: unknown): boolean {
    const event = `event: state\ndata: ${JSON.stringify(snapshot)}\n\n`;
    if (event === this.latest) return false;
    this.latest = event;
    this.writeAll(event);
    return true;
  }

  get size(): number {
    return this.streams.size;
  }

  close(): void {
    clearInterval(this.keepAlive);
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }

  private writeAll(text: string): void {
    for (const stream of this.streams) stream.write(text);
  }
}
