import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importGtfsFeed } from '../../gtfs/gtfs-feed.js';
import { type DriveOptions, driveFixes, timeAtDistance } from '../testing/synthetic-drive.js';
import { SYNTHETIC_STOP_SPACING_M, writeSyntheticFeed } from '../testing/synthetic-route.js';
import { detectTrips } from './arrival-detection.js';
import { type TripSchedule, buildTripSchedule } from './trip-patterns.js';
import type { VehicleEvent } from './vehicle-events.js';
import { VehicleTracker } from './vehicle-tracker.js';

/** 08:00 local time (UTC+8) on Monday 2026-03-02. */
const EIGHT_AM = Date.UTC(2026, 2, 2, 0, 0, 0) / 1000;
const RADIUS_M = 30;

let folder: string;
let schedule: TripSchedule;

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'busfare-synthetic-'));
  writeSyntheticFeed(folder);
  schedule = buildTripSchedule(importGtfsFeed(folder));
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

function run(options: DriveOptions): VehicleEvent[] {
  const tracker = new VehicleTracker(schedule);
  return driveFixes(options).flatMap((fix) => tracker.update(fix));
}

const eastbound: DriveOptions = { vehicleId: 'bus-7', start: EIGHT_AM, directionId: 0, speedMps: 10, dwellS: 20, fixEveryS: 10 };

describe('buildTripSchedule', () => {
  it('places stops along the shape', () => {
    const trip = schedule.trips.get('E0800')!;
    const distances = trip.pattern.stops.map((stop) => stop.distanceM);

    expect(distances[0]).toBeCloseTo(0, 0);
    expect(Math.abs(distances[9]! - 4500)).toBeLessThan(10);
    expect(schedule.patterns.size).toBe(2);
  });
});

describe('VehicleTracker', () => {
  it('takes the trip from the sign-on', () => {
    const events = run({ ...eastbound, signOn: { routeId: '1', directionId: 0 } });
    const matched = events.find((event) => event.kind === 'trip-matched');

    expect(matched).toMatchObject({ tripId: 'E0800', source: 'sign-on', serviceDate: '2026-03-02' });
  });

  it('detects every arrival with interpolated times', () => {
    const events = run({ ...eastbound, signOn: { routeId: '1', directionId: 0 } });
    const arrivals = events.filter((event) => event.kind === 'arrival');

    expect(arrivals.map((event) => event.kind === 'arrival' && event.stopId)).toEqual(['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9']);
    arrivals.forEach((event, index) => {
      const expected = timeAtDistance(eastbound, (index + 1) * SYNTHETIC_STOP_SPACING_M - RADIUS_M);
      expect(Math.abs(event.time - expected)).toBeLessThanOrEqual(2);
      expect(event.detectedAt).toBeGreaterThanOrEqual(event.time);
    });
  });

  it('detects departures after the dwell', () => {
    const events = run({ ...eastbound, signOn: { routeId: '1', directionId: 0 } });
    const departure = events.find((event) => event.kind === 'departure' && event.stopId === 's3')!;

    expect(Math.abs(departure.time - timeAtDistance(eastbound, 3 * SYNTHETIC_STOP_SPACING_M + RADIUS_M))).toBeLessThanOrEqual(2);
    expect(events.filter((event) => event.kind === 'departure')).toHaveLength(9);
  });

  it('completes the trip at the last stop', () => {
    const events = run({ ...eastbound, signOn: { routeId: '1', directionId: 0 } });

    expect(events.filter((event) => event.kind === 'trip-completed')).toHaveLength(1);
  });

  it('matches when the sign-on direction is wrong', () => {
    const events = run({ ...eastbound, signOn: { routeId: '1', directionId: 1 } });
    const matched = events.find((event) => event.kind === 'trip-matched');

    expect(matched).toMatchObject({ tripId: 'E0800', directionId: 0, source: 'matching' });
  });

  it('matches when the sign-on route is unknown', () => {
    const events = run({ ...eastbound, signOn: { routeId: '99' } });

    expect(events.find((event) => event.kind === 'trip-matched')).toMatchObject({ tripId: 'E0800', source: 'matching' });
  });

  it('matches without any sign-on', () => {
    const events = run(eastbound);

    expect(events.find((event) => event.kind === 'trip-matched')).toMatchObject({ tripId: 'E0800', source: 'matching' });
  });

  it('matches a late bus to its own trip', () => {
    const events = run({ ...eastbound, start: EIGHT_AM + 240 });
    const matches = events.filter((event) => event.kind === 'trip-matched');

    expect(matches.map((event) => event.kind === 'trip-matched' && event.tripId)).toContain('E0800');
    expect(events.filter((event) => event.kind === 'arrival').every((event) => event.kind === 'arrival' && event.tripId === 'E0800')).toBe(true);
  });

  it('matches a westbound bus', () => {
    const events = run({ ...eastbound, directionId: 1, start: EIGHT_AM + 300 });
    const arrivals = events.filter((event) => event.kind === 'arrival');

    expect(events.find((event) => event.kind === 'trip-matched')).toMatchObject({ tripId: 'W0805', directionId: 1 });
    expect(arrivals[0]).toMatchObject({ stopId: 's8' });
  });

  it('reports a detour and its end', () => {
    const offRoad = (elapsedS: number): number => (elapsedS >= 100 && elapsedS < 160 ? 400 : 0);
    const events = run({ ...eastbound, northOffset: offRoad });
    const detour = events.find((event) => event.kind === 'detour');
    const ended = events.find((event) => event.kind === 'detour-ended');

    expect(detour).toMatchObject({ tripId: 'E0800' });
    expect(ended!.time).toBeGreaterThan(detour!.time);
    expect(events.filter((event) => event.kind === 'trip-completed')).toHaveLength(1);
  });

  it('reports a bus standing still between stops', () => {
    const events = run({ ...eastbound, hold: { atM: 1250, forS: 300 } });
    const standstill = events.find((event) => event.kind === 'standstill');

    expect(standstill).toBeDefined();
    expect(standstill!.detectedAt - standstill!.time).toBeGreaterThanOrEqual(180);
  });

  it('reports a layover before the departure', () => {
    const tracker = new VehicleTracker(schedule);
    const events: VehicleEvent[] = [];
    for (let time = EIGHT_AM - 240; time < EIGHT_AM; time += 30) events.push(...tracker.update({ vehicleId: 'bus-7', time, lat: 31.3, lon: 120.6, routeId: '1', directionId: 0 }));

    expect(events.find((event) => event.kind === 'layover')).toMatchObject({ tripId: 'E0800', stopId: 's0' });
  });

  it('ignores a fix older than the last one', () => {
    const tracker = new VehicleTracker(schedule);
    const [first, second] = driveFixes(eastbound);
    tracker.update(second!);

    expect(tracker.update(first!)).toEqual([]);
  });

  it('stays unmatched far from every route', () => {
    const tracker = new VehicleTracker(schedule);
    const events = [0, 30, 60].flatMap((offset) => tracker.update({ vehicleId: 'bus-7', time: EIGHT_AM + offset, lat: 31.4, lon: 120.6 }));

    expect(events).toEqual([]);
    expect(tracker.trip).toBeUndefined();
  });

  it('follows a bus onto its next trip', () => {
    const out = driveFixes(eastbound);
    const back = driveFixes({ ...eastbound, directionId: 1, start: EIGHT_AM + 900 });
    const { trips } = detectTrips(schedule, [...out, ...back]);

    expect(trips.map((entry) => entry.trip.id)).toEqual(['2026-03-02/bus-7/E0800', '2026-03-02/bus-7/W0815']);
    expect(trips[0]!.trip.arrivals).toHaveLength(10);
  });
});
