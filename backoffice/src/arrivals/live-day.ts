import type { DayType, ObservedTrip, StopArrival } from './observed-trip.js';

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
  vehicleId: string;
  fromStop: string;
  toStop: string;
  departure: number;
  arrival: number;
  dayStart: number;
  dayType: DayType;
}

/**
 * The arrivals of every trip at one stop, in time order, as parallel columns. Visit i is arrival
 * `indexes[i]` of `trips[i]` at `times[i]`. A day contains hundreds of thousands of arrivals, and
 * one object per visit added that many objects to the marking of every full garbage collection.
 */
interface StopVisits {
  trips: ObservedTrip[];
  indexes: number[];
  times: number[];
}

/**
 * The arrivals of one service day, queried as of a given time: a query never returns an arrival
 * later than its `now`, so a prediction cannot see the future. The online predictor extends the
 * day arrival by arrival with `append`. Readers that keep derived sums follow the changes through
 * `revision` and `firstChangedRunSince`.
 */
export class LiveDay {
  private readonly visits = new Map<string, StopVisits>();
  private readonly stopIndex = new Map<ObservedTrip, Map<string, number>>();
  /** Runs between successive arrivals of every trip, in order of arrival. */
  private readonly runs: Run[] = [];
  /** The same runs per route, each with, for every append, the lowest index it inserted at. */
  private readonly routes = new Map<string, { runs: Run[]; changes: number[] }>();

  constructor(trips: readonly ObservedTrip[] = []) {
    const visitsByStop = new Map<string, { trip: ObservedTrip; index: number; time: number }[]>();
    for (const trip of trips) {
      const indexes = new Map<string, number>();
      this.stopIndex.set(trip, indexes);
      trip.arrivals.forEach((arrival, index) => {
        indexes.set(arrival.stopId, index);
        const run = runOf(trip, index);
        if (run) this.runs.push(run);
        const key = stopKey(trip.routeId, trip.directionId, arrival.stopId);
        const list = visitsByStop.get(key);
        const visit = { trip, index, time: arrival.time };
        if (list) list.push(visit);
        else visitsByStop.set(key, [visit]);
      });
    }
    for (const [key, list] of visitsByStop) {
      list.sort((a, b) => a.time - b.time);
      this.visits.set(key, { trips: list.map((visit) => visit.trip), indexes: list.map((visit) => visit.index), times: list.map((visit) => visit.time) });
    }
    this.runs.sort((a, b) => a.arrival - b.arrival);
    for (const run of this.runs) this.routeOf(run.routeId).runs.push(run);
  }

  /** Count of appends to a route's runs so far; 0 for a day built only by the constructor. */
  revision(routeId: string): number {
    return this.routes.get(routeId)?.changes.length ?? 0;
  }

  /** Lowest index in runsInOrder(routeId) that appends after `revision` changed; the run count when none. */
  firstChangedRunSince(routeId: string, revision: number): number {
    const route = this.routes.get(routeId);
    if (!route) return 0;
    let lowest = route.runs.length;
    for (let index = revision; index < route.changes.length; index += 1) lowest = Math.min(lowest, route.changes[index]!);
    return lowest;
  }

  /** Returns every run of one route today, oldest arrival first. */
  runsInOrder(routeId: string): readonly Run[] {
    return this.routes.get(routeId)?.runs ?? [];
  }

  /**
   * Adds a later arrival to a trip of this day (the trip is registered on its first arrival). The
   * arrival is pushed onto trip.arrivals, so the caller must not add it there too.
   */
  append(trip: ObservedTrip, arrival: StopArrival): void {
    let indexes = this.stopIndex.get(trip);
    if (!indexes) {
      indexes = new Map(trip.arrivals.map((known, index) => [known.stopId, index]));
      this.stopIndex.set(trip, indexes);
    }
    trip.arrivals.push(arrival);
    const index = trip.arrivals.length - 1;
    indexes.set(arrival.stopId, index);
    const key = stopKey(trip.routeId, trip.directionId, arrival.stopId);
    let visits = this.visits.get(key);
    if (!visits) {
      visits = { trips: [], indexes: [], times: [] };
      this.visits.set(key, visits);
    }
    const at = upperBound(visits.times, arrival.time, (time) => time);
    visits.trips.splice(at, 0, trip);
    visits.indexes.splice(at, 0, index);
    visits.times.splice(at, 0, arrival.time);
    const run = runOf(trip, index);
    if (!run) return;
    this.runs.splice(upperBound(this.runs, run.arrival, (entry) => entry.arrival), 0, run);
    const route = this.routeOf(run.routeId);
    const runAt = upperBound(route.runs, run.arrival, (entry) => entry.arrival);
    route.runs.splice(runAt, 0, run);
    route.changes.push(runAt);
  }

  private routeOf(routeId: string): { runs: Run[]; changes: number[] } {
    let route = this.routes.get(routeId);
    if (!route) {
      route = { runs: [], changes: [] };
      this.routes.set(routeId, route);
    }
    return route;
  }

  /** Returns the runs completed at or before now, newest first, until one completed before `since`. */
  *runsCompleted(now: number, since: number): Generator<Run> {
    for (let index = upperBound(this.runs, now, (run) => run.arrival) - 1; index >= 0; index -= 1) {
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
    const visits = this.visits.get(stopKey(routeId, directionId, toStop));
    const result: Traversal[] = [];
    if (!visits) return result;
    let visit = upperBound(visits.times, now, (time) => time) - 1;
    for (; visit >= 0 && result.length < limit; visit -= 1) {
      const trip = visits.trips[visit]!;
      if (trip.id === excludeTripId) continue;
      const fromIndex = this.stopIndex.get(trip)!.get(fromStop);
      if (fromIndex === undefined || fromIndex >= visits.indexes[visit]!) continue;
      result.push({ tripId: trip.id, vehicleId: trip.vehicleId, departure: trip.arrivals[fromIndex]!.time, arrival: visits.times[visit]! });
    }
    return result;
  }
}

function runOf(trip: ObservedTrip, index: number): Run | undefined {
  const previous = trip.arrivals[index - 1];
  const arrival = trip.arrivals[index]!;
  if (!previous) return undefined;
  return { routeId: trip.routeId, directionId: trip.directionId, tripId: trip.id, vehicleId: trip.vehicleId, fromStop: previous.stopId, toStop: arrival.stopId, departure: previous.time, arrival: arrival.time, dayStart: trip.dayStart, dayType: trip.dayType };
}

function stopKey(routeId: string, directionId: number, stopId: string): string {
  return `${routeId}|${directionId}|${stopId}`;
}

/** Index of the first entry whose time is later than `time`, in a list sorted by time. */
function upperBound<T>(list: readonly T[], time: number, timeOf: (entry: T) => number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (timeOf(list[middle]!) <= time) low = middle + 1;
    else high = middle;
  }
  return low;
}
