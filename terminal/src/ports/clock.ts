/** Wall time and monotonic time, injectable so tests can move time. */
export interface Clock {
  now(): Date;
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  now: () => new Date(),
  monotonicMs: () => performance.now(),
};

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  private wallMs: number;
  private monoMs = 0;

  constructor(start: Date = new Date('2026-01-05T08:00:00+08:00')) {
    this.wallMs = start.getTime();
  }

  now(): Date {
    return new Date(this.wallMs);
  }

  monotonicMs(): number {
    return this.monoMs;
  }

  advance(ms: number): void {
    this.wallMs += ms;
    this.monoMs += ms;
  }

  /** Moves wall time only, as a clock correction or a jump would. */
  setWall(date: Date): void {
    this.wallMs = date.getTime();
  }
}
