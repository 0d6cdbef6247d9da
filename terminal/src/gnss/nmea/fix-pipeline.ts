import type { GnssFix } from '../../ports/position-source.js';
import { decodeSentence } from './decoders.js';
import { EpochAssembler, type Epoch } from './epoch-assembler.js';
import { buildFixCandidate } from './fix-candidate.js';
import { evaluateFix, type FixFilterOptions } from './fix-filter.js';
import { applyWeekRolloverRule, toUtcDate } from './gps-date.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter, type LineSplitterOptions, type SplitLine } from './line-splitter.js';
import { parseSentence } from './sentence.js';

export interface NmeaFixPipelineOptions extends FixFilterOptions, LineSplitterOptions {
  /** Earliest date trusted from the receiver; see `applyWeekRolloverRule`. */
  notBefore: Date;
  /** System clock, read for the week-rollover rule. */
  now?: () => Date;
}

export type NmeaEvent =
  | {
      kind: 'fix';
      fix: GnssFix;
      /** Line of the sentence that gave the position. */
      line: number;
      /** Time of day the receiver reported, in ms since UTC midnight; used to pace replays. */
      msOfDay?: number;
    }
  | { kind: 'rejected' | 'ignored'; line: number; reason: string };

/**
 * The terminal's NMEA path from bytes to usable fixes: line splitting, sentence checks, decoding,
 * epoch assembly, the fix filter and the week-rollover rule. Feed chunks with `push`; events come
 * back in the order they are decided, so an epoch's fix follows the first line of the next epoch.
 */
export class NmeaFixPipeline {
  private readonly splitter: LineSplitter;
  private readonly assembler = new EpochAssembler();
  private readonly now: () => Date;
  private lastEpochMsOfDay: number | undefined;

  constructor(private readonly options: NmeaFixPipelineOptions) {
    this.splitter = new LineSplitter(options);
    this.now = options.now ?? (() => new Date());
  }

  push(chunk: Buffer | string): NmeaEvent[] {
    const events: NmeaEvent[] = [];
    for (const line of this.splitter.push(chunk)) this.processLine(line, events);
    return events;
  }

  /** Closes the open epoch, for a stream that has gone quiet. */
  flushEpoch(): NmeaEvent[] {
    const events: NmeaEvent[] = [];
    const epoch = this.assembler.flush();
    if (epoch) this.processEpoch(epoch, events);
    return events;
  }

  /** Processes an unterminated last line and the open epoch at the end of the stream. */
  end(): NmeaEvent[] {
    const events: NmeaEvent[] = [];
    for (const line of this.splitter.end()) this.processLine(line, events);
    events.push(...this.flushEpoch());
    return events;
  }

  get hasOpenEpoch(): boolean {
    return this.assembler.hasOpenEpoch;
  }

  /** Sentences in the open epoch. */
  get openEpochRecords(): number {
    return this.assembler.openRecords;
  }

  private processLine(line: SplitLine, events: NmeaEvent[]): void {
    if (line.droppedBytes !== undefined) {
      events.push({
        kind: 'rejected',
        line: line.lineNumber,
        reason: `line too long: ${line.droppedBytes} bytes dropped (maximum ${this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES})`,
      });
      return;
    }

    const parsed = parseSentence(line.text);
    if (parsed.kind === 'blank') return;
    if (parsed.kind !== 'sentence') {
      events.push({ kind: parsed.kind, line: line.lineNumber, reason: parsed.reason });
      return;
    }

    const decoded = decodeSentence(parsed.sentence);
    if (!decoded.ok) {
      events.push({ kind: 'rejected', line: line.lineNumber, reason: decoded.reason });
      return;
    }
    const closed = this.assembler.add(decoded.record, line.lineNumber);
    if (closed) this.processEpoch(closed, events);
  }

  private processEpoch(epoch: Epoch, events: NmeaEvent[]): void {
    const candidate = buildFixCandidate(epoch);
    const repeatsTime = epoch.msOfDay !== undefined && epoch.msOfDay === this.lastEpochMsOfDay;
    this.lastEpochMsOfDay = epoch.msOfDay;

    if (repeatsTime) {
      events.push({ kind: 'ignored', line: candidate.lineNumber, reason: 'epoch repeats the time of the previous epoch' });
      return;
    }
    const verdict = evaluateFix(candidate, this.options);
    if (!verdict.usable) {
      events.push({ kind: verdict.kind, line: candidate.lineNumber, reason: verdict.reason });
      return;
    }

    let time: Date | null = null;
    if (candidate.date && candidate.msOfDay !== undefined) {
      time = applyWeekRolloverRule(toUtcDate(candidate.date, candidate.msOfDay), this.options.notBefore, this.now());
    }
    const fix: GnssFix = { time, lat: candidate.lat!, lon: candidate.lon!, talker: candidate.talker! };
    if (candidate.speedMps !== undefined) fix.speedMps = candidate.speedMps;
    if (candidate.courseDeg !== undefined) fix.courseDeg = candidate.courseDeg;
    if (candidate.quality !== undefined) fix.quality = candidate.quality;
    if (candidate.satellites !== undefined) fix.satellites = candidate.satellites;
    if (candidate.hdop !== undefined) fix.hdop = candidate.hdop;

    events.push({ kind: 'fix', fix, line: candidate.lineNumber, msOfDay: candidate.msOfDay });
  }
}
