import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from '../../logger.js';
import type { ArrivalModel } from '../models/arrival-model.js';
import { DEFAULT_BUSFARE_SETTINGS, SCHEDULE_HISTORY_DAYS } from '../evaluation/gtfs-avl-evaluation.js';
import type { TripSchedule } from '../matching/trip-patterns.js';
import { addDays } from '../local-time.js';
import type { VehicleEvent, VehicleFix } from '../matching/vehicle-events.js';
import { ArrivalPredictor, type PredictorOptions, type VehiclePrediction, isCountedStopTime } from './arrival-predictor.js';
import { type DetectedStop, DetectedTripStore } from './detected-trip-store.js';
import { type RealtimeFeeds, encodeRealtimeFeeds } from './gtfs-realtime-feed.js';
import { BuildSlot } from './build-slot.js';
import { InThreadModelBuilder, WorkerModelBuilder, bundledModelScript } from './model-thread.js';
import { RecordedModels } from './recorded-models.js';
import { TimetableRequests } from './timetable-model-parts.js';
import { TimetableModels } from './timetable-models.js';
import { RepeatedWarning } from './repeated-warning.js';
import { FLEET_CLOCK_WINDOW_S, FleetClock, type FleetClockEstimate, MIN_AGREEING_TERMINALS } from './fleet-clock.js';
import type { PositionFeed, PositionFix } from './sqlite-position-feed.js';

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
  /**
   * Worker script that builds the timetable models and those learned from detected trips. By
   * default the built script beside the running bundle. With null, or running from the TypeScript
   * sources, the learned models are built in this thread between refreshes, and the predictor
   * builds the timetable models in this thread on first use.
   */
  modelScript?: URL | null;
}

/** Service dates a model learns from when a store is given without historyDays. The back office passes its config's value. */
export const DEFAULT_HISTORY_DAYS = 28;
/**
 * A fix dated more than this ahead of the fleet's time (s) is dropped. The tracker ignores every
 * fix older than a vehicle's latest, so one fix from a terminal whose clock runs days ahead would
 * freeze that bus until the clock caught up, and start a service date that drops today's detected
 * arrivals. The fleet's time is the back office's clock, unless the terminals' consensus
 * (FleetClock) differs from it by more than this limit and at most MAX_CLOCK_CORRECTION_S.
 */
export const MAX_FIX_AHEAD_S = 300;
/**
 * Largest difference (s) between the back office's clock and the fleet's consensus that the
 * consensus corrects. A day covers a server clock set in the wrong time zone (up to 14 hours) or
 * restored from a snapshot of the day before. A larger difference may instead come from a fault
 * that the terminals' firmware shares. Accepting their fixes would then freeze every bus once
 * their clocks came back, so the difference is only logged.
 */
export const MAX_CLOCK_CORRECTION_S = 86_400;
/** Most distinct vehicles a warning about such fixes counts, so that a terminal sending many ids cannot grow the set without bound. */
const MAX_COUNTED_VEHICLES = 1000;
/** Time a new model's cache warm-up may take between two yields to the event loop (ms). */
const WARM_SLICE_MS = 20;
/** Most service dates of detected trips a model learns from, as the back-office config allows. */
export const MAX_HISTORY_DAYS = 366;

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
  /** The models learned from detected trips; undefined without a detected-trip store. */
  readonly recordedModels: RecordedModels | undefined;
  /**
   * The timetable models, built in the worker thread. Undefined without a worker script, where the
   * predictor builds them itself, and with a recorded history given, whose model replaces them.
   */
  readonly timetableModels: TimetableModels | undefined;
  /** The slot that the builds of both kinds of model share, so one model worker runs at a time. */
  private readonly buildSlot = new BuildSlot();
  readonly schedule: TripSchedule;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private cursor = 0;
  private latest: ArrivalSnapshot;
  private readonly now: () => number;
  // The options object is not kept, because its recorded history may be large and the predictor
  // drops it once the model is built.
  private readonly positions: PositionFeed;
  private readonly logger: Logger;
  private readonly refreshMs: number;
  private detectedTrips: DetectedTripStore | undefined;
  private readonly historyDays: number;
  /** The latest service date whose older detected trips were deleted. */
  private prunedFor = '';
  /** Writes to the detected-trip store that failed in a row, and when the last warning about them was logged (Unix seconds). */
  private failedWrites = 0;
  private readonly storeWarning = new RepeatedWarning();
  /** Fixes dropped as dated ahead of the clock since the last warning about them, and when it was logged. */
  private futureFixes = { dropped: 0, vehicles: new Set<string>() };
  private readonly futureFixWarning = new RepeatedWarning();
  private readonly fleetClock = new FleetClock();
  private clockEstimate: FleetClockEstimate | undefined;
  /**
   * Seconds added to the back office's clock to get the fleet's time: the consensus offset while
   * it differs from the back office's clock by more than MAX_FIX_AHEAD_S (half of it once
   * corrected) and at most MAX_CLOCK_CORRECTION_S, and 0 otherwise.
   */
  private clockCorrectionS = 0;
  /** Latest fix time the previous page accepted (Unix seconds). A tracker runs ahead only when it falls. */
  private latestValidSeen = -Infinity;
  /** Whether the latest refresh logged, or would have logged, the back office's clock as wrong. */
  private clockWrong = false;
  private readonly clockError = new RepeatedWarning();
  private readonly clockRestored = new RepeatedWarning();

  constructor(options: ArrivalServiceOptions) {
    const refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
    if (!(refreshMs > 0 && refreshMs <= MAX_REFRESH_MS)) throw new RangeError(`invalid refreshMs ${refreshMs}: expected 1 to ${MAX_REFRESH_MS}`);
    this.refreshMs = refreshMs;
    this.schedule = options.schedule;
    this.positions = options.positions;
    this.logger = options.logger;
    this.detectedTrips = options.detectedTrips;
    const historyDays = options.historyDays ?? DEFAULT_HISTORY_DAYS;
    // A negative count would make the pruning delete the stop times of today and later.
    if (!(Number.isInteger(historyDays) && historyDays >= 0 && historyDays <= MAX_HISTORY_DAYS)) throw new RangeError(`invalid historyDays ${historyDays}: expected a whole number from 0 to ${MAX_HISTORY_DAYS}`);
    this.historyDays = historyDays;
    this.now = options.now ?? (() => Date.now() / 1000);
    const script = options.modelScript === undefined ? bundledModelScript() : options.modelScript;
    this.recordedModels = this.detectedTrips ? this.startRecordedModels(script ?? undefined, options) : undefined;
    this.timetableModels = script && !(options.history && options.history.length > 0) ? this.startTimetableModels(script, options) : undefined;
    const { recordedModels, timetableModels } = this;
    this.predictor = new ArrivalPredictor(options.schedule, {
      ...options,
      ...(recordedModels ? { recordedModel: (serviceDate: string) => recordedModels.modelFor(serviceDate), onRecordedModelError: (serviceDate: string, error: unknown) => recordedModels.discard(serviceDate, error) } : {}),
      ...(timetableModels ? { timetableModel: (serviceDate: string) => timetableModels.modelFor(serviceDate) } : {}),
    });
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
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    void this.recordedModels?.stop();
    void this.timetableModels?.stop();
    this.positions.close();
    this.detectedTrips?.close();
  }

  /** Reads new positions and rebuilds the snapshot; errors are logged and the previous snapshot kept. */
  refresh(): ArrivalSnapshot {
    try {
      for (;;) {
        const page = this.positions.readAfter(this.cursor, READ_PAGE);
        this.cursor = page.cursor;
        // A page's offsets count before its fixes are judged, so that a back office whose clock
        // runs behind the whole fleet does not drop the very fixes that show it.
        this.updateClockCorrection(page.fixes);
        const latestValid = this.fleetNow() + MAX_FIX_AHEAD_S;
        this.forgetTrackersAfter(latestValid);
        this.keep(this.predictor.ingest(this.withoutFutureFixes(page.fixes, latestValid)));
        if (page.fixes.length < READ_PAGE) break;
      }
      this.warnOfFutureFixes();
      this.logClockCorrection();
      // The fixes are dated in the fleet's time, so the predictions, the feeds' timestamps and the
      // rider API's minutes to arrival count from it.
      const now = Math.floor(this.fleetNow());
      const vehicles = this.predictor.predict(now);
      this.latest = { vehicles, feeds: encodeRealtimeFeeds(vehicles, now), refreshedAt: now };
    } catch (error) {
      this.logger.error({ err: error }, 'arrival refresh failed; keeping the previous predictions');
    }
    return this.latest;
  }

  /** Returns the fixes dated at most latestValid, counting the others. */
  private withoutFutureFixes(fixes: readonly VehicleFix[], latestValid: number): readonly VehicleFix[] {
    if (fixes.every((fix) => fix.time <= latestValid)) return fixes;
    return fixes.filter((fix) => {
      if (fix.time <= latestValid) return true;
      this.futureFixes.dropped += 1;
      if (this.futureFixes.vehicles.size < MAX_COUNTED_VEHICLES) this.futureFixes.vehicles.add(fix.vehicleId);
      return false;
    });
  }

  /** Logs the fixes dropped as dated ahead of the clock since the last warning, at most once an hour (RepeatedWarning). */
  private warnOfFutureFixes(): void {
    const future = this.futureFixes;
    if (future.dropped === 0 || !this.futureFixWarning.due(this.now())) return;
    const vehicles = [...future.vehicles].sort();
    this.logger.warn({ dropped: future.dropped, vehicles: vehicles.slice(0, 20), vehicleCount: vehicles.length, vehicleCountCapped: vehicles.length >= MAX_COUNTED_VEHICLES, maxAheadS: MAX_FIX_AHEAD_S, clockCorrectionS: Math.round(this.clockCorrectionS) }, 'position fixes dated ahead of the clock dropped; check the clocks of those terminals and of this server');
    this.futureFixes = { dropped: 0, vehicles: new Set() };
  }

  /**
   * Adds the fixes' offsets to the fleet's consensus and sets the correction from it. Without a
   * consensus the back office's clock is used as it is. A correction starts above MAX_FIX_AHEAD_S
   * and ends only at half of it, so that an offset near the limit does not switch it on and off,
   * each switch-off dropping the trackers it let run ahead (forgetTrackersAfter).
   */
  private updateClockCorrection(fixes: readonly PositionFix[]): void {
    for (const fix of fixes) {
      if (fix.terminalId !== undefined && fix.receivedAt !== undefined) this.fleetClock.add(fix.terminalId, fix.time, fix.receivedAt);
    }
    this.clockEstimate = this.fleetClock.estimate(this.now());
    // At night fewer terminals report than a consensus needs. A correction they all still confirm
    // stays, and one of them disagreeing (this server's clock set right, say) ends it.
    if (this.clockEstimate === undefined && this.clockCorrectionS !== 0 && this.fleetClock.confirms(this.clockCorrectionS, this.now())) return;
    const offsetS = Math.abs(this.clockEstimate?.offsetS ?? 0);
    const threshold = this.clockCorrectionS === 0 ? MAX_FIX_AHEAD_S : MAX_FIX_AHEAD_S / 2;
    this.clockCorrectionS = offsetS > threshold && offsetS <= MAX_CLOCK_CORRECTION_S ? this.clockEstimate!.offsetS : 0;
  }

  /**
   * Drops the trackers whose latest fix is dated after latestValid, as left after the fleet's time
   * stepped back. Trackers are scanned only then, because the refresh calls this for every page.
   */
  private forgetTrackersAfter(latestValid: number): void {
    const steppedBack = latestValid < this.latestValidSeen;
    this.latestValidSeen = latestValid;
    if (!steppedBack) return;
    const forgotten = this.predictor.forgetTrackersAfter(latestValid);
    if (forgotten > 0) this.logger.info({ vehicles: forgotten, clockCorrectionS: Math.round(this.clockCorrectionS) }, "trackers whose latest fix is dated ahead of the fleet's time dropped after that time stepped back; their buses are matched afresh");
  }

  /** Returns the fleet's time in Unix seconds: the back office's clock plus the correction. */
  private fleetNow(): number {
    return this.now() + this.clockCorrectionS;
  }

  /**
   * Logs an error at most once an hour while the fleet's consensus corrects the back office's clock
   * or differs from it by more than MAX_FIX_AHEAD_S, and a line when that ends (also at most once
   * an hour).
   */
  private logClockCorrection(): void {
    const estimate = this.clockEstimate;
    if (estimate && (this.clockCorrectionS !== 0 || Math.abs(estimate.offsetS) > MAX_FIX_AHEAD_S)) {
      this.clockWrong = true;
      if (!this.clockError.due(this.now())) return;
      const offsetS = Math.round(estimate.offsetS);
      const corrected = this.clockCorrectionS !== 0;
      const fields = { clockOffsetS: offsetS, corrected, terminals: estimate.terminals, agreeing: estimate.agreeing, maxAheadS: MAX_FIX_AHEAD_S, maxCorrectionS: MAX_CLOCK_CORRECTION_S };
      const finding = `this server's clock runs about ${Math.abs(offsetS)} s ${offsetS > 0 ? 'behind' : 'ahead of'} the GPS time of ${estimate.agreeing} terminals`;
      if (corrected) this.logger.error(fields, `${finding}; predictions use the terminals' time until it is fixed. Check this server's time sync (NTP): the terminals' clocks agree with each other`);
      else this.logger.error(fields, `${finding}, more than the ${MAX_CLOCK_CORRECTION_S} s the arrival service corrects, so fixes are still judged against this server's clock. Check this server's time sync (NTP), then the terminals' clocks if this server's is right`);
      return;
    }
    if (!this.clockWrong) return;
    this.clockWrong = false;
    if (!this.clockRestored.due(this.now())) return;
    if (estimate) this.logger.info({ clockOffsetS: Math.round(estimate.offsetS), terminals: estimate.terminals }, "this server's clock agrees with the terminals' GPS time again");
    else this.logger.warn({ minAgreeing: MIN_AGREEING_TERMINALS, windowS: FLEET_CLOCK_WINDOW_S }, "the terminals' GPS times no longer agree (at least minAgreeing terminals and more than half of those heard within windowS must); position fixes are judged against this server's clock again");
  }

  /**
   * Stores the stop times the predictor counts (isCountedStopTime). A failed write costs only
   * learning, so it is logged and predictions go on.
   */
  private keep(events: readonly VehicleEvent[]): void {
    if (!this.detectedTrips) return;
    const stops: DetectedStop[] = [];
    for (const event of events) {
      if (!isCountedStopTime(event)) continue;
      const { serviceDate, vehicleId, tripId, routeId, directionId, stopIndex, stopId, time } = event;
      stops.push({ serviceDate, vehicleId, tripId, routeId, directionId, stopIndex, stopId, time });
    }
    if (stops.length === 0) return;
    try {
      if (this.detectedTrips.isDetached()) this.reopenDetectedTrips();
      if (!this.detectedTrips) return;
      this.detectedTrips.append(stops);
      // The newest date is capped by the local date of the earlier of the back office's clock and
      // the fleet's time. A bus whose clock runs days ahead moves neither, so it cannot delete the
      // history. Neither can one wrong side alone: a fleet whose clocks all run ahead meets the
      // back office's clock, and a back office clock that runs ahead meets the fleet's time. A
      // clock that runs behind only delays the pruning.
      const today = this.predictor.serviceDateOf(Math.min(this.now(), this.fleetNow()));
      const newest = stops.reduce((latest, stop) => (stop.serviceDate > latest && stop.serviceDate <= today ? stop.serviceDate : latest), this.prunedFor);
      if (newest > this.prunedFor) {
        this.prunedFor = newest;
        this.detectedTrips.pruneBefore(addDays(newest, -this.historyDays - 1));
      }
      if (this.failedWrites > 0) this.logger.info({ failedWrites: this.failedWrites, path: this.detectedTrips.path }, 'detected stop times stored again');
      this.failedWrites = 0;
    } catch (error) {
      // A full disk fails every refresh, so the warning is logged at most once an hour, with a count.
      this.failedWrites += 1;
      if (this.storeWarning.due(this.now())) {
        this.logger.warn({ err: error, stops: stops.length, failedWrites: this.failedWrites, path: this.detectedTrips?.path }, 'detected stop times not stored; later days learn without them');
      }
    }
  }

  /**
   * Starts a new store at the path of one whose file was deleted or replaced while it was open. The
   * trips stored before are gone, so the models learn from the timetable until two dates are stored again.
   */
  private reopenDetectedTrips(): void {
    const { path } = this.detectedTrips!;
    this.detectedTrips!.close();
    this.detectedTrips = undefined;
    this.prunedFor = '';
    this.logger.warn({ path }, 'detected-trip store file deleted or replaced while open; starting a new store there');
    try {
      this.detectedTrips = new DetectedTripStore(path);
    } catch (error) {
      this.logger.error({ err: error, path }, 'new detected-trip store not opened; the models learn from the timetable');
    }
  }

  /**
   * Starts the source of the models each service date learns from the stored detected trips. A
   * date's model is read and built in a worker thread (in this thread, between refreshes, where no
   * worker script is built) while the date predicts from the timetable model. The build shares
   * one build slot with the timetable builds and gets it after the date's timetable build.
   * NOTE: two days of the `arrivals` benchmark's city with a trip every 2 minutes are 1.6 million
   * stop times. On a 2-core VM the worker took 41 to 55 s to read them, fit the settings and build
   * the parts (six builds), and refreshes took at most 182 ms meanwhile. The process peaked at
   * 2,736 MiB resident on the first date and 4,527 MiB across a date change, where the build runs
   * while both dates' timetable models are held. 28 days of such a fleet would take a worker
   * minutes and far more memory (an estimate).
   */
  private startRecordedModels(script: URL | undefined, options: ArrivalServiceOptions): RecordedModels {
    return new RecordedModels({
      builder: script ? new WorkerModelBuilder(script, 'recorded') : new InThreadModelBuilder('recorded'),
      slot: this.buildSlot,
      storePath: () => this.detectedTrips?.path,
      historyDays: this.historyDays,
      timeZone: this.schedule.timeZone,
      ...(options.busfareSettings ? { settings: options.busfareSettings } : {}),
      logger: this.logger,
      now: this.now,
      warm: (serviceDate, model) => this.warmModel(serviceDate, model),
    });
  }

  /**
   * Starts the source of the timetable models, one per service date for every route, each built in
   * a worker thread from the week of timetable before its date. Its builds go first in the
   * build slot shared with the learned models.
   * NOTE: the `arrivals` benchmark's city has 189,350 timetable trips in the week and 82 million
   * samples. On a 2-core VM the worker took 3.1 to 3.7 s, and the model was in place 5.5 to 6.8 s
   * after the first refresh of its date (two runs, no learned models). Refreshes took at most
   * 113 ms meanwhile. The exception is the first refresh of a new date whose buses all appeared at
   * once, 743 and 897 ms, because the previous date's model computed every bus's medians for the
   * new times of day. The process peaked at 1,604 MiB resident on the first date and 2,990 MiB
   * across a date change.
   */
  private startTimetableModels(script: URL, options: ArrivalServiceOptions): TimetableModels {
    return new TimetableModels({
      builder: new WorkerModelBuilder(script, 'timetable'),
      slot: this.buildSlot,
      requests: new TimetableRequests(this.schedule, SCHEDULE_HISTORY_DAYS),
      settings: options.busfareSettings ?? DEFAULT_BUSFARE_SETTINGS,
      logger: this.logger,
      now: this.now,
      warm: (serviceDate, model) => this.warmModel(serviceDate, model),
    });
  }

  /** Fills a new model's caches in slices of WARM_SLICE_MS, yielding to refreshes and ingest between them. */
  private async warmModel(serviceDate: string, model: ArrivalModel): Promise<void> {
    let from: number | undefined = 0;
    while (from !== undefined) {
      await nextTurn();
      if (this.stopped) return;
      from = this.predictor.warmUp(model, serviceDate, from, WARM_SLICE_MS, Math.floor(this.now()));
    }
  }

  snapshot(): ArrivalSnapshot {
    return this.latest;
  }
}
