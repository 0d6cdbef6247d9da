/** pino's log levels, most severe first. `silent` turns logging off. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Returns the log level named by `value` (normally BUSFARE_LOG_LEVEL), or `info` with a problem
 * to report when the value is not a level. A mistyped level should not stop a fare system.
 */
export function resolveLogLevel(value: string | undefined): { level: LogLevel; problem?: string } {
  if (value === undefined || value === '') return { level: 'info' };
  const level = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return { level: level as LogLevel };
  return { level: 'info', problem: `invalid BUSFARE_LOG_LEVEL "${value}": expected one of ${LOG_LEVELS.join(', ')}; logging at info` };
}

let problemReported = false;

/** Passes the level's problem to `warn` the first time one comes up in this process, not for every logger. */
export function reportLogLevelProblemOnce(resolved: { problem?: string }, warn: (message: string) => void): void {
  if (resolved.problem === undefined || problemReported) return;
  problemReported = true;
  warn(resolved.problem);
}
