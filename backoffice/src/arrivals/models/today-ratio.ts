import type { LiveDay } from '../live-day.js';
import { pairKey } from '../travel-history.js';
import type { HistoricalTravelTimes } from './historical-travel-times.js';

/** Bound on one run's log ratio, so a bus held at a stop cannot swing the day's estimate alone. */
const MAX_LOG_RATIO = 1;

export interface TodayRatioSettings {
  /** Time constant in seconds of the exponential decay of a run's weight with its age. */
  timeConstantS: number;
  /** Weight of the prior log ratio 0 (today runs like history) against the runs seen. */
  priorWeight: number;
}

interface DecayedSums {
  /** Arrival times of the runs, ascending. */
  times: Float64Array;
  /** Decayed sums of weight·log ratio and of weight, at each run's arrival. */
  weightedRatios: Float64Array;
  weights: Float64Array;
}

/**
 * How much slower or faster than history the route runs today: the decayed, shrunk mean of
 * log(actual / historical median) over the day's completed runs between successive stops. The
 * sums are built once per day and read by binary search, so a request costs O(log runs).
 */
export class TodayRatio {
  private readonly sums = new WeakMap<LiveDay, DecayedSums>();

  constructor(
    private readonly travelTimes: HistoricalTravelTimes,
    private readonly settings: TodayRatioSettings,
  ) {}

  /** Returns the shrunk log ratio as of now; 0 before any run of the day. */
  logRatio(live: LiveDay, now: number): number {
    const sums = this.sumsOf(live);
    let low = 0;
    let high = sums.times.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (sums.times[middle]! <= now) low = middle + 1;
      else high = middle;
    }
    if (low === 0) return 0;
    const decay = Math.exp(-(now - sums.times[low - 1]!) / this.settings.timeConstantS);
    return (sums.weightedRatios[low - 1]! * decay) / (sums.weights[low - 1]! * decay + this.settings.priorWeight);
  }

  private sumsOf(live: LiveDay): DecayedSums {
    const cached = this.sums.get(live);
    if (cached) return cached;
    const runs = [...live.runsCompleted(Infinity, -Infinity)].reverse();
    const times = new Float64Array(runs.length);
    const weightedRatios = new Float64Array(runs.length);
    const weights = new Float64Array(runs.length);
    let ratioSum = 0;
    let weightSum = 0;
    let previousTime = runs[0]?.arrival ?? 0;
    runs.forEach((run, index) => {
      const decay = Math.exp(-(run.arrival - previousTime) / this.settings.timeConstantS);
      ratioSum *= decay;
      weightSum *= decay;
      const expected = this.travelTimes.median(pairKey(run.routeId, run.directionId, run.fromStop, run.toStop), run.departure - run.dayStart, run.dayType);
      const duration = run.arrival - run.departure;
      if (expected > 0 && duration > 0) {
        ratioSum += Math.max(-MAX_LOG_RATIO, Math.min(MAX_LOG_RATIO, Math.log(duration / expected)));
        weightSum += 1;
      }
      times[index] = run.arrival;
      weightedRatios[index] = ratioSum;
      weights[index] = weightSum;
      previousTime = run.arrival;
    });
    const result = { times, weightedRatios, weights };
    this.sums.set(live, result);
    return result;
  }
}
