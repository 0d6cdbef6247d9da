import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { DeviceHealth } from '@busfare/shared-protocol';
import { systemClock, type Clock } from '../ports/clock.js';
import type { GnssFix, PositionSource, PositionSourceEvents } from '../ports/position-source.js';
import { MS_PER_DAY } from './nmea/fields.js';
import type { FixFilterOptions } from './nmea/fix-filter.js';
import { NmeaFixPipeline } from './nmea/fix-pipeline.js';
import { defaultNotBefore } from './nmea-source-base.js';

export interface NmeaFileReplayOptions extends FixFilterOptions {
  /** Replay speed: 1 is real time, 10 ten times faster, Infinity as fast as timers allow. */
  speed?: number;
  /** Starts again from the beginning of the slice after its last fix. */
  loop?: boolean;
  /** Replaces each fix's time with the clock's time at emission, so an old recording looks live. */
  shiftTimesToNow?: boolean;
  /** Only fixes with index in [fromFix, toFix) of the recording's usable fixes are replayed. */
  fromFix?: number;
  toFix?: number;
  /** Index inside the slice where the replay starts; with `loop` it wraps round. */
  startOffset?: number;
  /** Replays the slice backwards, with courses turned round, for a bus running the other way. */
  reverse?: boolean;
  /** Maximum pause between two fixes in recording time, in ms, so gaps in a recording do not stall a bus. Default 10000. */
  maxGapMs?: number;
  notBefore?: Date;
  clock?: Clock;
}

interface ReplayFix {
  fix: GnssFix;
  /** Receiver time of day, for pacing. */
  msOfDay?: number;
}

/** Usable fixes of an NMEA recording, in order, through the terminal's own pipeline. */
export async function loadNmeaRecording(path: string, options: FixFilterOptions & { notBefore?: Date } = {}): Promise<ReplayFix[]> {
  const pipeline = new NmeaFixPipeline({ ...options, notBefore: options.notBefore ?? defaultNotBefore() });
  const events = [...pipeline.push(await readFile(path)), ...pipeline.end()];
  const fixes: ReplayFix[] = [];
  for (const event of events) {
    if (event.kind === 'fix') fixes.push({ fix: event.fix, msOfDay: event.msOfDay });
  }
  return fixes;
}

/**
 * Replays an NMEA recording as a position source, paced by the receiver times (the bench moves a
 * bus along a real drive in real time). Fixes are decided by the same pipeline as live input.
 */
export class NmeaFileReplaySource extends EventEmitter<PositionSourceEvents> implements PositionSource {
  private fixes: ReplayFix[] = [];
  private index = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly clock: Clock;

  constructor(
    private readonly path: string,
    private readonly options: NmeaFileReplayOptions = {},
  ) {
    super();
    this.clock = options.clock ?? systemClock;
  }

  /** Number of fixes in the replayed slice, known after `start()`. */
  get length(): number {
    return this.fixes.length;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const all = await loadNmeaRecording(this.path, this.options);
    let slice = all.slice(this.options.fromFix ?? 0, this.options.toFix ?? all.length);
    if (this.options.reverse) slice = slice.reverse().map(turnRound);
    if (slice.length === 0) throw new Error(`no usable fixes in ${this.path} for the requested slice`);

    this.fixes = slice;
    this.index = (this.options.startOffset ?? 0) % slice.length;
    this.running = true;
    this.emitHealth('ok');
    this.emitNext();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.emitHealth('down');
  }

  private emitHealth(health: DeviceHealth): void {
    this.emit('health', health);
  }

  private emitNext(): void {
    if (!this.running) return;
    const current = this.fixes[this.index]!;
    const fix = { ...current.fix };
    if (this.options.shiftTimesToNow) fix.time = this.clock.now();
    this.emit('fix', fix);

    this.index += 1;
    if (this.index >= this.fixes.length) {
      if (!this.options.loop) {
        this.running = false;
        this.emitHealth('down');
        return;
      }
      this.index = 0;
    }
    const next = this.fixes[this.index]!;
    this.timer = setTimeout(() => this.emitNext(), this.delayBetween(current, next));
  }

  private delayBetween(current: ReplayFix, next: ReplayFix): number {
    const speed = this.options.speed ?? 1;
    if (!(speed > 0) || speed === Infinity) return 0;
    let gapMs = 1000;
    if (current.msOfDay !== undefined && next.msOfDay !== undefined) {
      gapMs = Math.abs(next.msOfDay - current.msOfDay);
      if (gapMs > MS_PER_DAY / 2) gapMs = MS_PER_DAY - gapMs; // across midnight
    }
    return Math.min(gapMs, this.options.maxGapMs ?? 10_000) / speed;
  }
}

function turnRound(entry: ReplayFix): ReplayFix {
  const fix = { ...entry.fix };
  if (fix.courseDeg !== undefined) fix.courseDeg = (fix.courseDeg + 180) % 360;
  return { fix, msOfDay: entry.msOfDay };
}
