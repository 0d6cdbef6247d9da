import { LiveDay } from '../live-day.js';
import { scheduleHistoryTrips } from '../matching/schedule-history.js';
import type { ScheduledTrip, TripSchedule } from '../matching/trip-patterns.js';
import type { VehicleEvent, VehicleFix } from '../matching/vehicle-events.js';
import { VehicleTracker } from '../matching/vehicle-tracker.js';
import { addDays, localDateOf, serviceDayStart } from '../local-time.js';
import { DEFAULT_BUSFARE_SETTINGS } from '../evaluation/gtfs-avl-evaluation.js';
import type { ArrivalModel, PredictionRequest } from '../models/arrival-model.js';
import { BusfareModel, type BusfareSettings } from '../models/busfare-model.js';
import { type DayType, type ObservedTrip, type StopArrival, dayTypeOf } from '../observed-trip.js';
import { PairHistory } from '../travel-history.js';

/** Furthest ahead a prediction is published (s). */
export const PREDICTION_HORIZON_S = 60 * 60;
/** A vehicle without a fix for this long is no longer active (s). */
const STALE_AFTER_S = 10 * 60;
/**
 * A vehicle without a fix for this long loses its tracker (s), so vehicle ids that stop reporting
 * (buses retired or renamed, ids from a faulty terminal) do not keep one each for good. A vehicle
 * that reports again starts a fresh trip match, as after a change of sign-on.
 */
export const TRACKER_EXPIRY_S = 6 * 3600;
/** Days of timetable the models learn from when no recorded history is given. */
const SCHEDULE_HISTORY_DAYS = 7;
/**
 * The model is asked only for the stops the timetable reaches within this many horizons of the
 * current stop, and predictions beyond one horizon are then left out. Only a bus running at less
 * than half the timetable's speed gets fewer stops than its horizon holds.
 */
const TIMETABLE_REACH = 2;
const EMPTY_DAY = new LiveDay();

/** Returns the index of the last stop from `first` on that the timetable reaches within TIMETABLE_REACH horizons of stop first − 1. */
function lastStopWithin(trip: ScheduledTrip, first: number, fromTime: number, now: number): number {
  const { stops } = trip.pattern;
  const startS = trip.departureS[first - 1]!;
  const reachS = TIMETABLE_REACH * PREDICTION_HORIZON_S + (now - fromTime);
  let index = first;
  while (index + 1 < stops.length && trip.arrivalS[index + 1]! - startS <= reachS) index += 1;
  return index;
}

/** A predicted arrival of one bus at one later stop of its trip. */
export interface StopPrediction {
  stopId: string;
  stopIndex: number;
  /** Unix times in seconds. */
  predictedArrival: number;
  scheduledArrival: number;
}

/** Position, trip and predicted arrivals of one active bus. */
export interface VehiclePrediction {
  vehicleId: string;
  /** The schedule's trip id (for a run of a frequency-based trip, `tripId@HH:MM:SS`). */
  tripId: string;
  /** trip_id in the feed, and for a frequency-based trip the start time of this run. */
  gtfsTripId: string;
  startTime?: string;
  routeId: string;
  directionId: number;
  serviceDate: string;
  lat: number;
  lon: number;
  /** Unix time of the latest fix. */
  timestamp: number;
  /** Index of the next stop the bus has not yet reached. */
  nextStopIndex: number;
  /** Seconds behind the timetable at the next stop (negative: early). */
  delayS: number;
  /** True while the bus waits at its first stop before the scheduled departure. */
  layover: boolean;
  detour: boolean;
  stops: StopPrediction[];
}

export interface PredictorOptions {
  /** Recorded trips of earlier days. When empty, the timetable of the previous week is used. */
  history?: readonly ObservedTrip[];
  /**
   * Returns the model a service date learned from the trips recorded before it (RecordedModels), or
   * undefined while it has none, and that date then predicts with the timetable model.
   */
  recordedModel?: (serviceDate: string) => ArrivalModel | undefined;
  /**
   * Called when the learned model of a date throws. The request then takes the timetable model's
   * prediction, so one faulty model cannot stop every refresh. Without it the error is raised.
   */
  onRecordedModelError?: (serviceDate: string, error: unknown) => void;
  /**
   * Returns the timetable model of a service date (TimetableModels), or undefined while it has
   * none, and the date then predicts from the timetable's own running times. Without this option
   * the predictor builds each date's timetable model per route, in this thread, on first use.
   */
  timetableModel?: (serviceDate: string) => ArrivalModel | undefined;
  /**
   * Settings of the timetable models and of a given history's model, DEFAULT_BUSFARE_SETTINGS by
   * default. ArrivalService builds its learned models with them too when given, and otherwise fits
   * each learned model's own.
   */
  busfareSettings?: BusfareSettings;
}

/**
 * Returns whether an event is a stop time the predictor counts: a trip's first stop from its
 * departure, because the time a bus waits there is layover, and the others from arrival.
 */
export function isCountedStopTime(event: VehicleEvent): event is VehicleEvent & { kind: 'arrival' | 'departure' } {
  return (event.kind === 'arrival' || event.kind === 'departure') && event.kind === (event.stopIndex === 0 ? 'departure' : 'arrival');
}

/**
 * The online predictor: keeps a tracker per vehicle, collects the day's detected arrivals and, on
 * each refresh, predicts for every active bus every later stop of its trip within 60 minutes with
 * busfare's model. The model scales the historical stop-to-stop travel times by how this bus and
 * the buses ahead of it on the route ran today.
 */
export class ArrivalPredictor {
  private readonly trackers = new Map<string, VehicleTracker>();
  private readonly models = new Map<string, ArrivalModel>();
  /** Arrivals detected so far, one LiveDay per service date. */
  private readonly days = new Map<string, LiveDay>();
  /**
   * Detected trips by id `serviceDate/vehicleId/tripId`, with the pattern index of each arrival. The
   * LiveDay of their date keeps their arrivals in columns, so trip.arrivals stays empty.
   */
  private readonly liveTrips = new Map<string, { trip: ObservedTrip; stopIndexes: number[] }>();
  private readonly dayTypes = new Map<string, DayType>();
  /** Each vehicle's latest known arrivals, as knownArrivals() returned them. */
  private readonly knownByVehicle = new Map<string, { trip: ObservedTrip; arrivals: readonly StopArrival[] }>();
  /**
   * The model of every date and route when a recorded history is given, built in the constructor.
   * It keeps its samples in typed columns, and the recorded trips are not kept. Those trips and
   * their arrivals are hundreds of thousands of objects, which every full garbage collection would
   * mark. They would also raise the heap limit that V8 sets after each collection.
   */
  private readonly sharedModel: ArrivalModel | undefined;
  private readonly busfareSettings: BusfareSettings;
  private readonly recordedModel: ((serviceDate: string) => ArrivalModel | undefined) | undefined;
  private readonly onRecordedModelError: ((serviceDate: string, error: unknown) => void) | undefined;
  private readonly timetableModel: ((serviceDate: string) => ArrivalModel | undefined) | undefined;

  constructor(
    readonly schedule: TripSchedule,
    options: PredictorOptions = {},
  ) {
    this.busfareSettings = options.busfareSettings ?? DEFAULT_BUSFARE_SETTINGS;
    const { history } = options;
    this.sharedModel = history !== undefined && history.length > 0 ? new BusfareModel(new PairHistory(history), this.busfareSettings, history) : undefined;
    this.recordedModel = options.recordedModel;
    this.onRecordedModelError = options.onRecordedModelError;
    this.timetableModel = options.timetableModel;
  }

  /** Feeds fixes in time order per vehicle and returns the events they caused. */
  ingest(fixes: readonly VehicleFix[]): VehicleEvent[] {
    const caused: VehicleEvent[] = [];
    for (const fix of fixes) {
      let tracker = this.trackers.get(fix.vehicleId);
      if (!tracker) {
        tracker = new VehicleTracker(this.schedule);
        this.trackers.set(fix.vehicleId, tracker);
      }
      for (const event of tracker.update(fix)) {
        caused.push(event);
        if (isCountedStopTime(event)) this.record(event);
      }
    }
    return caused;
  }

  /** Adds a counted stop time (isCountedStopTime) to the day's detected trips. */
  private record(event: VehicleEvent & { kind: 'arrival' | 'departure' }): void {
    const id = `${event.serviceDate}/${event.vehicleId}/${event.tripId}`;
    let entry = this.liveTrips.get(id);
    if (!entry) {
      const trip: ObservedTrip = { id, routeId: event.routeId, directionId: event.directionId, vehicleId: event.vehicleId, serviceDate: event.serviceDate, dayType: dayTypeOf(event.serviceDate), dayStart: serviceDayStart(event.serviceDate, this.schedule.timeZone), arrivals: [] };
      entry = { trip, stopIndexes: [] };
      this.liveTrips.set(id, entry);
    }
    if ((entry.stopIndexes.at(-1) ?? -1) >= event.stopIndex) return;
    entry.stopIndexes.push(event.stopIndex);
    this.dayOf(event.serviceDate).append(entry.trip, { stopId: event.stopId, time: event.time });
  }

  /** Returns the LiveDay of a service date. A new date drops the days more than one day before it. */
  private dayOf(serviceDate: string): LiveDay {
    let day = this.days.get(serviceDate);
    if (day) return day;
    day = new LiveDay();
    this.days.set(serviceDate, day);
    const oldest = addDays(serviceDate, -1);
    for (const date of [...this.days.keys()]) if (date < oldest) this.days.delete(date);
    for (const [id, entry] of this.liveTrips) if (entry.trip.serviceDate < oldest) this.liveTrips.delete(id);
    return day;
  }

  /**
   * Drops the trackers whose latest fix is dated after `latestValid` (Unix seconds), with their
   * vehicles' live trips, and returns how many. Such a tracker remains after the caller's clock
   * steps back, and it would ignore every fix of its bus until the clock passed that latest fix.
   * The bus's next fix starts a fresh match. The arrivals already in the LiveDay stay. LiveDay
   * queries return no arrival later than their `now`, so those dated ahead stay hidden until then.
   */
  forgetTrackersAfter(latestValid: number): number {
    const forgotten = new Set<string>();
    for (const [vehicleId, tracker] of this.trackers) {
      const fix = tracker.lastFix;
      if (fix === undefined || fix.time <= latestValid) continue;
      this.trackers.delete(vehicleId);
      this.knownByVehicle.delete(vehicleId);
      forgotten.add(vehicleId);
    }
    // A live trip's recorded stop indexes would make the fresh match skip its stops up to them.
    if (forgotten.size > 0) {
      for (const [id, entry] of this.liveTrips) if (forgotten.has(entry.trip.vehicleId)) this.liveTrips.delete(id);
    }
    return forgotten.size;
  }

  /** Predicts every active vehicle as of now (Unix seconds). */
  predict(now: number): VehiclePrediction[] {
    const result: VehiclePrediction[] = [];
    for (const [vehicleId, tracker] of this.trackers) {
      const fix = tracker.lastFix;
      const state = tracker.trip;
      if (fix && now - fix.time > TRACKER_EXPIRY_S) {
        this.trackers.delete(vehicleId);
        this.knownByVehicle.delete(vehicleId);
        continue;
      }
      if (!fix || !state || now - fix.time > STALE_AFTER_S) continue;
      const { trip, serviceDate, dayStart } = state.match;
      const stops = this.predictTrip(vehicleId, trip, serviceDate, dayStart, state.nextStop, now);
      result.push({
        vehicleId,
        tripId: trip.id,
        gtfsTripId: trip.gtfsTripId,
        ...(trip.startTime === undefined ? {} : { startTime: trip.startTime }),
        routeId: trip.routeId,
        directionId: trip.directionId,
        serviceDate,
        lat: fix.lat,
        lon: fix.lon,
        timestamp: fix.time,
        nextStopIndex: state.nextStop,
        delayS: stops[0] ? stops[0].predictedArrival - stops[0].scheduledArrival : Math.round(state.match.deviationS),
        layover: state.layoverReported && state.atStop === 0,
        detour: state.detour,
        stops,
      });
    }
    return result;
  }

  /**
   * Runs a model on the current request of each active bus of a service date, from the tracker at
   * index `from` on, until `budgetMs` have passed (at least one bus a call), and discards the
   * predictions. A learned model fills its caches this way, a slice at a time, before it replaces
   * the timetable model, so that no single refresh computes all of them. Returns the index to go on
   * from, or undefined once every tracker was visited.
   */
  warmUp(model: ArrivalModel, serviceDate: string, from: number, budgetMs: number, now: number): number | undefined {
    const trackers = [...this.trackers.entries()];
    const started = performance.now();
    let index = from;
    for (; index < trackers.length; index += 1) {
      if (index > from && performance.now() - started >= budgetMs) return index;
      const [vehicleId, tracker] = trackers[index]!;
      const fix = tracker.lastFix;
      const state = tracker.trip;
      if (!fix || !state || now - fix.time > STALE_AFTER_S || state.match.serviceDate !== serviceDate) continue;
      const { trip, dayStart } = state.match;
      const pending = this.requestFor(vehicleId, trip, serviceDate, dayStart, state.nextStop, now);
      if (pending) model.predict(pending.request, pending.day);
    }
    return undefined;
  }

  /** Builds the prediction request of a bus on its trip, or returns undefined past the trip's last stop. */
  private requestFor(vehicleId: string, trip: ScheduledTrip, serviceDate: string, dayStart: number, nextStop: number, now: number): { request: PredictionRequest; day: LiveDay; fromTime: number; fromIndex: number } | undefined {
    const { stops } = trip.pattern;
    if (nextStop >= stops.length) return undefined;
    const id = `${serviceDate}/${vehicleId}/${trip.id}`;
    const observed = this.liveTrips.get(id);
    const fromIndex = Math.max(0, nextStop - 1);
    const fromStop = stops[fromIndex]!.stopId;
    let knownCount = observed?.stopIndexes.length ?? 0;
    while (knownCount > 0 && observed!.stopIndexes[knownCount - 1]! > fromIndex) knownCount -= 1;
    const day = this.days.get(serviceDate) ?? EMPTY_DAY;
    const known = observed ? this.knownArrivals(vehicleId, day, observed.trip, knownCount) : [];
    // Before the first departure the bus leaves at the scheduled time at the earliest.
    const fromTime = nextStop === 0 || (nextStop === 1 && known.length === 0) ? Math.max(now, dayStart + trip.departureS[0]!) : (known.at(-1)?.stopId === fromStop ? known.at(-1)!.time : now);
    const arrivalsSoFar = known.at(-1)?.stopId === fromStop ? known : [...known, { stopId: fromStop, time: fromTime }];
    const targets: string[] = [];
    const lastIndex = lastStopWithin(trip, Math.max(nextStop, 1), fromTime, now);
    for (let index = Math.max(nextStop, 1); index <= lastIndex; index += 1) targets.push(stops[index]!.stopId);

    const request = { routeId: trip.routeId, directionId: trip.directionId, tripId: id, vehicleId, dayType: this.dayTypeOf(serviceDate), dayStart, arrivalsSoFar, now: fromTime, targets };
    return { request, day, fromTime, fromIndex };
  }

  private predictTrip(vehicleId: string, trip: ScheduledTrip, serviceDate: string, dayStart: number, nextStop: number, now: number): StopPrediction[] {
    const pending = this.requestFor(vehicleId, trip, serviceDate, dayStart, nextStop, now);
    if (!pending) return [];
    const { request, day, fromTime, fromIndex } = pending;
    const { targets } = request;
    const { stops } = trip.pattern;
    let recorded = this.recordedModelFor(serviceDate);
    let travel: number[] | undefined;
    if (recorded) {
      try {
        travel = recorded.predict(request, day);
      } catch (error) {
        if (!this.onRecordedModelError) throw error;
        this.onRecordedModelError(serviceDate, error);
        recorded = undefined;
      }
    }
    // Without a timetable model (its build still running) every target takes the running time below.
    travel ??= this.timetableModelFor(serviceDate, trip.routeId)?.predict(request, day) ?? targets.map(() => Number.NaN);
    if (recorded && travel.some((travelS) => !Number.isFinite(travelS))) {
      // A stop pair the detected trips never ran (a new route, a rarely run direction) takes the
      // timetable model's travel time, which today's runs still correct.
      const fromTimetable = this.timetableModelFor(serviceDate, trip.routeId)?.predict(request, day);
      if (fromTimetable) travel = travel.map((travelS, position) => (Number.isFinite(travelS) ? travelS : fromTimetable[position]!));
    }
    const predictions: StopPrediction[] = [];
    // The model keeps its own times in route order, but a pair filled from the timetable model
    // can still put a stop before the one ahead of it.
    let earliest = now;
    for (let position = 0; position < targets.length; position += 1) {
      const index = Math.max(nextStop, 1) + position;
      const scheduledArrival = dayStart + trip.arrivalS[index]!;
      const travelS = travel[position]!;
      // A pair the history never saw falls back to the timetable's own running time.
      const predicted = Number.isFinite(travelS) ? fromTime + travelS : fromTime + (trip.arrivalS[index]! - trip.departureS[fromIndex]!);
      const predictedArrival = Math.max(earliest, Math.round(Math.max(now, predicted)));
      if (predictedArrival - now > PREDICTION_HORIZON_S) break;
      earliest = predictedArrival;
      predictions.push({ stopId: stops[index]!.stopId, stopIndex: index, predictedArrival, scheduledArrival: Math.round(scheduledArrival) });
    }
    return predictions;
  }

  /**
   * Returns the first `count` arrivals of a vehicle's live trip. The array of the vehicle's previous
   * call is returned again while its trip and count are the same, because those arrivals never
   * change. A bus reaches a new stop only every few refreshes, and objects built on every refresh
   * would be promoted and then die in the old generation.
   */
  private knownArrivals(vehicleId: string, day: LiveDay, trip: ObservedTrip, count: number): readonly StopArrival[] {
    const cached = this.knownByVehicle.get(vehicleId);
    if (cached && cached.trip === trip && cached.arrivals.length === count) return cached.arrivals;
    const arrivals = day.arrivalsOf(trip, count);
    this.knownByVehicle.set(vehicleId, { trip, arrivals });
    return arrivals;
  }

  /**
   * Returns the busfare model of a service date and route: the shared model of a recorded history,
   * the `timetableModel` option's model (undefined while it has none), or one built on first use
   * from the week of timetable before the date. A date's first timetable model drops those of
   * dates more than one day before, as dayOf() drops their arrivals.
   * NOTE: that history keeps every stop pair within 45 minutes of every run of 7 days, so a route
   * with a departure every 2 minutes each way gives over 3 million samples. Built here, on the
   * first refresh of the day in this thread, the 25 routes of the `arrivals` benchmark's city took
   * that refresh 6.0 to 7.8 s on a 2-core VM, and the models 1.1 GB of ArrayBuffers. ArrivalService
   * therefore builds them in its model worker where a worker script exists (TimetableModels). The
   * `arrivals` benchmark passes a recorded history instead.
   */
  private timetableModelFor(serviceDate: string, routeId: string): ArrivalModel | undefined {
    if (this.sharedModel) return this.sharedModel;
    if (this.timetableModel) return this.timetableModel(serviceDate);
    const key = `${serviceDate}|${routeId}`;
    let model = this.models.get(key);
    if (!model) {
      // Only recorded trips give each bus's history ratio, because timetable trips have no real bus.
      model = new BusfareModel(new PairHistory(scheduleHistoryTrips(this.schedule, new Set([routeId]), serviceDate, SCHEDULE_HISTORY_DAYS)), this.busfareSettings, []);
      const oldest = addDays(serviceDate, -1);
      for (const existing of [...this.models.keys()]) if (existing.slice(0, existing.indexOf('|')) < oldest) this.models.delete(existing);
      this.models.set(key, model);
    }
    return model;
  }

  /**
   * Returns the model of a service date learned from the trips recorded before it, or undefined
   * while the `recordedModel` option has none for that date. Unless `busfareSettings` is given, the
   * build fits that model's settings on the recorded days, as arrivals-eval does.
   */
  private recordedModelFor(serviceDate: string): ArrivalModel | undefined {
    return this.recordedModel?.(serviceDate);
  }

  private dayTypeOf(serviceDate: string): DayType {
    let dayType = this.dayTypes.get(serviceDate);
    if (!dayType) {
      dayType = dayTypeOf(serviceDate);
      this.dayTypes.set(serviceDate, dayType);
    }
    return dayType;
  }

  /** Local service date of an instant in the schedule's time zone. */
  serviceDateOf(unixS: number): string {
    return localDateOf(unixS, this.schedule.timeZone);
  }
}
