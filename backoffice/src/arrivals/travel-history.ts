import type { DayType, ObservedTrip } from './observed-trip.js';

/** One historical run between two stops of a trip. */
export interface PairSample {
  /** Local seconds since midnight at the departure stop. */
  secondsOfDay: number;
  /** Travel time in seconds. */
  duration: number;
  serviceDate: string;
  dayType: DayType;
}

/** Longest stop-to-stop run kept in the history, in seconds. */
const DEFAULT_MAX_RUN_S = 45 * 60;

/** Returns the key of a directed stop pair on one direction of a route. */
export function pairKey(routeId: string, directionId: number, fromStop: string, toStop: string): string {
  return `${routeId}|${directionId}|${fromStop}|${toStop}`;
}

/**
 * Travel times between every pair of stops of every historical trip, runs longer than maxRunS left
 * out, each list sorted by time of day.
 */
export class PairHistory {
  private readonly pairs = new Map<string, PairSample[]>();
  readonly serviceDates: readonly string[];

  constructor(trips: readonly ObservedTrip[], maxRunS = DEFAULT_MAX_RUN_S) {
    const dates = new Set<string>();
    for (const trip of trips) {
      dates.add(trip.serviceDate);
      const { arrivals } = trip;
      for (let i = 0; i < arrivals.length; i += 1) {
        const from = arrivals[i]!;
        for (let j = i + 1; j < arrivals.length; j += 1) {
          const to = arrivals[j]!;
          const duration = to.time - from.time;
          if (duration > maxRunS) break;
          const key = pairKey(trip.routeId, trip.directionId, from.stopId, to.stopId);
          const sample: PairSample = { secondsOfDay: from.time - trip.dayStart, duration, serviceDate: trip.serviceDate, dayType: trip.dayType };
          const list = this.pairs.get(key);
          if (list) list.push(sample);
          else this.pairs.set(key, [sample]);
        }
      }
    }
    for (const list of this.pairs.values()) list.sort((a, b) => a.secondsOfDay - b.secondsOfDay);
    this.serviceDates = [...dates].sort();
  }

  /** Samples of one pair sorted by time of day; empty when the pair was never run. */
  samples(key: string): readonly PairSample[] {
    return this.pairs.get(key) ?? [];
  }
}

/** Returns the index of the first sample at or after secondsOfDay. */
export function lowerBound(samples: readonly PairSample[], secondsOfDay: number): number {
  let low = 0;
  let high = samples.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (samples[middle]!.secondsOfDay < secondsOfDay) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Returns the median of the values (the mean of the two middle ones for an even count), NaN when empty. */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  values.sort((a, b) => a - b);
  const middle = values.length >> 1;
  return values.length % 2 === 1 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
}
