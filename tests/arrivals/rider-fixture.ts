import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSITION_BATCH_SCHEMA } from '@busfare/shared-protocol';
import type { FastifyInstance } from 'fastify';
import { ArrivalService } from '../../backoffice/src/arrivals/realtime/arrival-service.js';
import { SqlitePositionFeed } from '../../backoffice/src/arrivals/realtime/sqlite-position-feed.js';
import { buildTripSchedule } from '../../backoffice/src/arrivals/matching/trip-patterns.js';
import { driveFixes } from '../../backoffice/src/arrivals/testing/synthetic-drive.js';
import { writeSyntheticFeed } from '../../backoffice/src/arrivals/testing/synthetic-route.js';
import { importGtfsFeed } from '../../backoffice/src/gtfs/gtfs-feed.js';
import { createLogger } from '../../backoffice/src/logger.js';
import { SqliteClearingRepository } from '../../backoffice/src/store/sqlite-clearing-repository.js';
import { buildConsoleServer } from '../../backoffice/src/web/console-server.js';

/** 08:00 local time (UTC+8) on Monday 2026-03-02. */
export const EIGHT_AM = Date.UTC(2026, 2, 2, 0, 0, 0) / 1000;

export interface RiderFixture {
  app: FastifyInstance;
  arrivals: ArrivalService;
  repository: SqliteClearingRepository;
  /** Current time of the fixture's clock in Unix seconds; tests may move it. */
  clock: { now: number };
  close(): Promise<void>;
}

/**
 * Builds a back office with the synthetic route, where bus-7 has driven eastbound trip E0800 for
 * five minutes. Its positions are stored through the clearing repository, as ingest stores them.
 * The console server serves the rider routes of an ArrivalService that reads those positions.
 */
export function buildRiderFixture(): RiderFixture {
  const directory = mkdtempSync(join(tmpdir(), 'busfare-rider-'));
  const feedFolder = join(directory, 'feed');
  writeSyntheticFeed(feedFolder);
  const databasePath = join(directory, 'clearing.db');
  const repository = new SqliteClearingRepository({ path: databasePath });
  const clock = { now: EIGHT_AM + 300 };

  const fixes = driveFixes({ vehicleId: 'bus-7', start: EIGHT_AM, directionId: 0, speedMps: 8, dwellS: 20, fixEveryS: 15, signOn: { routeId: '1', directionId: 0 } }).filter((fix) => fix.time <= clock.now);
  repository.storePositions({
    schema: POSITION_BATCH_SCHEMA,
    terminalId: 'T-7',
    vehicleId: 'bus-7',
    fixes: fixes.map((fix) => ({ time: new Date(fix.time * 1000).toISOString(), lat: fix.lat, lon: fix.lon, route: '1', direction: 0 })),
  });

  const logger = createLogger('test', 'silent');
  const arrivals = new ArrivalService({ schedule: buildTripSchedule(importGtfsFeed(feedFolder)), positions: new SqlitePositionFeed(databasePath), logger, refreshMs: 30_000, now: () => clock.now });
  arrivals.refresh();
  const app = buildConsoleServer({ repository, timezoneOffsetMinutes: 480, logger, subscribeTaps: () => () => undefined, rider: { arrivals, timezoneOffsetMinutes: 480 } });
  return {
    app,
    arrivals,
    repository,
    clock,
    async close() {
      await app.close();
      arrivals.stop();
      repository.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
