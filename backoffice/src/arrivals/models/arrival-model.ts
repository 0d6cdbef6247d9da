import type { LiveDay } from '../live-day.js';
import type { DayType, StopArrival } from '../observed-trip.js';

export type ModelName = 'busfare' | 'historical-median' | 'last-vehicle' | 'kalman' | 'transitclock';

/** A request to predict when a bus reaches later stops of its trip, as of the time `now`. */
export interface PredictionRequest {
  routeId: string;
  directionId: number;
  tripId: string;
  vehicleId: string;
  dayType: DayType;
  /** Unix time in seconds of local midnight of the service date. */
  dayStart: number;
  /** The trip's arrivals up to and including the latest one; the bus is at the last of them. */
  arrivalsSoFar: readonly StopArrival[];
  /** Unix time in seconds. */
  now: number;
  /** Later stops of the trip, in route order. */
  targets: readonly string[];
}

/** A trained predictor: travel seconds from `now` to each target, in the order of the targets. */
export interface ArrivalModel {
  readonly name: ModelName;
  predict(request: PredictionRequest, live: LiveDay): number[];
}
