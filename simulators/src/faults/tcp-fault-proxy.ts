import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import type { Logger } from '@busfare/terminal';

export interface TcpFaultProxyOptions {
  /** Port on 127.0.0.1 that connections are forwarded to. */
  targetPort: number;
  logger: Logger;
}

export interface TcpFaultCounters {
  connections: number;
  cuts: number;
  stalls: number;
  slowdowns: number;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

/**
 * A TCP proxy on 127.0.0.1 between a terminal and its broker that breaks the link on demand.
 * `cut` drops every connection and rejects new ones for a while, as in a tunnel. `stall` stops
 * forwarding without closing, as a dead cell that TCP does not notice. `slow` delays every chunk,
 * as a congested link does. Bytes are never altered or reordered.
 */
export class TcpFaultProxy {
  readonly counters: TcpFaultCounters = { connections: 0, cuts: 0, stalls: 0, slowdowns: 0 };
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();
  private refuseUntilMs = 0;
  private stallUntilMs = 0;
  private delayMs = 0;
  private delayUntilMs = 0;

  constructor(private readonly options: TcpFaultProxyOptions) {}

  /** Listens on 127.0.0.1 (port 0 picks a free one) and returns the bound port. */
  async listen(port = 0): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) this.destroy(pair);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Drops every open connection and refuses new ones for durationMs. */
  cut(durationMs: number): void {
    this.counters.cuts += 1;
    this.refuseUntilMs = Math.max(this.refuseUntilMs, Date.now() + durationMs);
    this.options.logger.info({ durationMs, connections: this.pairs.size }, 'link cut');
    for (const pair of this.pairs) this.destroy(pair);
  }

  /** Holds every byte in both directions for durationMs, keeping the connections open. */
  stall(durationMs: number): void {
    this.counters.stalls += 1;
    this.stallUntilMs = Math.max(this.stallUntilMs, Date.now() + durationMs);
    this.options.logger.info({ durationMs }, 'link stalled');
    for (const pair of this.pairs) {
      pair.client.pause();
      pair.upstream.pause();
    }
    setTimeout(() => {
      if (Date.now() < this.stallUntilMs) return;
      for (const pair of this.pairs) {
        pair.client.resume();
        pair.upstream.resume();
      }
    }, durationMs).unref();
  }

  /** Delays every forwarded chunk by delayMs for durationMs. */
  slow(delayMs: number, durationMs: number): void {
    this.counters.slowdowns += 1;
    this.delayMs = delayMs;
    this.delayUntilMs = Date.now() + durationMs;
    this.options.logger.info({ delayMs, durationMs }, 'link slowed');
  }

  private accept(client: Socket): void {
    if (Date.now() < this.refuseUntilMs) {
      client.destroy();
      return;
    }
    this.counters.connections += 1;
    const upstream = connect({ host: '127.0.0.1', port: this.options.targetPort });
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.forward(client, upstream);
    this.forward(upstream, client);
    const end = () => this.destroy(pair);
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
    if (Date.now() < this.stallUntilMs) {
      client.pause();
      upstream.pause();
    }
  }

  /** Copies from one socket to the other in order, each chunk after the current delay. */
  private forward(from: Socket, to: Socket): void {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const delay = Date.now() < this.delayUntilMs ? this.delayMs : 0;
      if (delay === 0) {
        chain = chain.then(() => {
          if (!to.destroyed) to.write(chunk);
        });
        return;
      }
      chain = chain.then(
        () =>
          new Promise<void>((resolve) => {
            setTimeout(() => {
              if (!to.destroyed) to.write(chunk);
              resolve();
            }, delay);
          }),
      );
    });
  }

  private destroy(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
