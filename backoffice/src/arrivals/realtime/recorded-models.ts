import type { Logger } from '../../logger.js';
import { addDays } from '../local-time.js';
import type { ArrivalModel } from '../models/arrival-model.js';
import type { BusfareSettings } from '../models/busfare-model.js';
import { type RecordedModelBuild, assembleRecordedModel } from './recorded-model-parts.js';
import { BuilderClosedError, type RecordedModelBuilder } from './recorded-model-thread.js';

/**
 * Seconds before a service date whose build failed is built again. A corrupt or unreadable store
 * fails again until an operator replaces it, and a worker that ran out of memory would fail again
 * too, so the retry is rare. A failure that passes (a store file replaced while it was read) keeps
 * that date on the timetable model for at most this long.
 */
export const RETRY_AFTER_S = 30 * 60;

export interface RecordedModelsOptions {
  builder: RecordedModelBuilder;
  /** Returns the path of the detected-trip store, or undefined while there is none. */
  storePath: () => string | undefined;
  historyDays: number;
  timeZone: string;
  /** Settings of every model; without them each build fits its own on its trips. */
  settings?: BusfareSettings;
  logger: Logger;
  /** Wall clock in Unix seconds. */
  now: () => number;
  /**
   * Fills a new model's caches before it replaces the timetable model, in slices between refreshes
   * (ArrivalPredictor.warmUp). Its first refresh would otherwise compute every active bus's
   * historical terms at once.
   */
  warm?: (serviceDate: string, model: ArrivalModel) => Promise<void>;
}

/**
 * The models each service date learns from the detected trips of the dates before it, built by a
 * RecordedModelBuilder, one build at a time, outside the refresh that requests them. Until a
 * date's model arrives, modelFor() returns undefined and the date predicts with the timetable
 * model. Models of dates more than one day before the newest requested date are dropped, and a
 * build that completes for such a date is not applied.
 */
export class RecordedModels {
  /** Built models by service date; null where too few dates were recorded. */
  private readonly models = new Map<string, ArrivalModel | null>();
  /** When the last build of a date failed, in Unix seconds. */
  private readonly failedAt = new Map<string, number>();
  /** Dates requested since the last build started, to build once it ends. */
  private readonly wanted = new Set<string>();
  private newest = '';
  private building: { serviceDate: string; done: Promise<void> } | undefined;
  private startTimer: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(private readonly options: RecordedModelsOptions) {}

  /**
   * Returns the learned model of a service date, or undefined while it is being built, for
   * RETRY_AFTER_S after its build failed, or where fewer than MIN_RECORDED_DATES dates were
   * recorded. The first request for a date starts its build once the current event-loop turn
   * ends, and the newest requested date goes first.
   */
  modelFor(serviceDate: string): ArrivalModel | undefined {
    if (serviceDate > this.newest) {
      this.newest = serviceDate;
      const oldest = this.oldestCurrent();
      for (const date of [...this.models.keys()]) if (date < oldest) this.models.delete(date);
      for (const date of [...this.failedAt.keys()]) if (date < oldest) this.failedAt.delete(date);
    }
    const model = this.models.get(serviceDate);
    if (model !== undefined) return model ?? undefined;
    if (this.stopped || serviceDate < this.oldestCurrent() || this.building?.serviceDate === serviceDate) return undefined;
    const failedAt = this.failedAt.get(serviceDate);
    if (failedAt !== undefined && this.options.now() - failedAt < RETRY_AFTER_S) return undefined;
    this.wanted.add(serviceDate);
    this.scheduleStart();
    return undefined;
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

  /** Resolves when no build runs and none is about to start. */
  async idle(): Promise<void> {
    for (;;) {
      if (this.startTimer) await new Promise<void>((resolve) => setImmediate(resolve));
      else if (this.building) await this.building.done;
      else return;
    }
  }

  /** Stops the running build, if any, and starts no more. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.startTimer) clearImmediate(this.startTimer);
    this.startTimer = undefined;
    this.wanted.clear();
    await this.options.builder.close();
  }

  private oldestCurrent(): string {
    return addDays(this.newest, -1);
  }

  private scheduleStart(): void {
    if (this.building || this.startTimer) return;
    this.startTimer = setImmediate(() => {
      this.startTimer = undefined;
      this.startNext();
    });
  }

  /** Starts the build of the newest requested date that is still current. */
  private startNext(): void {
    const serviceDate = [...this.wanted].sort().at(-1);
    this.wanted.clear();
    const path = this.options.storePath();
    if (this.stopped || serviceDate === undefined || path === undefined || serviceDate < this.oldestCurrent() || this.models.has(serviceDate)) return;

    const { historyDays, timeZone, settings, logger } = this.options;
    logger.info({ serviceDate, historyDays, path }, 'building the arrival model from detected trips; the date predicts from the timetable until it is built');
    // A build that rejects or that apply() cannot read is logged, never left as a rejected promise.
    const done = this.options.builder
      .build({ path, serviceDate, historyDays, timeZone, ...(settings ? { settings } : {}) })
      .then((build) => this.apply(serviceDate, build))
      .catch((error: unknown) => this.fail(serviceDate, path, error))
      .finally(() => {
        this.building = undefined;
        // Dates requested during the build start theirs now rather than at the next refresh.
        if (this.wanted.size > 0) this.scheduleStart();
      });
    this.building = { serviceDate, done };
  }

  private async apply(serviceDate: string, build: RecordedModelBuild): Promise<void> {
    if (this.stopped) return;
    const { trips, dates, readMs, buildMs } = build;
    if (serviceDate < this.oldestCurrent()) {
      this.options.logger.info({ serviceDate, newest: this.newest }, 'arrival model built for a date no longer current; dropped');
      return;
    }
    if (build.kind === 'too-few-dates') {
      this.models.set(serviceDate, null);
      this.options.logger.info({ serviceDate, trips, dates, readMs }, 'too few dates of detected trips; the date predicts from the timetable');
      return;
    }
    const assembleStarted = performance.now();
    let model: ArrivalModel;
    try {
      model = assembleRecordedModel(build.parts);
    } catch (error) {
      this.fail(serviceDate, this.options.storePath(), error);
      return;
    }
    const assembleMs = Math.round(performance.now() - assembleStarted);
    const warmStarted = performance.now();
    await this.options.warm?.(serviceDate, model);
    // The service may have stopped, or the date gone out of date, while the caches filled.
    if (this.stopped || serviceDate < this.oldestCurrent()) return;
    this.models.set(serviceDate, model);
    this.failedAt.delete(serviceDate);
    const warmMs = Math.round(performance.now() - warmStarted);
    this.options.logger.info({ serviceDate, trips, dates, readMs, buildMs, assembleMs, warmMs, samples: build.parts.history.secondsOfDay.length, ...(build.parts.fit ? { fit: build.parts.fit } : {}) }, 'arrival model learned from detected trips');
  }

  private fail(serviceDate: string, path: string | undefined, error: unknown): void {
    if (this.stopped && error instanceof BuilderClosedError) return;
    this.failedAt.set(serviceDate, this.options.now());
    this.options.logger.error({ err: error, serviceDate, path, retryAfterS: RETRY_AFTER_S }, 'arrival model not built from detected trips; the date predicts from the timetable');
  }
}
