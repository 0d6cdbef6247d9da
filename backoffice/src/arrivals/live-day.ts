import type { DayType, ObservedTrip, StopArrival } from './observed-trip.js';
import { TimedEntries } from './timed-entries.js';

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

/** The arrivals that a LiveDay holds for one trip: arrival i is at stopIds[i] at times[i]. */
interface TripArrivals {
  readonly trip: ObservedTrip;
  readonly stopIds: string[];
  readonly times: number[];
}

/**
 * Runs in order of arrival. Run i ends at arrival index(i) of a trip, at time arrival(i). run(i)
 * builds the whole run as a new object on each call.
 */
export class RunList {
  /** The columns, which only LiveDay inserts into. An entry's item is the trip's number in `records`. */
  readonly entries = new TimedEntries();

  constructor(private readonly records: readonly TripArrivals[]) {}

  get length(): number {
    return this.entries.length;
  }

  arrival(position: number): number {
    return this.entries.time(position);
  }

  run(position: number): Run {
    return runOf(this.records[this.entries.item(position)]!, this.entries.index(position));
  }
}

/**
 * The arrivals of one service day, queried as of a given time: a query never returns an arrival
 * later than its `now`, so a prediction cannot see the future. The online predictor extends the
 * day arrival by arrival with `append`. Readers that keep derived sums follow the changes through
 * `revision` and `firstChangedRunSince`.
 *
 * A day contains hundreds of thousands of arrivals, which the predictor keeps for the whole day.
 * So visits of stops and runs are rows of typed columns (TimedEntries), and each trip's arrivals
 * are two arrays, which leaves no object per arrival for a full garbage collection to mark.
 */
export class LiveDay {
  /** Each trip's arrivals in this day, numbered in order of registration. */
  private readonly records: TripArrivals[] = [];
  /** Number of each trip's record. */
  private readonly trips = new Map<ObservedTrip, number>();
  /** The visits of each stop of a route direction: entry i is arrival index(i) of trip item(i), at time(i). */
  private readonly visits = new Map<string, TimedEntries>();
  /** Runs between successive arrivals of every trip, in order of arrival. */
  private readonly runs = new RunList(this.records);
  /** The same runs per route, each with, for every append, the lowest index it inserted at. */
  private readonly routes = new Map<string, { runs: RunList; changes: number[] }>();

  constructor(trips: readonly ObservedTrip[] = []) {
    const visitsByStop = new Map<string, { record: number; index: number; time: number }[]>();
    const runs: { record: number; index: number; arrival: number }[] = [];
    for (const trip of trips) {
      const record = this.recordOf(trip);
      const { stopIds, times } = this.records[record]!;
      stopIds.forEach((stopId, index) => {
        const time = times[index]!;
        if (index > 0) runs.push({ record, index, arrival: time });
        const key = stopKey(trip.routeId, trip.directionId, stopId);
        const list = visitsByStop.get(key);
        const visit = { record, index, time };
        if (list) list.push(visit);
        else visitsByStop.set(key, [visit]);
      });
    }
    for (const [key, list] of visitsByStop) {
      list.sort((a, b) => a.time - b.time);
      const visits = new TimedEntries();
      for (const visit of list) visits.push(visit.record, visit.index, visit.time);
      this.visits.set(key, visits);
    }
    runs.sort((a, b) => a.arrival - b.arrival);
    for (const run of runs) {
      this.runs.entries.push(run.record, run.index, run.arrival);
      this.routeOf(this.records[run.record]!.trip.routeId).runs.entries.push(run.record, run.index, run.arrival);
    }
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
  runsInOrder(routeId: string): RunList {
    return this.routes.get(routeId)?.runs ?? EMPTY_RUNS;
  }

  /**
   * Adds a later arrival to a trip of this day. The day registers the trip on its first append,
   * copying the arrivals in trip.arrivals at that time, and keeps the later ones itself. So
   * trip.arrivals is not changed, and arrivalsOf() returns every arrival.
   */
  append(trip: ObservedTrip, arrival: StopArrival): void {
    const record = this.recordOf(trip);
    const { stopIds, times } = this.records[record]!;
    stopIds.push(arrival.stopId);
    times.push(arrival.time);
    const index = times.length - 1;
    const key = stopKey(trip.routeId, trip.directionId, arrival.stopId);
    let visits = this.visits.get(key);
    if (!visits) {
      visits = new TimedEntries();
      this.visits.set(key, visits);
    }
    visits.insert(record, index, arrival.time);
    if (index === 0) return;
    this.runs.entries.insert(record, index, arrival.time);
    const route = this.routeOf(trip.routeId);
    route.changes.push(route.runs.entries.insert(record, index, arrival.time));
  }

  /** Returns the first `count` arrivals (all when count is left out) of a trip of this day, empty for a trip it does not hold. */
  arrivalsOf(trip: ObservedTrip, count?: number): StopArrival[] {
    const number = this.trips.get(trip);
    if (number === undefined) return [];
    const record = this.records[number]!;
    const end = Math.max(0, Math.min(count ?? record.times.length, record.times.length));
    const result = new Array<StopArrival>(end);
    for (let index = 0; index < end; index += 1) result[index] = { stopId: record.stopIds[index]!, time: record.times[index]! };
    return result;
  }

  /** Returns the number of a trip's record, registering a new trip with a copy of its trip.arrivals. */
  private recordOf(trip: ObservedTrip): number {
    let number = this.trips.get(trip);
    if (number === undefined) {
      number = this.records.length;
      this.records.push({ trip, stopIds: trip.arrivals.map((arrival) => arrival.stopId), times: trip.arrivals.map((arrival) => arrival.time) });
      this.trips.set(trip, number);
    }
    return number;
  }

  private routeOf(routeId: string): { runs: RunList; changes: number[] } {
    let route = this.routes.get(routeId);
    if (!route) {
      route = { runs: new RunList(this.records), changes: [] };
      this.routes.set(routeId, route);
    }
    return route;
  }

  /** Returns the runs completed at or before now, newest first, until one completed before `since`. */
  *runsCompleted(now: number, since: number): Generator<Run> {
    const { entries } = this.runs;
    for (let position = entries.upperBound(now) - 1; position >= 0; position -= 1) {
      if (entries.time(position) < since) return;
      yield runOf(this.records[entries.item(position)]!, entries.index(position));
    }
  }

  /**
   * Returns up to `limit` runs from fromStop to toStop that reached toStop at or before now, newest
   * first, leaving out the trip excludeTripId. A trip that reaches fromStop more than once departs
   * from its last arrival there.
   */
  recentTraversals(routeId: string, directionId: number, fromStop: string, toStop: string, now: number, limit: number, excludeTripId?: string): Traversal[] {
    const visits = this.visits.get(stopKey(routeId, directionId, toStop));
    const result: Traversal[] = [];
    if (!visits) return result;
    for (let visit = visits.upperBound(now) - 1; visit >= 0 && result.length < limit; visit -= 1) {
      const record = this.records[visits.item(visit)]!;
      if (record.trip.id === excludeTripId) continue;
      const fromIndex = record.stopIds.lastIndexOf(fromStop);
      if (fromIndex < 0 || fromIndex >= visits.index(visit)) continue;
      result.push({ tripId: record.trip.id, vehicleId: record.trip.vehicleId, departure: record.times[fromIndex]!, arrival: visits.time(visit) });
    }
    return result;
  }
}

const EMPTY_RUNS = new RunList([]);

function runOf(record: TripArrivals, index: number): Run {
  const { trip, stopIds, times } = record;
  return { routeId: trip.routeId, directionId: trip.directionId, tripId: trip.id, vehicleId: trip.vehicleId, fromStop: stopIds[index - 1]!, toStop: stopIds[index]!, departure: times[index - 1]!, arrival: times[index]!, dayStart: trip.dayStart, dayType: trip.dayType };
}

function stopKey(routeId: string, directionId: number, stopId: string): string {
  return `${routeId}|${directionId}|${stopId}`;
}
