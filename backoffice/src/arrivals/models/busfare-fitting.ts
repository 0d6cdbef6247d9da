import { HORIZON_BANDS, type HorizonBand, horizonBandOf } from '../evaluation/horizon-bands.js';
import { type RequestFilter, replayRequests, sampleReplayRequests, splitByDate } from '../evaluation/replay.js';
import type { ObservedTrip } from '../observed-trip.js';
import { PairHistory } from '../travel-history.js';
import { BUSFARE_FEATURES, type BusfareSettings, type BusfareStructure, BusfareModel, DEFAULT_BUSFARE_STRUCTURE, SHORT_HORIZON_TERMS, coefficientsOf, learnRecordedTerms, neutralCoefficients } from './busfare-model.js';
import { fitLeastAbsoluteDeviations } from './least-absolute-deviations.js';
import { SignalPhases, moveTowardsPhases } from './signal-phases.js';

/** Share of the training dates, the earliest, that the validation replay learns from. The rest validate. */
const INNER_TRAINING_SHARE = 0.75;
/** Minimum validation points for a band's own coefficients. A band with fewer uses the pooled fit. */
const MIN_BAND_POINTS = 200;
/** Ridge penalty of the fit, relative to the points' total weight. */
const RIDGE = 1e-4;
/** Spreads k (k·√T seconds around a prediction of T seconds) tried for the move towards signal phases; 0 turns the move off. */
export const SIGNAL_SCALES = [0, 1, 1.5, 2, 3] as const;
/** Shares of a move carried to the later targets, tried with each spread. */
export const SIGNAL_CARRIES = [0, 0.25, 0.5, 0.75] as const;
/**
 * Maximum of validation targets replayed, for the coefficient fit and the signal-move choice alike.
 * Validation dates with more targets replay an evenly spread subset of their requests (see
 * sampleReplayRequests). So the replays' predictions and feature rows stay bounded on a whole
 * city's history. Each replay still lists and sorts every arrival of a validation date, and
 * building the models of the inner training dates still grows with the history.
 */
export const MAX_VALIDATION_TARGETS = 200_000;

export interface BusfareFit {
  settings: BusfareSettings;
  /** Validation MAE per band of H with the fitted coefficients, and of H alone. */
  validationMaeS: Partial<Record<HorizonBand, number>>;
  historicalMaeS: Partial<Record<HorizonBand, number>>;
  /** Validation points of the replayed requests per band of H, and the bands that used the pooled fit. */
  points: Partial<Record<HorizonBand, number>>;
  pooledBands: HorizonBand[];
  /** Stops with a signal cycle in the inner training dates, and the validation MAE per spread k and carried share tried. */
  signalStops: number;
  signalMoveMaeS: { scale: number; carry: number; maeS: number }[];
  /** Targets of every validation request, and of the requests replayed, at most the cap of the fit. */
  validationTargets: { total: number; replayed: number };
  innerTrainingDates: string[];
  validationDates: string[];
}

interface ValidationPoint {
  base: number;
  actual: number;
  row: Float64Array;
}

/**
 * Sets busfare's coefficients by validation inside the training dates: builds the model on the
 * earliest 75% of them, replays the rest as prediction requests and, per band of the historical
 * travel time H, fits the coefficients that minimise Σ H·|log(actual / H) − β·x| (close to the
 * absolute error in seconds) by least absolute deviations. A term of SHORT_HORIZON_TERMS is fitted
 * only in its bands and is 0 in the others. The final model keeps the coefficients and learns its
 * history from all training dates. Validation dates with more than maxValidationTargets targets
 * replay a deterministic, evenly spread subset of their requests.
 */
export function fitBusfareSettings(trainingTrips: readonly ObservedTrip[], structure: BusfareStructure = DEFAULT_BUSFARE_STRUCTURE, maxValidationTargets = MAX_VALIDATION_TARGETS): BusfareFit {
  const split = splitByDate(trainingTrips, INNER_TRAINING_SHARE);
  const empty = { validationMaeS: {}, historicalMaeS: {}, points: {}, pooledBands: [...HORIZON_BANDS], signalStops: 0, signalMoveMaeS: [], validationTargets: { total: 0, replayed: 0 }, innerTrainingDates: split.trainingDates, validationDates: split.testDates };
  const plain = { ...structure, coefficients: neutralCoefficients(), signalScale: 0, signalCarry: 0 };
  if (split.testDates.length === 0) {
    // One training date leaves nothing to validate on: the plain median is all that can be trusted.
    return { settings: plain, ...empty };
  }
  const sample = sampleReplayRequests(split.test, maxValidationTargets);
  empty.validationTargets = { total: sample.totalTargets, replayed: sample.sampledTargets };
  const history = new PairHistory(split.training);
  // The fitted model below reuses these terms: both models have the same structure and no signal move.
  const terms = learnRecordedTerms(history, plain, split.training);
  const model = new BusfareModel(history, plain, terms);
  const byBand = new Map<HorizonBand, ValidationPoint[]>(HORIZON_BANDS.map((band) => [band, []]));
  for (const { request, live, actualS } of replayRequests(split.test, undefined, sample.include)) {
    const { base, rows } = model.features(request, live);
    base.forEach((h, index) => {
      const actual = actualS[index]!;
      if (!(h > 0) || horizonBandOf(actual) === undefined) return;
      // Points are grouped by the band of H, the band the model applies its coefficients by.
      const band = horizonBandOf(h) ?? '20-30';
      const row = rows[index]!;
      for (const column of LEFT_OUT[band]) row[column] = 0;
      byBand.get(band)!.push({ base: h, actual, row });
    });
  }

  const all = [...byBand.values()].flat();
  if (all.length < MIN_BAND_POINTS) return { settings: plain, ...empty };
  const pooled = fitPoints(all);
  const coefficients = neutralCoefficients();
  const fit: BusfareFit = { ...empty, settings: { ...structure, coefficients, signalScale: 0, signalCarry: 0 }, pooledBands: [] };
  for (const band of HORIZON_BANDS) {
    const points = byBand.get(band)!;
    const own = points.length >= MIN_BAND_POINTS;
    const beta = own ? fitPoints(points) : Float64Array.from(pooled);
    for (const column of LEFT_OUT[band]) beta[column] = 0;
    if (!own) fit.pooledBands.push(band);
    coefficients[band] = coefficientsOf(beta);
    fit.points[band] = points.length;
    if (points.length === 0) continue;
    fit.validationMaeS[band] = round1(meanAbsoluteError(points, beta));
    fit.historicalMaeS[band] = round1(meanAbsoluteError(points, new Float64Array(beta.length)));
  }
  chooseSignalMove(fit, new BusfareModel(history, fit.settings, terms), split.training, split.test, sample.include);
  return fit;
}

/**
 * Sets the spread of the move towards signal phases, and the share of it carried to later targets,
 * to the pair with the least validation MAE over every target within 30 minutes, replaying the
 * validation requests that `include` selects (all without it) with the fitted coefficients.
 */
function chooseSignalMove(fit: BusfareFit, fitted: BusfareModel, innerTraining: readonly ObservedTrip[], validation: readonly ObservedTrip[], include: RequestFilter | undefined): void {
  const phases = new SignalPhases(innerTraining, fit.settings.signals);
  fit.signalStops = phases.stopCount;
  if (phases.stopCount === 0) return;
  const candidates = SIGNAL_SCALES.flatMap((scale): { scale: number; carry: number }[] => (scale === 0 ? [{ scale, carry: 0 }] : SIGNAL_CARRIES.map((carry) => ({ scale, carry }))));
  const sums = new Float64Array(candidates.length);
  let count = 0;
  for (const { request, live, actualS } of replayRequests(validation, undefined, include)) {
    const predicted = fitted.predict(request, live);
    const secondsOfDay = request.now - request.dayStart;
    const scored = predicted.map((travelS, index) => Number.isFinite(travelS) && horizonBandOf(actualS[index]!) !== undefined);
    count += scored.filter(Boolean).length;
    const densityOf = (index: number, arrivalSecondsOfDay: number) => phases.at(request.routeId, request.directionId, request.targets[index]!, arrivalSecondsOfDay);
    candidates.forEach(({ scale, carry }, column) => {
      const moved = [...predicted];
      if (scale > 0) moveTowardsPhases(moved, secondsOfDay, scale, carry, densityOf);
      for (let index = 0; index < moved.length; index += 1) {
        if (scored[index]) sums[column] = sums[column]! + Math.abs(moved[index]! - actualS[index]!);
      }
    });
  }
  if (count === 0) return;
  let best = 0;
  candidates.forEach(({ scale, carry }, column) => {
    fit.signalMoveMaeS.push({ scale, carry, maeS: Math.round((sums[column]! / count) * 100) / 100 });
    if (sums[column]! < sums[best]!) best = column;
  });
  fit.settings.signalScale = candidates[best]!.scale;
  fit.settings.signalCarry = candidates[best]!.carry;
}

/** Per band of H, the feature columns of the terms that band leaves out. */
const LEFT_OUT = Object.fromEntries(
  HORIZON_BANDS.map((band) => [
    band,
    BUSFARE_FEATURES.flatMap((feature, column) => {
      const bands = SHORT_HORIZON_TERMS[feature];
      return bands && !bands.includes(band) ? [column] : [];
    }),
  ]),
) as Record<HorizonBand, number[]>;

function fitPoints(points: readonly ValidationPoint[]): Float64Array {
  return fitLeastAbsoluteDeviations(
    points.map((point) => point.row),
    points.map((point) => Math.log(Math.max(1, point.actual) / point.base)),
    points.map((point) => point.base),
    { ridge: RIDGE },
  );
}

function meanAbsoluteError(points: readonly ValidationPoint[], beta: Float64Array): number {
  let sum = 0;
  for (const { base, actual, row } of points) {
    let exponent = 0;
    for (let index = 0; index < beta.length; index += 1) exponent += beta[index]! * row[index]!;
    sum += Math.abs(base * Math.exp(exponent) - actual);
  }
  return sum / points.length;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
