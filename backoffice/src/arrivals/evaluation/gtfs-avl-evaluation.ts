import { importGtfsFeed } from '../../gtfs/gtfs-feed.js';
import { checkTimeZone } from '../local-time.js';
import { parseAvlFixes, parseTransitClockPredictions } from '../gtfs-avl-format.js';
import { LiveDay } from '../live-day.js';
import { type DetectedTrip, detectTrips } from '../matching/arrival-detection.js';
import { scheduleHistoryTrips } from '../matching/schedule-history.js';
import { buildTripSchedule } from '../matching/trip-patterns.js';
import type { ArrivalModel, ModelName } from '../models/arrival-model.js';
import { fitBusfareSettings } from '../models/busfare-fitting.js';
import { BusfareModel, type BusfareSettings, DEFAULT_BUSFARE_STRUCTURE } from '../models/busfare-model.js';
import { HistoricalMedianModel } from '../models/historical-median-model.js';
import { HistoricalTravelTimes } from '../models/historical-travel-times.js';
import { KalmanModel } from '../models/kalman-model.js';
import { LastVehicleModel } from '../models/last-vehicle-model.js';
import type { ObservedTrip } from '../observed-trip.js';
import { PairHistory } from '../travel-history.js';
import { type BandReport, ErrorTable } from './error-table.js';
import { MAX_HORIZON_S } from './horizon-bands.js';
import { requestAt } from './replay.js';
import { BASELINE_WINDOW } from './suzhou-evaluation.js';
import { TransitClockBaseline } from './transitclock-baseline.js';

/** Service dates of timetable before the evaluated day that the models learn from. */
export const SCHEDULE_HISTORY_DAYS = 7;

/**
 * busfare's settings where no recorded history exists to fit them on: the mean of the coefficients
 * fitted on the stop-by-stop part (before 2018-04-15) of both Suzhou recordings, rounded.
 */
export const DEFAULT_BUSFARE_SETTINGS: BusfareSettings = {
  ...DEFAULT_BUSFARE_STRUCTURE,
  coefficients: {
    '0-5': { intercept: 0.02, routeToday: 0.22, routeTodayLong: 0.06, narrowWindow: 0.19, wideWindow: 0.31, everyDayType: 0.4, busHistory: 0.4, busToday: 0.21, busRecent: 0.22 },
    '5-10': { intercept: 0.02, routeToday: 0.24, routeTodayLong: 0.12, narrowWindow: 0.21, wideWindow: 0.3, everyDayType: 0.29, busHistory: 0.4, busToday: 0.22, busRecent: 0.2 },
    '10-20': { intercept: 0.02, routeToday: 0.33, routeTodayLong: 0.09, narrowWindow: 0.2, wideWindow: 0.29, everyDayType: 0.27, busHistory: 0.45, busToday: 0.36, busRecent: 0 },
    '20-30': { intercept: 0, routeToday: 0.3, routeTodayLong: 0.09, narrowWindow: 0.18, wideWindow: 0.29, everyDayType: 0.23, busHistory: 0.42, busToday: 0.31, busRecent: 0 },
  },
  signalScale: 2,
  signalCarry: 0.5,
};

export interface GtfsAvlInputs {
  gtfsFolder: string;
  avlText: string;
  timeZone: string;
  baselineText?: string;
  historyText?: string;
}

export interface GtfsAvlEvaluation {
  reports: BandReport[];
  fixes: number;
  detectedTrips: DetectedTrip[];
  historyTrips: number;
  scheduleTrips: number;
  settingsSource: 'fitted' | 'default';
  busfareSettings: BusfareSettings;
  requests: number;
  /** Targets left out: no historical travel time, or (with a baseline) no current TransitClock prediction. */
  leftOut: { noHistory: number; noBaseline: number };
}

/**
 * Scores the models on one day of GPS positions. Arrivals are detected from the positions against
 * the feed, and the models learn from the timetable of the previous week and any recorded history.
 * Each time a fix reveals new arrivals, every model predicts the later stops of that trip reached
 * within 30 minutes. Predictions and actual times count from that fix's time, because
 * that is when a live system knows of the arrival. With a baseline every model is scored on the
 * targets TransitClock also predicted.
 */
export function evaluateGtfsAvl(inputs: GtfsAvlInputs): GtfsAvlEvaluation {
  checkTimeZone(inputs.timeZone);
  const schedule = buildTripSchedule(importGtfsFeed(inputs.gtfsFolder));
  const fixes = parseAvlFixes(inputs.avlText, inputs.timeZone);
  const detected = detectTrips(schedule, fixes).trips;
  if (detected.length === 0) throw new Error(`no trip with two or more stop arrivals was detected in ${fixes.length} positions: check that --gtfs is the feed of the vehicle's route and --tz the zone of the AVL times`);
  const firstDate = detected.map((entry) => entry.trip.serviceDate).sort()[0]!;

  const recorded = inputs.historyText === undefined ? [] : detectTrips(schedule, parseAvlFixes(inputs.historyText, inputs.timeZone)).trips.map((entry) => entry.trip).filter((trip) => trip.serviceDate < firstDate);
  const timetable = scheduleHistoryTrips(schedule, new Set(detected.map((entry) => entry.trip.routeId)), firstDate, SCHEDULE_HISTORY_DAYS);
  const history = new PairHistory([...timetable, ...recorded]);
  const travelTimes = new HistoricalTravelTimes(history, BASELINE_WINDOW);
  const recordedDates = new Set(recorded.map((trip) => trip.serviceDate));
  const busfareSettings = recordedDates.size >= 2 ? fitBusfareSettings(recorded).settings : DEFAULT_BUSFARE_SETTINGS;

  const reference = new HistoricalMedianModel(travelTimes);
  const others: ArrivalModel[] = [new BusfareModel(history, busfareSettings, recorded), new LastVehicleModel(travelTimes), new KalmanModel(history, travelTimes)];
  const baseline = inputs.baselineText === undefined ? undefined : new TransitClockBaseline(parseTransitClockPredictions(inputs.baselineText, inputs.timeZone));

  const table = new ErrorTable();
  const leftOut = { noHistory: 0, noBaseline: 0 };
  let requests = 0;
  const live = new LiveDay(detected.map((entry) => entry.trip));
  for (const request of detectionRequests(detected)) {
    requests += 1;
    const { trip, index, now, targets } = request;
    const modelRequest = requestAt(trip, index, targets.map((target) => trip.arrivals[target]!.stopId));
    // The models predict travel from the arrival at the current stop, so the time since that arrival is subtracted.
    const elapsed = now - modelRequest.now;
    const referenceS = reference.predict(modelRequest, live);
    const predictions = others.map((model) => model.predict(modelRequest, live));
    targets.forEach((target, position) => {
      const actual = trip.arrivals[target]!.time - now;
      if (!Number.isFinite(referenceS[position]!)) {
        leftOut.noHistory += 1;
        return;
      }
      const scored: [ModelName, number][] = [[reference.name, referenceS[position]! - elapsed]];
      others.forEach((model, modelIndex) => {
        const value = predictions[modelIndex]![position]!;
        scored.push([model.name, (Number.isFinite(value) ? value : referenceS[position]!) - elapsed]);
      });
      if (baseline) {
        const tripId = trip.id.split('/').at(-1)!;
        const predicted = baseline.predictedTime(trip.vehicleId, tripId, trip.arrivals[target]!.stopId, now);
        if (predicted === undefined) {
          leftOut.noBaseline += 1;
          return;
        }
        scored.push(['transitclock', predicted - now]);
      }
      for (const [model, predictedS] of scored) table.add(model, actual, Math.max(0, predictedS), actual);
    });
  }

  return {
    reports: table.reports(),
    fixes: fixes.length,
    detectedTrips: detected,
    historyTrips: recorded.length,
    scheduleTrips: timetable.length,
    settingsSource: recordedDates.size >= 2 ? 'fitted' : 'default',
    busfareSettings,
    requests,
    leftOut,
  };
}

interface DetectionRequest {
  trip: ObservedTrip;
  /** Index of the latest arrival known at `now`. */
  index: number;
  now: number;
  /** Indexes of later arrivals within the horizon. */
  targets: number[];
}

/** One request per fix that revealed arrivals: from the latest of them, to later stops within 30 minutes. */
function* detectionRequests(detected: readonly DetectedTrip[]): Generator<DetectionRequest> {
  for (const { trip, detectedAt } of detected) {
    for (let index = 0; index < trip.arrivals.length - 1; index += 1) {
      const now = detectedAt[index]!;
      if (detectedAt[index + 1] === now) continue;
      const targets: number[] = [];
      for (let later = index + 1; later < trip.arrivals.length; later += 1) {
        if (trip.arrivals[later]!.time - now > MAX_HORIZON_S) break;
        targets.push(later);
      }
      if (targets.length > 0) yield { trip, index, now, targets };
    }
  }
}
