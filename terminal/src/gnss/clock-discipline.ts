import type { GnssFix } from '../ports/position-source.js';

export interface ClockDisciplineOptions {
  /** Earliest GNSS time trusted, normally the build date. */
  notBefore: Date;
  /** Offsets smaller than this are left alone: NMEA arrives up to about a second after its epoch. Default 2000 ms. */
  minCorrectionMs?: number;
}

export type ClockDecision =
  | { correct: true; offsetMs: number }
  | { correct: false; reason: 'no-time' | 'before-not-before' | 'within-tolerance' };

/**
 * Decides whether a fix may correct the terminal clock. Only fixes that passed the fix filter
 * reach this point; their time must be known and not before `notBefore`. `offsetMs` is what to
 * add to the system time.
 */
export function decideClockCorrection(fix: GnssFix, systemNow: Date, options: ClockDisciplineOptions): ClockDecision {
  if (fix.time === null) return { correct: false, reason: 'no-time' };
  if (fix.time.getTime() < options.notBefore.getTime()) return { correct: false, reason: 'before-not-before' };

  const offsetMs = fix.time.getTime() - systemNow.getTime();
  if (Math.abs(offsetMs) < (options.minCorrectionMs ?? 2000)) return { correct: false, reason: 'within-tolerance' };
  return { correct: true, offsetMs };
}
