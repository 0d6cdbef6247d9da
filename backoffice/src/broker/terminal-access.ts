import { timingSafeEqual } from 'node:crypto';
import { TOPIC_ROOT, topics } from '@busfare/shared-protocol';
import type { AuthenticateError } from 'aedes';
import type { Logger } from '../logger.js';
import type { TerminalCredentialStore } from '../terminals/credential-store.js';
import type { BrokerAccessHooks } from './embedded-broker.js';
import { SERVICE_CLIENT_IDS } from './service-client-ids.js';
import { CredentialCheckQueue } from './credential-check-queue.js';

/** A back-office component (ingest, parameter publisher) that may publish and subscribe anywhere. */
export interface ServiceAccount {
  username: string;
  secret: string;
}

export interface TerminalAccessOptions {
  credentials: Pick<TerminalCredentialStore, 'verify' | 'secretSalt'>;
  services: readonly ServiceAccount[];
  logger: Logger;
  /** Client ids that only service accounts may use; defaults to SERVICE_CLIENT_IDS. */
  reservedClientIds?: readonly string[];
  /**
   * Terminal credential checks that may wait behind the running one (default 128). A CONNECT
   * beyond them is refused with return code 3 (server unavailable), and the terminal retries.
   */
  maxCredentialChecksWaiting?: number;
}

/**
 * At the tens of milliseconds one scrypt check takes, 128 checks wait a few seconds, within the
 * terminal uplink's connect timeout of 10 s. The time per check depends on the machine.
 */
const DEFAULT_CREDENTIAL_CHECKS_WAITING = 128;
/** Milliseconds between repeated log lines: CONNECTs refused because the check queue is full, failed salt reads. */
const BUSY_LOG_INTERVAL_MS = 10_000;

/** A terminal's identity keeps the salt of the secret it connected with, to notice a revoked or replaced secret. */
type Identity = { role: 'service'; username: string } | { role: 'terminal'; terminalId: string; secretSalt: Buffer };

/** MQTT CONNACK return code 3 (server unavailable), 4 (bad user name or password) and 5 (not authorized). */
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

/** Topics a terminal may publish to, below its own `terminals/{id}/`. */
const TERMINAL_PUBLISH_LEAVES = new Set(['transactions', 'positions', 'status', 'shifts']);

/**
 * Broker hooks that admit back-office service accounts and registered terminals only.
 * A terminal connects with its terminal id as both user name and client id, so that no other
 * client can take over its session, and no terminal may use a client id of the back office's own
 * clients. It may publish only its own transactions, positions,
 * status (the last will included) and shift records, and subscribe only to its own acks and commands and to the
 * parameter topics. Only its status may be retained. aedes closes the connection of a client whose publish is refused, because
 * MQTT 3.1.1 has no negative PUBACK; a refused subscription gets the SUBACK failure code 0x80.
 * Once a terminal's secret is removed or replaced, its open connection may neither publish nor
 * subscribe, receives no more messages, and is closed at its next publish or at the broker's next
 * revalidation (`stillAuthorized`), whichever comes first.
 */
export function terminalAccessHooks(options: TerminalAccessOptions): BrokerAccessHooks {
  const identities = new WeakMap<object, Identity>();
  const { logger } = options;
  const reservedClientIds = new Set(options.reservedClientIds ?? SERVICE_CLIENT_IDS);
  const checks = new CredentialCheckQueue(options.maxCredentialChecksWaiting ?? DEFAULT_CREDENTIAL_CHECKS_WAITING);
  let busyRejections = 0;
  let busyLoggedAtMs = Number.NEGATIVE_INFINITY;
  let saltFailureLoggedAtMs = Number.NEGATIVE_INFINITY;
  /** Reads a terminal's secret salt. A failed read counts as no registered secret, so access fails closed. */
  const readSecretSalt = (terminalId: string): Buffer | undefined => {
    try {
      return options.credentials.secretSalt(terminalId);
    } catch (error) {
      const nowMs = performance.now();
      if (nowMs - saltFailureLoggedAtMs >= BUSY_LOG_INTERVAL_MS) {
        logger.error({ err: error, terminalId }, 'failed to read a terminal secret from the credential store, so the terminal is rejected');
        saltFailureLoggedAtMs = nowMs;
      }
      return undefined;
    }
  };
  const secretStillValid = (identity: Identity & { role: 'terminal' }): boolean => {
    const salt = readSecretSalt(identity.terminalId);
    return salt !== undefined && salt.equals(identity.secretSalt);
  };

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
      if (reservedClientIds.has(username)) {
        logger.warn({ clientId: client.id }, 'MQTT connection refused: the client id belongs to a back-office client, so register the terminal under another id');
        done(authError('client id reserved for the back office', NOT_AUTHORIZED), false);
        return;
      }
      // Read before the check, so a secret replaced meanwhile leaves a salt that no longer matches.
      const secretSalt = readSecretSalt(username);
      const check = checks.run(() => options.credentials.verify(username, secret));
      if (check === undefined) {
        busyRejections += 1;
        const nowMs = performance.now();
        // A storm of CONNECTs refuses many in a row, so one line per interval carries the count.
        if (nowMs - busyLoggedAtMs >= BUSY_LOG_INTERVAL_MS) {
          logger.warn({ clientId: client.id, rejected: busyRejections }, 'MQTT connections rejected: too many terminal credential checks waiting, so the terminals retry later');
          busyLoggedAtMs = nowMs;
          busyRejections = 0;
        }
        done(authError('server busy checking credentials', SERVER_UNAVAILABLE), false);
        return;
      }
      check.then(
        (valid) => {
          if (!valid || secretSalt === undefined) {
            logger.warn({ clientId: client.id }, 'MQTT connection refused: unknown terminal or invalid secret');
            done(authError('invalid user name or password', BAD_USERNAME_OR_PASSWORD), false);
            return;
          }
          identities.set(client, { role: 'terminal', terminalId: username, secretSalt });
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
      if (identity?.role === 'terminal' && !secretStillValid(identity)) {
        logger.warn({ clientId: client.id, topic: packet.topic }, 'MQTT publish rejected: the terminal secret was removed or replaced after it connected');
        return done(new Error(`the secret that client ${client.id} connected with is no longer registered`));
      }
      if (identity?.role === 'terminal' && terminalMayPublish(identity.terminalId, packet.topic, packet.retain)) return done(null);
      logger.warn({ clientId: client.id, topic: packet.topic, retain: packet.retain }, 'MQTT publish rejected: topic or retain flag not permitted for this client');
      done(new Error(`publishing to ${packet.topic}${packet.retain ? ' with the retain flag' : ''} is not allowed for client ${client.id}`));
    },

    authorizeSubscribe(client, subscription, done) {
      const identity = identities.get(client);
      if (identity?.role === 'service') return done(null, subscription);
      if (identity?.role === 'terminal' && !secretStillValid(identity)) {
        logger.warn({ clientId: client.id, topic: subscription.topic }, 'MQTT subscription rejected: the terminal secret was removed or replaced after it connected');
        return done(null, null);
      }
      if (identity?.role === 'terminal' && terminalMaySubscribe(identity.terminalId, subscription.topic)) return done(null, subscription);
      logger.warn({ clientId: client.id, topic: subscription.topic }, 'MQTT subscription rejected: topic not permitted for this client');
      done(null, null);
    },

    authorizeForward(client, packet) {
      const identity = identities.get(client);
      if (identity?.role !== 'terminal' || secretStillValid(identity)) return packet;
      logger.warn({ clientId: client.id, topic: packet.topic }, 'MQTT message not delivered: the terminal secret was removed or replaced after it connected');
      return null;
    },

    stillAuthorized(client) {
      const identity = identities.get(client);
      if (identity?.role !== 'terminal') return true;
      let salt: Buffer | undefined;
      try {
        salt = options.credentials.secretSalt(identity.terminalId);
      } catch {
        // A failed read keeps the connection until the next check. Closing every terminal at once
        // would make all of them reconnect into the credential checks, and a publish still fails
        // closed on the same failure.
        return true;
      }
      return salt !== undefined && salt.equals(identity.secretSalt);
    },
  };
}

/**
 * Tells whether a terminal may publish to `topic`: its own transactions, positions, status and
 * shifts. Only the status may be retained, because a retained batch would be delivered again to
 * every new subscription and the broker would keep it in memory.
 */
export function terminalMayPublish(terminalId: string, topic: string, retain = false): boolean {
  const prefix = `${TOPIC_ROOT}/terminals/${terminalId}/`;
  if (!topic.startsWith(prefix)) return false;
  const leaf = topic.slice(prefix.length);
  return TERMINAL_PUBLISH_LEAVES.has(leaf) && (!retain || leaf === 'status');
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
