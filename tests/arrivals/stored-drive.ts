import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSITION_BATCH_SCHEMA } from '@busfare/shared-protocol';
import { buildTripSchedule, type TripSchedule } from '../../backoffice/src/arrivals/matching/trip-patterns.js';
import { driveFixes } from '../../backoffice/src/arrivals/testing/synthetic-drive.js';
import { writeSyntheticFeed } from '../../backoffice/src/arrivals/testing/synthetic-route.js';
import { importGtfsFeed } from '../../backoffice/src/gtfs/gtfs-feed.js';
import { SqliteClearingRepository } from '../../backoffice/src/store/sqlite-clearing-repository.js';

/** A temporary folder with the synthetic feed, its schedule and a clearing database to store drives in. */
export interface DriveDatabase {
  directory: string;
  databasePath: string;
  schedule: TripSchedule;
  repository: SqliteClearingRepository;
  /** Closes the repository and deletes the folder. */
  remove(): void;
}

/** Creates the folder and the database. `now` sets the repository's clock, which dates each stored batch's receive time. */
export function createDriveDatabase(prefix: string, now?: () => Date): DriveDatabase {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  writeSyntheticFeed(join(directory, 'feed'));
  const schedule = buildTripSchedule(importGtfsFeed(join(directory, 'feed')));
  const databasePath = join(directory, 'clearing.db');
  const repository = new SqliteClearingRepository({ path: databasePath, ...(now ? { now } : {}) });
  return {
    directory,
    databasePath,
    schedule,
    repository,
    remove: () => {
      repository.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export interface StoredDrive {
  vehicleId: string;
  /** Unix time at which the bus leaves its first stop. */
  start: number;
  /** 0 eastbound, 1 westbound, on route 1 of the synthetic feed. */
  directionId: 0 | 1;
  speedMps: number;
  /** Seconds of the drive stored; the whole trip by default. */
  untilS?: number;
}

/**
 * Stores a bus's positions on the synthetic route through the clearing repository, as ingest
 * stores them: a fix every 15 s, 20 s at each stop, signed on to route 1 in the drive's direction.
 */
export function storeDrive(repository: SqliteClearingRepository, drive: StoredDrive): void {
  const { vehicleId, start, directionId, speedMps, untilS = Infinity } = drive;
  const fixes = driveFixes({ vehicleId, start, directionId, speedMps, dwellS: 20, fixEveryS: 15, signOn: { routeId: '1', directionId } }).filter((fix) => fix.time <= start + untilS);
  repository.storePositions({
    schema: POSITION_BATCH_SCHEMA,
    terminalId: `T-${vehicleId}`,
    vehicleId,
    fixes: fixes.map((fix) => ({ time: new Date(fix.time * 1000).toISOString(), lat: fix.lat, lon: fix.lon, route: '1', direction: directionId })),
  });
}
