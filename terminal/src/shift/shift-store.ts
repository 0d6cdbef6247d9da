import type Database from 'better-sqlite3';
import { shiftRecordSchema, type ShiftCounters, type ShiftRecord } from '@busfare/shared-protocol';
import { openDurableDatabase, type DurableDatabaseOptions, type Migrations } from '../store/sqlite-file.js';

/** A shift between sign-on and sign-off. */
export interface OpenShift {
  shiftId: string;
  driverId: string;
  startedAt: string;
  route?: string;
  direction?: 0 | 1;
  /** Whether the driver confirmed route and direction on the screen. */
  serviceConfirmed: boolean;
  firstSequence: number | null;
  lastSequence: number | null;
  counters: ShiftCounters;
}

export interface StoredShiftRecord {
  record: ShiftRecord;
  /** When the broker took the record, or null while it waits to be sent. */
  sentAt: string | null;
}

const MIGRATIONS: Migrations = [
  '',
  `
  CREATE TABLE open_shift (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    shift_json TEXT NOT NULL
  );
  CREATE TABLE shift_records (
    shift_id TEXT PRIMARY KEY,
    record_json TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    sent_at TEXT
  );
  CREATE INDEX shift_records_unsent ON shift_records (ended_at) WHERE sent_at IS NULL;
  `,
];

/**
 * The terminal's shift file: the open shift, so a restart keeps the driver signed on with their
 * counters, and the finished shift records until the back office has them.
 */
export class ShiftStore {
  private constructor(private readonly db: Database.Database) {}

  static open(path: string, options: DurableDatabaseOptions = {}): ShiftStore {
    return new ShiftStore(openDurableDatabase(path, MIGRATIONS, options));
  }

  loadOpen(): OpenShift | undefined {
    const row = this.db.prepare('SELECT shift_json FROM open_shift WHERE id = 1').get() as { shift_json: string } | undefined;
    return row ? (JSON.parse(row.shift_json) as OpenShift) : undefined;
  }

  saveOpen(shift: OpenShift): void {
    this.db.prepare('INSERT INTO open_shift (id, shift_json) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET shift_json = excluded.shift_json').run(JSON.stringify(shift));
  }

  /** Replaces the open shift by its finished record in one transaction; throws on an invalid record. */
  finish(record: ShiftRecord): void {
    const valid = shiftRecordSchema.parse(record);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM open_shift WHERE id = 1').run();
      this.db.prepare('INSERT INTO shift_records (shift_id, record_json, ended_at, sent_at) VALUES (?, ?, ?, NULL)').run(valid.shiftId, JSON.stringify(valid), valid.endedAt);
    })();
  }

  /** Returns whether a finished shift record with this id is stored. */
  hasRecord(shiftId: string): boolean {
    return this.db.prepare('SELECT 1 FROM shift_records WHERE shift_id = ?').get(shiftId) !== undefined;
  }

  unsent(): ShiftRecord[] {
    const rows = this.db.prepare('SELECT record_json FROM shift_records WHERE sent_at IS NULL ORDER BY ended_at').all() as { record_json: string }[];
    return rows.map((row) => JSON.parse(row.record_json) as ShiftRecord);
  }

  markSent(shiftId: string, at: Date): void {
    this.db.prepare('UPDATE shift_records SET sent_at = ? WHERE shift_id = ? AND sent_at IS NULL').run(at.toISOString(), shiftId);
  }

  latest(): StoredShiftRecord | undefined {
    const row = this.db.prepare('SELECT record_json, sent_at FROM shift_records ORDER BY ended_at DESC LIMIT 1').get() as { record_json: string; sent_at: string | null } | undefined;
    return row ? { record: JSON.parse(row.record_json) as ShiftRecord, sentAt: row.sent_at } : undefined;
  }

  close(): void {
    this.db.close();
  }
}
