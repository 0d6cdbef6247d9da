import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TripSchedule } from '../../backoffice/src/arrivals/matching/trip-patterns.js';
import { ArrivalService, MAX_CLOCK_CORRECTION_S } from '../../backoffice/src/arrivals/realtime/arrival-service.js';
import { SqlitePositionFeed } from '../../backoffice/src/arrivals/realtime/sqlite-position-feed.js';
import type { SqliteClearingRepository } from '../../backoffice/src/store/sqlite-clearing-repository.js';
import { EIGHT_AM } from './rider-fixture.js';
import { type DriveDatabase, createDriveDatabase, storeDrive } from './stored-drive.js';

/** True time of the tests: 08:10 local. */
const NOW = EIGHT_AM + 600;
const TWO_DAYS_S = 2 * 86_400;
/** A bus leaving its first stop at `start` (true time) in direction 0 (east) or 1 (west). */
interface Bus {
  vehicleId: string;
  start: number;
  directionId: 0 | 1;
}

/** The fleet: eastbound trips E0750 and E0800, westbound W0755 and W0805, each bus at 3 m/s. */
const FLEET: readonly Bus[] = [
  { vehicleId: 'bus-1', start: EIGHT_AM, directionId: 0 },
  { vehicleId: 'bus-2', start: EIGHT_AM - 600, directionId: 0 },
  { vehicleId: 'bus-3', start: EIGHT_AM - 300, directionId: 1 },
  { vehicleId: 'bus-4', start: EIGHT_AM + 300, directionId: 1 },
];

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

let fixture: DriveDatabase;
let databasePath: string;
let schedule: TripSchedule;
let repository: SqliteClearingRepository;
/** The back office's clock (Unix seconds), which also dates each stored batch's receive time. */
let serverNow: number;

/**
 * Stores the drives of `buses` up to true time `until`, each bus as one batch. A bus's terminal
 * clock runs `aheadS` ahead of true time.
 */
function storeFleet(buses: readonly Bus[], until: number, aheadS = 0): void {
  for (const { vehicleId, start, directionId } of buses) storeDrive(repository, { vehicleId, start: start + aheadS, directionId, speedMps: 3, untilS: until - start });
}

function logged(): { lines: LogLine[]; logger: pino.Logger } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, sink) };
}

function service(logger: pino.Logger): ArrivalService {
  return new ArrivalService({ schedule, positions: new SqlitePositionFeed(databasePath), logger, refreshMs: 30_000, now: () => serverNow });
}

const errors = (lines: LogLine[]): LogLine[] => lines.filter((line) => line.level === 50);
const drops = (lines: LogLine[]): LogLine[] => lines.filter((line) => line.msg.includes('dated ahead of the clock'));

beforeEach(() => {
  serverNow = NOW;
  fixture = createDriveDatabase('busfare-server-clock-', () => new Date(serverNow * 1000));
  ({ databasePath, schedule, repository } = fixture);
});

afterEach(() => fixture.remove());

describe('back-office clock judged by the fleet', () => {
  it('predicts with the server 20 minutes behind', () => {
    serverNow = NOW - 1200;
    storeFleet(FLEET, NOW);
    // bus-9's terminal clock runs two days ahead, so its fixes are still dropped.
    storeFleet([{ vehicleId: 'bus-9', start: EIGHT_AM, directionId: 0 }], NOW, TWO_DAYS_S);
    const { lines, logger } = logged();
    const arrivals = service(logger);

    const snapshot = arrivals.refresh();
    arrivals.stop();

    expect(snapshot.vehicles.map((bus) => bus.vehicleId).sort()).toEqual(['bus-1', 'bus-2', 'bus-3', 'bus-4']);
    for (const bus of snapshot.vehicles) {
      expect(bus.timestamp, bus.vehicleId).toBeGreaterThan(NOW - 15);
      expect(bus.nextStopIndex, bus.vehicleId).toBeGreaterThanOrEqual(2);
      expect(bus.stops.length, bus.vehicleId).toBeGreaterThan(0);
      expect(bus.stops[0]!.predictedArrival, bus.vehicleId).toBeGreaterThanOrEqual(NOW - 15);
    }
    // Predictions and the feeds count in the fleet's time, which the newest fixes put up to 14 s before NOW.
    expect(snapshot.refreshedAt).toBeGreaterThan(NOW - 15);
    expect(snapshot.refreshedAt).toBeLessThanOrEqual(NOW);
    expect(errors(lines)).toHaveLength(1);
    expect(errors(lines)[0]).toMatchObject({ corrected: true, terminals: 5, agreeing: 4, msg: expect.stringContaining("Check this server's time sync") });
    expect(errors(lines)[0]!.clockOffsetS).toBeGreaterThan(1185);
    expect(errors(lines)[0]!.clockOffsetS).toBeLessThanOrEqual(1200);
    expect(drops(lines)).toHaveLength(1);
    expect(drops(lines)[0]).toMatchObject({ vehicles: ['bus-9'] });
  });

  it('predicts with the server 20 minutes ahead', () => {
    serverNow = NOW + 1200;
    storeFleet(FLEET, NOW);
    const { lines, logger } = logged();
    const arrivals = service(logger);

    const snapshot = arrivals.refresh();
    arrivals.stop();

    expect(snapshot.vehicles.map((bus) => bus.vehicleId).sort()).toEqual(['bus-1', 'bus-2', 'bus-3', 'bus-4']);
    expect(snapshot.refreshedAt).toBeLessThanOrEqual(NOW);
    expect(errors(lines)).toHaveLength(1);
    expect(errors(lines)[0]!.clockOffsetS).toBeGreaterThanOrEqual(-1215);
    expect(errors(lines)[0]!.clockOffsetS).toBeLessThan(-1185);
  });

  it('drops a bus two days ahead', () => {
    storeFleet(FLEET, NOW);
    storeFleet([{ vehicleId: 'bus-9', start: EIGHT_AM, directionId: 0 }], NOW, TWO_DAYS_S);
    const { lines, logger } = logged();
    const arrivals = service(logger);

    const snapshot = arrivals.refresh();
    arrivals.stop();

    expect(snapshot.vehicles.map((bus) => bus.vehicleId).sort()).toEqual(['bus-1', 'bus-2', 'bus-3', 'bus-4']);
    expect(snapshot.refreshedAt).toBe(NOW);
    expect(errors(lines)).toHaveLength(0);
    expect(drops(lines)).toHaveLength(1);
    expect(drops(lines)[0]).toMatchObject({ vehicles: ['bus-9'], clockCorrectionS: 0 });
  });

  it('drops two of five buses ahead', () => {
    storeFleet(FLEET.slice(0, 3), NOW);
    storeFleet([{ vehicleId: 'bus-8', start: EIGHT_AM, directionId: 0 }], NOW, TWO_DAYS_S);
    storeFleet([{ vehicleId: 'bus-9', start: EIGHT_AM + 300, directionId: 1 }], NOW, TWO_DAYS_S + 60);
    const { lines, logger } = logged();
    const arrivals = service(logger);

    const snapshot = arrivals.refresh();
    arrivals.stop();

    expect(snapshot.vehicles.map((bus) => bus.vehicleId).sort()).toEqual(['bus-1', 'bus-2', 'bus-3']);
    expect(errors(lines)).toHaveLength(0);
    expect(drops(lines)[0]).toMatchObject({ vehicles: ['bus-8', 'bus-9'] });
  });

  it('logs when the server clock is set right', () => {
    serverNow = NOW - 1200;
    storeFleet(FLEET, NOW);
    const { lines, logger } = logged();
    const arrivals = service(logger);
    arrivals.refresh();

    // A minute later NTP has set the server's clock right, and the buses have uploaded again.
    serverNow = NOW + 60;
    storeFleet(FLEET, NOW + 60);
    const snapshot = arrivals.refresh();
    arrivals.stop();

    expect(snapshot.refreshedAt).toBe(NOW + 60);
    expect(snapshot.vehicles.map((bus) => bus.timestamp).every((time) => time > NOW + 45)).toBe(true);
    expect(errors(lines)).toHaveLength(1);
    expect(lines.filter((line) => line.msg.includes('agrees with the terminals'))).toHaveLength(1);
  });

  it('corrects down to half the limit', () => {
    serverNow = NOW - 330;
    storeFleet(FLEET, NOW);
    const { lines, logger } = logged();
    const arrivals = service(logger);
    const first = arrivals.refresh();

    // The server's clock has gained 130 s a minute later, and still runs 200 s behind.
    serverNow = NOW + 60 - 200;
    storeFleet(FLEET, NOW + 60);
    const snapshot = arrivals.refresh();
    arrivals.stop();

    expect(first.refreshedAt).toBeGreaterThan(NOW - 15);
    expect(snapshot.refreshedAt).toBeGreaterThan(NOW + 45);
    expect(snapshot.vehicles).toHaveLength(4);
    expect(lines.filter((line) => line.msg.includes('agrees with the terminals'))).toHaveLength(0);
  });

  it('keeps the correction while fewer buses report', () => {
    serverNow = NOW - 1200;
    storeFleet([FLEET[0]!, FLEET[2]!, FLEET[3]!], NOW);
    const { lines, logger } = logged();
    const arrivals = service(logger);
    arrivals.refresh();

    // Eleven minutes later bus-3 has ended its trip, and two buses are too few for a consensus.
    serverNow += 660;
    storeFleet([FLEET[0]!, FLEET[3]!], NOW + 660);
    const snapshot = arrivals.refresh();
    arrivals.stop();

    expect(snapshot.vehicles.map((bus) => bus.vehicleId).sort()).toEqual(['bus-1', 'bus-4']);
    expect(snapshot.refreshedAt).toBeGreaterThan(NOW + 645);
    expect(drops(lines)).toHaveLength(0);
  });

  it('ends a correction that fewer buses contradict', () => {
    serverNow = NOW - 1200;
    storeFleet([FLEET[0]!, FLEET[2]!, FLEET[3]!], NOW);
    const { lines, logger } = logged();
    const arrivals = service(logger);
    arrivals.refresh();

    // Eleven minutes later NTP has set the server's clock right, and two buses still report.
    serverNow = NOW + 660;
    storeFleet([FLEET[0]!, FLEET[3]!], NOW + 660);
    const snapshot = arrivals.refresh();
    arrivals.stop();

    expect(snapshot.refreshedAt).toBe(NOW + 660);
    expect(snapshot.vehicles.map((bus) => bus.vehicleId).sort()).toEqual(['bus-1', 'bus-4']);
    expect(lines.filter((line) => line.msg.includes('no longer agree'))).toHaveLength(1);
  });

  it('leaves an offset beyond the cap uncorrected', () => {
    serverNow = NOW - MAX_CLOCK_CORRECTION_S - 3600;
    storeFleet(FLEET, NOW);
    const { lines, logger } = logged();
    const arrivals = service(logger);

    const snapshot = arrivals.refresh();
    arrivals.stop();

    expect(snapshot.vehicles).toEqual([]);
    expect(errors(lines)).toHaveLength(1);
    expect(errors(lines)[0]).toMatchObject({ corrected: false, agreeing: 4 });
    expect(errors(lines)[0]!.clockOffsetS).toBeGreaterThan(MAX_CLOCK_CORRECTION_S);
  });

  it('matches buses afresh after the fleet clocks come back', () => {
    // bus-5 left four minutes early, so it runs trip E0800 by either clock below.
    const buses: Bus[] = [...FLEET, { vehicleId: 'bus-5', start: EIGHT_AM - 240, directionId: 0 }];
    // Every terminal's clock ran 427 s ahead, which reads as the server's clock being behind.
    storeFleet(buses, NOW, 427);
    const { lines, logger } = logged();
    const arrivals = service(logger);
    const ahead = arrivals.refresh();

    // The terminals' clocks come back to GPS time, and the buses upload again a minute later.
    serverNow = NOW + 60;
    storeFleet(buses, NOW + 60);
    const snapshot = arrivals.refresh();
    arrivals.stop();

    expect(ahead.vehicles).toHaveLength(5);
    expect(ahead.vehicles.find((bus) => bus.vehicleId === 'bus-5')?.tripId).toBe('E0800');
    expect(snapshot.vehicles.map((bus) => bus.vehicleId).sort()).toEqual(['bus-1', 'bus-2', 'bus-3', 'bus-4', 'bus-5']);
    for (const bus of snapshot.vehicles) {
      expect(bus.timestamp, bus.vehicleId).toBeGreaterThan(NOW + 45);
      expect(bus.timestamp, bus.vehicleId).toBeLessThanOrEqual(NOW + 60);
      // Stop times recorded from the fixes dated ahead must not carry into the predictions.
      expect(bus.stops[0]!.predictedArrival, bus.vehicleId).toBeLessThan(NOW + 300);
    }
    expect(lines.filter((line) => line.msg.startsWith('trackers whose latest fix is dated ahead'))[0]).toMatchObject({ vehicles: 5 });
  });
});
