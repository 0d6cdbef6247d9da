import type { GtfsFeed, GtfsStopTime } from '../../gtfs/gtfs-model.js';
import { GtfsStopTimes } from '../../gtfs/gtfs-stop-times.js';

/** Time zone of the multi-route feed's agency. */
export const MULTI_ROUTE_TIME_ZONE = 'Asia/Shanghai';
const STOP_COUNT = 8;
const SPACING_DEG = 0.004;

/**
 * Builds a feed of three routes for tests of models that cover every route at once. Routes M and
 * N call at the same stops S0 to S7 with different running times (M 90 s a stop, N 150 s), so a
 * model that mixed routes would show it. M runs on weekdays every 12 minutes, N every day every
 * 20 minutes, and W on weekends on stops W0 to W7, as a frequency-based trip every 15 minutes.
 */
export function multiRouteFeed(): GtfsFeed {
  const feed: GtfsFeed = {
    agencies: [{ id: 'CITY', name: 'test city', timezone: MULTI_ROUTE_TIME_ZONE }],
    stops: new Map(),
    routes: new Map(),
    trips: new Map(),
    stopTimes: new GtfsStopTimes(),
    shapes: new Map(),
    calendars: new Map([
      ['WEEKDAY', { serviceId: 'WEEKDAY', days: [true, true, true, true, true, false, false], startDate: '20260101', endDate: '20261231' }],
      ['DAILY', { serviceId: 'DAILY', days: [true, true, true, true, true, true, true], startDate: '20260101', endDate: '20261231' }],
      ['WEEKEND', { serviceId: 'WEEKEND', days: [false, false, false, false, false, true, true], startDate: '20260101', endDate: '20261231' }],
    ]),
    calendarDates: [],
    frequencies: new Map(),
    ignoredFiles: [],
    warnings: [],
  };
  for (const prefix of ['S', 'W']) {
    for (let index = 0; index < STOP_COUNT; index += 1) {
      const id = `${prefix}${index}`;
      feed.stops.set(id, { id, name: id, lat: 31.3 + (prefix === 'W' ? 0.02 : 0), lon: 120.6 + index * SPACING_DEG, locationType: 0 });
    }
  }
  addRoute(feed, 'M', 'WEEKDAY', 'S', 90, 12 * 60);
  addRoute(feed, 'N', 'DAILY', 'S', 150, 20 * 60);
  feed.routes.set('W', { id: 'W', shortName: 'W', longName: 'Route W', type: 3 });
  for (const direction of [0, 1] as const) {
    const id = `W-${direction}`;
    feed.trips.set(id, { id, routeId: 'W', serviceId: 'WEEKEND', directionId: direction });
    feed.stopTimes.set(id, stopTimesOf('W', direction, 6 * 3600, 110));
    feed.frequencies.set(id, [{ startS: 6 * 3600, endS: 21 * 3600, headwayS: 15 * 60, exactTimes: true }]);
  }
  return feed;
}

function addRoute(feed: GtfsFeed, routeId: string, serviceId: string, stopPrefix: string, runS: number, headwayS: number): void {
  feed.routes.set(routeId, { id: routeId, shortName: routeId, longName: `Route ${routeId}`, type: 3 });
  for (const direction of [0, 1] as const) {
    for (let departure = 6 * 3600; departure <= 21 * 3600; departure += headwayS) {
      const id = `${routeId}-${direction}-${departure}`;
      feed.trips.set(id, { id, routeId, serviceId, directionId: direction });
      feed.stopTimes.set(id, stopTimesOf(stopPrefix, direction, departure, runS));
    }
  }
}

/** Stop times of one trip: `runS` between stops plus a dwell of 20 s, slower in the evening peak. */
function stopTimesOf(stopPrefix: string, direction: 0 | 1, departure: number, runS: number): GtfsStopTime[] {
  const peak = departure >= 17 * 3600 && departure < 19 * 3600 ? 1.4 : 1;
  const stopTimes: GtfsStopTime[] = [];
  let time = departure;
  for (let sequence = 0; sequence < STOP_COUNT; sequence += 1) {
    if (sequence > 0) time += Math.round(runS * peak);
    const dwell = sequence === 0 || sequence === STOP_COUNT - 1 ? 0 : 20;
    stopTimes.push({ stopId: `${stopPrefix}${direction === 0 ? sequence : STOP_COUNT - 1 - sequence}`, sequence: sequence + 1, arrivalS: time, departureS: time + dwell });
    time += dwell;
  }
  return stopTimes;
}
