import type { Logger } from '../../logger.js';
import type { TripSchedule } from '../matching/trip-patterns.js';
import { ArrivalPredictor, type PredictorOptions, type VehiclePrediction } from './arrival-predictor.js';
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
}

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

  constructor(options: ArrivalServiceOptions) {
    const refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
    if (!(refreshMs > 0 && refreshMs <= MAX_REFRESH_MS)) throw new RangeError(`invalid refreshMs ${refreshMs}: expected 1 to ${MAX_REFRESH_MS}`);
    this.refreshMs = refreshMs;
    this.schedule = options.schedule;
    this.positions = options.positions;
    this.logger = options.logger;
    this.predictor = new ArrivalPredictor(options.schedule, options);
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
  }

  /** Reads new positions and rebuilds the snapshot; errors are logged and the previous snapshot kept. */
  refresh(): ArrivalSnapshot {
    try {
      for (;;) {
        const page = this.positions.readAfter(this.cursor, READ_PAGE);
        this.cursor = page.cursor;
        this.predictor.ingest(page.fixes);
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

  snapshot(): ArrivalSnapshot {
    return this.latest;
  }
}
