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

/**
 * Yields, day by day and in time order, one request for every arrival of every trip, whose targets
 * are the later stops of that trip reached within maxHorizonS.
 */
export function* replayRequests(trips: readonly ObservedTrip[], maxHorizonS = MAX_HORIZON_S): Generator<ReplayedRequest> {
  for (const dayTrips of tripsByDate(trips).values()) {
    const live = new LiveDay(dayTrips);
    const points: { trip: ObservedTrip; index: number }[] = [];
    for (const trip of dayTrips) for (let index = 0; index < trip.arrivals.length - 1; index += 1) points.push({ trip, index });
    points.sort((a, b) => a.trip.arrivals[a.index]!.time - b.trip.arrivals[b.index]!.time);

    for (const { trip, index } of points) {
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
      yield {
        request: {
          routeId: trip.routeId,
          directionId: trip.directionId,
          tripId: trip.id,
          vehicleId: trip.vehicleId,
          dayType: trip.dayType,
          dayStart: trip.dayStart,
          arrivalsSoFar: trip.arrivals.slice(0, index + 1),
          now,
          targets,
        },
        live,
        actualS,
      };
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
