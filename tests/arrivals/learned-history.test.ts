import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTripSchedule, type TripSchedule } from '../../backoffice/src/arrivals/matching/trip-patterns.js';
import { ArrivalService } from '../../backoffice/src/arrivals/realtime/arrival-service.js';
import { DetectedTripStore } from '../../backoffice/src/arrivals/realtime/detected-trip-store.js';
import { SqlitePositionFeed } from '../../backoffice/src/arrivals/realtime/sqlite-position-feed.js';
import { detectedTripsPath, startArrivalService } from '../../backoffice/src/arrivals/realtime/start-arrivals.js';
import { writeSyntheticFeed } from '../../backoffice/src/arrivals/testing/synthetic-route.js';
import { importGtfsFeed } from '../../backoffice/src/gtfs/gtfs-feed.js';
import { createLogger } from '../../backoffice/src/logger.js';
import { SqliteClearingRepository } from '../../backoffice/src/store/sqlite-clearing-repository.js';
import { EIGHT_AM } from './rider-fixture.js';
import { storeDrive } from './stored-drive.js';

const DAY_S = 86_400;
const logger = createLogger('test', 'silent');
let directory: string;
let databasePath: string;
let schedule: TripSchedule;
let repository: SqliteClearingRepository;

/** Stores bus-7's positions of eastbound trip E0800 on the day starting `dayOffset` days after 2026-03-02, up to `untilS` into the trip. */
function drive(dayOffset: number, speedMps: number, untilS = Infinity): void {
  storeDrive(repository, { vehicleId: 'bus-7', start: EIGHT_AM + dayOffset * DAY_S, directionId: 0, speedMps, untilS });
}

function service(now: number, detectedTrips?: DetectedTripStore): ArrivalService {
  return new ArrivalService({ schedule, positions: new SqlitePositionFeed(databasePath), logger, refreshMs: 30_000, now: () => now, ...(detectedTrips ? { detectedTrips, historyDays: 28 } : {}) });
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-learned-'));
  writeSyntheticFeed(join(directory, 'feed'));
  schedule = buildTripSchedule(importGtfsFeed(join(directory, 'feed')));
  databasePath = join(directory, 'clearing.db');
  repository = new SqliteClearingRepository({ path: databasePath });
  // Two days on which bus-7 runs the whole trip at 3 m/s, well behind the timetable.
  drive(0, 3);
  drive(1, 3);
});

afterAll(() => {
  repository.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('arrival predictions learned from detected trips', () => {
  it('stores detected stop times beside the database', () => {
    const first = service(EIGHT_AM + DAY_S + 12 * 3600, new DetectedTripStore(detectedTripsPath(databasePath)));
    first.refresh();
    first.stop();

    const store = new DetectedTripStore(detectedTripsPath(databasePath));
    const trips = store.tripsBefore('2026-03-04', 28, schedule.timeZone);
    store.close();

    expect(detectedTripsPath(databasePath)).toBe(join(directory, 'clearing-detected-trips.sqlite'));
    expect(trips.map((trip) => trip.serviceDate)).toEqual(['2026-03-02', '2026-03-03']);
    expect(trips[0]!.arrivals.length).toBeGreaterThan(5);
  });

  it('predicts from the days before after a restart', async () => {
    // On the third day bus-7 has run five minutes of the same trip.
    drive(2, 8, 300);
    const now = EIGHT_AM + 2 * DAY_S + 300;
    const learned = service(now, new DetectedTripStore(detectedTripsPath(databasePath)));
    const timetable = service(now);

    // The first refresh starts the build of the day's learned model; the refresh after it uses it.
    learned.refresh();
    await learned.recordedModels!.idle();
    const withHistory = learned.refresh().vehicles.find((vehicle) => vehicle.vehicleId === 'bus-7')!.stops.at(-1)!;
    const withTimetable = timetable.refresh().vehicles.find((vehicle) => vehicle.vehicleId === 'bus-7')!.stops.at(-1)!;
    learned.stop();
    timetable.stop();

    expect(withHistory.stopId).toBe(withTimetable.stopId);
    expect(withHistory.predictedArrival - withTimetable.predictedArrival).toBeGreaterThan(120);
  });

  it('predicts an unlearned direction from the timetable model', async () => {
    // The detected trips ran eastbound only. bus-9 runs westbound trip W0805 slowly for five minutes.
    const start = EIGHT_AM + 2 * DAY_S + 300;
    storeDrive(repository, { vehicleId: 'bus-9', start, directionId: 1, speedMps: 4, untilS: 300 });
    const learned = service(start + 300, new DetectedTripStore(detectedTripsPath(databasePath)));
    const timetable = service(start + 300);

    learned.refresh();
    await learned.recordedModels!.idle();
    expect(learned.recordedModels!.modelFor('2026-03-04')).toBeDefined();
    const withHistory = learned.refresh().vehicles.find((vehicle) => vehicle.vehicleId === 'bus-9')!.stops;
    const withTimetable = timetable.refresh().vehicles.find((vehicle) => vehicle.vehicleId === 'bus-9')!.stops;
    learned.stop();
    timetable.stop();

    expect(withHistory.length).toBeGreaterThan(3);
    expect(withHistory).toEqual(withTimetable);
  });

  it('keeps predicting when stop times cannot be stored', () => {
    const broken = new DetectedTripStore(join(directory, 'broken.sqlite'));
    broken.close();
    const unwritable = service(EIGHT_AM + 2 * DAY_S + 300, broken);

    const vehicles = unwritable.refresh().vehicles;
    unwritable.stop();

    expect(vehicles.map((vehicle) => vehicle.vehicleId)).toContain('bus-7');
  });

  it('starts without a store it cannot open', () => {
    const otherDatabase = join(directory, 'other.db');
    new SqliteClearingRepository({ path: otherDatabase }).close();
    writeFileSync(detectedTripsPath(otherDatabase), 'not a database, just text that is long enough to fill a header page');

    const started = startArrivalService({ gtfs: join(directory, 'feed'), refreshSeconds: 10, historyDays: 28 }, otherDatabase, logger);

    expect(started).toBeInstanceOf(ArrivalService);
    started!.stop();
  });
});
