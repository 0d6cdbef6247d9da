import type { LiveDay, Run } from '../live-day.js';
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
  /** Revision of the LiveDay the sums reflect. */
  revision: number;
  /** Arrival times of the runs, ascending. */
  times: number[];
  /** Decayed sums of weight·log ratio and of weight, at each run's arrival. */
  weightedRatios: number[];
  weights: number[];
}

/**
 * How much slower or faster than history the route runs today: the decayed, shrunk mean of
 * log(actual / historical median) over the day's completed runs between successive stops. The
 * sums are kept per day and route and read by binary search, so a request costs O(log runs). An
 * append to the day recomputes them only from the first run it changed.
 */
export class TodayRatio {
  private readonly sums = new WeakMap<LiveDay, Map<string, DecayedSums>>();

  constructor(
    private readonly travelTimes: HistoricalTravelTimes,
    private readonly settings: TodayRatioSettings,
  ) {}

  /** Returns the shrunk log ratio of a route as of now; 0 before any run of the day. */
  logRatio(live: LiveDay, routeId: string, now: number): number {
    const sums = this.sumsOf(live, routeId);
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

  private sumsOf(live: LiveDay, routeId: string): DecayedSums {
    let byRoute = this.sums.get(live);
    if (!byRoute) {
      byRoute = new Map();
      this.sums.set(live, byRoute);
    }
    let sums = byRoute.get(routeId);
    const revision = live.revision(routeId);
    if (!sums) {
      sums = { revision, times: [], weightedRatios: [], weights: [] };
      byRoute.set(routeId, sums);
      this.extend(sums, live.runsInOrder(routeId), 0);
    } else if (sums.revision !== revision) {
      this.extend(sums, live.runsInOrder(routeId), live.firstChangedRunSince(routeId, sums.revision));
      sums.revision = revision;
    }
    return sums;
  }

  /** Recomputes the sums from run index `from` to the end of the route's runs. */
  private extend(sums: DecayedSums, runs: readonly Run[], from: number): void {
    sums.times.length = from;
    sums.weightedRatios.length = from;
    sums.weights.length = from;
    let ratioSum = from > 0 ? sums.weightedRatios[from - 1]! : 0;
    let weightSum = from > 0 ? sums.weights[from - 1]! : 0;
    let previousTime = from > 0 ? sums.times[from - 1]! : (runs[0]?.arrival ?? 0);
    for (let index = from; index < runs.length; index += 1) {
      const run = runs[index]!;
      const decay = Math.exp(-(run.arrival - previousTime) / this.settings.timeConstantS);
      ratioSum *= decay;
      weightSum *= decay;
      const expected = this.travelTimes.median(pairKey(run.routeId, run.directionId, run.fromStop, run.toStop), run.departure - run.dayStart, run.dayType);
      const duration = run.arrival - run.departure;
      if (expected > 0 && duration > 0) {
        ratioSum += Math.max(-MAX_LOG_RATIO, Math.min(MAX_LOG_RATIO, Math.log(duration / expected)));
        weightSum += 1;
      }
      sums.times.push(run.arrival);
      sums.weightedRatios.push(ratioSum);
      sums.weights.push(weightSum);
      previousTime = run.arrival;
    }
  }
}
