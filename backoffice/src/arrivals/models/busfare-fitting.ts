import { HORIZON_BANDS, type HorizonBand, horizonBandOf } from '../evaluation/horizon-bands.js';
import { replayRequests, splitByDate } from '../evaluation/replay.js';
import type { ObservedTrip } from '../observed-trip.js';
import { PairHistory } from '../travel-history.js';
import { type BandCoefficients, type BusfareSettings, BusfareModel, neutralCoefficients } from './busfare-model.js';
import type { HistoricalWindow } from './historical-travel-times.js';
import type { TodayRatioSettings } from './today-ratio.js';

/** Settings tried by cross-validation. Each list is small so a fit stays within seconds per route. */
export interface BusfareSearchSpace {
  windows: HistoricalWindow[];
  today: TodayRatioSettings[];
  todayCoefficients: number[];
  ownCoefficients: number[];
}

export const DEFAULT_SEARCH_SPACE: BusfareSearchSpace = {
  windows: [15, 30].flatMap((minutes) => [Infinity, 14].map((halfLifeDays) => ({ windowS: minutes * 60, minSamples: 5, halfLifeDays }))),
  today: [30, 120].map((minutes) => ({ timeConstantS: minutes * 60, priorWeight: 4 })),
  todayCoefficients: range(0, 2, 0.2),
  ownCoefficients: range(0, 0.6, 0.2),
};

/** Share of the training dates, the earliest, that the cross-validation fits on; the rest validate. */
const INNER_TRAINING_SHARE = 0.75;
const OWN_MAX_AGE_S = 40 * 60;

/** One candidate's validation result. */
export interface CandidateScore {
  history: HistoricalWindow;
  today: TodayRatioSettings;
  coefficients: Record<HorizonBand, BandCoefficients>;
  /** Validation MAE per band with these coefficients, and of the plain historical median. */
  maeS: Record<HorizonBand, number>;
  historicalMaeS: Record<HorizonBand, number>;
  /** Mean over the bands of MAE divided by the plain median's MAE: the selection score. */
  score: number;
}

export interface BusfareFit {
  settings: BusfareSettings;
  candidates: CandidateScore[];
  innerTrainingDates: string[];
  validationDates: string[];
}

interface ValidationPoint {
  band: HorizonBand;
  base: number;
  actual: number;
  own: number;
  today: number[];
}

/**
 * Chooses busfare's settings by validation inside the training dates: fits the history on the
 * earliest 75% of them and replays the rest, then for every history window and today-ratio
 * setting finds per band the coefficients with the lowest MAE; the candidate whose MAE, relative to
 * the plain median's, averages lowest over the bands wins.
 */
export function fitBusfareSettings(trainingTrips: readonly ObservedTrip[], space: BusfareSearchSpace = DEFAULT_SEARCH_SPACE): BusfareFit {
  const split = splitByDate(trainingTrips, INNER_TRAINING_SHARE);
  if (split.testDates.length === 0) {
    // One training date leaves nothing to validate on: the plain median is all that can be trusted.
    const settings = { history: space.windows[0]!, today: space.today[0]!, ownMaxAgeS: OWN_MAX_AGE_S, coefficients: neutralCoefficients() };
    return { settings, candidates: [], innerTrainingDates: split.trainingDates, validationDates: [] };
  }
  const innerHistory = new PairHistory(split.training);
  const candidates: CandidateScore[] = [];

  for (const history of space.windows) {
    const models = space.today.map(
      (today) => new BusfareModel(innerHistory, { history, today, ownMaxAgeS: OWN_MAX_AGE_S, coefficients: neutralCoefficients() }),
    );
    const points: ValidationPoint[] = [];
    for (const { request, live, actualS } of replayRequests(split.test)) {
      const features = models.map((model) => model.features(request, live));
      const first = features[0]!;
      first.base.forEach((base, index) => {
        // Points are grouped by the band of the historical travel time, the band the model applies.
        const band = horizonBandOf(base) ?? '20-30';
        if (!(base > 0) || horizonBandOf(actualS[index]!) === undefined) return;
        points.push({ band, base, actual: actualS[index]!, own: first.ownLogRatio, today: features.map((feature) => feature.todayLogRatio) });
      });
    }
    space.today.forEach((today, todayIndex) => candidates.push(scoreCandidate(history, today, todayIndex, points, space)));
  }

  candidates.sort((a, b) => a.score - b.score);
  const best = candidates[0]!;
  return {
    settings: { history: best.history, today: best.today, ownMaxAgeS: OWN_MAX_AGE_S, coefficients: best.coefficients },
    candidates,
    innerTrainingDates: split.trainingDates,
    validationDates: split.testDates,
  };
}

function scoreCandidate(history: HistoricalWindow, today: TodayRatioSettings, todayIndex: number, points: readonly ValidationPoint[], space: BusfareSearchSpace): CandidateScore {
  const coefficients = neutralCoefficients();
  const maeS = {} as Record<HorizonBand, number>;
  const historicalMaeS = {} as Record<HorizonBand, number>;
  let relativeSum = 0;
  let bandsScored = 0;
  for (const band of HORIZON_BANDS) {
    const bandPoints = points.filter((point) => point.band === band);
    if (bandPoints.length === 0) continue;
    const historical = meanAbsoluteError(bandPoints, todayIndex, 0, 0);
    let best = { today: 0, own: 0, mae: historical };
    for (const todayCoefficient of space.todayCoefficients) {
      for (const ownCoefficient of space.ownCoefficients) {
        const mae = meanAbsoluteError(bandPoints, todayIndex, todayCoefficient, ownCoefficient);
        if (mae < best.mae) best = { today: todayCoefficient, own: ownCoefficient, mae };
      }
    }
    coefficients[band] = { today: best.today, own: best.own };
    maeS[band] = best.mae;
    historicalMaeS[band] = historical;
    relativeSum += best.mae / historical;
    bandsScored += 1;
  }
  return { history, today, coefficients, maeS, historicalMaeS, score: bandsScored > 0 ? relativeSum / bandsScored : 1 };
}

function meanAbsoluteError(points: readonly ValidationPoint[], todayIndex: number, todayCoefficient: number, ownCoefficient: number): number {
  let sum = 0;
  for (const point of points) {
    sum += Math.abs(point.base * Math.exp(todayCoefficient * point.today[todayIndex]! + ownCoefficient * point.own) - point.actual);
  }
  return sum / points.length;
}

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let index = 0; from + index * step <= to + 1e-9; index += 1) values.push(Math.round((from + index * step) * 100) / 100);
  return values;
}
