import { serviceDayStart } from '../local-time.js';
import { type ObservedTrip, dayTypeOf } from '../observed-trip.js';
import type { DetectedStop } from '../realtime/detected-trip-store.js';

// Recorded trips for the tests of learned models: one route whose buses run at their own pace and
// queue at a fixed-time traffic signal before stop D, so a model learns bus ratios and signal phases.

export const FIXTURE_TIME_ZONE = 'Asia/Shanghai';
export const FIXTURE_STOPS = ['A', 'B', 'C', 'D', 'E'];
const CYCLE_S = 90;
const GREEN_S = 30;
const BUSES = 6;

/** Returns a deterministic source of numbers in [0, 1): Marsaglia's xorshift32. */
export function randomSource(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
}

/** Returns the trips of one service date, a departure every 150 to 300 s from 07:00 to 19:00. */
export function fixtureTrips(serviceDate: string, random: () => number): ObservedTrip[] {
  const dayStart = serviceDayStart(serviceDate, FIXTURE_TIME_ZONE);
  const trips: ObservedTrip[] = [];
  for (let leave = 7 * 3600; leave < 19 * 3600; leave += 150 + 150 * random()) {
    const bus = trips.length % BUSES;
    const pace = 0.85 + 0.06 * bus;
    const atA = dayStart + leave;
    const atB = atA + pace * (80 + 40 * random());
    const atC = atB + pace * (60 + 40 * random());
    const atSignal = atC + pace * (30 + 60 * random());
    const phase = ((atSignal % CYCLE_S) + CYCLE_S) % CYCLE_S;
    const atD = (phase < GREEN_S ? atSignal : atSignal + CYCLE_S - phase) + 10;
    const atE = atD + pace * (60 + 40 * random());
    trips.push({
      id: `${serviceDate}/bus-${bus}/T${Math.round(leave)}`,
      routeId: 'R',
      directionId: 0,
      vehicleId: `bus-${bus}`,
      serviceDate,
      dayType: dayTypeOf(serviceDate),
      dayStart,
      arrivals: [atA, atB, atC, atD, atE].map((time, index) => ({ stopId: FIXTURE_STOPS[index]!, time: Math.round(time) })),
    });
  }
  return trips;
}

/** Returns the trips' stop times as the arrival service stores them. */
export function detectedStopsOf(trips: readonly ObservedTrip[]): DetectedStop[] {
  return trips.flatMap((trip) =>
    trip.arrivals.map((arrival, stopIndex) => ({ serviceDate: trip.serviceDate, vehicleId: trip.vehicleId, tripId: trip.id.split('/')[2]!, routeId: trip.routeId, directionId: trip.directionId, stopIndex, stopId: arrival.stopId, time: arrival.time })),
  );
}
