import type { ServerResponse } from 'node:http';
import type { LiveTap } from '../ingest/ingest-service.js';

/** Interval of the SSE comment line that keeps idle proxies from closing the stream. */
const KEEP_ALIVE_MS = 15_000;

/** Fans live taps out to every open Server-Sent Events stream. */
export class LiveFeed {
  private readonly streams = new Set<ServerResponse>();
  private readonly keepAlive: NodeJS.Timeout;

  constructor() {
    this.keepAlive = setInterval(() => this.writeAll(': keep-alive\n\n'), KEEP_ALIVE_MS);
    this.keepAlive.unref();
  }

  /** Starts an event stream on a raw response and keeps it until the client goes away. */
  open(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    response.write(': connected\n\n');
    this.streams.add(response);
    response.on('close', () => this.streams.delete(response));
  }

  publish(tap: LiveTap): void {
    this.writeAll(`event: tap\ndata: ${JSON.stringify(tap)}\n\n`);
  }

  get size(): number {
    return this.streams.size;
  }

  /** Ends every stream, so that the HTTP server can close. */
  close(): void {
    clearInterval(this.keepAlive);
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }

  private writeAll(text: string): void {
    for (const stream of this.streams) stream.write(text);
  }
}
