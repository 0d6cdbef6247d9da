import { LiveDay } from '../live-day.js';
import type { PredictionRequest } from '../models/arrival-model.js';
import type { ObservedTrip } from '../observed-trip.js';
import { MAX_HORIZON_S } from './horizon-bands.js';

/** A prediction request with the actual travel time to each of its targets. */
export interface ReplayedRequest {
  request: PredictionRequest;
  live: LiveDay;
  /** Actual travel seconds from the request time to each target. */
  actualS: number[];
}

/** Groups trips by service date, dates in order. */
export function tripsByDate(trips: readonly ObservedTrip[]): Map<string, ObservedTrip[]> {
  const byDate = new Map<string, ObservedTrip[]>();
  for (const trip of [...trips].sort((a, b) => a.serviceDate.localeCompare(b.serviceDate))) {
    const list = byDate.get(trip.serviceDate);
    if (list) list.push(trip);
    else byDate.set(trip.serviceDate, [trip]);
  }
  return byDate;
}

/** Returns the request a bus on a recorded trip makes at its arrival `index`, for the given later stops. */
export function requestAt(trip: ObservedTrip, index: number, targets: readonly string[]): PredictionRequest {
  return {
    routeId: trip.routeId,
    directionId: trip.directionId,
    tripId: trip.id,
    vehicleId: trip.vehicleId,
    dayType: trip.dayType,
    dayStart: trip.dayStart,
    arrivalsSoFar: trip.arrivals.slice(0, index + 1),
    now: trip.arrivals[index]!.time,
    targets,
  };
}

/** Selects the requests to replay, each named by its trip and the index of the arrival it is made at. */
export type RequestFilter = (trip: ObservedTrip, index: number) => boolean;

/**
 * Yields, day by day and in time order, one request for every arrival of every trip, whose targets
 * are the later stops of that trip reached within maxHorizonS. With `include`, only the requests it
 * selects.
 */
export function* replayRequests(trips: readonly ObservedTrip[], maxHorizonS = MAX_HORIZON_S, include?: RequestFilter): Generator<ReplayedRequest> {
  for (const dayTrips of tripsByDate(trips).values()) {
    const live = new LiveDay(dayTrips);
    const points: { trip: ObservedTrip; index: number }[] = [];
    for (const trip of dayTrips) for (let index = 0; index < trip.arrivals.length - 1; index += 1) points.push({ trip, index });
    points.sort((a, b) => a.trip.arrivals[a.index]!.time - b.trip.arrivals[b.index]!.time);

    for (const { trip, index } of points) {
      if (include && !include(trip, index)) continue;
      const now = trip.arrivals[index]!.time;
      const targets: string[] = [];
      const actualS: number[] = [];
      for (let later = index + 1; later < trip.arrivals.length; later += 1) {
        const arrival = trip.arrivals[later]!;
        if (arrival.time - now > maxHorizonS) break;
        targets.push(arrival.stopId);
        actualS.push(arrival.time - now);
      }
      if (targets.length === 0) continue;
      yield { request: requestAt(trip, index, targets), live, actualS };
    }
  }
}

/** Splits trips by service date: the first `share` of the dates (rounded down, at least one) train. */
export function splitByDate(trips: readonly ObservedTrip[], share: number): { training: ObservedTrip[]; test: ObservedTrip[]; trainingDates: string[]; testDates: string[] } {
  const dates = [...new Set(trips.map((trip) => trip.serviceDate))].sort();
  const count = Math.max(1, Math.floor(dates.length * share));
  const trainingDates = dates.slice(0, count);
  const last = trainingDates.at(-1)!;
  return {
    training: trips.filter((trip) => trip.serviceDate <= last),
    test: trips.filter((trip) => trip.serviceDate > last),
    trainingDates,
    testDates: dates.slice(count),
  };
}

/** Requests chosen by sampleReplayRequests() and the targets they have. */
export interface ReplaySample {
  /** The chosen requests; undefined when every request fits, so that the replay is complete. */
  include: RequestFilter | undefined;
  /** Targets of every request, and of the chosen ones. */
  totalTargets: number;
  sampledTargets: number;
}

/**
 * Chooses requests of replayRequests(trips, maxHorizonS) whose targets add up to at most
 * maxTargets. The choice depends only on the trips and their order. Each route direction's
 * requests, in date and time order, are ranked by the bit-reversed (van der Corput) value of their
 * position, so the requests below any rank are spread evenly over that route direction's dates and
 * times of day. Requests are taken in rank order across route directions, equal ranks in route
 * direction order, until the next one would exceed maxTargets. So every route direction gives
 * about the same share of its requests.
 */
export function sampleReplayRequests(trips: readonly ObservedTrip[], maxTargets: number, maxHorizonS = MAX_HORIZON_S): ReplaySample {
  if (!(maxTargets >= 0)) throw new RangeError(`invalid maximum of replayed targets: ${maxTargets}; expected 0 or more`);
  const tripList: ObservedTrip[] = [];
  const groups = new Map<string, number>();
  /** Each route direction's requests in date and time order, as tripNumber · stride + arrival index. */
  const members: number[][] = [];
  const stride = trips.reduce((longest, trip) => Math.max(longest, trip.arrivals.length), 1);
  const tripOf = (id: number) => tripList[Math.floor(id / stride)]!;
  const timeOf = (id: number) => tripOf(id).arrivals[id % stride]!.time;
  let totalTargets = 0;
  for (const dayTrips of tripsByDate(trips).values()) {
    const day: number[] = [];
    for (const trip of dayTrips) {
      const tripNumber = tripList.push(trip) - 1;
      for (let index = 0; index < trip.arrivals.length - 1; index += 1) {
        const targets = targetCount(trip, index, maxHorizonS);
        if (targets === 0) continue;
        totalTargets += targets;
        day.push(tripNumber * stride + index);
      }
    }
    day.sort((a, b) => timeOf(a) - timeOf(b));
    for (const id of day) {
      const trip = tripOf(id);
      const key = `${trip.directionId}|${trip.routeId}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = members.push([]) - 1;
        groups.set(key, group);
      }
      members[group]!.push(id);
    }
  }
  if (totalTargets <= maxTargets) return { include: undefined, totalTargets, sampledTargets: totalTargets };

  // A key is rank · groupCount + group, exact in a double while groupCount < 2^21 and rank < 2^32.
  const groupCount = members.length;
  if (groupCount >= 2 ** 21) throw new RangeError(`too many route directions to sample: ${groupCount}; at most ${2 ** 21 - 1}`);
  const keys = new Float64Array(members.reduce((sum, list) => sum + list.length, 0));
  let next = 0;
  members.forEach((list, group) => {
    for (let position = 0; position < list.length; position += 1) keys[next++] = reverseBits32(position) * groupCount + group;
  });
  keys.sort();

  const chosen = new Map<ObservedTrip, Uint8Array>();
  let sampledTargets = 0;
  for (const key of keys) {
    const group = key % groupCount;
    const id = members[group]![reverseBits32((key - group) / groupCount)]!;
    const trip = tripOf(id);
    const index = id % stride;
    const targets = targetCount(trip, index, maxHorizonS);
    if (sampledTargets + targets > maxTargets) break;
    sampledTargets += targets;
    let flags = chosen.get(trip);
    if (!flags) chosen.set(trip, (flags = new Uint8Array(trip.arrivals.length)));
    flags[index] = 1;
  }
  return { include: (trip, index) => chosen.get(trip)?.[index] === 1, totalTargets, sampledTargets };
}

/** Returns the number of targets replayRequests() gives the request at a trip's arrival `index`. */
function targetCount(trip: ObservedTrip, index: number, maxHorizonS: number): number {
  const now = trip.arrivals[index]!.time;
  let later = index + 1;
  while (later < trip.arrivals.length && trip.arrivals[later]!.time - now <= maxHorizonS) later += 1;
  return later - index - 1;
}

/** Returns a 32-bit unsigned integer with its bits in reverse order. */
function reverseBits32(value: number): number {
  let bits = value >>> 0;
  bits = ((bits >>> 1) & 0x55555555) | ((bits & 0x55555555) << 1);
  bits = ((bits >>> 2) & 0x33333333) | ((bits & 0x33333333) << 2);
  bits = ((bits >>> 4) & 0x0f0f0f0f) | ((bits & 0x0f0f0f0f) << 4);
  bits = ((bits >>> 8) & 0x00ff00ff) | ((bits & 0x00ff00ff) << 8);
  return ((bits >>> 16) | (bits << 16)) >>> 0;
}
