import type { GtfsFeed } from './gtfs-model.js';

/** Checks whether a service runs on a date (YYYYMMDD). Exceptions in calendar_dates win over calendar.txt. */
export function serviceRunsOn(feed: GtfsFeed, serviceId: string, date: string): boolean {
  const exception = feed.calendarDates.find((entry) => entry.serviceId === serviceId && entry.date === date);
  if (exception) return exception.exceptionType === 1;
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
