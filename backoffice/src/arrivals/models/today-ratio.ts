import type { LiveDay, Run, RunList } from '../live-day.js';
import { pairKey } from '../travel-history.js';
import type { HistoricalTravelTimes } from './historical-travel-times.js';
import { RouteRunSums, countAtOrBefore } from './route-run-sums.js';

/** Bound on one run's log ratio, so a bus held at a stop cannot swing the day's estimate alone. */
const MAX_LOG_RATIO = 1;

/**
 * Returns log(actual / historical median) of one run between successive stops, clamped to ±1, or
 * undefined when the pair has no history or the run took no time.
 */
export function runLogRatio(travelTimes: HistoricalTravelTimes, run: Pick<Run, 'routeId' | 'directionId' | 'fromStop' | 'toStop' | 'departure' | 'arrival' | 'dayStart' | 'dayType'>): number | undefined {
  const expected = travelTimes.median(pairKey(run.routeId, run.directionId, run.fromStop, run.toStop), run.departure - run.dayStart, run.dayType);
  const duration = run.arrival - run.departure;
  if (!(expected > 0 && duration > 0)) return undefined;
  return Math.max(-MAX_LOG_RATIO, Math.min(MAX_LOG_RATIO, Math.log(duration / expected)));
}

export interface TodayRatioSettings {
  /** Time constant in seconds of the exponential decay of a run's weight with its age. */
  timeConstantS: number;
  /** Weight of the prior log ratio 0 (today runs like history) against the runs seen. */
  priorWeight: number;
}

interface DecayedSums {
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
  private readonly sums = new RouteRunSums<DecayedSums>(
    () => ({ times: [], weightedRatios: [], weights: [] }),
    (sums, runs, from) => this.extend(sums, runs, from),
  );

  constructor(
    private readonly travelTimes: HistoricalTravelTimes,
    private readonly settings: TodayRatioSettings,
  ) {}

  /** Returns the shrunk log ratio of a route as of now; 0 before any run of the day. */
  logRatio(live: LiveDay, routeId: string, now: number): number {
    const sums = this.sums.of(live, routeId);
    const count = countAtOrBefore(sums.times, now);
    if (count === 0) return 0;
    const decay = Math.exp(-(now - sums.times[count - 1]!) / this.settings.timeConstantS);
    return (sums.weightedRatios[count - 1]! * decay) / (sums.weights[count - 1]! * decay + this.settings.priorWeight);
  }

  /** Recomputes the sums from run index `from` to the end of the route's runs. */
  private extend(sums: DecayedSums, runs: RunList, from: number): void {
    sums.times.length = from;
    sums.weightedRatios.length = from;
    sums.weights.length = from;
    let ratioSum = from > 0 ? sums.weightedRatios[from - 1]! : 0;
    let weightSum = from > 0 ? sums.weights[from - 1]! : 0;
    let previousTime = 0;
    if (from > 0) previousTime = sums.times[from - 1]!;
    else if (runs.length > 0) previousTime = runs.arrival(0);
    for (let index = from; index < runs.length; index += 1) {
      const run = runs.run(index);
      const decay = Math.exp(-(run.arrival - previousTime) / this.settings.timeConstantS);
      ratioSum *= decay;
      weightSum *= decay;
      const logRatio = runLogRatio(this.travelTimes, run);
      if (logRatio !== undefined) {
        ratioSum += logRatio;
        weightSum += 1;
      }
      sums.times.push(run.arrival);
      sums.weightedRatios.push(ratioSum);
      sums.weights.push(weightSum);
      previousTime = run.arrival;
    }
  }
}
