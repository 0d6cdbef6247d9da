import { EventEmitter } from 'node:events';
import type { DeviceHealth } from '@busfare/shared-protocol';
import { BUILD_DATE } from '../build-info.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { PositionSourceEvents } from '../ports/position-source.js';
import type { FixFilterOptions } from './nmea/fix-filter.js';
import { NmeaFixPipeline, type NmeaEvent } from './nmea/fix-pipeline.js';
import type { LineSplitterOptions } from './nmea/line-splitter.js';

export interface NmeaSourceOptions extends FixFilterOptions, LineSplitterOptions {
  /** Earliest receiver date trusted as it is (GPS week-rollover rule). Default: the build date. */
  notBefore?: Date;
  clock?: Clock;
  /** Closes an epoch after the stream has been quiet this long, so its fix is not held back until the next one. */
  epochIdleFlushMs?: number;
  logger?: Logger;
  /** Called for each rejected or ignored line or epoch. */
  onSentence?: (event: NmeaSentenceEvent) => void;
}

export type NmeaSentenceEvent = Extract<NmeaEvent, { kind: 'rejected' | 'ignored' }>;

export const DEFAULT_EPOCH_IDLE_FLUSH_MS = 200;

/** Counts of what a source has decided so far. */
export interface NmeaSourceStats {
  fixes: number;
  rejected: number;
  ignored: number;
}

export function defaultNotBefore(): Date {
  return new Date(`${BUILD_DATE}T00:00:00Z`);
}

/**
 * Runs bytes from any transport through an `NmeaFixPipeline` and turns its events into `fix` and
 * `health` events and `onSentence` calls. Subclasses own the transport.
 */
export abstract class NmeaSourceBase extends EventEmitter<PositionSourceEvents> {
  readonly stats: NmeaSourceStats = { fixes: 0, rejected: 0, ignored: 0 };
  protected readonly clock: Clock;
  protected readonly logger: Logger | undefined;
  private pipeline: NmeaFixPipeline;
  private idleTimer: NodeJS.Timeout | undefined;
  private currentHealth: DeviceHealth = 'unknown';

  constructor(protected readonly nmeaOptions: NmeaSourceOptions) {
    super();
    this.clock = nmeaOptions.clock ?? systemClock;
    this.logger = nmeaOptions.logger;
    this.pipeline = this.createPipeline();
  }

  get health(): DeviceHealth {
    return this.currentHealth;
  }

  protected setHealth(health: DeviceHealth): void {
    if (health === this.currentHealth) return;
    this.currentHealth = health;
    this.emit('health', health);
  }

  /** Feeds received bytes. */
  protected feed(chunk: Buffer | string): void {
    this.dispatch(this.pipeline.push(chunk));
    this.armIdleFlush();
  }

  /** Ends the current input (stream end, port closed) and starts a fresh pipeline for the next one. */
  protected endInput(): void {
    this.clearIdleFlush();
    this.dispatch(this.pipeline.end());
    this.pipeline = this.createPipeline();
  }

  protected clearIdleFlush(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private createPipeline(): NmeaFixPipeline {
    return new NmeaFixPipeline({
      ...this.nmeaOptions,
      notBefore: this.nmeaOptions.notBefore ?? defaultNotBefore(),
      now: () => this.clock.now(),
    });
  }

  private armIdleFlush(): void {
    this.clearIdleFlush();
    if (!this.pipeline.hasOpenEpoch) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      this.dispatch(this.pipeline.flushEpoch());
    }, this.nmeaOptions.epochIdleFlushMs ?? DEFAULT_EPOCH_IDLE_FLUSH_MS);
    this.idleTimer.unref();
  }

  private dispatch(events: NmeaEvent[]): void {
    for (const event of events) {
      if (event.kind === 'fix') {
        this.stats.fixes += 1;
        this.setHealth('ok');
        this.emit('fix', event.fix);
        continue;
      }
      this.stats[event.kind] += 1;
      if (event.kind === 'rejected') this.logRejected(event.line, event.reason);
      if (event.reason.startsWith('no fix')) this.setHealth('degraded');
      this.nmeaOptions.onSentence?.(event);
    }
  }

  private logRejected(line: number, reason: string): void {
    // One warning per 100 rejections keeps a noisy line from flooding the log.
    if (this.stats.rejected % 100 === 1) {
      this.logger?.warn({ line, reason, rejectedSoFar: this.stats.rejected }, 'NMEA input rejected');
    }
  }
}
