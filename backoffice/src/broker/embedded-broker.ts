import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import type { Logger } from '../logger.js';
import type { TlsMaterial } from '../security/tls-files.js';
import { guardPacketSize } from './packet-size-guard.js';

/**
 * Access-control hooks of the embedded broker, in aedes's own callback shapes. They are plain
 * functions so that per-terminal credentials and topic ACLs can replace the defaults (which allow
 * everything) without touching the broker start-up.
 */
export interface BrokerAccessHooks {
  authenticate?: AedesOptions['authenticate'];
  authorizePublish?: AedesOptions['authorizePublish'];
  authorizeSubscribe?: AedesOptions['authorizeSubscribe'];
  authorizeForward?: AedesOptions['authorizeForward'];
  /**
   * False for a connected client whose credentials no longer hold (a terminal secret removed or
   * replaced since it connected). The broker checks every open connection with it at each
   * revalidation and closes those refused.
   */
  stillAuthorized?: (client: Client) => boolean;
}

/** Milliseconds between two revalidations of the open connections. */
const REVALIDATE_INTERVAL_MS = 10_000;

export interface EmbeddedBrokerOptions extends BrokerAccessHooks {
  /** TCP port; 0 picks a free one. */
  port: number;
  host: string;
  logger: Logger;
  /** Serve MQTT over TLS (mqtts://) with this certificate and key in place of plain TCP. */
  tls?: TlsMaterial;
  /**
   * Largest packet, in bytes, that a connection may send before an authenticate hook raises or
   * lifts its limit with setPacketSizeLimit(); without it packets are not measured.
   */
  packetSizeLimitBeforeAuth?: number;
  /** Milliseconds between revalidations of the open connections (stillAuthorized); 10 s unless set. */
  revalidateIntervalMs?: number;
}

export interface EmbeddedBroker {
  /** `mqtt://host:port` (or `mqtts://` over TLS) with the port actually bound. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts an in-process aedes 1.x broker (MQTT 3.1.1 only, in-memory persistence) on a TCP port.
 * Messages queued for offline clients do not survive a restart of this process. Terminals resend
 * every batch that has no acknowledgement, so no record depends on the broker's queue.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { logger } = options;
  const aedesOptions: AedesOptions = {};
  if (options.authenticate) aedesOptions.authenticate = options.authenticate;
  if (options.authorizePublish) aedesOptions.authorizePublish = options.authorizePublish;
  if (options.authorizeSubscribe) aedesOptions.authorizeSubscribe = options.authorizeSubscribe;
  if (options.authorizeForward) aedesOptions.authorizeForward = options.authorizeForward;

  const broker = await Aedes.createBroker(aedesOptions);
  broker.on('clientError', (client, error) => logger.warn({ clientId: client.id, err: error }, 'MQTT client error'));
  broker.on('connectionError', (client, error) => logger.warn({ clientId: client?.id, err: error }, 'MQTT connection error'));
  const revalidation = options.stillAuthorized ? revalidateConnections(broker, options.stillAuthorized, options.revalidateIntervalMs ?? REVALIDATE_INTERVAL_MS, logger) : undefined;

  const limit = options.packetSizeLimitBeforeAuth;
  const handle: (socket: Socket) => void =
    limit === undefined
      ? broker.handle
      : (socket) => {
          guardPacketSize(socket, limit, (declaredBytes) => logger.warn({ remoteAddress: socket.remoteAddress, declaredBytes, limit }, 'MQTT connection closed: packet over the size limit'));
          broker.handle(socket);
        };
  const server = options.tls ? createTlsServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, handle) : createServer(handle);
  try {
    await listen(server, options.port, options.host);
  } catch (error) {
    clearInterval(revalidation);
    await closeBroker(broker);
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `${options.tls ? 'mqtts' : 'mqtt'}://${options.host}:${port}`;
  logger.info({ url }, 'embedded MQTT broker listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= (async () => {
        // server.close() only stops accepting; its callback waits for open connections, which
        // broker.close() ends.
        clearInterval(revalidation);
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await closeBroker(broker);
        await serverClosed;
        logger.info({ url }, 'embedded MQTT broker stopped');
      })();
      return closing;
    },
  };
}

/**
 * Closes, every `intervalMs`, each open connection that `stillAuthorized` refuses. A refused
 * publish closes a connection already. This reaches a client that only listens, which would
 * otherwise keep its socket and session until it ends them itself.
 */
function revalidateConnections(broker: Aedes, stillAuthorized: (client: Client) => boolean, intervalMs: number, logger: Logger): NodeJS.Timeout {
  const connected = new Set<Client>();
  broker.on('client', (client) => connected.add(client));
  broker.on('clientDisconnect', (client) => connected.delete(client));
  const timer = setInterval(() => {
    for (const client of connected) {
      if (client.closed) {
        connected.delete(client);
        continue;
      }
      if (stillAuthorized(client)) continue;
      connected.delete(client);
      logger.warn({ clientId: client.id }, 'MQTT connection closed: its credentials were revoked after it connected');
      client.close();
    }
  }, intervalMs);
  timer.unref();
  return timer;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeBroker(broker: Aedes): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}
