import type { LiveDay, RunList } from '../live-day.js';
import type { ObservedTrip } from '../observed-trip.js';
import type { HistoricalTravelTimes } from './historical-travel-times.js';
import { RouteRunSums, countAtOrBefore } from './route-run-sums.js';
import { type TodayRatioSettings, runLogRatio } from './today-ratio.js';

/**
 * Returns how much slower or faster than the median each bus runs: the shrunk mean log ratio of its
 * runs between successive stops in the trips. A bus without runs is absent from the map, which
 * callers read as 0.
 */
export function vehicleHistoryLogRatios(trips: readonly ObservedTrip[], travelTimes: HistoricalTravelTimes, priorRuns: number): Map<string, number> {
  const sums = new Map<string, { ratio: number; runs: number }>();
  for (const trip of trips) {
    for (let index = 1; index < trip.arrivals.length; index += 1) {
      const from = trip.arrivals[index - 1]!;
      const to = trip.arrivals[index]!;
      const logRatio = runLogRatio(travelTimes, { ...trip, fromStop: from.stopId, toStop: to.stopId, departure: from.time, arrival: to.time });
      if (logRatio === undefined) continue;
      const sum = sums.get(trip.vehicleId) ?? { ratio: 0, runs: 0 };
      sum.ratio += logRatio;
      sum.runs += 1;
      sums.set(trip.vehicleId, sum);
    }
  }
  return new Map([...sums].map(([vehicleId, sum]) => [vehicleId, sum.ratio / (sum.runs + priorRuns)]));
}

interface VehicleSums {
  /** Index of each run in the route's runsInOrder(). */
  runIndexes: number[];
  arrivals: number[];
  /** Cumulative sums of the runs' log ratios. */
  ratioSums: number[];
  /** Decayed sums of log ratio and of weight at each run's arrival, for recentLogRatio(). */
  decayedRatios: number[];
  decayedWeights: number[];
}

/**
 * The shrunk mean log ratio of one bus's runs on a route so far today, Σ log ratio / (runs +
 * priorRuns), and its recent form, in which a run's weight decays exponentially with its age. The
 * sums are kept per day, route and bus and read by binary search. An append recomputes them only
 * from the first run it changed.
 */
export class VehicleDayRatio {
  private readonly sums = new RouteRunSums<Map<string, VehicleSums>>(
    () => new Map(),
    (byVehicle, runs, from) => this.extend(byVehicle, runs, from),
  );

  /** Without `recent` settings, recentLogRatio() equals logRatio(). */
  constructor(
    private readonly travelTimes: HistoricalTravelTimes,
    private readonly priorRuns: number,
    private readonly recent: TodayRatioSettings = { timeConstantS: Infinity, priorWeight: priorRuns },
  ) {}

  /** Returns the shrunk log ratio of a bus's runs on a route up to now, or 0 before its first run. */
  logRatio(live: LiveDay, routeId: string, vehicleId: string, now: number): number {
    const vehicle = this.sums.of(live, routeId).get(vehicleId);
    if (!vehicle) return 0;
    const count = countAtOrBefore(vehicle.arrivals, now);
    return count === 0 ? 0 : vehicle.ratioSums[count - 1]! / (count + this.priorRuns);
  }

  /**
   * Returns the bus's recent log ratio on a route as of now: Σ w·log ratio / (Σ w + priorWeight)
   * with w = exp(−age / timeConstantS) per run, or 0 before its first run. It follows a change during
   * the day (another driver, traffic the bus ran into) sooner than the day's mean does.
   */
  recentLogRatio(live: LiveDay, routeId: string, vehicleId: string, now: number): number {
    const vehicle = this.sums.of(live, routeId).get(vehicleId);
    if (!vehicle) return 0;
    const count = countAtOrBefore(vehicle.arrivals, now);
    if (count === 0) return 0;
    const decay = Math.exp(-(now - vehicle.arrivals[count - 1]!) / this.recent.timeConstantS);
    return (vehicle.decayedRatios[count - 1]! * decay) / (vehicle.decayedWeights[count - 1]! * decay + this.recent.priorWeight);
  }

  /** Drops every bus's runs from route index `from` on, then adds the route's runs from there. */
  private extend(byVehicle: Map<string, VehicleSums>, runs: RunList, from: number): void {
    for (const vehicle of byVehicle.values()) {
      let keep = vehicle.runIndexes.length;
      while (keep > 0 && vehicle.runIndexes[keep - 1]! >= from) keep -= 1;
      vehicle.runIndexes.length = keep;
      vehicle.arrivals.length = keep;
      vehicle.ratioSums.length = keep;
      vehicle.decayedRatios.length = keep;
      vehicle.decayedWeights.length = keep;
    }
    for (let index = from; index < runs.length; index += 1) {
      const run = runs.run(index);
      const logRatio = runLogRatio(this.travelTimes, run);
      if (logRatio === undefined) continue;
      let vehicle = byVehicle.get(run.vehicleId);
      if (!vehicle) {
        vehicle = { runIndexes: [], arrivals: [], ratioSums: [], decayedRatios: [], decayedWeights: [] };
        byVehicle.set(run.vehicleId, vehicle);
      }
      const last = vehicle.arrivals.length - 1;
      const decay = last < 0 ? 0 : Math.exp(-(run.arrival - vehicle.arrivals[last]!) / this.recent.timeConstantS);
      vehicle.decayedRatios.push((last < 0 ? 0 : vehicle.decayedRatios[last]! * decay) + logRatio);
      vehicle.decayedWeights.push((last < 0 ? 0 : vehicle.decayedWeights[last]! * decay) + 1);
      vehicle.runIndexes.push(index);
      vehicle.arrivals.push(run.arrival);
      vehicle.ratioSums.push((vehicle.ratioSums.at(-1) ?? 0) + logRatio);
    }
  }
}
