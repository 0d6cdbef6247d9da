/** One GPS fix of a vehicle with what the driver's sign-on says it is running. */
export interface VehicleFix {
  vehicleId: string;
  /** Unix time in seconds. */
  time: number;
  lat: number;
  lon: number;
  /** Route, direction and trip from the driver's sign-on; any of them may be missing or wrong. */
  routeId?: string;
  directionId?: number;
  tripId?: string;
}

/** How a vehicle's trip was found. */
export type MatchSource = 'sign-on' | 'matching';

interface EventBase {
  vehicleId: string;
  /** Unix time in seconds at which the event happened (interpolated between fixes for stop events). */
  time: number;
  /** Unix time in seconds of the fix that revealed the event. */
  detectedAt: number;
}

interface TripEventBase extends EventBase {
  tripId: string;
  routeId: string;
  directionId: number;
  /** Local service date YYYY-MM-DD of the trip. */
  serviceDate: string;
}

/** Something the tracker learnt about a vehicle from its positions. */
export type VehicleEvent =
  | (TripEventBase & { kind: 'trip-matched'; source: MatchSource; distanceM: number })
  | (TripEventBase & { kind: 'arrival' | 'departure'; stopId: string; stopIndex: number })
  | (TripEventBase & { kind: 'trip-completed' })
  | (TripEventBase & { kind: 'layover'; stopId: string; scheduledDepartureS: number })
  | (TripEventBase & { kind: 'detour'; offsetM: number })
  | (TripEventBase & { kind: 'detour-ended' })
  | (EventBase & { kind: 'standstill'; sinceS: number; lat: number; lon: number })
  | (EventBase & { kind: 'unmatched'; reason: string });
