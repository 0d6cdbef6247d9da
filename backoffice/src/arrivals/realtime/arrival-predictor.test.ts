import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importGtfsFeed } from '../../gtfs/gtfs-feed.js';
import { serviceDayStart } from '../local-time.js';
import { type TripSchedule, buildTripSchedule } from '../matching/trip-patterns.js';
import { type ObservedTrip, dayTypeOf } from '../observed-trip.js';
import { driveFixes } from '../testing/synthetic-drive.js';
import { writeSyntheticFeed } from '../testing/synthetic-route.js';
import type { ArrivalModel } from '../models/arrival-model.js';
import { ArrivalPredictor, TRACKER_EXPIRY_S } from './arrival-predictor.js';

let directory: string;
let schedule: TripSchedule;

/** Model keys of a predictor, read from its private cache. */
function modelKeys(predictor: ArrivalPredictor): string[] {
  return [...(predictor as unknown as { models: Map<string, unknown> }).models.keys()];
}

/** Drives eastbound trip E0800 on a service date and predicts while the bus is on the road. */
function driveAndPredict(predictor: ArrivalPredictor, serviceDate: string, vehicleId: string): number {
  const start = serviceDayStart(serviceDate, schedule.timeZone) + 8 * 3600;
  const fixes = driveFixes({ vehicleId, start, directionId: 0, speedMps: 3, dwellS: 20, fixEveryS: 15, signOn: { routeId: '1', directionId: 0 } });
  const half = fixes.slice(0, fixes.length >> 1);
  predictor.ingest(half);
  return predictor.predict(half.at(-1)!.time).reduce((sum, vehicle) => sum + vehicle.stops.length, 0);
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-predictor-'));
  writeSyntheticFeed(join(directory, 'feed'));
  schedule = buildTripSchedule(importGtfsFeed(join(directory, 'feed')));
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('ArrivalPredictor models', () => {
  it('drops timetable models of older dates', () => {
    const predictor = new ArrivalPredictor(schedule);

    expect(driveAndPredict(predictor, '2026-03-02', 'bus-1')).toBeGreaterThan(0);
    expect(modelKeys(predictor)).toEqual(['2026-03-02|1']);
    expect(driveAndPredict(predictor, '2026-03-03', 'bus-2')).toBeGreaterThan(0);
    expect(modelKeys(predictor)).toEqual(['2026-03-02|1', '2026-03-03|1']);
    expect(driveAndPredict(predictor, '2026-03-05', 'bus-3')).toBeGreaterThan(0);
    expect(modelKeys(predictor)).toEqual(['2026-03-05|1']);
  });

  it('reuses known arrivals until the bus reaches a stop', () => {
    const predictor = new ArrivalPredictor(schedule);
    const known = (): { trip: ObservedTrip; arrivals: readonly unknown[] } | undefined => (predictor as unknown as { knownByVehicle: Map<string, { trip: ObservedTrip; arrivals: readonly unknown[] }> }).knownByVehicle.get('bus-1');
    const start = serviceDayStart('2026-03-02', schedule.timeZone) + 8 * 3600;
    const fixes = driveFixes({ vehicleId: 'bus-1', start, directionId: 0, speedMps: 3, dwellS: 20, fixEveryS: 15, signOn: { routeId: '1', directionId: 0 } });
    // The bus reaches a stop every 500 m, 167 s of driving and 20 s of dwell, so about 12 fixes apart.
    predictor.ingest(fixes.slice(0, 20));
    predictor.predict(fixes[19]!.time);
    const first = known()!.arrivals;
    predictor.predict(fixes[19]!.time + 5);

    expect(first.length).toBeGreaterThan(0);
    expect(known()!.arrivals).toBe(first);

    predictor.ingest(fixes.slice(20, 40));
    predictor.predict(fixes[39]!.time);

    expect(known()!.arrivals).not.toBe(first);
    expect(known()!.arrivals.length).toBeGreaterThan(first.length);
    expect(known()!.arrivals.slice(0, first.length)).toEqual(first);
  });

  it('builds the shared model before the first prediction', () => {
    const stops = schedule.trips.get('E0800')!.pattern.stops;
    const history: ObservedTrip[] = ['2026-02-28', '2026-03-01'].map((serviceDate) => {
      const dayStart = serviceDayStart(serviceDate, schedule.timeZone);
      const arrivals = stops.map((stop, index) => ({ stopId: stop.stopId, time: dayStart + 8 * 3600 + index * 100 }));
      return { id: `${serviceDate}/bus-h/E0800`, routeId: '1', directionId: 0, vehicleId: 'bus-h', serviceDate, dayType: dayTypeOf(serviceDate), dayStart, arrivals };
    });
    const predictor = new ArrivalPredictor(schedule, { history });

    expect((predictor as unknown as { sharedModel: unknown }).sharedModel).toBeDefined();
    expect(driveAndPredict(predictor, '2026-03-02', 'bus-1')).toBeGreaterThan(0);
    expect(modelKeys(predictor)).toEqual([]);
  });

  it('keeps stops in route order', () => {
    const stops = schedule.trips.get('E0800')!.pattern.stops;
    // On every history date one trip runs stops 0 to 3, 100 s apart, and another skips stop 3 and
    // reaches stop 4 at once, so stop 4's median run is shorter than stop 3's.
    const history: ObservedTrip[] = ['2026-02-26', '2026-02-27', '2026-02-28', '2026-03-01'].flatMap((serviceDate) => {
      const dayStart = serviceDayStart(serviceDate, schedule.timeZone);
      const trip = (vehicleId: string, offsetS: number, times: readonly (number | undefined)[]): ObservedTrip => ({
        id: `${serviceDate}/${vehicleId}/E0800`,
        routeId: '1',
        directionId: 0,
        vehicleId,
        serviceDate,
        dayType: dayTypeOf(serviceDate),
        dayStart,
        arrivals: times.flatMap((time, index) => (time === undefined ? [] : [{ stopId: stops[index]!.stopId, time: dayStart + 8 * 3600 + offsetS + time }])),
      });
      return [trip('bus-h', 0, [0, 100, 200, 300]), trip('bus-k', 60, [0, 100, 200, undefined, 220])];
    });
    const predictor = new ArrivalPredictor(schedule, { history });
    const start = serviceDayStart('2026-03-02', schedule.timeZone) + 8 * 3600;
    const fixes = driveFixes({ vehicleId: 'bus-1', start, directionId: 0, speedMps: 3, dwellS: 20, fixEveryS: 15, signOn: { routeId: '1', directionId: 0 } });
    predictor.ingest(fixes.slice(0, 20));

    const [vehicle] = predictor.predict(fixes[19]!.time);
    const times = vehicle!.stops.map((stop) => stop.predictedArrival);

    expect(vehicle!.stops.map((stop) => stop.stopIndex).slice(0, 3)).toEqual([2, 3, 4]);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('drops trackers of silent vehicles', () => {
    const predictor = new ArrivalPredictor(schedule);
    const trackers = (): Map<string, unknown> => (predictor as unknown as { trackers: Map<string, unknown> }).trackers;
    const start = serviceDayStart('2026-03-02', schedule.timeZone) + 8 * 3600;
    const fixes = driveFixes({ vehicleId: 'bus-1', start, directionId: 0, speedMps: 3, dwellS: 20, fixEveryS: 15, signOn: { routeId: '1', directionId: 0 } });
    predictor.ingest(fixes.slice(0, 20));
    const lastFix = fixes[19]!.time;

    expect(predictor.predict(lastFix + TRACKER_EXPIRY_S)).toHaveLength(0);
    expect(trackers().size).toBe(1);
    expect(predictor.predict(lastFix + TRACKER_EXPIRY_S + 1)).toHaveLength(0);
    expect(trackers().size).toBe(0);
  });

  it('warms a model a slice at a time', () => {
    const predictor = new ArrivalPredictor(schedule);
    const start = serviceDayStart('2026-03-02', schedule.timeZone) + 8 * 3600;
    for (const vehicleId of ['bus-1', 'bus-2', 'bus-3']) {
      predictor.ingest(driveFixes({ vehicleId, start, directionId: 0, speedMps: 3, dwellS: 20, fixEveryS: 15, signOn: { routeId: '1', directionId: 0 } }).slice(0, 20));
    }
    const now = start + 19 * 15;
    const requested: string[] = [];
    const model: ArrivalModel = {
      name: 'busfare',
      predict: (request) => {
        requested.push(request.vehicleId);
        return request.targets.map(() => 60);
      },
    };

    // A budget of 0 ms still visits one bus a call.
    expect(predictor.warmUp(model, '2026-03-02', 0, 0, now)).toBe(1);
    expect(predictor.warmUp(model, '2026-03-02', 1, 0, now)).toBe(2);
    expect(predictor.warmUp(model, '2026-03-02', 2, 0, now)).toBeUndefined();
    expect(requested).toEqual(['bus-1', 'bus-2', 'bus-3']);
    expect(predictor.warmUp(model, '2026-03-03', 0, 1000, now)).toBeUndefined();
    expect(requested).toHaveLength(3);
  });

  it('falls back when the learned model throws', () => {
    const start = serviceDayStart('2026-03-02', schedule.timeZone) + 8 * 3600;
    const fixes = driveFixes({ vehicleId: 'bus-1', start, directionId: 0, speedMps: 3, dwellS: 20, fixEveryS: 15, signOn: { routeId: '1', directionId: 0 } }).slice(0, 20);
    const faulty: ArrivalModel = {
      name: 'busfare',
      predict: () => {
        throw new RangeError('invalid pair index');
      },
    };
    const failures: string[] = [];
    const guarded = new ArrivalPredictor(schedule, { recordedModel: () => faulty, onRecordedModelError: (serviceDate, error) => failures.push(`${serviceDate}: ${(error as Error).message}`) });
    const unguarded = new ArrivalPredictor(schedule, { recordedModel: () => faulty });
    const timetableOnly = new ArrivalPredictor(schedule);
    for (const predictor of [guarded, unguarded, timetableOnly]) predictor.ingest(fixes);
    const now = fixes.at(-1)!.time;

    expect(guarded.predict(now)).toStrictEqual(timetableOnly.predict(now));
    expect(failures).toEqual(['2026-03-02: invalid pair index']);
    expect(() => unguarded.predict(now)).toThrow('invalid pair index');
  });

  it('fills pairs the learned model never saw', () => {
    const start = serviceDayStart('2026-03-02', schedule.timeZone) + 8 * 3600;
    const fixes = driveFixes({ vehicleId: 'bus-1', start, directionId: 0, speedMps: 3, dwellS: 20, fixEveryS: 15, signOn: { routeId: '1', directionId: 0 } }).slice(0, 20);
    // The learned model returns a time for the first target only, and the timetable model adds 10 s a stop.
    const partial: ArrivalModel = { name: 'busfare', predict: (request) => request.targets.map((_, index) => (index === 0 ? 1 : Number.NaN)) };
    const timetable: ArrivalModel = { name: 'busfare', predict: (request) => request.targets.map((_, index) => 400 + 10 * index) };
    const predictors = {
      learnedWithTimetable: new ArrivalPredictor(schedule, { recordedModel: () => partial, timetableModel: () => timetable }),
      timetableOnly: new ArrivalPredictor(schedule, { timetableModel: () => timetable }),
      learnedAlone: new ArrivalPredictor(schedule, { recordedModel: () => partial, timetableModel: () => undefined }),
      runningTimesOnly: new ArrivalPredictor(schedule, { timetableModel: () => undefined }),
    };
    for (const predictor of Object.values(predictors)) predictor.ingest(fixes);
    const now = fixes.at(-1)!.time;
    const stopsOf = (predictor: ArrivalPredictor) => predictor.predict(now)[0]!.stops;
    const learnedWithTimetable = stopsOf(predictors.learnedWithTimetable);
    const timetableOnly = stopsOf(predictors.timetableOnly);
    const learnedAlone = stopsOf(predictors.learnedAlone);
    const runningTimesOnly = stopsOf(predictors.runningTimesOnly);

    expect(learnedWithTimetable.length).toBeGreaterThan(2);
    expect(learnedWithTimetable[0]!.predictedArrival).toBeLessThan(timetableOnly[0]!.predictedArrival);
    expect(learnedWithTimetable.slice(1)).toStrictEqual(timetableOnly.slice(1));
    expect(learnedAlone[0]!.predictedArrival).toBeLessThanOrEqual(runningTimesOnly[0]!.predictedArrival);
    expect(learnedAlone.slice(1)).toStrictEqual(runningTimesOnly.slice(1));
    expect(runningTimesOnly).not.toStrictEqual(timetableOnly);
  });
});
