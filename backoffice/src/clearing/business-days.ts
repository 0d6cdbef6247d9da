import { type BusinessDayRule, businessDayOf, cutoffMinutes } from '../ingest/business-day.js';

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** Checks a business day written YYYY-MM-DD; throws a RangeError naming the value. */
export function assertBusinessDay(day: string): void {
  if (!DAY_PATTERN.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) {
    throw new RangeError(`invalid business day "${day}": expected a date YYYY-MM-DD`);
  }
}

/** Returns the instant at which a business day ends (the next day's cut-off), as a Date. */
export function businessDayEnd(day: string, rule: BusinessDayRule): Date {
  assertBusinessDay(day);
  const localMidnightUtc = Date.parse(`${day}T00:00:00Z`) - rule.timezoneOffsetMinutes * 60_000;
  return new Date(localMidnightUtc + (24 * 60 + cutoffMinutes(rule.cutoff)) * 60_000);
}

/** Returns the business day that starts when `day` ends. */
export function nextBusinessDay(day: string): string {
  assertBusinessDay(day);
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Returns the business day before `day`. */
export function previousBusinessDay(day: string): string {
  assertBusinessDay(day);
  return new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

export { businessDayOf };
