import type { Client } from 'aedes';
import type { Logger } from '../logger.js';
import type { BrokerAccessHooks } from './embedded-broker.js';
import { PUBLISH_OVERHEAD_BYTES, setPacketSizeLimit } from './packet-size-guard.js';

export interface PublishLimits {
  /** Largest PUBLISH payload accepted, in bytes. */
  maxPayloadBytes: number;
  /** Sustained PUBLISH packets per second per terminal. */
  messagesPerSecond: number;
  /** PUBLISH packets a terminal may send at once above the sustained rate (token bucket size). */
  burstMessages: number;
}

export interface LimitViolation {
  clientId: string;
  username: string | undefined;
  topic: string;
  kind: 'payload-too-large' | 'rate-exceeded';
}

export interface PublishLimitOptions {
  limits: PublishLimits;
  /** User names (the back office's own service accounts) that no limit applies to. */
  exemptUsernames: readonly string[];
  logger: Logger;
  /** Monotonic milliseconds; defaults to performance.now(). */
  now?: () => number;
  onViolation?: (violation: LimitViolation) => void;
}

interface PublishBudget {
  username: string | undefined;
  exempt: boolean;
  tokens: number;
  refilledAt: number;
}

/**
 * Wraps broker access hooks with a payload-size limit and a token bucket of PUBLISH packets per
 * user name (per connection for a client without one). A publish over a limit is refused, and
 * aedes then closes that connection, because MQTT 3.1.1 has no negative PUBACK. The refused QoS 1
 * batch was never acknowledged, so the terminal resends it after reconnecting: nothing is lost,
 * and other connections are not slowed. The inner hooks authenticate first, so an
 * unauthenticated client never gets a budget.
 */
export function withPublishLimits(inner: BrokerAccessHooks, options: PublishLimitOptions): BrokerAccessHooks {
  const { limits, logger } = options;
  validateLimits(limits);
  const now = options.now ?? (() => performance.now());
  const exempt = new Set(options.exemptUsernames);
  const budgets = new WeakMap<Client, PublishBudget>();
  // A terminal's budget outlives its connection, so reconnecting does not refill the bucket.
  const budgetsByUsername = new Map<string, PublishBudget>();

  const rejectPublish = (client: Client, budget: PublishBudget, topic: string, kind: LimitViolation['kind'], message: string, done: (error?: Error | null) => void) => {
    logger.warn({ clientId: client.id, username: budget.username, topic, kind }, 'MQTT publish refused over a limit; closing the connection');
    options.onViolation?.({ clientId: client.id, username: budget.username, topic, kind });
    done(new Error(message));
  };

  return {
    ...inner,

    authenticate(client, username, password, done) {
      const admit = () => {
        let budget = username === undefined ? undefined : budgetsByUsername.get(username);
        if (budget === undefined) {
          budget = { username, exempt: username !== undefined && exempt.has(username), tokens: limits.burstMessages, refilledAt: now() };
          if (username !== undefined) budgetsByUsername.set(username, budget);
        }
        budgets.set(client, budget);
        // A guarded connection may now send packets up to the payload limit, or any size for a service.
        setPacketSizeLimit(client.conn, budget.exempt ? undefined : limits.maxPayloadBytes + PUBLISH_OVERHEAD_BYTES);
      };
      if (!inner.authenticate) {
        admit();
        done(null, true);
        return;
      }
      inner.authenticate(client, username, password, (error, success) => {
        if (error === null && success) admit();
        done(error, success);
      });
    },

    authorizePublish(client, packet, done) {
      // Messages the broker publishes itself ($SYS) have no client.
      const budget = client === null ? undefined : budgets.get(client);
      if (client === null || budget === undefined || budget.exempt) {
        if (inner.authorizePublish) return inner.authorizePublish(client, packet, done);
        return done(null);
      }

      const payloadBytes = typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length;
      if (payloadBytes > limits.maxPayloadBytes) {
        return rejectPublish(client, budget, packet.topic, 'payload-too-large', `payload of ${payloadBytes} bytes exceeds the limit of ${limits.maxPayloadBytes} bytes`, done);
      }

      const time = now();
      budget.tokens = Math.min(limits.burstMessages, budget.tokens + ((time - budget.refilledAt) / 1000) * limits.messagesPerSecond);
      budget.refilledAt = time;
      if (budget.tokens < 1) {
        return rejectPublish(client, budget, packet.topic, 'rate-exceeded', `more than ${limits.messagesPerSecond} messages per second (burst ${limits.burstMessages})`, done);
      }
      budget.tokens -= 1;

      if (inner.authorizePublish) return inner.authorizePublish(client, packet, done);
      return done(null);
    },
  };
}

function validateLimits(limits: PublishLimits): void {
  if (!Number.isInteger(limits.maxPayloadBytes) || limits.maxPayloadBytes < 1) throw new RangeError(`maxPayloadBytes must be a positive integer, got ${limits.maxPayloadBytes}`);
  if (!(limits.messagesPerSecond > 0)) throw new RangeError(`messagesPerSecond must be positive, got ${limits.messagesPerSecond}`);
  if (!Number.isInteger(limits.burstMessages) || limits.burstMessages < 1) throw new RangeError(`burstMessages must be a positive integer, got ${limits.burstMessages}`);
}
