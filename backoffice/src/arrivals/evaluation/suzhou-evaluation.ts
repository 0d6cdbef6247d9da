import { type BusfareFit, fitBusfareSettings } from '../models/busfare-fitting.js';
import { BusfareModel } from '../models/busfare-model.js';
import { HistoricalMedianModel } from '../models/historical-median-model.js';
import { HistoricalTravelTimes } from '../models/historical-travel-times.js';
import { KalmanModel } from '../models/kalman-model.js';
import { LastVehicleModel } from '../models/last-vehicle-model.js';
import { buildSuzhouTrips, parseSuzhouSightings } from '../suzhou-format.js';
import { PairHistory } from '../travel-history.js';
import type { BandReport } from './error-table.js';
import { compareModels } from './model-comparison.js';
import { splitByDate } from './replay.js';

/** Share of the dates, the earliest, that the models learn from. */
export const TRAINING_SHARE = 0.6;

/** Settings of the historical-median, last-vehicle and Kalman baselines: fixed, not fitted. */
export const BASELINE_WINDOW = { windowS: 30 * 60, minSamples: 5 };

export interface SuzhouEvaluationOptions {
  routeId: string;
  /** China Standard Time, UTC+8, unless a test says otherwise. */
  utcOffsetMinutes?: number;
}

export interface SuzhouEvaluation {
  reports: BandReport[];
  fit: BusfareFit;
  sightings: number;
  markerRows: number;
  trips: number;
  trainingDates: string[];
  testDates: string[];
  unpredictable: number;
  substituted: number;
}

/**
 * Runs the Suzhou evaluation: trips from the sightings, the earliest 60% of dates for learning,
 * then every arrival of the later dates predicts every later stop of its trip reached within 30
 * minutes, by busfare and the three baselines.
 */
export function evaluateSuzhou(text: string, options: SuzhouEvaluationOptions): SuzhouEvaluation {
  const { sightings, markerRows } = parseSuzhouSightings(text);
  const trips = buildSuzhouTrips(sightings, { routeId: options.routeId, utcOffsetMinutes: options.utcOffsetMinutes ?? 480 });
  const split = splitByDate(trips, TRAINING_SHARE);
  if (split.testDates.length === 0) throw new Error(`the events cover ${split.trainingDates.length} date(s): at least two are needed to keep one for testing`);

  const history = new PairHistory(split.training);
  const travelTimes = new HistoricalTravelTimes(history, BASELINE_WINDOW);
  const fit = fitBusfareSettings(split.training);
  const comparison = compareModels(split.test, new HistoricalMedianModel(travelTimes), [
    new BusfareModel(history, fit.settings, split.training),
    new LastVehicleModel(travelTimes),
    new KalmanModel(history, travelTimes),
  ]);
  return {
    reports: comparison.table.reports(),
    fit,
    sightings: sightings.length,
    markerRows,
    trips: trips.length,
    trainingDates: split.trainingDates,
    testDates: split.testDates,
    unpredictable: comparison.unpredictable,
    substituted: comparison.substituted,
  };
}
