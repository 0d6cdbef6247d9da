import type { TransitClockPrediction } from '../gtfs-avl-format.js';

/** Oldest TransitClock prediction still taken as current (s): about ten of its 30 s AVL updates. */
const MAX_PREDICTION_AGE_S = 300;

/**
 * TransitClock's exported predictions, looked up as a rider would have seen them: for a vehicle
 * and stop, the latest prediction created at or before the request time, arrival predictions
 * before departure ones, and the trip's own predictions before those of another trip.
 */
export class TransitClockBaseline {
  private readonly byStop = new Map<string, TransitClockPrediction[]>();

  constructor(predictions: readonly TransitClockPrediction[]) {
    for (const prediction of predictions) {
      const key = `${prediction.vehicleId}|${prediction.stopId}`;
      const list = this.byStop.get(key);
      if (list) list.push(prediction);
      else this.byStop.set(key, [prediction]);
    }
    for (const list of this.byStop.values()) list.sort((a, b) => a.creationTime - b.creationTime);
  }

  /** Returns the predicted Unix arrival time at the stop as of now, or undefined without a current prediction. */
  predictedTime(vehicleId: string, tripId: string, stopId: string, now: number): number | undefined {
    const list = this.byStop.get(`${vehicleId}|${stopId}`);
    if (!list) return undefined;
    let best: TransitClockPrediction | undefined;
    for (const prediction of list) {
      if (prediction.creationTime > now) break;
      if (now - prediction.creationTime > MAX_PREDICTION_AGE_S) continue;
      if (!best || rank(prediction, tripId) >= rank(best, tripId)) best = prediction;
    }
    return best?.predictionTime;
  }
}

function rank(prediction: TransitClockPrediction, tripId: string): number {
  return (prediction.tripId === tripId ? 2 : 0) + (prediction.isArrival ? 1 : 0);
}
