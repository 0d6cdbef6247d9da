import type { Logger } from '../../logger.js';
import type { TripSchedule } from '../matching/trip-patterns.js';
import { addDays } from '../local-time.js';
import type { VehicleEvent } from '../matching/vehicle-events.js';
import type { ObservedTrip } from '../observed-trip.js';
import { ArrivalPredictor, type PredictorOptions, type VehiclePrediction } from './arrival-predictor.js';
import type { DetectedStop, DetectedTripStore } from './detected-trip-store.js';
import { type RealtimeFeeds, encodeRealtimeFeeds } from './gtfs-realtime-feed.js';
import type { PositionFeed } from './sqlite-position-feed.js';

/** GTFS-realtime consumers expect a feed no older than 30 s. */
export const MAX_REFRESH_MS = 30_000;
const DEFAULT_REFRESH_MS = 10_000;
const READ_PAGE = 5_000;

export interface ArrivalServiceOptions extends PredictorOptions {
  schedule: TripSchedule;
  positions: PositionFeed;
  logger: Logger;
  /** Interval between refreshes in milliseconds, at most 30,000. */
  refreshMs?: number;
  /** Wall clock in Unix seconds; defaults to the system clock. */
  now?: () => number;
  /**
   * Store of detected trips, so each day's model learns from the `historyDays` service dates before
   * it, across restarts. Without it the models learn from the timetable. The service closes it on stop.
   */
  detectedTrips?: DetectedTripStore;
  historyDays?: number;
}

/** Service dates of detected trips a model learns from, by default four weeks. */
export const DEFAULT_HISTORY_DAYS = 28;

/** One refresh's predictions and the feeds encoded from them. */
export interface ArrivalSnapshot {
  vehicles: VehiclePrediction[];
  feeds: RealtimeFeeds;
  /** Unix time in seconds. */
  refreshedAt: number;
}

/**
 * Runs the online predictor in the back office: on every refresh it reads the positions stored
 * since the last one, feeds them to the vehicle trackers, predicts every active bus and encodes
 * the GTFS-realtime feeds. Readers get the latest complete snapshot.
 */
export class ArrivalService {
  readonly predictor: ArrivalPredictor;
  readonly schedule: TripSchedule;
  private timer: NodeJS.Timeout | undefined;
  private cursor = 0;
  private latest: ArrivalSnapshot;
  private readonly now: () => number;
  // The options object is not kept, because its recorded history may be large and the predictor
  // drops it once the model is built.
  private readonly positions: PositionFeed;
  private readonly logger: Logger;
  private readonly refreshMs: number;
  private readonly detectedTrips: DetectedTripStore | undefined;
  private readonly historyDays: number;
  /** The latest service date whose older detected trips were deleted. */
  private prunedFor = '';

  constructor(options: ArrivalServiceOptions) {
    const refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
    if (!(refreshMs > 0 && refreshMs <= MAX_REFRESH_MS)) throw new RangeError(`invalid refreshMs ${refreshMs}: expected 1 to ${MAX_REFRESH_MS}`);
    this.refreshMs = refreshMs;
    this.schedule = options.schedule;
    this.positions = options.positions;
    this.logger = options.logger;
    this.detectedTrips = options.detectedTrips;
    this.historyDays = options.historyDays ?? DEFAULT_HISTORY_DAYS;
    this.predictor = new ArrivalPredictor(options.schedule, this.detectedTrips ? { ...options, historyBefore: (serviceDate) => this.recordedTripsBefore(serviceDate) } : options);
    this.now = options.now ?? (() => Date.now() / 1000);
    const now = Math.floor(this.now());
    this.latest = { vehicles: [], feeds: encodeRealtimeFeeds([], now), refreshedAt: now };
  }

  start(): void {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), this.refreshMs);
    this.timer.unref();
    this.logger.info({ trips: this.schedule.trips.size, refreshMs: this.refreshMs }, 'arrival predictions started');
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.positions.close();
    this.detectedTrips?.close();
  }

  /** Reads new positions and rebuilds the snapshot; errors are logged and the previous snapshot kept. */
  refresh(): ArrivalSnapshot {
    try {
      for (;;) {
        const page = this.positions.readAfter(this.cursor, READ_PAGE);
        this.cursor = page.cursor;
        this.keep(this.predictor.ingest(page.fixes));
        if (page.fixes.length < READ_PAGE) break;
      }
      const now = Math.floor(this.now());
      const vehicles = this.predictor.predict(now);
      this.latest = { vehicles, feeds: encodeRealtimeFeeds(vehicles, now), refreshedAt: now };
    } catch (error) {
      this.logger.error({ err: error }, 'arrival refresh failed; keeping the previous predictions');
    }
    return this.latest;
  }

  /**
   * Stores the stop times the predictor counts (a trip's first stop from its departure, the others
   * from arrival). A failed write costs only learning, so it is logged and predictions go on.
   */
  private keep(events: readonly VehicleEvent[]): void {
    if (!this.detectedTrips) return;
    const stops: DetectedStop[] = [];
    for (const event of events) {
      if (event.kind !== 'arrival' && event.kind !== 'departure') continue;
      if (event.kind !== (event.stopIndex === 0 ? 'departure' : 'arrival')) continue;
      const { serviceDate, vehicleId, tripId, routeId, directionId, stopIndex, stopId, time } = event;
      stops.push({ serviceDate, vehicleId, tripId, routeId, directionId, stopIndex, stopId, time });
    }
    if (stops.length === 0) return;
    try {
      this.detectedTrips.append(stops);
      const newest = stops.reduce((latest, stop) => (stop.serviceDate > latest ? stop.serviceDate : latest), this.prunedFor);
      if (newest > this.prunedFor) {
        this.prunedFor = newest;
        this.detectedTrips.pruneBefore(addDays(newest, -this.historyDays - 1));
      }
    } catch (error) {
      this.logger.warn({ err: error, stops: stops.length, path: this.detectedTrips.path }, 'detected stop times not stored; later days learn without them');
    }
  }

  /** Reads the detected trips a service date's model learns from; a failed read leaves it the timetable. */
  private recordedTripsBefore(serviceDate: string): readonly ObservedTrip[] {
    try {
      const trips = this.detectedTrips!.tripsBefore(serviceDate, this.historyDays, this.schedule.timeZone);
      this.logger.info({ serviceDate, trips: trips.length, dates: new Set(trips.map((trip) => trip.serviceDate)).size }, 'arrival model learns from detected trips');
      return trips;
    } catch (error) {
      this.logger.error({ err: error, serviceDate, path: this.detectedTrips!.path }, 'detected trips not read; the model learns from the timetable today');
      return [];
    }
  }

  snapshot(): ArrivalSnapshot {
    return this.latest;
  }
}
