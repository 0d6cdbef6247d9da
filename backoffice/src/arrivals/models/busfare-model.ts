import { HORIZON_BANDS, type HorizonBand, horizonBandOf } from '../evaluation/horizon-bands.js';
import type { LiveDay } from '../live-day.js';
import { type PairHistory, pairKey } from '../travel-history.js';
import type { ArrivalModel, PredictionRequest } from './arrival-model.js';
import { type HistoricalWindow, HistoricalTravelTimes } from './historical-travel-times.js';
import { TodayRatio, type TodayRatioSettings } from './today-ratio.js';

/** Weights of the two live log ratios in one horizon band. */
export interface BandCoefficients {
  today: number;
  own: number;
}

export interface BusfareSettings {
  history: HistoricalWindow;
  today: TodayRatioSettings;
  /** The bus's own last run counts while it ended no longer than this before the request (s). */
  ownMaxAgeS: number;
  /** Coefficients per band of the historical travel time. */
  coefficients: Record<HorizonBand, BandCoefficients>;
}

/** Live inputs of one request, before the coefficients are applied. */
export interface BusfareFeatures {
  /** Historical travel time to each target in seconds (NaN where the pair was never run). */
  base: number[];
  todayLogRatio: number;
  ownLogRatio: number;
}

const MAX_LOG_RATIO = 1;

/**
 * busfare's predictor. The travel time to a target is the historical median H of that stop pair at
 * this time of day and day type (recent days weighted more), scaled by today's conditions:
 * H · exp(a·today + b·own), where `today` is the shrunk log ratio of actual to historical run times
 * of every bus on the route so far today, recent runs weighted more, and `own` is the log ratio of
 * this bus's last run. a and b are set per horizon band by fitting on held-out training dates.
 */
export class BusfareModel implements ArrivalModel {
  readonly name = 'busfare';
  readonly travelTimes: HistoricalTravelTimes;
  private readonly todayRatio: TodayRatio;

  constructor(
    history: PairHistory,
    readonly settings: BusfareSettings,
  ) {
    this.travelTimes = new HistoricalTravelTimes(history, settings.history);
    this.todayRatio = new TodayRatio(this.travelTimes, settings.today);
  }

  predict(request: PredictionRequest, live: LiveDay): number[] {
    const features = this.features(request, live);
    return features.base.map((base) => {
      const band = horizonBandOf(base) ?? '20-30';
      const coefficients = this.settings.coefficients[band];
      return base * Math.exp(coefficients.today * features.todayLogRatio + coefficients.own * features.ownLogRatio);
    });
  }

  features(request: PredictionRequest, live: LiveDay): BusfareFeatures {
    const { arrivalsSoFar } = request;
    const current = arrivalsSoFar.at(-1)!;
    const secondsOfDay = request.now - request.dayStart;
    const base = this.travelTimes.mediansFrom(request.routeId, request.directionId, current.stopId, request.targets, secondsOfDay, request.dayType);

    let ownLogRatio = 0;
    const previous = arrivalsSoFar.at(-2);
    if (previous && request.now - previous.time <= this.settings.ownMaxAgeS) {
      const key = pairKey(request.routeId, request.directionId, previous.stopId, current.stopId);
      const expected = this.travelTimes.median(key, previous.time - request.dayStart, request.dayType);
      const duration = current.time - previous.time;
      if (expected > 0 && duration > 0) ownLogRatio = clamp(Math.log(duration / expected));
    }
    return { base, todayLogRatio: this.todayRatio.logRatio(live, request.routeId, request.now), ownLogRatio };
  }
}

/** Coefficients that leave the historical median unchanged in every band. */
export function neutralCoefficients(): Record<HorizonBand, BandCoefficients> {
  return Object.fromEntries(HORIZON_BANDS.map((band) => [band, { today: 0, own: 0 }])) as Record<HorizonBand, BandCoefficients>;
}

function clamp(logRatio: number): number {
  return Math.max(-MAX_LOG_RATIO, Math.min(MAX_LOG_RATIO, logRatio));
}
