/** Seconds between two warnings of the same kind while their cause lasts. */
export const WARNING_EVERY_S = 3600;

/**
 * Decides when a warning whose cause repeats on every refresh is logged: the first time, then at
 * most once per `everyS`. A warning dated after now, because the clock was set back since, does
 * not hold back the next one.
 */
export class RepeatedWarning {
  private warnedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly everyS = WARNING_EVERY_S) {}

  /** Returns whether the warning is due at `now` (Unix seconds), and if so counts it as logged. */
  due(now: number): boolean {
    const sinceS = now - this.warnedAt;
    if (sinceS >= 0 && sinceS < this.everyS) return false;
    this.warnedAt = now;
    return true;
  }
}
