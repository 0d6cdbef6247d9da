import { CARD_NUMBER_LOG_REDACTION, reportLogLevelProblemOnce, resolveLogLevel } from '@busfare/shared-protocol';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';

export interface LoggerOptions {
  /**
   * A file that takes every line at the logger's level. stderr then shows only lines at
   * `consoleLevel` or above, so that a console meant for people is not buried in the components' logs.
   */
  file?: string;
  /** With `file`: the lowest level stderr shows (default warn). */
  consoleLevel?: 'warn' | 'error' | 'fatal';
}

/**
 * Structured logs go to stderr; stdout is kept for machine-readable output. Card numbers are
 * masked in every log line.
 */
export function createLogger(name: string, level?: string, options: LoggerOptions = {}): Logger {
  const resolved = resolveLogLevel(level ?? process.env.BUSFARE_LOG_LEVEL);
  // errWithCause keeps an error's own message: the default serializer appends the cause's message,
  // which the busfare errors already contain.
  const serializers = { err: pino.stdSerializers.errWithCause };
  const stderr = pino.destination({ fd: 2, sync: false });
  let destination: DestinationStream = stderr;
  if (options.file !== undefined && resolved.level !== 'silent') {
    mkdirSync(dirname(options.file), { recursive: true });
    const file = pino.destination({ dest: options.file, sync: false });
    const floor = options.consoleLevel ?? 'warn';
    const consoleLevel = pino.levels.values[resolved.level]! > pino.levels.values[floor]! ? resolved.level : floor;
    destination = pino.multistream([
      { level: resolved.level as pino.Level, stream: file },
      { level: consoleLevel as pino.Level, stream: stderr },
    ]);
  }
  const logger = pino({ name, level: resolved.level, base: { pid: process.pid }, redact: CARD_NUMBER_LOG_REDACTION, serializers }, destination);
  reportLogLevelProblemOnce(resolved, (message) => logger.warn(message));
  return logger;
}

export type { Logger };
