import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GtfsCalendarDate } from '../../gtfs/gtfs-model.js';
import { DEFAULT_BUSFARE_SETTINGS } from '../evaluation/gtfs-avl-evaluation.js';
import { LiveDay } from '../live-day.js';
import { addDays, serviceDayStart } from '../local-time.js';
import { scheduleHistoryTrips } from '../matching/schedule-history.js';
import { type TripSchedule, buildTripSchedule } from '../matching/trip-patterns.js';
import type { PredictionRequest } from '../models/arrival-model.js';
import { BusfareModel } from '../models/busfare-model.js';
import { type ObservedTrip, dayTypeOf } from '../observed-trip.js';
import { buildModelWorkerScript } from '../testing/model-worker-script.js';
import { MULTI_ROUTE_TIME_ZONE, multiRouteFeed } from '../testing/multi-route-feed.js';
import { PairHistory } from '../travel-history.js';
import { WorkerModelBuilder } from './model-thread.js';
import { TimetableRequests, buildTimetableModelParts, timetableObservedTrips } from './timetable-model-parts.js';

/** A Wednesday, whose week before contains both weekend days, and a Sunday. */
const DATES = ['2026-03-04', '2026-03-08'];
const DAYS = 7;

let directory: string;
let script: URL;
let schedule: TripSchedule;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-timetable-model-'));
  script = await buildModelWorkerScript(directory);
  schedule = buildTripSchedule(multiRouteFeed());
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Returns requests from every second stop of every pattern to the stops after it, in the morning, the evening peak and after the last trip. */
function requestsOn(serviceDate: string): PredictionRequest[] {
  const dayStart = serviceDayStart(serviceDate, MULTI_ROUTE_TIME_ZONE);
  const requests: PredictionRequest[] = [];
  for (const pattern of schedule.patterns.values()) {
    const stopIds = pattern.stops.map((stop) => stop.stopId);
    for (const hour of [7.2, 17.7, 22.5]) {
      for (let from = 0; from < stopIds.length - 1; from += 2) {
        const now = dayStart + hour * 3600;
        requests.push({ routeId: pattern.routeId, directionId: pattern.directionId, tripId: 't', vehicleId: 'bus-1', dayType: dayTypeOf(serviceDate), dayStart, arrivalsSoFar: [{ stopId: stopIds[from]!, time: now }], now, targets: stopIds.slice(from + 1) });
      }
    }
  }
  return requests;
}

/** Returns a day on which the morning's first run of each route direction took 1.3 times its timetable. */
function slowMorning(serviceDate: string): LiveDay {
  const day = new LiveDay();
  const dayStart = serviceDayStart(serviceDate, MULTI_ROUTE_TIME_ZONE);
  const firstRuns = new Map<string, ObservedTrip>();
  for (const trip of timetableObservedTrips(new TimetableRequests(schedule, 1).requestFor(serviceDate))) {
    const key = `${trip.routeId}|${trip.directionId}`;
    if (!firstRuns.has(key)) firstRuns.set(key, trip);
  }
  for (const trip of firstRuns.values()) {
    const live: ObservedTrip = { ...trip, id: `${serviceDate}/live/${trip.routeId}/${trip.directionId}`, serviceDate, dayStart, arrivals: [] };
    const start = trip.arrivals[0]!.time - trip.dayStart + dayStart;
    for (const arrival of trip.arrivals) day.append(live, { stopId: arrival.stopId, time: start + 1.3 * (arrival.time - trip.arrivals[0]!.time) });
  }
  return day;
}

describe('timetable model parts', () => {
  it('rebuild the trips of scheduleHistoryTrips', () => {
    for (const serviceDate of DATES) {
      const rebuilt = timetableObservedTrips(new TimetableRequests(schedule, DAYS).requestFor(serviceDate));
      const listed = scheduleHistoryTrips(schedule, new Set(schedule.tripsByRoute.keys()), serviceDate, DAYS);

      expect(rebuilt.length).toBeGreaterThan(0);
      expect(rebuilt).toStrictEqual(listed);
    }
  });

  it('build the pair history of the rebuilt trips', () => {
    for (const serviceDate of DATES) {
      const request = new TimetableRequests(schedule, DAYS).requestFor(serviceDate);
      const fromTrips = new PairHistory(timetableObservedTrips(request)).toParts();

      const build = buildTimetableModelParts(request);
      const fromColumns = build.history;

      expect(fromTrips.secondsOfDay.length, serviceDate).toBeGreaterThan(0);
      expect(build.trips, serviceDate).toBe(timetableObservedTrips(request).length);
      expect(fromColumns.pairKeys, serviceDate).toStrictEqual(fromTrips.pairKeys);
      expect(fromColumns.dates, serviceDate).toStrictEqual(fromTrips.dates);
      expect(fromColumns.pairStart, serviceDate).toStrictEqual(fromTrips.pairStart);
      expect(fromColumns.secondsOfDay, serviceDate).toStrictEqual(fromTrips.secondsOfDay);
      expect(fromColumns.duration, serviceDate).toStrictEqual(fromTrips.duration);
      expect(fromColumns.date, serviceDate).toStrictEqual(fromTrips.date);
      // Compared byte for byte, so a 0 against a −0 in the durations fails too.
      expect(Buffer.from(fromColumns.duration.buffer).equals(Buffer.from(fromTrips.duration.buffer)), serviceDate).toBe(true);
    }
  });

  it('copy the times out of the shared blocks', () => {
    const { columns } = new TimetableRequests(schedule, DAYS).requestFor(DATES[0]!);

    expect(columns.times.buffer.byteLength).toBe(columns.times.length * Float64Array.BYTES_PER_ELEMENT);
    expect(columns.timeStart.at(-1)).toBe(columns.times.length);
    expect(columns.tripIds).toHaveLength(schedule.trips.size);
  });

  it('read the exceptions of a calendar_dates-only feed once', () => {
    // 300 service ids, each defined only by calendar_dates rows for 60 dates, with no calendar.txt.
    const feed = multiRouteFeed();
    const services = 300;
    const rows: GtfsCalendarDate[] = [];
    for (let service = 0; service < services; service += 1) {
      for (let day = 0; day < 60; day += 1) rows.push({ serviceId: `DUTY-${service}`, date: addDays('2026-02-01', day).replaceAll('-', ''), exceptionType: 1 });
    }
    let tripIndex = 0;
    for (const trip of feed.trips.values()) trip.serviceId = `DUTY-${tripIndex++ % services}`;
    feed.calendars.clear();
    let rowReads = 0;
    feed.calendarDates = new Proxy(rows, {
      get(target, property, receiver) {
        if (typeof property === 'string' && /^\d+$/.test(property)) rowReads += 1;
        return Reflect.get(target, property, receiver);
      },
    });
    const calendarSchedule = buildTripSchedule(feed);

    const request = new TimetableRequests(calendarSchedule, DAYS).requestFor(DATES[0]!);

    expect(request.days.map((day) => day.trips.length)).toStrictEqual(Array.from({ length: DAYS }, () => calendarSchedule.trips.size));
    // A scan of the rows for each service and day reads 12.7 million of them here, on the refresh thread.
    expect(rowReads).toBeLessThanOrEqual(2 * rows.length);
  });

  it('list only the trips that run on each date', () => {
    const request = new TimetableRequests(schedule, DAYS).requestFor('2026-03-09');
    const routesOn = (serviceDate: string) => new Set([...request.days.find((day) => day.serviceDate === serviceDate)!.trips].map((trip) => request.columns.routeIds[request.columns.tripRoute[trip]!]));

    expect(request.days.map((day) => day.serviceDate)).toStrictEqual(['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08']);
    expect(routesOn('2026-03-06')).toStrictEqual(new Set(['M', 'N']));
    expect(routesOn('2026-03-07')).toStrictEqual(new Set(['N', 'W']));
  });
});

describe('timetable model built in the worker thread', () => {
  it('predicts as the per-route models', async () => {
    const builder = new WorkerModelBuilder(script, 'timetable');
    try {
      for (const serviceDate of DATES) {
        const request = new TimetableRequests(schedule, DAYS).requestFor(serviceDate);
        const inWorker = new BusfareModel(new PairHistory((await builder.build(request)).history), DEFAULT_BUSFARE_SETTINGS, []);
        const inThread = new BusfareModel(new PairHistory(buildTimetableModelParts(request).history), DEFAULT_BUSFARE_SETTINGS, []);
        const perRoute = new Map([...schedule.tripsByRoute.keys()].map((routeId) => [routeId, new BusfareModel(new PairHistory(scheduleHistoryTrips(schedule, new Set([routeId]), serviceDate, DAYS)), DEFAULT_BUSFARE_SETTINGS, [])]));
        const requests = requestsOn(serviceDate);

        const slow = slowMorning(serviceDate);
        // The slow morning moves some predictions, so the comparison covers the today ratios too.
        expect(requests.some((prediction) => perRoute.get(prediction.routeId)!.predict(prediction, slow)[0] !== perRoute.get(prediction.routeId)!.predict(prediction, new LiveDay())[0])).toBe(true);
        for (const live of [new LiveDay(), slow]) {
          for (const prediction of requests) {
            const expected = perRoute.get(prediction.routeId)!.predict(prediction, live);
            const label = `${serviceDate} ${prediction.routeId}/${prediction.directionId} from ${prediction.arrivalsSoFar[0]!.stopId} at ${prediction.now}`;

            expect(inWorker.predict(prediction, live), label).toStrictEqual(expected);
            expect(inThread.predict(prediction, live), label).toStrictEqual(expected);
          }
        }
      }
    } finally {
      await builder.close();
    }
  });

  it('predicts for routes that share stops apart', async () => {
    // Routes M and N call at the same stops with different running times.
    const builder = new WorkerModelBuilder(script, 'timetable');
    const request = new TimetableRequests(schedule, DAYS).requestFor(DATES[0]!);
    const model = new BusfareModel(new PairHistory((await builder.build(request)).history), DEFAULT_BUSFARE_SETTINGS, []);
    await builder.close();
    const [fromM, fromN] = ['M', 'N'].map((routeId) => requestsOn(DATES[0]!).find((prediction) => prediction.routeId === routeId && prediction.directionId === 0)!);

    expect(fromM!.targets).toStrictEqual(fromN!.targets);
    expect(model.predict(fromN!, new LiveDay())[0]).toBeGreaterThan(model.predict(fromM!, new LiveDay())[0]! + 30);
  });
});
