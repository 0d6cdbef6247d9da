/** Rules that place a moment in a local business day. */
export interface BusinessDayRule {
  /** Local offset from UTC in minutes (480 for China Standard Time). */
  timezoneOffsetMinutes: number;
  /** Local time 'HH:MM' at which a business day starts; taps before it belong to the previous day. */
  cutoff: string;
}

/** Returns the local business day (YYYY-MM-DD) of an ISO 8601 instant. */
export function businessDayOf(isoTime: string, rule: BusinessDayRule): string {
  return businessDayPlacer(rule)(isoTime);
}

/**
 * Returns a function that places instants by `rule`, with the cutoff parsed once. Ingest places
 * every record, and the records of a batch mostly share one business day, so the function keeps
 * the last day's text and formats a date only when the day changes.
 */
export function businessDayPlacer(rule: BusinessDayRule): (isoTime: string) => string {
  const shiftMs = (rule.timezoneOffsetMinutes - cutoffMinutes(rule.cutoff)) * 60_000;
  let lastDayNumber = Number.NaN;
  let lastDay = '';
  return (isoTime) => {
    const instant = Date.parse(isoTime);
    if (Number.isNaN(instant)) throw new RangeError(`invalid ISO 8601 time "${isoTime}"`);
    const shifted = instant + shiftMs;
    const dayNumber = Math.floor(shifted / MS_PER_DAY);
    // Outside the Date range toISOString raises, and a day number alone cannot tell that case apart.
    if (dayNumber === lastDayNumber && Math.abs(shifted) <= MAX_TIME_MS) return lastDay;
    const day = new Date(shifted).toISOString().slice(0, 10);
    lastDayNumber = dayNumber;
    lastDay = day;
    return day;
  };
}

const MS_PER_DAY = 86_400_000;
/** The largest distance from the epoch a Date can hold (ECMAScript time values). */
const MAX_TIME_MS = 8.64e15;

export function cutoffMinutes(cutoff: string): number {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(cutoff);
  if (!match) throw new RangeError(`invalid business day cutoff "${cutoff}": expected HH:MM`);
  return Number(match[1]) * 60 + Number(match[2]);
}
