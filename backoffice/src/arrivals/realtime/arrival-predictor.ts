import { LiveDay } from '../live-day.js';
import { tripsFromEvents } from '../matching/arrival-detection.js';
import { scheduleHistoryTrips } from '../matching/schedule-history.js';
import type { ScheduledTrip, TripSchedule } from '../matching/trip-patterns.js';
import type { VehicleEvent, VehicleFix } from '../matching/vehicle-events.js';
import { VehicleTracker } from '../matching/vehicle-tracker.js';
import { localDateOf } from '../local-time.js';
import { DEFAULT_BUSFARE_SETTINGS } from '../evaluation/gtfs-avl-evaluation.js';
import type { ArrivalModel } from '../models/arrival-model.js';
import { BusfareModel, type BusfareSettings } from '../models/busfare-model.js';
import { type ObservedTrip, dayTypeOf } from '../observed-trip.js';
import { PairHistory } from '../travel-history.js';

/** Furthest ahead a prediction is published (s). */
export const PREDICTION_HORIZON_S = 60 * 60;
/** A vehicle without a fix for this long is no longer active (s). */
const STALE_AFTER_S = 10 * 60;
/** Days of timetable the models learn from when no recorded history is given. */
const SCHEDULE_HISTORY_DAYS = 7;

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
  tripId: string;
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
  busfareSettings?: BusfareSettings;
}

/**
 * The online predictor: keeps a tracker per vehicle, collects the day's detected arrivals and, on
 * each refresh, predicts for every active bus every later stop of its trip within 60 minutes with
 * busfare's model. The model scales the historical stop-to-stop travel times by how this bus and
 * the buses ahead of it on the route ran today.
 */
export class ArrivalPredictor {
  private readonly trackers = new Map<string, VehicleTracker>();
  private events: VehicleEvent[] = [];
  private readonly models = new Map<string, ArrivalModel>();
  private liveTrips: ObservedTrip[] = [];
  private liveDay = new LiveDay([]);
  private dirty = false;

  constructor(
    readonly schedule: TripSchedule,
    private readonly options: PredictorOptions = {},
  ) {}

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
        if (event.kind === 'arrival' || event.kind === 'departure') {
          this.events.push(event);
          this.dirty = true;
        }
      }
    }
    return caused;
  }

  /** Predicts every active vehicle as of now (Unix seconds). */
  predict(now: number): VehiclePrediction[] {
    if (this.dirty) {
      // Stop events older than a day and a half cannot belong to a trip still running.
      this.events = this.events.filter((event) => event.detectedAt > now - 36 * 3600);
      this.liveTrips = tripsFromEvents(this.schedule, this.events).map((entry) => entry.trip);
      this.liveDay = new LiveDay(this.liveTrips);
      this.dirty = false;
    }
    const result: VehiclePrediction[] = [];
    for (const [vehicleId, tracker] of this.trackers) {
      const fix = tracker.lastFix;
      const state = tracker.trip;
      if (!fix || !state || now - fix.time > STALE_AFTER_S) continue;
      const { trip, serviceDate, dayStart } = state.match;
      const stops = this.predictTrip(vehicleId, trip, serviceDate, dayStart, state.nextStop, now);
      result.push({
        vehicleId,
        tripId: trip.id,
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

  private predictTrip(vehicleId: string, trip: ScheduledTrip, serviceDate: string, dayStart: number, nextStop: number, now: number): StopPrediction[] {
    const { stops } = trip.pattern;
    if (nextStop >= stops.length) return [];
    const observed = this.liveTrips.find((candidate) => candidate.id === `${serviceDate}/${vehicleId}/${trip.id}`);
    const fromIndex = Math.max(0, nextStop - 1);
    const fromStop = stops[fromIndex]!.stopId;
    const known = observed?.arrivals.filter((arrival) => stops.findIndex((stop) => stop.stopId === arrival.stopId) <= fromIndex) ?? [];
    // Before the first departure the bus leaves at the scheduled time at the earliest.
    const fromTime = nextStop === 0 || (nextStop === 1 && known.length === 0) ? Math.max(now, dayStart + trip.departureS[0]!) : (known.at(-1)?.stopId === fromStop ? known.at(-1)!.time : now);
    const arrivalsSoFar = known.at(-1)?.stopId === fromStop ? known : [...known, { stopId: fromStop, time: fromTime }];
    const targets: number[] = [];
    for (let index = Math.max(nextStop, 1); index < stops.length; index += 1) targets.push(index);

    const model = this.modelFor(serviceDate, trip.routeId);
    const travel = model.predict(
      { routeId: trip.routeId, directionId: trip.directionId, tripId: observed?.id ?? `${serviceDate}/${vehicleId}/${trip.id}`, vehicleId, dayType: dayTypeOf(serviceDate), dayStart, arrivalsSoFar, now: fromTime, targets: targets.map((index) => stops[index]!.stopId) },
      this.liveDay,
    );
    const predictions: StopPrediction[] = [];
    targets.forEach((index, position) => {
      const scheduledArrival = dayStart + trip.arrivalS[index]!;
      const travelS = travel[position]!;
      // A pair the history never saw falls back to the timetable's own running time.
      const predicted = Number.isFinite(travelS) ? fromTime + travelS : fromTime + (trip.arrivalS[index]! - trip.departureS[fromIndex]!);
      const predictedArrival = Math.round(Math.max(now, predicted));
      if (predictedArrival - now > PREDICTION_HORIZON_S) return;
      predictions.push({ stopId: stops[index]!.stopId, stopIndex: index, predictedArrival, scheduledArrival: Math.round(scheduledArrival) });
    });
    return predictions;
  }

  /** Returns the busfare model of a service date and route, built on first use from the week of timetable before it. */
  private modelFor(serviceDate: string, routeId: string): ArrivalModel {
    const key = this.options.history && this.options.history.length > 0 ? '*' : `${serviceDate}|${routeId}`;
    let model = this.models.get(key);
    if (!model) {
      const trips = key === '*' ? this.options.history! : scheduleHistoryTrips(this.schedule, new Set([routeId]), serviceDate, SCHEDULE_HISTORY_DAYS);
      model = new BusfareModel(new PairHistory(trips), this.options.busfareSettings ?? DEFAULT_BUSFARE_SETTINGS);
      this.models.set(key, model);
    }
    return model;
  }

  /** Local service date of an instant in the schedule's time zone. */
  serviceDateOf(unixS: number): string {
    return localDateOf(unixS, this.schedule.timeZone);
  }
}
