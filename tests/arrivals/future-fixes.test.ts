import { Writable } from 'node:stream';
import { POSITION_BATCH_SCHEMA } from '@busfare/shared-protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TripSchedule } from '../../backoffice/src/arrivals/matching/trip-patterns.js';
import { ArrivalService, MAX_FIX_AHEAD_S } from '../../backoffice/src/arrivals/realtime/arrival-service.js';
import { SqlitePositionFeed } from '../../backoffice/src/arrivals/realtime/sqlite-position-feed.js';
import { pointAlong } from '../../backoffice/src/arrivals/testing/synthetic-route.js';
import type { SqliteClearingRepository } from '../../backoffice/src/store/sqlite-clearing-repository.js';
import { EIGHT_AM } from './rider-fixture.js';
import { type DriveDatabase, createDriveDatabase, storeDrive } from './stored-drive.js';

let fixture: DriveDatabase;
let databasePath: string;
let schedule: TripSchedule;
let repository: SqliteClearingRepository;

/** Stores one fix of a vehicle at `time`, 1 km along the synthetic road. */
function storeFix(vehicleId: string, time: number): void {
  const { lat, lon } = pointAlong(1000, 0);
  repository.storePositions({ schema: POSITION_BATCH_SCHEMA, terminalId: `T-${vehicleId}`, vehicleId, fixes: [{ time: new Date(time * 1000).toISOString(), lat, lon, route: '1', direction: 0 }] });
}

function warnings(): { messages: { msg: string; dropped?: number; vehicles?: string[] }[]; logger: pino.Logger } {
  const messages: { msg: string; dropped?: number; vehicles?: string[] }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') messages.push(JSON.parse(line) as { msg: string });
      done();
    },
  });
  return { messages, logger: pino({ level: 'warn' }, sink) };
}

beforeEach(() => {
  fixture = createDriveDatabase('busfare-future-fixes-');
  ({ databasePath, schedule, repository } = fixture);
});

afterEach(() => fixture.remove());

describe('fixes dated ahead of the clock', () => {
  it('drops a fix days ahead', () => {
    const now = EIGHT_AM + 900;
    // The terminal's clock jumped three days ahead for one fix, then came back.
    storeFix('bus-7', EIGHT_AM + 3 * 86_400);
    storeDrive(repository, { vehicleId: 'bus-7', start: EIGHT_AM, directionId: 0, speedMps: 3, untilS: 900 });
    const { messages, logger } = warnings();
    const service = new ArrivalService({ schedule, positions: new SqlitePositionFeed(databasePath), logger, refreshMs: 30_000, now: () => now });

    const [bus] = service.refresh().vehicles;
    service.stop();

    expect(bus?.vehicleId).toBe('bus-7');
    expect(bus?.timestamp).toBeLessThanOrEqual(now);
    expect(bus?.timestamp).toBeGreaterThan(now - 30);
    // 900 s at 3 m/s with 20 s at each stop passes the stops at 0 m to 2,000 m on the 500 m spacing.
    expect(bus?.nextStopIndex).toBeGreaterThan(3);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ msg: expect.stringContaining('dated ahead of the clock'), dropped: 1, vehicles: ['bus-7'] });
  });

  it('keeps a fix inside the allowance', () => {
    const now = EIGHT_AM + 900;
    storeDrive(repository, { vehicleId: 'bus-7', start: EIGHT_AM, directionId: 0, speedMps: 3, untilS: 900 });
    storeFix('bus-7', now + MAX_FIX_AHEAD_S);
    const { messages, logger } = warnings();
    const service = new ArrivalService({ schedule, positions: new SqlitePositionFeed(databasePath), logger, refreshMs: 30_000, now: () => now });

    const [bus] = service.refresh().vehicles;
    service.stop();

    expect(bus?.timestamp).toBe(now + MAX_FIX_AHEAD_S);
    expect(messages).toHaveLength(0);
  });

  it('warns at most once an hour', () => {
    let now = EIGHT_AM + 900;
    const { messages, logger } = warnings();
    const service = new ArrivalService({ schedule, positions: new SqlitePositionFeed(databasePath), logger, refreshMs: 30_000, now: () => now });
    for (const vehicleId of ['bus-1', 'bus-2', 'bus-3']) {
      storeFix(vehicleId, now + 86_400);
      service.refresh();
      now += 600;
    }
    now += 3600;
    storeFix('bus-4', now + 86_400);
    service.refresh();
    service.stop();

    expect(messages.map((message) => [message.dropped, message.vehicles])).toEqual([
      [1, ['bus-1']],
      [3, ['bus-2', 'bus-3', 'bus-4']],
    ]);
  });

  it('warns again after the clock goes back', () => {
    // The back office's clock ran a day ahead at the first warning and was then set right.
    let now = EIGHT_AM + 86_400 + 900;
    const { messages, logger } = warnings();
    const service = new ArrivalService({ schedule, positions: new SqlitePositionFeed(databasePath), logger, refreshMs: 30_000, now: () => now });
    storeFix('bus-1', now + 86_400);
    service.refresh();
    now -= 86_400;
    storeFix('bus-2', now + 86_400);
    service.refresh();
    service.stop();

    expect(messages.map((message) => [message.dropped, message.vehicles])).toEqual([
      [1, ['bus-1']],
      [1, ['bus-2']],
    ]);
  });

  it('counts at most 1,000 vehicles', () => {
    const now = EIGHT_AM + 900;
    const { messages, logger } = warnings();
    const { lat, lon } = pointAlong(1000, 0);
    const fixes = [{ time: new Date((now + 86_400) * 1000).toISOString(), lat, lon, route: '1', direction: 0 }];
    for (let index = 0; index < 1200; index += 1) repository.storePositions({ schema: POSITION_BATCH_SCHEMA, terminalId: `T-${index}`, vehicleId: `ghost-${index}`, fixes });
    const service = new ArrivalService({ schedule, positions: new SqlitePositionFeed(databasePath), logger, refreshMs: 30_000, now: () => now });

    service.refresh();
    service.stop();

    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ dropped: 1200, vehicleCount: 1000, vehicleCountCapped: true });
  });
});
