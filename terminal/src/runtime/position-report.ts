import { type PositionFix, positionFixSchema } from '@busfare/shared-protocol';
import type { GnssFix } from '../ports/position-source.js';

/** Fix fields that a position batch carries when they are in its range. */
const MEASURED_FIELDS = ['speedMps', 'courseDeg', 'hdop', 'satellites'] as const;

/** Returns whether a fix has a latitude and longitude on the globe. */
export function hasValidPosition(fix: GnssFix): boolean {
  return Number.isFinite(fix.lat) && Number.isFinite(fix.lon) && Math.abs(fix.lat) <= 90 && Math.abs(fix.lon) <= 180;
}

/**
 * Builds the position the uplink sends for a fix, or undefined for a fix without a time. A
 * receiver can send a field with a valid checksum that is out of the range a position batch
 * allows (a negative speed, a course of 400°). The back office rejects the whole batch for one
 * such field, so each one is left out and the position is kept.
 */
export function positionReportOf(fix: GnssFix, service: { route?: string; direction?: 0 | 1 }): PositionFix | undefined {
  if (!fix.time || Number.isNaN(fix.time.getTime())) return undefined;
  const report: PositionFix = { time: fix.time.toISOString(), lat: fix.lat, lon: fix.lon, route: service.route, direction: service.direction };
  for (const field of MEASURED_FIELDS) {
    const value = fix[field];
    if (value !== undefined && positionFixSchema.shape[field].safeParse(value).success) report[field] = value;
  }
  return report;
}
