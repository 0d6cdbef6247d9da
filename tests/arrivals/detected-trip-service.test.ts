import { existsSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TripSchedule } from '../../backoffice/src/arrivals/matching/trip-patterns.js';
import { ArrivalService } from '../../backoffice/src/arrivals/realtime/arrival-service.js';
import { DetectedTripStore } from '../../backoffice/src/arrivals/realtime/detected-trip-store.js';
import { SqlitePositionFeed } from '../../backoffice/src/arrivals/realtime/sqlite-position-feed.js';
import { detectedTripsPath } from '../../backoffice/src/arrivals/realtime/start-arrivals.js';
import { createLogger } from '../../backoffice/src/logger.js';
import type { SqliteClearingRepository } from '../../backoffice/src/store/sqlite-clearing-repository.js';
import { EIGHT_AM } from './rider-fixture.js';
import { type DriveDatabase, createDriveDatabase, storeDrive } from './stored-drive.js';

const DAY_S = 86_400;
const logger = createLogger('test', 'silent');
let fixture: DriveDatabase;
let databasePath: string;
let schedule: TripSchedule;
let repository: SqliteClearingRepository;

/** Stores a bus's positions of eastbound trip E0800 at 3 m/s on the day starting `dayOffset` days after 2026-03-02. */
function drive(vehicleId: string, dayOffset: number): void {
  storeDrive(repository, { vehicleId, start: EIGHT_AM + dayOffset * DAY_S, directionId: 0, speedMps: 3 });
}

function storedDates(beforeDate: string): string[] {
  const store = new DetectedTripStore(detectedTripsPath(databasePath));
  const trips = store.tripsBefore(beforeDate, 3650, schedule.timeZone);
  store.close();
  return [...new Set(trips.map((trip) => trip.serviceDate))];
}

beforeEach(() => {
  fixture = createDriveDatabase('busfare-pruning-');
  ({ databasePath, schedule, repository } = fixture);
});

afterEach(() => fixture.remove());

describe('detected-trip store in the arrival service', () => {
  it('keeps history when a bus clock runs ahead', () => {
    drive('bus-7', 0);
    drive('bus-7', 1);
    // bus-9's terminal clock is 400 days ahead, so its stop times fall on a service date in 2027.
    drive('bus-9', 400);
    const service = new ArrivalService({ schedule, positions: new SqlitePositionFeed(databasePath), logger, refreshMs: 30_000, now: () => EIGHT_AM + 1 * DAY_S + 12 * 3600, detectedTrips: new DetectedTripStore(detectedTripsPath(databasePath)), historyDays: 28 });

    service.refresh();
    service.stop();

    expect(storedDates('2026-03-04')).toEqual(['2026-03-02', '2026-03-03']);
  });

  it('deletes the days older than historyDays', () => {
    drive('bus-7', 0);
    drive('bus-7', 5);
    drive('bus-7', 6);
    const service = new ArrivalService({ schedule, positions: new SqlitePositionFeed(databasePath), logger, refreshMs: 30_000, now: () => EIGHT_AM + 6 * DAY_S + 12 * 3600, detectedTrips: new DetectedTripStore(detectedTripsPath(databasePath)), historyDays: 3 });

    service.refresh();
    service.stop();

    expect(storedDates('2026-03-09')).toEqual(['2026-03-07', '2026-03-08']);
  });

  it.each([-1, 1.5, 367, Number.NaN])('rejects historyDays %s', (historyDays) => {
    const store = new DetectedTripStore(detectedTripsPath(databasePath));
    const positions = new SqlitePositionFeed(databasePath);

    expect(() => new ArrivalService({ schedule, positions, logger, detectedTrips: store, historyDays })).toThrow(new RangeError(`invalid historyDays ${historyDays}: expected a whole number from 0 to 366`));
    positions.close();
    store.close();
  });

  it('warns once an hour while stop times cannot be stored', () => {
    const messages: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') messages.push((JSON.parse(line) as { msg: string }).msg);
        done();
      },
    });
    const broken = new DetectedTripStore(detectedTripsPath(databasePath));
    broken.close();
    let now = EIGHT_AM + 12 * 3600;
    const service = new ArrivalService({ schedule, positions: new SqlitePositionFeed(databasePath), logger: pino({ level: 'warn' }, sink), refreshMs: 30_000, now: () => now, detectedTrips: broken, historyDays: 28 });

    // Each refresh reads a new trip's stop times, and each write fails.
    for (const [index, vehicleId] of ['bus-1', 'bus-2', 'bus-3'].entries()) {
      drive(vehicleId, 0);
      now += 600 * index;
      expect(service.refresh().vehicles).toBeDefined();
    }
    drive('bus-4', 0);
    now += 3600;
    service.refresh();
    service.stop();

    expect(messages.filter((message) => message.startsWith('detected stop times not stored'))).toHaveLength(2);
  });

  it('starts a new store after the file is deleted', () => {
    const path = detectedTripsPath(databasePath);
    let now = EIGHT_AM + 12 * 3600;
    const service = new ArrivalService({ schedule, positions: new SqlitePositionFeed(databasePath), logger, refreshMs: 30_000, now: () => now, detectedTrips: new DetectedTripStore(path), historyDays: 28 });
    drive('bus-7', 0);
    service.refresh();

    // An operator deletes the store while the back office runs.
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    drive('bus-7', 1);
    now += DAY_S;
    service.refresh();
    service.stop();

    expect(existsSync(path)).toBe(true);
    expect(storedDates('2026-03-04')).toEqual(['2026-03-03']);
  });
});
