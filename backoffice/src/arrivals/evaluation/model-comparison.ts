import type { ArrivalModel } from '../models/arrival-model.js';
import type { ObservedTrip } from '../observed-trip.js';
import { ErrorTable } from './error-table.js';
import { replayRequests } from './replay.js';

export interface ComparisonResult {
  table: ErrorTable;
  /** Targets left out because even the historical median had no travel time for the pair. */
  unpredictable: number;
  /** Targets where a model returned no value and the historical median stood in for it. */
  substituted: number;
}

/**
 * Replays the test trips and scores every model on every target. The first model is the reference:
 * a target it cannot predict (a stop pair never run in the history) is left out for every model, so
 * each model is scored on the same targets, and where another model has no value the reference's
 * prediction stands in for it.
 */
export function compareModels(testTrips: readonly ObservedTrip[], reference: ArrivalModel, others: readonly ArrivalModel[]): ComparisonResult {
  const table = new ErrorTable();
  let unpredictable = 0;
  let substituted = 0;
  for (const { request, live, actualS } of replayRequests(testTrips)) {
    const referencePredictions = reference.predict(request, live);
    const predictions = others.map((model) => model.predict(request, live));
    referencePredictions.forEach((referenceS, index) => {
      const actual = actualS[index]!;
      if (!Number.isFinite(referenceS)) {
        unpredictable += 1;
        return;
      }
      others.forEach((model, modelIndex) => {
        let predicted = predictions[modelIndex]![index]!;
        if (!Number.isFinite(predicted)) {
          predicted = referenceS;
          substituted += 1;
        }
        table.add(model.name, actual, predicted, actual);
      });
      table.add(reference.name, actual, referenceS, actual);
    });
  }
  return { table, unpredictable, substituted };
}
