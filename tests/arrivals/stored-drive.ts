import { POSITION_BATCH_SCHEMA } from '@busfare/shared-protocol';
import { driveFixes } from '../../backoffice/src/arrivals/testing/synthetic-drive.js';
import type { SqliteClearingRepository } from '../../backoffice/src/store/sqlite-clearing-repository.js';

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
