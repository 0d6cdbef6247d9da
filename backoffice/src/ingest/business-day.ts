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
 * every record, so it keeps one.
 */
export function businessDayPlacer(rule: BusinessDayRule): (isoTime: string) => string {
  const shiftMs = (rule.timezoneOffsetMinutes - cutoffMinutes(rule.cutoff)) * 60_000;
  return (isoTime) => {
    const instant = Date.parse(isoTime);
    if (Number.isNaN(instant)) throw new RangeError(`invalid ISO 8601 time "${isoTime}"`);
    return new Date(instant + shiftMs).toISOString().slice(0, 10);
  };
}

export function cutoffMinutes(cutoff: string): number {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(cutoff);
  if (!match) throw new RangeError(`invalid business day cutoff "${cutoff}": expected HH:MM`);
  return Number(match[1]) * 60 + Number(match[2]);
}
