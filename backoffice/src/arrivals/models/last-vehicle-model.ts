import type { LiveDay } from '../live-day.js';
import { pairKey } from '../travel-history.js';
import type { ArrivalModel, PredictionRequest } from './arrival-model.js';
import type { HistoricalTravelTimes } from './historical-travel-times.js';

/**
 * Baseline: the travel time of the last bus that ran from the current stop to each target today,
 * or the historical median when no bus has run it yet.
 */
export class LastVehicleModel implements ArrivalModel {
  readonly name = 'last-vehicle';

  constructor(private readonly travelTimes: HistoricalTravelTimes) {}

  predict(request: PredictionRequest, live: LiveDay): number[] {
    const current = request.arrivalsSoFar.at(-1)!;
    const secondsOfDay = request.now - request.dayStart;
    return request.targets.map((target) => {
      const [last] = live.recentTraversals(request.routeId, request.directionId, current.stopId, target, request.now, 1, request.tripId);
      if (last) return last.arrival - last.departure;
      return this.travelTimes.median(pairKey(request.routeId, request.directionId, current.stopId, target), secondsOfDay, request.dayType);
    });
  }
}
