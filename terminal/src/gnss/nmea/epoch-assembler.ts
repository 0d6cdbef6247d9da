import type { NmeaRecord } from './decoders.js';

export interface EpochRecord {
  record: NmeaRecord;
  lineNumber: number;
}

/** The decoded sentences of one receiver epoch (one measurement time). */
export interface Epoch {
  /** Time of day shared by the epoch's timed sentences, or undefined when none carried a time. */
  msOfDay?: number;
  records: EpochRecord[];
}

/**
 * Maximum sentences in one epoch. A receiver sends at most RMC, GGA, GNS, VTG, ZDA and one GSA
 * per constellation in an epoch, so only a stream whose epochs never end otherwise (a frozen
 * time, or time-less GSA and VTG alone) reaches this. The epoch is closed there to bound memory.
 */
export const MAX_EPOCH_RECORDS = 64;

/** Sentence types that a receiver sends once per talker and epoch. */
const ONCE_PER_EPOCH = new Set<NmeaRecord['type']>(['RMC', 'GGA', 'GNS']);

function recordTime(record: NmeaRecord): number | undefined {
  return 'time' in record ? record.time?.msOfDay : undefined;
}

/**
 * Groups decoded sentences into epochs. Receivers send an epoch's sentences in their own order, so
 * an epoch ends when a sentence carries a different time, on `flush()` (idle line or end of stream).
 * Sentences without a time (GSA, VTG, RMC/GGA during no fix) belong to the epoch already open,
 * unless the epoch already contains a time-less RMC, GGA or GNS of the same talker. A receiver
 * without a fix sends those every epoch, so the repeat starts the next epoch. An epoch that
 * reaches MAX_EPOCH_RECORDS sentences is closed too.
 */
export class EpochAssembler {
  private open: Epoch | undefined;

  /** Adds a record and returns the epoch it closed, if any. */
  add(record: NmeaRecord, lineNumber: number): Epoch | undefined {
    const time = recordTime(record);
    let closed: Epoch | undefined;

    if (this.open && (this.changesTime(time) || this.repeatsTimeless(record, time) || this.open.records.length >= MAX_EPOCH_RECORDS)) {
      closed = this.open;
      this.open = undefined;
    }
    if (!this.open) this.open = { msOfDay: time, records: [] };
    if (this.open.msOfDay === undefined) this.open.msOfDay = time;
    this.open.records.push({ record, lineNumber });
    return closed;
  }

  private changesTime(time: number | undefined): boolean {
    return time !== undefined && this.open?.msOfDay !== undefined && this.open.msOfDay !== time;
  }

  private repeatsTimeless(record: NmeaRecord, time: number | undefined): boolean {
    if (time !== undefined || !ONCE_PER_EPOCH.has(record.type)) return false;
    return this.open?.records.some((entry) => entry.record.type === record.type && entry.record.talker === record.talker && recordTime(entry.record) === undefined) ?? false;
  }

  /** Closes and returns the open epoch. */
  flush(): Epoch | undefined {
    const closed = this.open;
    this.open = undefined;
    return closed;
  }

  get hasOpenEpoch(): boolean {
    return this.open !== undefined;
  }

  /** Sentences in the open epoch. */
  get openRecords(): number {
    return this.open?.records.length ?? 0;
  }
}
