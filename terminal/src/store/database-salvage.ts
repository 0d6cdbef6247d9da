import { existsSync, renameSync } from 'node:fs';
import Database from 'better-sqlite3';
import { lockRecordSchema, transactionRecordSchema } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import type { DriverScreen } from '../ports/driver-screen.js';
import { describeDamage } from './record-damage.js';
import { checkOutboxFile, ForeignWalError } from './outbox-file-check.js';
import { highestSequenceInFiles } from './sequence-scan.js';
import { DatabaseFileError } from './sqlite-file.js';
import { type QuarantinedRecord, type SalvagedDamage, type SalvagedRow, SqliteTransactionStore, type SqliteTransactionStoreOptions } from './sqlite-transaction-store.js';
import type { RecordState } from './transaction-store.js';

/** What happened to a damaged outbox file at start-up. */
export interface SalvageReport {
  /** Where the damaged file now lies; its -wal and -shm files, if any, sit beside it. */
  movedTo: string;
  /** The integrity check's findings. */
  reason: string;
  /** Records read back and written into the new file. */
  salvaged: number;
  /** Sequences at or below the highest known one that could not be read back as valid records. */
  unreadable: number;
  /**
   * Unacknowledged sequences without a valid record, damaged or lost. Each goes out as a
   * quarantine notice, so the back office's acknowledgements move past it.
   */
  notices: number;
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
    // A read-only connection checks the file first, because closing a read-write connection to a
    // damaged file checkpoints the WAL into it and deletes the WAL.
    const checked = checkOutboxFile(path, logger);
    return { store: SqliteTransactionStore.open(path, { integrityCheck: checked ? 'none' : 'full', ...options }) };
  } catch (error) {
    if (!(error instanceof DatabaseFileError) || error.code !== 'corrupt') throw error;
    logger.error({ err: error, path }, 'transaction database is damaged, so moving it aside and salvaging its records');

    const now = (options.now ?? (() => new Date()))();
    // A WAL of another database is kept under a name SQLite does not read, so salvage reads the
    // database file alone.
    const movedTo = moveAside(path, now, error instanceof ForeignWalError ? '-foreign-wal' : '-wal');
    const salvage = salvageRecords(movedTo, logger, now);
    const store = SqliteTransactionStore.open(path, { integrityCheck: 'full', ...options });
    const counters = { lastSequence: salvage.lastSequence, ackedThrough: salvage.ackedThrough };
    const damage: SalvagedDamage = {
      damagedRows: salvage.damagedRows,
      quarantined: salvage.quarantined,
      lostText: `record unreadable in the damaged outbox file ${movedTo}`,
      lostReason: 'record unreadable when the damaged outbox file was salvaged',
      nowMs: now.getTime(),
    };
    store.restoreSalvaged(salvage.rows, counters, damage);

    const report: SalvageReport = {
      movedTo,
      reason: error.message,
      salvaged: salvage.rows.length,
      unreadable: salvage.lastSequence - salvage.rows.length,
      notices: Math.max(0, salvage.lastSequence - salvage.ackedThrough - salvage.rows.filter((row) => row.record.sequence > salvage.ackedThrough).length),
      lastSequence: salvage.lastSequence,
      ackedThrough: salvage.ackedThrough,
    };
    logger.error({ ...report }, 'transaction database replaced; the damaged file is kept for inspection');
    options.screen?.raiseAlert({ id: 'storage-recovered', severity: 'warning', messageId: 'alert.storage-recovered' });
    return { store, salvage: report };
  }
}

/**
 * Renames the database and its WAL and shared-memory files to `<path>.corrupt-<time>`, the WAL
 * with `walSuffix`.
 */
function moveAside(path: string, now: Date, walSuffix: string): string {
  const movedTo = `${path}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(path, movedTo);
  if (existsSync(`${path}-wal`)) renameSync(`${path}-wal`, movedTo + walSuffix);
  if (existsSync(`${path}-shm`)) renameSync(`${path}-shm`, `${movedTo}-shm`);
  return movedTo;
}

interface RawRow {
  sequence: number;
  state: RecordState;
  kind: unknown;
  asn: unknown;
  acknowledged: number;
  in_doubt_open: number;
  occurred_at_ms: unknown;
  record_json: string;
  bytes: Buffer;
}

interface SalvageResult {
  rows: SalvagedRow[];
  damagedRows: SalvagedDamage['damagedRows'][number][];
  quarantined: QuarantinedRecord[];
  lastSequence: number;
  ackedThrough: number;
}

const ROW_COLUMNS = 'sequence, state, kind, asn, acknowledged, in_doubt_open, occurred_at_ms, record_json, CAST(record_json AS BLOB) AS bytes';

/**
 * Reads every record that SQLite can still return from a damaged file. Records are read in
 * sequence order a page at a time; when a page fails, each sequence of the damaged stretch is
 * probed alone, so one bad b-tree page costs only the records stored on it.
 */
function salvageRecords(path: string, logger: Logger, now: Date): SalvageResult {
  // Pages SQLite cannot reach still show which sequences were handed out, so numbering never
  // restarts below them, even when the file's header is destroyed.
  const highestInBytes = highestSequenceInFiles([path, `${path}-wal`]);
  let db: Database.Database;
  try {
    // Read-only, because closing a read-write connection checkpoints the WAL into the damaged file
    // and deletes the WAL, with any frames that recovery dropped.
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    logger.error({ err: error, path, highestInBytes }, 'damaged transaction database cannot be opened at all, so no record is salvaged');
    return { rows: [], damagedRows: [], quarantined: [], lastSequence: highestInBytes, ackedThrough: 0 };
  }
  try {
    const salvaged = readRecords(db, path, logger, now);
    return { ...salvaged, lastSequence: Math.max(salvaged.lastSequence, highestInBytes) };
  } finally {
    db.close();
  }
}

function readRecords(db: Database.Database, path: string, logger: Logger, now: Date): SalvageResult {
  const counters = { lastSequence: readCounter(db, 'last_sequence'), ackedThrough: readCounter(db, 'acked_through') };
  const upperBound = counters.lastSequence ?? tryRead(() => db.prepare<[], { max: number | null }>('SELECT MAX(sequence) AS max FROM records').get()?.max ?? 0);

  const rows: SalvagedRow[] = [];
  const damagedRows: SalvageResult['damagedRows'] = [];
  const quarantined = readQuarantined(db, path, logger);
  const quarantinedSequences = new Set(quarantined.map((copy) => copy.sequence));
  let highestAcknowledged = 0;
  const keep = (raw: RawRow): boolean => {
    if (raw.acknowledged === 1) highestAcknowledged = Math.max(highestAcknowledged, raw.sequence);
    const row = parseRow(raw);
    if (row) {
      rows.push(row);
      return true;
    }
    keepDamaged(raw, damagedRows, quarantined, quarantinedSequences, now);
    return false;
  };
  let unreadable = 0;
  let after = 0;
  let pageQuery: Database.Statement<[number, number], RawRow> | undefined;
  let oneQuery: Database.Statement<[number], RawRow> | undefined;
  try {
    pageQuery = db.prepare(`SELECT ${ROW_COLUMNS} FROM records WHERE sequence > ? ORDER BY sequence LIMIT ?`);
    oneQuery = db.prepare(`SELECT ${ROW_COLUMNS} FROM records WHERE sequence = ?`);
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

  const highestSalvaged = Math.max(rows.at(-1)?.record.sequence ?? 0, damagedRows.at(-1)?.sequence ?? 0, ...quarantined.map((copy) => copy.sequence));
  // Acknowledgements are contiguous, so one acknowledged record proves every lower one reached the back office.
  const ackedThrough = Math.max(counters.ackedThrough ?? 0, highestAcknowledged);
  const lastSequence = Math.max(counters.lastSequence ?? 0, upperBound ?? 0, highestSalvaged, ackedThrough);
  logger.info({ path, salvaged: rows.length, damaged: damagedRows.length, quarantined: quarantined.length, unreadable }, 'salvage read the damaged transaction database');
  return { rows, damagedRows, quarantined, lastSequence, ackedThrough };
}

/**
 * Keeps a row that SQLite returns but whose text is not a valid record of its sequence: its text
 * for the placeholder row and its bytes for quarantine, unless an earlier quarantine kept them.
 */
function keepDamaged(raw: RawRow, damagedRows: SalvageResult['damagedRows'], quarantined: QuarantinedRecord[], quarantinedSequences: Set<number>, now: Date): void {
  if (typeof raw.sequence !== 'number' || !Number.isSafeInteger(raw.sequence) || raw.sequence < 1) return;
  const text = typeof raw.record_json === 'string' ? raw.record_json : '';
  damagedRows.push({
    sequence: raw.sequence,
    kind: typeof raw.kind === 'string' ? raw.kind : 'purchase',
    asn: typeof raw.asn === 'string' ? raw.asn : '',
    occurredAtMs: typeof raw.occurred_at_ms === 'number' ? raw.occurred_at_ms : now.getTime(),
    text,
  });
  if (quarantinedSequences.has(raw.sequence)) return;
  quarantinedSequences.add(raw.sequence);
  const bytes = Buffer.isBuffer(raw.bytes) ? raw.bytes : Buffer.from(text);
  quarantined.push({ sequence: raw.sequence, bytes, reason: describeDamage(raw.sequence, text) ?? 'stored row is damaged', quarantinedAt: now.toISOString() });
}

/** Reads the old file's quarantined_records; none when that table cannot be read. */
function readQuarantined(db: Database.Database, path: string, logger: Logger): QuarantinedRecord[] {
  try {
    return db
      .prepare<[], { sequence: number; bytes: Buffer; reason: string; quarantinedAtMs: number }>(
        'SELECT sequence, record_bytes AS bytes, reason, quarantined_at_ms AS quarantinedAtMs FROM quarantined_records ORDER BY sequence',
      )
      .all()
      .filter((row) => Number.isSafeInteger(row.sequence) && Buffer.isBuffer(row.bytes))
      .map((row) => ({ sequence: row.sequence, bytes: row.bytes, reason: String(row.reason), quarantinedAt: new Date(Number(row.quarantinedAtMs) || 0).toISOString() }));
  } catch (error) {
    // NOTE: a damaged quarantined_records table is read whole or not at all. Records of its
    // sequences that are still readable in the records table are quarantined again from there.
    logger.error({ err: error, path }, 'quarantined_records of the damaged database cannot be read');
    return [];
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
