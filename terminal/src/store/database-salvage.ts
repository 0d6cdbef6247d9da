import { existsSync, renameSync } from 'node:fs';
import Database from 'better-sqlite3';
import { lockRecordSchema, transactionRecordSchema } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import type { DriverScreen } from '../ports/driver-screen.js';
import { DatabaseFileError } from './sqlite-file.js';
import { type SalvagedRow, SqliteTransactionStore, type SqliteTransactionStoreOptions } from './sqlite-transaction-store.js';
import type { RecordState } from './transaction-store.js';

/** What happened to a damaged outbox file at start-up. */
export interface SalvageReport {
  /** Where the damaged file now lies; its -wal and -shm files, if any, sit beside it. */
  movedTo: string;
  /** The integrity check's findings. */
  reason: string;
  /** Records read back and written into the new file. */
  salvaged: number;
  /** Sequences at or below the highest known one that could not be read back. */
  unreadable: number;
  /** Sequence numbering of the new file continues above this one. */
  lastSequence: number;
  ackedThrough: number;
}

export interface OpenOutboxOptions extends SqliteTransactionStoreOptions {
  logger: Logger;
  /** Receives the `storage-recovered` alert after a salvage. */
  screen?: DriverScreen;
  /** Clock for the name of the moved file. */
  now?: () => Date;
}

export interface OpenedOutbox {
  store: SqliteTransactionStore;
  salvage?: SalvageReport;
}

/** Consecutive unreadable sequences after which probing stops when the file's counters are lost. */
const MAX_BLIND_PROBES = 10_000;
const PAGE_ROWS = 500;

/**
 * Opens the terminal's outbox with a full PRAGMA integrity_check. A damaged file is renamed
 * (never deleted), every record that can still be read is copied into a new file, and sequence
 * numbering continues above the highest sequence that the old file's counters or records show.
 * A file from newer software (`unsupported-schema`) is not touched and the error is rethrown.
 */
export function openOutbox(path: string, options: OpenOutboxOptions): OpenedOutbox {
  const { logger } = options;
  try {
    return { store: SqliteTransactionStore.open(path, { integrityCheck: 'full', ...options }) };
  } catch (error) {
    if (!(error instanceof DatabaseFileError) || error.code !== 'corrupt') throw error;
    logger.error({ err: error, path }, 'transaction database is damaged, so moving it aside and salvaging its records');

    const movedTo = moveAside(path, (options.now ?? (() => new Date()))());
    const salvage = salvageRecords(movedTo, logger);
    const store = SqliteTransactionStore.open(path, { integrityCheck: 'full', ...options });
    store.restoreSalvaged(salvage.rows, { lastSequence: salvage.lastSequence, ackedThrough: salvage.ackedThrough });

    const report: SalvageReport = {
      movedTo,
      reason: error.message,
      salvaged: salvage.rows.length,
      unreadable: salvage.unreadable,
      lastSequence: salvage.lastSequence,
      ackedThrough: salvage.ackedThrough,
    };
    logger.error({ ...report }, 'transaction database replaced; the damaged file is kept for inspection');
    options.screen?.raiseAlert({ id: 'storage-recovered', severity: 'warning', messageId: 'alert.storage-recovered' });
    return { store, salvage: report };
  }
}

/** Renames the database and its WAL and shared-memory files to `<path>.corrupt-<time>`. */
function moveAside(path: string, now: Date): string {
  const movedTo = `${path}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(path, movedTo);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix);
  }
  return movedTo;
}

interface RawRow {
  sequence: number;
  state: RecordState;
  acknowledged: number;
  in_doubt_open: number;
  record_json: string;
}

interface SalvageResult {
  rows: SalvagedRow[];
  unreadable: number;
  lastSequence: number;
  ackedThrough: number;
}

/**
 * Reads every record that SQLite can still return from a damaged file. Records are read in
 * sequence order a page at a time; when a page fails, each sequence of the damaged stretch is
 * probed alone, so one bad b-tree page costs only the records stored on it.
 */
function salvageRecords(path: string, logger: Logger): SalvageResult {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (error) {
    logger.error({ err: error, path }, 'damaged transaction database cannot be opened at all, so nothing is salvaged');
    return { rows: [], unreadable: 0, lastSequence: 0, ackedThrough: 0 };
  }
  try {
    const counters = { lastSequence: readCounter(db, 'last_sequence'), ackedThrough: readCounter(db, 'acked_through') };
    const upperBound = counters.lastSequence ?? tryRead(() => db.prepare<[], { max: number | null }>('SELECT MAX(sequence) AS max FROM records').get()?.max ?? 0);

    const rows: SalvagedRow[] = [];
    let highestAcknowledged = 0;
    const keep = (raw: RawRow): boolean => {
      const row = parseRow(raw);
      if (!row) return false;
      rows.push(row);
      if (raw.acknowledged === 1) highestAcknowledged = Math.max(highestAcknowledged, raw.sequence);
      return true;
    };
    let unreadable = 0;
    let after = 0;
    let pageQuery: Database.Statement<[number, number], RawRow> | undefined;
    let oneQuery: Database.Statement<[number], RawRow> | undefined;
    try {
      pageQuery = db.prepare('SELECT sequence, state, acknowledged, in_doubt_open, record_json FROM records WHERE sequence > ? ORDER BY sequence LIMIT ?');
      oneQuery = db.prepare('SELECT sequence, state, acknowledged, in_doubt_open, record_json FROM records WHERE sequence = ?');
    } catch (error) {
      logger.error({ err: error, path }, 'records table of the damaged database cannot be read');
    }

    while (pageQuery && oneQuery) {
      const page = tryRead(() => pageQuery.all(after, PAGE_ROWS));
      if (page !== undefined) {
        if (page.length === 0) break;
        for (const raw of page) {
          unreadable += raw.sequence - after - 1;
          after = raw.sequence;
          if (!keep(raw)) unreadable += 1;
        }
        continue;
      }

      // The page query hit a damaged b-tree page: probe one sequence at a time past the damage.
      let misses = 0;
      let found = false;
      while (!found && (upperBound === undefined ? misses < MAX_BLIND_PROBES : after < upperBound)) {
        after += 1;
        const raw = tryRead(() => oneQuery.get(after));
        if (raw && keep(raw)) {
          found = true;
        } else {
          unreadable += 1;
          misses += 1;
        }
      }
      if (!found) {
        if (upperBound === undefined) unreadable -= misses;
        break;
      }
    }

    const highestSalvaged = rows.at(-1)?.record.sequence ?? 0;
    // Acknowledgements are contiguous, so one acknowledged record proves every lower one reached the back office.
    const ackedThrough = Math.max(counters.ackedThrough ?? 0, highestAcknowledged);
    const lastSequence = Math.max(counters.lastSequence ?? 0, upperBound ?? 0, highestSalvaged, ackedThrough);
    return { rows, unreadable, lastSequence, ackedThrough };
  } finally {
    db.close();
  }
}

function parseRow(raw: RawRow): SalvagedRow | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw.record_json);
  } catch {
    return undefined;
  }
  const isLock = (json as { kind?: unknown } | null)?.kind === 'lock';
  const parsed = isLock ? lockRecordSchema.safeParse(json) : transactionRecordSchema.safeParse(raw.state === 'pending' ? { ...(json as object), kind: 'in-doubt' } : json);
  if (!parsed.success || parsed.data.sequence !== raw.sequence) return undefined;
  return { record: json as SalvagedRow['record'], state: raw.state === 'pending' ? 'pending' : 'ready', inDoubtOpen: raw.in_doubt_open === 1 };
}

function readCounter(db: Database.Database, key: string): number | undefined {
  return tryRead(() => db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE key = ?').get(key)?.value);
}

function tryRead<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
