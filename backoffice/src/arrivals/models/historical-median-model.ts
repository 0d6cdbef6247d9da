import type { LiveDay } from '../live-day.js';
import { pairKey } from '../travel-history.js';
import type { ArrivalModel, PredictionRequest } from './arrival-model.js';
import type { HistoricalTravelTimes } from './historical-travel-times.js';

/** Baseline: the historical median travel time from the current stop to each target at this time of day. */
export class HistoricalMedianModel implements ArrivalModel {
  readonly name = 'historical-median';

  constructor(private readonly travelTimes: HistoricalTravelTimes) {}

  predict(request: PredictionRequest, _live: LiveDay): number[] {
    const current = request.arrivalsSoFar.at(-1)!;
    const secondsOfDay = request.now - request.dayStart;
    return request.targets.map((target) =>
      this.travelTimes.median(pairKey(request.routeId, request.directionId, current.stopId, target), secondsOfDay, request.dayType),
    );
  }
}
