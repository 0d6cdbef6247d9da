import type { DayType, ObservedTrip } from './observed-trip.js';

/** A run between two stops by a trip that has already reached the second stop. */
export interface Traversal {
  tripId: string;
  vehicleId: string;
  departure: number;
  arrival: number;
}

/** A run between two successive arrivals of one trip. */
export interface Run {
  routeId: string;
  directionId: number;
  tripId: string;
  fromStop: string;
  toStop: string;
  departure: number;
  arrival: number;
  dayStart: number;
  dayType: DayType;
}

interface StopVisit {
  trip: ObservedTrip;
  index: number;
  time: number;
}

/**
 * The arrivals of one service day, queried as of a given time: a query never returns an arrival
 * later than its `now`, so a prediction cannot see the future.
 */
export class LiveDay {
  private readonly visits = new Map<string, StopVisit[]>();
  private readonly stopIndex = new Map<ObservedTrip, Map<string, number>>();
  /** Runs between successive arrivals of every trip, in order of arrival. */
  private readonly runs: Run[] = [];

  constructor(trips: readonly ObservedTrip[]) {
    for (const trip of trips) {
      const indexes = new Map<string, number>();
      trip.arrivals.forEach((arrival, index) => {
        indexes.set(arrival.stopId, index);
        const previous = trip.arrivals[index - 1];
        if (previous) {
          this.runs.push({ routeId: trip.routeId, directionId: trip.directionId, tripId: trip.id, fromStop: previous.stopId, toStop: arrival.stopId, departure: previous.time, arrival: arrival.time, dayStart: trip.dayStart, dayType: trip.dayType });
        }
        const key = stopKey(trip.routeId, trip.directionId, arrival.stopId);
        const list = this.visits.get(key);
        const visit = { trip, index, time: arrival.time };
        if (list) list.push(visit);
        else this.visits.set(key, [visit]);
      });
      this.stopIndex.set(trip, indexes);
    }
    for (const list of this.visits.values()) list.sort((a, b) => a.time - b.time);
    this.runs.sort((a, b) => a.arrival - b.arrival);
  }

  /** Returns the runs completed at or before now, newest first, until one completed before `since`. */
  *runsCompleted(now: number, since: number): Generator<Run> {
    let low = 0;
    let high = this.runs.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.runs[middle]!.arrival <= now) low = middle + 1;
      else high = middle;
    }
    for (let index = low - 1; index >= 0; index -= 1) {
      const run = this.runs[index]!;
      if (run.arrival < since) return;
      yield run;
    }
  }

  /**
   * Returns up to `limit` runs from fromStop to toStop that reached toStop at or before now, newest
   * first, leaving out the trip excludeTripId.
   */
  recentTraversals(routeId: string, directionId: number, fromStop: string, toStop: string, now: number, limit: number, excludeTripId?: string): Traversal[] {
    const list = this.visits.get(stopKey(routeId, directionId, toStop));
    const result: Traversal[] = [];
    if (!list) return result;
    let index = upperBound(list, now) - 1;
    for (; index >= 0 && result.length < limit; index -= 1) {
      const visit = list[index]!;
      if (visit.trip.id === excludeTripId) continue;
      const fromIndex = this.stopIndex.get(visit.trip)!.get(fromStop);
      if (fromIndex === undefined || fromIndex >= visit.index) continue;
      result.push({ tripId: visit.trip.id, vehicleId: visit.trip.vehicleId, departure: visit.trip.arrivals[fromIndex]!.time, arrival: visit.time });
    }
    return result;
  }
}

function stopKey(routeId: string, directionId: number, stopId: string): string {
  return `${routeId}|${directionId}|${stopId}`;
}

function upperBound(list: readonly StopVisit[], time: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (list[middle]!.time <= time) low = middle + 1;
    else high = middle;
  }
  return low;
}
