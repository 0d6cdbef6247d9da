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

function recordTime(record: NmeaRecord): number | undefined {
  return 'time' in record ? record.time?.msOfDay : undefined;
}

/**
 * Groups decoded sentences into epochs. Receivers send an epoch's sentences in their own order, so
 * an epoch ends when a sentence carries a different time, on `flush()` (idle line or end of stream).
 * Sentences without a time (GSA, VTG, RMC/GGA during no fix) belong to the epoch already open.
 */
export class EpochAssembler {
  private open: Epoch | undefined;

  /** Adds a record and returns the epoch it closed, if any. */
  add(record: NmeaRecord, lineNumber: number): Epoch | undefined {
    const time = recordTime(record);
    let closed: Epoch | undefined;

    if (this.open && time !== undefined && this.open.msOfDay !== undefined && this.open.msOfDay !== time) {
      closed = this.open;
      this.open = undefined;
    }
    if (!this.open) this.open = { msOfDay: time, records: [] };
    if (this.open.msOfDay === undefined) this.open.msOfDay = time;
    this.open.records.push({ record, lineNumber });
    return closed;
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
}
