import { addDays } from '../local-time.js';
import type { ArrivalModel } from '../models/arrival-model.js';
import { BusfareModel, type BusfareSettings } from '../models/busfare-model.js';
import { PairHistory } from '../travel-history.js';
import { DatedModels, type DatedModelsOptions, type PlacingTimes, RETRY_AFTER_S } from './dated-models.js';
import type { TimetableModelBuild, TimetableModelRequest, TimetableRequests } from './timetable-model-parts.js';

export interface TimetableModelsOptions extends DatedModelsOptions<'timetable'> {
  requests: TimetableRequests;
  settings: BusfareSettings;
}

/**
 * The models each service date learns from the timetable of the week before it, one model for
 * every route (DatedModels). Until a date's model arrives the date predicts with the previous
 * date's model, which learned from six of the same seven days, and without that from the
 * timetable's own running times.
 */
export class TimetableModels extends DatedModels<'timetable'> {
  protected readonly kind = 'timetable';
  protected readonly droppedMessage = 'timetable arrival model built for a date no longer current; dropped';

  constructor(private readonly timetableOptions: TimetableModelsOptions) {
    super(timetableOptions);
  }

  /**
   * Returns the model of a service date, or while it has none the previous date's model, or
   * undefined when neither exists. The first request for a date starts its build.
   */
  override modelFor(serviceDate: string): ArrivalModel | undefined {
    return super.modelFor(serviceDate) ?? this.models.get(addDays(serviceDate, -1)) ?? undefined;
  }

  protected startRequest(serviceDate: string): TimetableModelRequest {
    const request = this.timetableOptions.requests.requestFor(serviceDate);
    const trips = request.days.reduce((sum, day) => sum + day.trips.length, 0);
    this.options.logger.info({ serviceDate, days: request.days.length, trips }, 'building the timetable arrival model; the date predicts from the previous date\'s model or the running times until it is built');
    return request;
  }

  protected assemble(_serviceDate: string, build: TimetableModelBuild): ArrivalModel {
    // Timetable trips give no bus history ratios and no signal phases, so the model takes no trips.
    return new BusfareModel(new PairHistory(build.history), this.timetableOptions.settings, []);
  }

  protected logPlaced(serviceDate: string, build: TimetableModelBuild, { assembleMs, warmMs }: PlacingTimes): void {
    this.options.logger.info({ serviceDate, trips: build.trips, buildMs: build.buildMs, assembleMs, warmMs, samples: build.history.secondsOfDay.length }, 'timetable arrival model built');
  }

  protected logFailure(serviceDate: string, _request: TimetableModelRequest, error: unknown): void {
    this.options.logger.error({ err: error, serviceDate, retryAfterS: RETRY_AFTER_S }, 'timetable arrival model not built; the date predicts from the previous date\'s model or the running times');
  }
}
