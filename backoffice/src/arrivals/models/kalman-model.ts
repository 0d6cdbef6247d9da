import type { LiveDay } from '../live-day.js';
import type { DayType } from '../observed-trip.js';
import { type PairHistory, pairKey } from '../travel-history.js';
import type { ArrivalModel, PredictionRequest } from './arrival-model.js';
import type { HistoricalTravelTimes } from './historical-travel-times.js';

export interface KalmanSettings {
  /** Previous days whose run at about the same time of day form the historical estimate. */
  historyDays: number;
  /** Half-width of the time-of-day window that counts as "the same run" on a previous day (s). */
  windowS: number;
}

export const DEFAULT_KALMAN_SETTINGS: KalmanSettings = { historyDays: 3, windowS: 30 * 60 };

interface HistoricalRuns {
  average: number;
  variance: number;
}

const CACHE_SLOT_S = 300;

/**
 * Baseline in the manner of TransitClock's Kalman travel-time predictor (after Shalaby and Farhan,
 * 2004), applied to the run from the current stop to each target: the historical estimate is the
 * mean of that run on the last `historyDays` days at about this time, the measurement is the last
 * bus's run today, and the filter gain is g = (e + v) / (e + 2v) with v the historical variance and
 * e the filter error of the previous prediction of that run. The prediction is
 * (1 − g)·last + g·average and the new filter error is g·v. Without a run today the historical mean
 * is the prediction.
 */
export class KalmanModel implements ArrivalModel {
  readonly name = 'kalman';
  private readonly filterErrors = new Map<string, number>();
  private readonly runCache = new Map<string, HistoricalRuns | null>();

  constructor(
    private readonly history: PairHistory,
    private readonly travelTimes: HistoricalTravelTimes,
    private readonly settings: KalmanSettings = DEFAULT_KALMAN_SETTINGS,
  ) {}

  predict(request: PredictionRequest, live: LiveDay): number[] {
    const current = request.arrivalsSoFar.at(-1)!;
    const secondsOfDay = request.now - request.dayStart;
    return request.targets.map((target) => {
      const key = pairKey(request.routeId, request.directionId, current.stopId, target);
      const runs = this.historicalRuns(key, secondsOfDay, request.dayType);
      if (!runs) return this.travelTimes.median(key, secondsOfDay, request.dayType);
      const [last] = live.recentTraversals(request.routeId, request.directionId, current.stopId, target, request.now, 1, request.tripId);
      if (!last) return runs.average;

      const error = this.filterErrors.get(key) ?? runs.variance;
      const denominator = error + 2 * runs.variance;
      const gain = denominator > 0 ? (error + runs.variance) / denominator : 1;
      this.filterErrors.set(key, gain * runs.variance);
      return (1 - gain) * (last.arrival - last.departure) + gain * runs.average;
    });
  }

  private historicalRuns(key: string, secondsOfDay: number, dayType: DayType): HistoricalRuns | null {
    const slot = Math.floor(secondsOfDay / CACHE_SLOT_S);
    const cacheKey = `${key}#${dayType}#${slot}`;
    const cached = this.runCache.get(cacheKey);
    if (cached !== undefined) return cached;

    const centre = (slot + 0.5) * CACHE_SLOT_S;
    const nearestByDate = new Map<string, { distance: number; duration: number; sameType: boolean }>();
    for (const sample of this.history.samplesBetween(key, centre - this.settings.windowS, centre + this.settings.windowS)) {
      const distance = Math.abs(sample.secondsOfDay - centre);
      const previous = nearestByDate.get(sample.serviceDate);
      if (!previous || distance < previous.distance) {
        nearestByDate.set(sample.serviceDate, { distance, duration: sample.duration, sameType: sample.dayType === dayType });
      }
    }
    const dates = [...nearestByDate.keys()].sort().reverse();
    const sameType = dates.filter((date) => nearestByDate.get(date)!.sameType);
    const chosen = (sameType.length >= this.settings.historyDays ? sameType : dates).slice(0, this.settings.historyDays);
    let result: HistoricalRuns | null = null;
    if (chosen.length > 0) {
      const durations = chosen.map((date) => nearestByDate.get(date)!.duration);
      const average = durations.reduce((sum, value) => sum + value, 0) / durations.length;
      const variance = durations.reduce((sum, value) => sum + (value - average) ** 2, 0) / durations.length;
      result = { average, variance };
    }
    this.runCache.set(cacheKey, result);
    return result;
  }
}
