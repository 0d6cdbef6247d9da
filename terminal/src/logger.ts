import { CARD_NUMBER_LOG_REDACTION } from '@busfare/shared-protocol';
import pino, { type Logger } from 'pino';

/**
 * Structured logs go to stderr; stdout is kept for machine-readable output. Card numbers are
 * masked in every log line.
 */
export function createLogger(name: string, level = process.env.BUSFARE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid }, redact: CARD_NUMBER_LOG_REDACTION }, pino.destination({ fd: 2, sync: false }));
}

export type { Logger };
