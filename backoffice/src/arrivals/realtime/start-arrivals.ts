import { importGtfsFeed } from '../../gtfs/gtfs-feed.js';
import type { Logger } from '../../logger.js';
import { buildTripSchedule } from '../matching/trip-patterns.js';
import { ArrivalService } from './arrival-service.js';
import { SqlitePositionFeed } from './sqlite-position-feed.js';

export interface ArrivalsConfig {
  /** GTFS folder of the city's routes; without it no predictions run. */
  gtfs?: string | undefined;
  /** Seconds between refreshes of the predictions and the GTFS-realtime feeds (at most 30). */
  refreshSeconds: number;
}

/**
 * Starts arrival predictions from the positions in the clearing database when a GTFS folder is
 * configured, and returns undefined (with a log line) when none is. An unreadable feed throws
 * GtfsFeedError, so a misconfigured back office stops at start-up instead of running blind.
 */
export function startArrivalService(config: ArrivalsConfig, databasePath: string, logger: Logger): ArrivalService | undefined {
  if (config.gtfs === undefined) {
    logger.info('arrival predictions are off: no arrivals.gtfs folder configured');
    return undefined;
  }
  const feed = importGtfsFeed(config.gtfs);
  if (feed.warnings.length > 0) logger.warn({ count: feed.warnings.length, first: feed.warnings.slice(0, 5) }, 'GTFS rows skipped');
  const service = new ArrivalService({
    schedule: buildTripSchedule(feed),
    positions: new SqlitePositionFeed(databasePath),
    logger: logger.child({ component: 'arrivals' }),
    refreshMs: config.refreshSeconds * 1000,
  });
  service.start();
  return service;
}
