/** Day types that travel-time history is kept apart by. */
export type DayType = 'weekday' | 'saturday' | 'sunday';

/** A bus reaching a stop: the first sighting of that bus at that stop on one trip. */
export interface StopArrival {
  stopId: string;
  /** Unix time in seconds. */
  time: number;
}

/** One bus running one direction of a route once, as its stop arrivals show it. */
export interface ObservedTrip {
  id: string;
  routeId: string;
  directionId: number;
  vehicleId: string;
  /** Local service date, YYYY-MM-DD. */
  serviceDate: string;
  dayType: DayType;
  /** Unix time in seconds of local midnight that starts the service date. */
  dayStart: number;
  /** Arrivals in time order, at most one per stop. */
  arrivals: StopArrival[];
}

const DAY_TYPES: readonly DayType[] = ['sunday', 'weekday', 'weekday', 'weekday', 'weekday', 'weekday', 'saturday'];

/** Returns the day type of a YYYY-MM-DD date by its day of the week. */
export function dayTypeOf(serviceDate: string): DayType {
  return DAY_TYPES[new Date(`${serviceDate}T00:00:00Z`).getUTCDay()]!;
}

/** Returns the local seconds since midnight of a time on a trip's service date. */
export function secondsOfDay(trip: ObservedTrip, time: number): number {
  return time - trip.dayStart;
}
