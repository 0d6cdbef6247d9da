import type { Logger } from '../../logger.js';
import { addDays } from '../local-time.js';
import type { ArrivalModel } from '../models/arrival-model.js';
import type { ModelBuild, ModelKind, ModelRequest } from './model-builds.js';
import type { BuildSlot } from './build-slot.js';
import { BuilderClosedError, type ModelBuilder } from './model-thread.js';

/**
 * Seconds before a service date whose build failed is built again. A corrupt or unreadable store
 * fails again until an operator replaces it, and a worker that ran out of memory would fail again
 * too, so the retry is rare. A failure that passes (a store file replaced while it was read) keeps
 * that date on its fallback for at most this long.
 */
export const RETRY_AFTER_S = 30 * 60;

export interface DatedModelsOptions<K extends ModelKind> {
  builder: ModelBuilder<K>;
  /** Slot shared with the builds of the other kind of model. Without it, only this kind's builds take turns. */
  slot?: BuildSlot;
  logger: Logger;
  /** Wall clock in Unix seconds. */
  now: () => number;
  /**
   * Fills a new model's caches before it is put in place, in slices between refreshes
   * (ArrivalPredictor.warmUp). Its first refresh would otherwise compute every active bus's
   * historical terms at once.
   */
  warm?: (serviceDate: string, model: ArrivalModel) => Promise<void>;
}

/** Wall times of putting a build's model in place, in milliseconds, for its log line. */
export interface PlacingTimes {
  assembleMs: number;
  warmMs: number;
}

/**
 * One model per service date, built by a ModelBuilder one build at a time, outside the refresh
 * that requests it. With a BuildSlot, a build also waits for the builds of the other kind to end.
 * Until a date's model arrives, modelFor() returns undefined and the date predicts from its
 * fallback. Models of dates more than one day before the newest requested date are dropped, and a
 * build that completes for such a date is not applied. Subclasses make each date's request,
 * assemble its model and log.
 */
export abstract class DatedModels<K extends ModelKind> {
  /** Built models by service date; null where the date has none (too few dates recorded). */
  protected readonly models = new Map<string, ArrivalModel | null>();
  /** When the last build of a date failed, in Unix seconds. */
  protected readonly failedAt = new Map<string, number>();
  /** Dates requested since the last build started, to build once it ends. */
  private readonly wanted = new Set<string>();
  private newest = '';
  /** The build that runs or waits for the slot. Its date is undefined while it waits. */
  private building: { serviceDate: string | undefined; done: Promise<void> } | undefined;
  private startTimer: NodeJS.Immediate | undefined;
  private stopped = false;
  /** Aborted by stop(), which withdraws a build waiting for the slot. */
  private readonly stopping = new AbortController();

  constructor(protected readonly options: DatedModelsOptions<K>) {}

  /**
   * Returns the model of a service date, or undefined while it is being built, for RETRY_AFTER_S
   * after its build failed, or where the date has no model. The first request for a date starts
   * its build once the current event-loop turn ends, and the newest requested date goes first.
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

  /** Resolves when no build runs and none is about to start. */
  async idle(): Promise<void> {
    for (;;) {
      if (this.startTimer) await new Promise<void>((resolve) => setImmediate(resolve));
      else if (this.building) await this.building.done;
      else return;
    }
  }

  /** Stops the running build, if any, and starts no more, not even one that waits for the slot. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.startTimer) clearImmediate(this.startTimer);
    this.startTimer = undefined;
    this.wanted.clear();
    this.stopping.abort();
    await this.options.builder.close();
  }

  /** The kind of model built, which sets this kind's turn in a shared BuildSlot. */
  protected abstract readonly kind: K;

  /** Returns the request of a date's build and logs its start, or returns undefined while the date cannot be built. */
  protected abstract startRequest(serviceDate: string): ModelRequest<K> | undefined;

  /** Returns the model of a build, or null for a date that has none (logged here). Throws on parts that do not fit together. */
  protected abstract assemble(serviceDate: string, build: ModelBuild<K>): ArrivalModel | null;

  protected abstract logPlaced(serviceDate: string, build: ModelBuild<K>, times: PlacingTimes): void;

  protected abstract logFailure(serviceDate: string, request: ModelRequest<K>, error: unknown): void;

  /** Message of the log line of a build that completed for a date no longer current. */
  protected abstract readonly droppedMessage: string;

  protected oldestCurrent(): string {
    return addDays(this.newest, -1);
  }

  private scheduleStart(): void {
    if (this.building || this.startTimer) return;
    this.startTimer = setImmediate(() => {
      this.startTimer = undefined;
      this.startNext();
    });
  }

  /** Waits for the slot, if shared, and then starts the build of the newest requested date that is still current. */
  private startNext(): void {
    const building: { serviceDate: string | undefined; done: Promise<void> } = { serviceDate: undefined, done: Promise.resolve() };
    building.done = this.buildNewest(building).finally(() => {
      this.building = undefined;
      // Dates requested during the build start theirs now rather than at the next refresh.
      if (this.wanted.size > 0) this.scheduleStart();
    });
    this.building = building;
  }

  /**
   * Builds the newest requested date once the slot is free, and frees the slot when the builder's
   * build ends, before its model is assembled and warmed. The date is chosen after the wait, so a
   * date requested meanwhile goes first.
   */
  private async buildNewest(building: { serviceDate: string | undefined }): Promise<void> {
    const release = this.options.slot ? await this.options.slot.acquire(this.kind, this.stopping.signal) : () => {};
    if (release === undefined) return;
    const serviceDate = [...this.wanted].sort().at(-1);
    this.wanted.clear();
    if (this.stopped || serviceDate === undefined || serviceDate < this.oldestCurrent() || this.models.has(serviceDate)) {
      release();
      return;
    }
    building.serviceDate = serviceDate;
    let request: ModelRequest<K> | undefined;
    let build: ModelBuild<K>;
    try {
      request = this.startRequest(serviceDate);
      if (request === undefined) return;
      build = await this.options.builder.build(request);
    } catch (error) {
      // A startRequest() that throws is a programming error, so it is not logged and retried as a failed build.
      if (request === undefined) throw error;
      // A build that rejects is logged, never left as a rejected promise.
      this.fail(serviceDate, request, error);
      return;
    } finally {
      release();
    }
    try {
      await this.apply(serviceDate, request, build);
    } catch (error) {
      this.fail(serviceDate, request, error);
    }
  }

  private async apply(serviceDate: string, request: ModelRequest<K>, build: ModelBuild<K>): Promise<void> {
    if (this.stopped) return;
    if (serviceDate < this.oldestCurrent()) {
      this.options.logger.info({ serviceDate, newest: this.newest }, this.droppedMessage);
      return;
    }
    const assembleStarted = performance.now();
    let model: ArrivalModel | null;
    try {
      model = this.assemble(serviceDate, build);
    } catch (error) {
      this.fail(serviceDate, request, error);
      return;
    }
    if (model === null) {
      this.models.set(serviceDate, null);
      return;
    }
    const assembleMs = Math.round(performance.now() - assembleStarted);
    const warmStarted = performance.now();
    await this.options.warm?.(serviceDate, model);
    // The service may have stopped, or the date gone out of date, while the caches filled.
    if (this.stopped || serviceDate < this.oldestCurrent()) return;
    this.models.set(serviceDate, model);
    this.failedAt.delete(serviceDate);
    this.logPlaced(serviceDate, build, { assembleMs, warmMs: Math.round(performance.now() - warmStarted) });
  }

  private fail(serviceDate: string, request: ModelRequest<K>, error: unknown): void {
    if (this.stopped && error instanceof BuilderClosedError) return;
    this.failedAt.set(serviceDate, this.options.now());
    this.logFailure(serviceDate, request, error);
  }
}
