import { timingSafeEqual } from 'node:crypto';
import { TOPIC_ROOT, topics } from '@busfare/shared-protocol';
import type { AuthenticateError } from 'aedes';
import type { Logger } from '../logger.js';
import type { TerminalCredentialStore } from '../terminals/credential-store.js';
import type { BrokerAccessHooks } from './embedded-broker.js';

/** A back-office component (ingest, parameter publisher) that may publish and subscribe anywhere. */
export interface ServiceAccount {
  username: string;
  secret: string;
}

export interface TerminalAccessOptions {
  credentials: Pick<TerminalCredentialStore, 'verify'>;
  services: readonly ServiceAccount[];
  logger: Logger;
}

type Identity = { role: 'service'; username: string } | { role: 'terminal'; terminalId: string };

/** MQTT CONNACK return code 4 (bad user name or password) and 5 (not authorized). */
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

/** Topics a terminal may publish to, below its own `terminals/{id}/`. */
const TERMINAL_PUBLISH_LEAVES = new Set(['transactions', 'positions', 'status', 'shifts']);

/**
 * Broker hooks that admit back-office service accounts and registered terminals only.
 * A terminal connects with its terminal id as both user name and client id, so that no other
 * client can take over its session. It may publish only its own transactions, positions,
 * status (the last will included) and shift records, and subscribe only to its own acks and commands and to the
 * parameter topics. aedes closes the connection of a client whose publish is refused, because
 * MQTT 3.1.1 has no negative PUBACK; a refused subscription gets the SUBACK failure code 0x80.
 */
export function terminalAccessHooks(options: TerminalAccessOptions): BrokerAccessHooks {
  const identities = new WeakMap<object, Identity>();
  const { logger } = options;

  return {
    authenticate(client, username, password, done) {
      const secret = password?.toString('utf8') ?? '';
      const service = username === undefined ? undefined : options.services.find((account) => account.username === username);
      if (service) {
        if (!sameText(secret, service.secret)) {
          logger.warn({ clientId: client.id, username }, 'MQTT connection refused: invalid service secret');
          done(authError('invalid user name or password', BAD_USERNAME_OR_PASSWORD), false);
          return;
        }
        identities.set(client, { role: 'service', username: service.username });
        done(null, true);
        return;
      }
      if (username === undefined || username !== client.id) {
        logger.warn({ clientId: client.id, username }, 'MQTT connection refused: a terminal must use its terminal id as user name and client id');
        done(authError('terminal user name must equal the client id', NOT_AUTHORIZED), false);
        return;
      }
      options.credentials.verify(username, secret).then(
        (valid) => {
          if (!valid) {
            logger.warn({ clientId: client.id }, 'MQTT connection refused: unknown terminal or invalid secret');
            done(authError('invalid user name or password', BAD_USERNAME_OR_PASSWORD), false);
            return;
          }
          identities.set(client, { role: 'terminal', terminalId: username });
          done(null, true);
        },
        (error: unknown) => {
          logger.error({ err: error, clientId: client.id }, 'terminal credential check failed');
          done(authError('credential check failed', NOT_AUTHORIZED), false);
        },
      );
    },

    authorizePublish(client, packet, done) {
      // Messages the broker publishes itself ($SYS) have no client.
      if (client === null) return done(null);
      const identity = identities.get(client);
      if (identity?.role === 'service') return done(null);
      if (identity?.role === 'terminal' && terminalMayPublish(identity.terminalId, packet.topic)) return done(null);
      logger.warn({ clientId: client.id, topic: packet.topic }, 'MQTT publish rejected: topic not permitted for this client');
      done(new Error(`publishing to ${packet.topic} is not allowed for client ${client.id}`));
    },

    authorizeSubscribe(client, subscription, done) {
      const identity = identities.get(client);
      if (identity?.role === 'service') return done(null, subscription);
      if (identity?.role === 'terminal' && terminalMaySubscribe(identity.terminalId, subscription.topic)) return done(null, subscription);
      logger.warn({ clientId: client.id, topic: subscription.topic }, 'MQTT subscription rejected: topic not permitted for this client');
      done(null, null);
    },
  };
}

export function terminalMayPublish(terminalId: string, topic: string): boolean {
  const prefix = `${TOPIC_ROOT}/terminals/${terminalId}/`;
  return topic.startsWith(prefix) && TERMINAL_PUBLISH_LEAVES.has(topic.slice(prefix.length));
}

/** Own acks and commands, and `parameters/+` or one parameter kind (no other wildcard). */
export function terminalMaySubscribe(terminalId: string, filter: string): boolean {
  if (filter === topics.acks(terminalId) || filter === topics.commands(terminalId)) return true;
  const prefix = `${TOPIC_ROOT}/parameters/`;
  if (!filter.startsWith(prefix)) return false;
  const kind = filter.slice(prefix.length);
  return kind === '+' || /^[A-Za-z0-9_-]{1,64}$/.test(kind);
}

function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}
