import { addDays, serviceDayStart } from '../local-time.js';
import { serviceRunningOn } from '../matching/schedule-history.js';
import type { ScheduledTrip, TripSchedule } from '../matching/trip-patterns.js';
import { type ObservedTrip, dayTypeOf } from '../observed-trip.js';
import { type StopSequence, type TripColumns, arrivalStartOf, checkDateCount } from '../pair-history-build.js';
import { type HistoryDate, type PairHistoryParts, pairHistoryPartsOf } from '../travel-history.js';
import { ownBuffers } from './transfer-buffers.js';

/**
 * The scheduled trips of a feed as columns that cross to a worker thread by structured clone,
 * without the feed. Trip t is the t-th trip of the schedule's routes in `tripsByRoute` order.
 */
export interface TimetableColumns {
  /** The schedule's trip id of each trip. */
  tripIds: string[];
  /** Distinct route ids, which tripRoute indexes. */
  routeIds: string[];
  /** Stop ids of each pattern in order, which tripPattern indexes. */
  patternStopIds: string[][];
  tripRoute: Int32Array;
  tripDirection: Int32Array;
  tripPattern: Int32Array;
  /**
   * Rows timeStart[t] to timeStart[t + 1] − 1 of `times` are trip t's stop times in seconds after
   * the service day's start: the departure from its first stop and the arrival at each other stop.
   */
  timeStart: Int32Array;
  times: Float64Array;
}

/** The trips of the columns that run on one service date. */
export interface TimetableDay {
  serviceDate: string;
  /** Unix time of the service day's start, as serviceDayStart() returns it. */
  dayStart: number;
  /** Indexes of the running trips, in column order. */
  trips: Int32Array;
}

/** Inputs of the build of one service date's timetable model, which cross to a worker thread by structured clone. */
export interface TimetableModelRequest {
  serviceDate: string;
  columns: TimetableColumns;
  /** The service dates the model learns from, oldest first. */
  days: TimetableDay[];
}

/** The pair history of a timetable model and the counts of its build. */
export interface TimetableModelBuild {
  history: PairHistoryParts;
  /** Observed trips the history was built from, over every day. */
  trips: number;
  /** Wall time of building the trip columns and the pair history, in milliseconds. */
  buildMs: number;
}

/**
 * Builds the timetable model requests of a schedule. The columns are built once, on the first
 * request, and every request shares them.
 */
export class TimetableRequests {
  private columns: TimetableColumns | undefined;
  /** The service id of each trip of the columns. */
  private serviceIds: string[] = [];

  constructor(
    private readonly schedule: TripSchedule,
    /** Service dates before the requested one that the model learns from. */
    private readonly days: number,
  ) {}

  /** Returns the request of the model of a service date, built from the `days` dates before it, as scheduleHistoryTrips() would list them. */
  requestFor(serviceDate: string): TimetableModelRequest {
    const columns = this.columnsOf();
    const days: TimetableDay[] = [];
    for (let back = this.days; back >= 1; back -= 1) {
      const date = addDays(serviceDate, -back);
      const runs = serviceRunningOn(this.schedule.feed, date.replaceAll('-', ''));
      const trips: number[] = [];
      this.serviceIds.forEach((serviceId, trip) => {
        if (runs(serviceId)) trips.push(trip);
      });
      days.push({ serviceDate: date, dayStart: serviceDayStart(date, this.schedule.timeZone), trips: Int32Array.from(trips) });
    }
    return { serviceDate, columns, days };
  }

  private columnsOf(): TimetableColumns {
    if (this.columns) return this.columns;
    const trips: ScheduledTrip[] = [...this.schedule.tripsByRoute.values()].flat();
    const routeIds = [...this.schedule.tripsByRoute.keys()];
    const routeIndex = new Map(routeIds.map((routeId, index) => [routeId, index]));
    const patternIndex = new Map<string, number>();
    const patternStopIds: string[][] = [];

    const timeStart = new Int32Array(trips.length + 1);
    trips.forEach((trip, index) => (timeStart[index + 1] = timeStart[index]! + trip.pattern.stops.length));
    // Each trip's times are views into shared TimeColumn blocks, and a structured clone of a view
    // copies its whole block, so the times are copied into one array of their own.
    const times = new Float64Array(timeStart[trips.length]!);
    const columns: TimetableColumns = { tripIds: [], routeIds, patternStopIds, tripRoute: new Int32Array(trips.length), tripDirection: new Int32Array(trips.length), tripPattern: new Int32Array(trips.length), timeStart, times };
    trips.forEach((trip, index) => {
      let pattern = patternIndex.get(trip.pattern.id);
      if (pattern === undefined) {
        pattern = patternStopIds.length;
        patternIndex.set(trip.pattern.id, pattern);
        patternStopIds.push(trip.pattern.stops.map((stop) => stop.stopId));
      }

      columns.tripIds.push(trip.id);
      columns.tripRoute[index] = routeIndex.get(trip.routeId)!;
      columns.tripDirection[index] = trip.directionId;
      columns.tripPattern[index] = pattern;

      const start = timeStart[index]!;
      times[start] = trip.departureS[0]!;
      times.set(trip.arrivalS.subarray(1), start + 1);
    });

    this.serviceIds = trips.map((trip) => trip.serviceId);
    this.columns = columns;
    return columns;
  }
}

/**
 * Returns the request's running trips of every day as observed trips, the same trips in the same
 * order as scheduleHistoryTrips() of the schedule's routes in `tripsByRoute` order.
 */
export function timetableObservedTrips(request: TimetableModelRequest): ObservedTrip[] {
  const { tripIds, routeIds, patternStopIds, tripRoute, tripDirection, tripPattern, timeStart, times } = request.columns;
  const observed: ObservedTrip[] = [];
  for (const { serviceDate, dayStart, trips } of request.days) {
    const dayType = dayTypeOf(serviceDate);
    for (const trip of trips) {
      const stopIds = patternStopIds[tripPattern[trip]!]!;
      const start = timeStart[trip]!;
      const tripId = tripIds[trip]!;
      observed.push({
        id: `${serviceDate}/schedule/${tripId}`,
        routeId: routeIds[tripRoute[trip]!]!,
        directionId: tripDirection[trip]!,
        vehicleId: `schedule:${tripId}`,
        serviceDate,
        dayType,
        dayStart,
        arrivals: stopIds.map((stopId, index) => ({ stopId, time: dayStart + times[start + index]! })),
      });
    }
  }
  return observed;
}

/**
 * Returns the request's running trips of every day as the trip columns of a pair history build:
 * the trips of timetableObservedTrips(), in the same order, without an object per trip and stop.
 * The week of the `arrivals` benchmark city has 189,350 trips, and building them as objects raised
 * the process's peak resident memory by about 370 MiB (1,980 against 1,604 MiB).
 */
export function timetableTripColumns(request: TimetableModelRequest): TripColumns {
  const { routeIds, patternStopIds, tripRoute, tripDirection, tripPattern, timeStart, times } = request.columns;
  const tripCount = request.days.reduce((sum, day) => sum + day.trips.length, 0);
  const dayTrips = request.days.flatMap((day) => [...day.trips]);
  const arrivalStart = arrivalStartOf(tripCount, (trip) => timeStart[dayTrips[trip]! + 1]! - timeStart[dayTrips[trip]!]!);
  const arrivalTime = new Float64Array(arrivalStart[tripCount]!);
  const tripSequence = new Int32Array(tripCount);
  const tripDate = new Uint16Array(tripCount);
  const tripDayStart = new Float64Array(tripCount);
  const dates: HistoryDate[] = [];
  // Trips of the same route, direction and pattern share a stop sequence, numbered on first use.
  const sequences: StopSequence[] = [];
  const sequenceIndex = new Map<string, number>();

  let row = 0;
  for (const { serviceDate, dayStart, trips } of request.days) {
    if (trips.length === 0) continue;
    checkDateCount(dates.length, serviceDate);
    const date = dates.length;
    dates.push({ serviceDate, dayType: dayTypeOf(serviceDate) });
    for (const trip of trips) {
      const key = `${tripRoute[trip]} ${tripDirection[trip]} ${tripPattern[trip]}`;
      let sequence = sequenceIndex.get(key);
      if (sequence === undefined) {
        sequence = sequences.length;
        sequenceIndex.set(key, sequence);
        sequences.push({ routeId: routeIds[tripRoute[trip]!]!, directionId: tripDirection[trip]!, stopIds: patternStopIds[tripPattern[trip]!]! });
      }
      tripSequence[row] = sequence;
      tripDate[row] = date;
      tripDayStart[row] = dayStart;
      // The same sums as timetableObservedTrips(), so the times are the same doubles.
      const first = arrivalStart[row]!;
      const start = timeStart[trip]!;
      for (let stop = 0; stop < timeStart[trip + 1]! - start; stop += 1) arrivalTime[first + stop] = dayStart + times[start + stop]!;
      row += 1;
    }
  }
  return { sequences, dates, tripSequence, tripDate, tripDayStart, arrivalStart, arrivalTime };
}

/**
 * Builds the pair history of a service date's timetable model, for every route at once. Pair keys
 * include the route and direction, so the model predicts for each route as one built from that
 * route's trips alone. The worker thread runs this.
 */
export function buildTimetableModelParts(request: TimetableModelRequest): TimetableModelBuild {
  const started = performance.now();
  const trips = timetableTripColumns(request);
  const history = pairHistoryPartsOf(trips);
  return { history, trips: trips.tripSequence.length, buildMs: Math.round(performance.now() - started) };
}

/** Returns the ArrayBuffers of a timetable build, for the transfer list of the message that carries it. */
export function timetableModelBuffers(build: TimetableModelBuild): ArrayBuffer[] {
  const { pairStart, secondsOfDay, duration, date } = build.history;
  return ownBuffers([pairStart, secondsOfDay, duration, date]);
}
