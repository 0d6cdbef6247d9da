// Child process of detected-trips-full-disk.test.ts, run inside a private mount namespace with a
// tmpfs mounted on argv[2]. The detected-trip store lives on the tmpfs, and a filler file takes
// the rest of it. The arrival service keeps refreshing while the store cannot grow, then the filler
// is deleted. The child prints one JSON report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTripSchedule } from '../../backoffice/src/arrivals/matching/trip-patterns.js';
import type { VehicleFix } from '../../backoffice/src/arrivals/matching/vehicle-events.js';
import { ArrivalService } from '../../backoffice/src/arrivals/realtime/arrival-service.js';
import { DetectedTripStore } from '../../backoffice/src/arrivals/realtime/detected-trip-store.js';
import { QueuedPositions } from '../../backoffice/src/arrivals/testing/queued-positions.js';
import { driveFixes } from '../../backoffice/src/arrivals/testing/synthetic-drive.js';
import { writeSyntheticFeed } from '../../backoffice/src/arrivals/testing/synthetic-route.js';
import { importGtfsFeed } from '../../backoffice/src/gtfs/gtfs-feed.js';
import { collectingLogger, fillDisk } from '../storage/child-support.js';

/** 2026-03-02 08:00 in China Standard Time. */
const EIGHT_AM = Date.UTC(2026, 2, 2, 0, 0, 0) / 1000;
const DAY_S = 86_400;
/** Buses per service date, so each date's stop times need more than the free space left. */
const BUSES_PER_DAY = 40;

export interface DetectedTripsFullDiskReport {
  /** Vehicles predicted by each refresh while the disk was full. */
  predictedWhileFull: number[];
  warnings: string[];
  /** Service dates stored before the disk filled, while it was full, and after the filler was deleted. */
  datesBefore: string[];
  datesAfter: string[];
  /** Dates whose stop times the model of 2026-03-04 reads. */
  learnedDates: string[];
}

function dayOfFixes(dayOffset: number): VehicleFix[] {
  const fixes: VehicleFix[] = [];
  for (let bus = 0; bus < BUSES_PER_DAY; bus += 1) {
    fixes.push(...driveFixes({ vehicleId: `bus-${bus}`, start: EIGHT_AM + dayOffset * DAY_S + bus * 600, directionId: 0, speedMps: 8, dwellS: 20, fixEveryS: 15, signOn: { routeId: '1', directionId: 0 } }));
  }
  return fixes.sort((a, b) => a.time - b.time);
}

const mountPoint = process.argv[2]!;
const feedDirectory = mkdtempSync(join(tmpdir(), 'busfare-full-disk-feed-'));
writeSyntheticFeed(feedDirectory);
const schedule = buildTripSchedule(importGtfsFeed(feedDirectory));
rmSync(feedDirectory, { recursive: true, force: true });
const storePath = join(mountPoint, 'clearing-detected-trips.sqlite');
const { logger, logs } = collectingLogger();
const positions = new QueuedPositions();
let now = EIGHT_AM + 12 * 3600;
const service = new ArrivalService({ schedule, positions, logger, refreshMs: 30_000, now: () => now, detectedTrips: new DetectedTripStore(storePath), historyDays: 28 });

const storedDates = (): string[] => {
  const store = new DetectedTripStore(storePath);
  const dates = [...new Set(store.tripsBefore('2026-03-10', 28, schedule.timeZone).map((trip) => trip.serviceDate))];
  store.close();
  return dates;
};

positions.pending = dayOfFixes(0);
service.refresh();
const datesBefore = storedDates();

const filler = join(mountPoint, 'filler');
fillDisk(filler, mountPoint, 0);
const predictedWhileFull: number[] = [];
for (const minutes of [10, 20]) {
  now = EIGHT_AM + DAY_S + minutes * 60;
  positions.pending = dayOfFixes(1).filter((fix) => fix.time > now - 600 && fix.time <= now);
  predictedWhileFull.push(service.refresh().vehicles.length);
}
rmSync(filler);

now = EIGHT_AM + DAY_S + 12 * 3600;
positions.pending = dayOfFixes(1).filter((fix) => fix.time > now - 12 * 3600 + 1200);
service.refresh();
now = EIGHT_AM + 2 * DAY_S + 12 * 3600;
positions.pending = dayOfFixes(2);
service.refresh();
service.stop();

const learning = new DetectedTripStore(storePath);
const learnedDates = [...new Set(learning.tripsBefore('2026-03-04', 28, schedule.timeZone).map((trip) => trip.serviceDate))];
learning.close();
const report: DetectedTripsFullDiskReport = { predictedWhileFull, warnings: logs.map((line) => `${line.msg}: ${line.err ?? ''}`), datesBefore, datesAfter: storedDates(), learnedDates };
process.stdout.write(`${JSON.stringify(report)}\n`);
