import type { Logger } from '../logger.js';
import type { Clock } from '../ports/clock.js';

/**
 * Logs a repeating warning at most once per interval and key, with the number of repeats that
 * were suppressed in between, so a misbehaving peer cannot flood the log.
 */
export class LogLimiter {
  private readonly lastLoggedMs = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = 60_000,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.clock.monotonicMs();
    const last = this.lastLoggedMs.get(key);
    if (last !== undefined && now - last < this.intervalMs) {
      this.suppressed.set(key, (this.suppressed.get(key) ?? 0) + 1);
      return;
    }
    const suppressed = this.suppressed.get(key) ?? 0;
    this.lastLoggedMs.set(key, now);
    this.suppressed.delete(key);
    this.logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}
