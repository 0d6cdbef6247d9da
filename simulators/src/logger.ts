import pino, { type Logger } from 'pino';

/** Structured logs go to stderr; stdout is kept for machine-readable output. */
export function createLogger(name: string, level = process.env.BUSFARE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}

export type { Logger };
