import type { ArrivalModel } from '../models/arrival-model.js';
import type { BusfareSettings } from '../models/busfare-model.js';
import { DatedModels, type DatedModelsOptions, type PlacingTimes, RETRY_AFTER_S } from './dated-models.js';
import { type RecordedModelBuild, type RecordedModelRequest, assembleRecordedModel } from './recorded-model-parts.js';

export { RETRY_AFTER_S } from './dated-models.js';

export interface RecordedModelsOptions extends DatedModelsOptions<'recorded'> {
  /** Returns the path of the detected-trip store, or undefined while there is none. */
  storePath: () => string | undefined;
  historyDays: number;
  timeZone: string;
  /** Settings of every model; without them each build fits its own on its trips. */
  settings?: BusfareSettings;
}

/**
 * The models each service date learns from the detected trips of the dates before it (DatedModels).
 * Until a date's model arrives, or where fewer than MIN_RECORDED_DATES dates were recorded, the
 * date predicts with the timetable model.
 */
export class RecordedModels extends DatedModels<'recorded'> {
  protected readonly kind = 'recorded';
  protected readonly droppedMessage = 'arrival model built for a date no longer current; dropped';

  constructor(private readonly recordedOptions: RecordedModelsOptions) {
    super(recordedOptions);
  }

  /**
   * Drops the model of a date after it threw while predicting, and logs the error. The date
   * predicts from the timetable model and is built again after RETRY_AFTER_S.
   */
  discard(serviceDate: string, error: unknown): void {
    if (!this.models.get(serviceDate)) return;
    this.models.delete(serviceDate);
    this.failedAt.set(serviceDate, this.options.now());
    this.options.logger.error({ err: error, serviceDate, retryAfterS: RETRY_AFTER_S }, 'arrival model learned from detected trips failed to predict; the date predicts from the timetable');
  }

  protected startRequest(serviceDate: string): RecordedModelRequest | undefined {
    const path = this.recordedOptions.storePath();
    if (path === undefined) return undefined;
    const { historyDays, timeZone, settings, logger } = this.recordedOptions;
    logger.info({ serviceDate, historyDays, path }, 'building the arrival model from detected trips; the date predicts from the timetable until it is built');
    return { path, serviceDate, historyDays, timeZone, ...(settings ? { settings } : {}) };
  }

  protected assemble(serviceDate: string, build: RecordedModelBuild): ArrivalModel | null {
    if (build.kind === 'too-few-dates') {
      const { trips, dates, readMs } = build;
      this.options.logger.info({ serviceDate, trips, dates, readMs }, 'too few dates of detected trips; the date predicts from the timetable');
      return null;
    }
    return assembleRecordedModel(build.parts);
  }

  protected logPlaced(serviceDate: string, build: RecordedModelBuild, { assembleMs, warmMs }: PlacingTimes): void {
    if (build.kind !== 'model') return;
    const { trips, dates, readMs, buildMs } = build;
    this.options.logger.info({ serviceDate, trips, dates, readMs, buildMs, assembleMs, warmMs, samples: build.parts.history.secondsOfDay.length, ...(build.parts.fit ? { fit: build.parts.fit } : {}) }, 'arrival model learned from detected trips');
  }

  protected logFailure(serviceDate: string, request: RecordedModelRequest, error: unknown): void {
    this.options.logger.error({ err: error, serviceDate, path: request.path, retryAfterS: RETRY_AFTER_S }, 'arrival model not built from detected trips; the date predicts from the timetable');
  }
}
