import type { CalendarDate } from './fields.js';

/** GPS broadcasts a 10-bit week number, so a receiver with a stale epoch reports dates 1,024 weeks back. */
export const GPS_WEEK_ROLLOVER_MS = 1024 * 7 * 86_400_000;

/** UTC instant from a sentence date and a time of day. */
export function toUtcDate(date: CalendarDate, msOfDay: number): Date {
  return new Date(Date.UTC(date.year, date.month - 1, date.day) + msOfDay);
}

/**
 * Applies the week-rollover rule. A time before `notBefore` moves forward by the fewest whole
 * 1,024-week periods that reach `notBefore`. It is kept only if it then is not after `now`, because
 * otherwise the date cannot be trusted, and the result is null. Times from `notBefore` on are kept.
 */
export function applyWeekRolloverRule(time: Date, notBefore: Date, now: Date): Date | null {
  const timeMs = time.getTime();
  const notBeforeMs = notBefore.getTime();
  if (timeMs >= notBeforeMs) return time;

  const periods = Math.ceil((notBeforeMs - timeMs) / GPS_WEEK_ROLLOVER_MS);
  const moved = timeMs + periods * GPS_WEEK_ROLLOVER_MS;
  return moved <= now.getTime() ? new Date(moved) : null;
}
