import { importGtfsFeed } from '../../gtfs/gtfs-feed.js';
import type { Logger } from '../../logger.js';
import { buildTripSchedule } from '../matching/trip-patterns.js';
import { ArrivalService } from './arrival-service.js';
import { DetectedTripStore } from './detected-trip-store.js';
import { SqlitePositionFeed } from './sqlite-position-feed.js';

export interface ArrivalsConfig {
  /** GTFS folder of the city's routes; without it no predictions run. */
  gtfs?: string | undefined;
  /** Seconds between refreshes of the predictions and the GTFS-realtime feeds (at most 30). */
  refreshSeconds: number;
  /** Service dates of detected trips each day's model learns from; 0 learns from the timetable only. */
  historyDays?: number;
}

/** Returns the path of the detected-trip store beside a clearing database: `clearing.db` gives `clearing-detected-trips.sqlite`. */
export function detectedTripsPath(databasePath: string): string {
  return `${databasePath.replace(/\.(db|sqlite3?)$/i, '')}-detected-trips.sqlite`;
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
  const arrivalsLogger = logger.child({ component: 'arrivals' });
  const historyDays = config.historyDays ?? 0;
  const service = new ArrivalService({
    schedule: buildTripSchedule(feed),
    positions: new SqlitePositionFeed(databasePath),
    logger: arrivalsLogger,
    refreshMs: config.refreshSeconds * 1000,
    historyDays,
    ...(historyDays > 0 ? openDetectedTrips(detectedTripsPath(databasePath), arrivalsLogger) : {}),
  });
  service.start();
  return service;
}

/**
 * Opens the detected-trip store. One that cannot be opened costs only learning, so the back office
 * starts without it and logs why.
 */
function openDetectedTrips(path: string, logger: Logger): { detectedTrips?: DetectedTripStore } {
  try {
    return { detectedTrips: new DetectedTripStore(path) };
  } catch (error) {
    logger.error({ err: error, path }, 'detected-trip store not opened; the models learn from the timetable');
    return {};
  }
}
