import { CARD_NUMBER_LOG_REDACTION, reportLogLevelProblemOnce, resolveLogLevel } from '@busfare/shared-protocol';
import pino, { type Logger } from 'pino';

/**
 * Structured logs go to stderr; stdout is kept for machine-readable output. Card numbers are
 * masked in every log line.
 */
export function createLogger(name: string, level?: string): Logger {
  const resolved = resolveLogLevel(level ?? process.env.BUSFARE_LOG_LEVEL);
  // errWithCause keeps an error's own message: the default serializer appends the cause's message,
  // which the busfare errors already contain.
  const serializers = { err: pino.stdSerializers.errWithCause };
  const logger = pino({ name, level: resolved.level, base: { pid: process.pid }, redact: CARD_NUMBER_LOG_REDACTION, serializers }, pino.destination({ fd: 2, sync: false }));
  reportLogLevelProblemOnce(resolved, (message) => logger.warn(message));
  return logger;
}

export type { Logger };
