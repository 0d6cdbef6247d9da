import type { GtfsCalendarDate, GtfsFeed } from './gtfs-model.js';

/**
 * Exception type by service id and date of each feed's calendar_dates rows, with the row count it
 * was built from. A feed can list hundreds of thousands of rows, and callers ask for every service
 * on several dates, so the rows are indexed once rather than scanned on each call.
 */
const exceptionIndexes = new WeakMap<readonly GtfsCalendarDate[], { rows: number; types: Map<string, Map<string, 1 | 2>> }>();

/** Checks whether a service runs on a date (YYYYMMDD). Exceptions in calendar_dates win over calendar.txt. */
export function serviceRunsOn(feed: GtfsFeed, serviceId: string, date: string): boolean {
  const exception = exceptionTypeOf(feed.calendarDates, serviceId, date);
  if (exception !== undefined) return exception === 1;
  const calendar = feed.calendars.get(serviceId);
  if (!calendar || date < calendar.startDate || date > calendar.endDate) return false;
  const weekday = new Date(Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8)))).getUTCDay();
  // calendar.txt lists Monday first; getUTCDay counts from Sunday.
  return calendar.days[(weekday + 6) % 7]!;
}

/**
 * First-stop departure times of a trip in seconds after the service day's start: one per headway
 * inside each frequencies.txt window (end time exclusive), or the trip's own scheduled time.
 */
export function tripDepartures(feed: GtfsFeed, tripId: string): number[] {
  const windows = feed.frequencies.get(tripId);
  if (windows) {
    const departures: number[] = [];
    for (const window of windows) {
      for (let time = window.startS; time < window.endS; time += window.headwayS) departures.push(time);
    }
    return departures.sort((a, b) => a - b);
  }
  const first = feed.stopTimes.get(tripId)?.[0];
  const time = first?.departureS ?? first?.arrivalS;
  return time === undefined ? [] : [time];
}

/** Returns the exception type of a service on a date, from the first row that lists both, or undefined. */
function exceptionTypeOf(calendarDates: readonly GtfsCalendarDate[], serviceId: string, date: string): 1 | 2 | undefined {
  let index = exceptionIndexes.get(calendarDates);
  // Rows appended since the index was built (the importer appends them) rebuild it. A row replaced in place is not seen.
  if (index?.rows !== calendarDates.length) {
    const types = new Map<string, Map<string, 1 | 2>>();
    for (const entry of calendarDates) {
      let byDate = types.get(entry.serviceId);
      if (!byDate) types.set(entry.serviceId, (byDate = new Map()));
      if (!byDate.has(entry.date)) byDate.set(entry.date, entry.exceptionType);
    }
    index = { rows: calendarDates.length, types };
    exceptionIndexes.set(calendarDates, index);
  }
  return index.types.get(serviceId)?.get(date);
}
