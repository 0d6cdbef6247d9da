import Database from 'better-sqlite3';
import { type PositionBatch, type ShiftRecord, type TerminalStatus, sha256Hex, terminalStatusSchema, topics } from '@busfare/shared-protocol';
import type {
  ClearedLedgerRow,
  AcceptedTransaction,
  BatchWriteResult,
  ClearingRepository,
  ClearingSummary,
  DayTotal,
  OpenInDoubtRow,
  RejectedInput,
  RejectedRow,
  ShiftReconciliation,
  StoredTransactionRow,
  TerminalProgress,
} from './clearing-repository.js';
import { CLEARING_CENTRE_SCHEMA_SQL } from './clearing-centre-schema.js';
import { CLEARING_SCHEMA_SQL } from './sqlite-schema.js';
import { type AcceptedLock, type CardLockRow, CardLockTable } from './card-lock-table.js';
import { type RecordColumns, columnsOf } from './record-columns.js';
import { nestedWrite, withoutSavepoints } from './nested-write.js';

export interface SqliteClearingRepositoryOptions {
  /** Database file path, or ':memory:'. */
  path: string;
  /** Wall clock for received_at columns. */
  now?: () => Date;
}

const PAGE_SIZE = 16_384;
/** Page cache of the ingest connection. */
const PAGE_CACHE_KIB = 64 * 1024;
/** WAL size at which a commit runs a checkpoint. */
const AUTO_CHECKPOINT_BYTES = 40 * 1024 * 1024;

/** Sequences read per query while walking a terminal's stored sequences. */
const SEQUENCE_PAGE = 1_000;
/**
 * Stored sequences scanned above the contiguous point when listing missing ranges. Terminals send
 * contiguous batches, so few records follow a gap before it is filled: at most one window of
 * batches in flight, by default 4 batches of 200 records (at most 500 a batch). A longer run
 * reports only the gaps within this window. Every acknowledgement of a terminal with a gap reads
 * these rows, so the limit also bounds what a terminal that leaves gaps on purpose costs ingest.
 */
const MISSING_SCAN_LIMIT = 2_000;
/**
 * Missing ranges listed per acknowledgement. A terminal re-sends from its first unacknowledged
 * record and GapResendRequester requests the first few ranges, so later ones are not needed. With
 * every other sequence missing, 10,000 ranges made each acknowledgement about 250 kB.
 */
export const MAX_MISSING_RANGES = 32;
/**
 * A terminal re-sends a payload that gets no acknowledgement, with a new batch id and send time,
 * every ack timeout (10 s by default). A payload rejected as a whole (a schema the back office
 * does not read, say) would then be stored again every time, up to 250 KB each, until the disk
 * fills. A payload rejected for the same reason as the terminal's last within this window is
 * therefore not stored again. The terminal still has its records in its outbox, and the stored copy
 * shows why.
 */
export const REPEATED_REJECTION_WINDOW_MS = 60 * 60 * 1000;

/**
 * Rows per multi-row INSERT of new records: 512 parameters. In a micro-benchmark of 200,000
 * records with this schema, 20 to 50 rows per statement took about 3 µs less per record than one.
 */
const TRANSACTION_ROWS = 32;
const TRANSACTION_COLUMNS = `terminal_id, sequence, kind, asn, issuer_id, card_type, amount_fen, occurred_at,
  business_day, verification, resolves_sequence, outcome, route, vehicle_id, raw_json, received_at`;
/**
 * raw_json binds either the record's text or its UTF-8 bytes (AcceptedTransaction.rawBytes). The
 * CAST makes the bytes TEXT without converting them, and leaves a text as it is.
 */
const TRANSACTION_PLACEHOLDERS = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT), ?)';
/**
 * One row of the multi-row INSERT. The terminal and the receive time are the same for every row
 * of a batch, so they are bound once per statement by name. In a micro-benchmark that took about
 * 0.3 µs less per record than binding them in every row.
 */
const FRESH_ROW_PLACEHOLDERS = '(@terminalId, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT), @receivedAt)';
type RawJson = string | Buffer;
type TransactionRow = [string, number, string, string, string, string, number, string, string, string, number | null, string | null, string | null, string, RawJson, string];

/** Returns the values of one transactions row, in the order of TRANSACTION_COLUMNS. */
function transactionRow(terminalId: string, item: AcceptedTransaction, record: RecordColumns, receivedAt: string): TransactionRow {
  const row: (RawJson | number | null)[] = [terminalId];
  pushFreshRow(row, item, record);
  row.push(receivedAt);
  return row as TransactionRow;
}

/** Appends the values of a row between terminal_id and received_at, as FRESH_ROW_PLACEHOLDERS binds them, to `into`. */
function pushFreshRow(into: (RawJson | number | null)[], item: AcceptedTransaction, record: RecordColumns): void {
  into.push(
    record.sequence,
    record.kind,
    record.asn,
    record.issuerId,
    record.cardType,
    record.amountFen,
    record.occurredAt,
    item.businessDay,
    item.verification,
    record.resolvesSequence,
    record.outcome,
    record.route,
    record.vehicleId,
    item.rawBytes ?? item.raw,
  );
}

const CLEARED_CONDITION = `(kind = 'purchase' OR (kind = 'resolution' AND outcome = 'debited')) AND verification IN ('verified', 'queued-for-issuer')`;

const SELECT_TRANSACTION = `
  SELECT terminal_id AS terminalId, sequence, kind, asn, issuer_id AS issuerId, card_type AS cardType, amount_fen AS amountFen,
    occurred_at AS occurredAt, business_day AS businessDay, verification, resolves_sequence AS resolvesSequence, outcome,
    route, vehicle_id AS vehicleId, received_at AS receivedAt
  FROM transactions`;

/**
 * Clearing storage in one SQLite file through better-sqlite3, in WAL mode with synchronous=FULL so
 * that a batch is durable on disk before it is acknowledged.
 */
export class SqliteClearingRepository implements ClearingRepository {
  private readonly locks: CardLockTable;
  private readonly db: Database.Database;
  private readonly now: () => Date;
  private readonly statements;
  private insertPosition: Database.Statement | undefined;
  private upsertStatus: Database.Statement | undefined;
  private selectStatus: Database.Statement<[string], { status_json: string }> | undefined;

  constructor(options: SqliteClearingRepositoryOptions) {
    this.db = new Database(options.path);
    this.now = options.now ?? (() => new Date());
    // A stored record with its JSON text takes about 900 bytes. With 16 KiB pages the ingest path
    // (100,000 records, no MQTT) took about 2.5 µs less per record than with 4 KiB pages, mostly
    // in the commit. SQLite applies the size only to a new database file, so an existing one keeps
    // its page size.
    // NOTE: that gain is on a new database. With 1,000,000 records stored, the card-keyed indexes
    // make each record dirty pages of its own, and in commits of 3,000 records 16 KiB pages wrote
    // 34 KB of WAL per record against 15 KB with 4 KiB pages (docs/benchmarks.md).
    this.db.pragma(`page_size = ${PAGE_SIZE}`);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    // A checkpoint copies the WAL into the database file and flushes it, inside the commit that
    // crosses the limit. Ingest commits several megabytes at a time, so with SQLite's default of
    // 1,000 pages nearly every commit ran one. About 40 MB runs one per several commits.
    this.db.pragma(`wal_autocheckpoint = ${Math.round(AUTO_CHECKPOINT_BYTES / (this.db.pragma('page_size', { simple: true }) as number))}`);
    // A group commit of ingest dirties several megabytes, more than SQLite's default cache of
    // 2 MB holds. With 64 MiB the ingest path took about 1 µs less per record.
    this.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    this.db.exec(CLEARING_SCHEMA_SQL);
    this.db.exec(CLEARING_CENTRE_SCHEMA_SQL);
    this.locks = new CardLockTable(this.db);

    this.statements = {
      // Positional parameters: binding an object by name costs about 40% more per row, and this is ingest's hot path.
      // ON CONFLICT skips only a row whose sequence is taken. INSERT OR IGNORE would also skip a
      // row that fails a CHECK or NOT NULL constraint, and the record would be acknowledged unstored.
      insertTransaction: this.db.prepare<TransactionRow>(
        `INSERT INTO transactions (${TRANSACTION_COLUMNS}) VALUES ${TRANSACTION_PLACEHOLDERS} ON CONFLICT (terminal_id, sequence) DO NOTHING`,
      ),
      insertTransactions: this.db.prepare<[(RawJson | number | null)[], { terminalId: string; receivedAt: string }]>(
        `INSERT OR IGNORE INTO transactions (${TRANSACTION_COLUMNS}) VALUES ${Array.from({ length: TRANSACTION_ROWS }, () => FRESH_ROW_PLACEHOLDERS).join(', ')}`,
      ),
      anySequenceBetween: this.db.prepare<[string, number, number, string, number, number], { found: 1 }>(`
        SELECT 1 AS found FROM transactions WHERE terminal_id = ? AND sequence BETWEEN ? AND ?
        UNION ALL
        SELECT 1 FROM card_locks WHERE terminal_id = ? AND sequence BETWEEN ? AND ?
        LIMIT 1`),
      storedRaw: this.db.prepare<[string, number], { raw_json: string }>('SELECT raw_json FROM transactions WHERE terminal_id = ? AND sequence = ?'),
      recentPayloadRejection: this.db.prepare<[string, string, string], { found: number }>(
        'SELECT 1 AS found FROM rejected WHERE terminal_id = ? AND sequence IS NULL AND received_at > ? AND reason = ? LIMIT 1',
      ),
      insertRejected: this.db.prepare(`
        INSERT OR IGNORE INTO rejected (terminal_id, topic, sequence, reason, payload, payload_sha256, received_at)
        VALUES (@terminalId, @topic, @sequence, @reason, @payload, @payloadSha256, @receivedAt)`),
      selectProgress: this.db.prepare<[string], { contiguous_through: number; highest_seen: number }>(
        'SELECT contiguous_through, highest_seen FROM terminal_progress WHERE terminal_id = ?',
      ),
      upsertProgress: this.db.prepare(`
        INSERT INTO terminal_progress (terminal_id, contiguous_through, highest_seen, duplicates, updated_at)
        VALUES (@terminalId, @contiguousThrough, @highestSeen, @duplicates, @updatedAt)
        ON CONFLICT (terminal_id) DO UPDATE SET
          contiguous_through = excluded.contiguous_through,
          highest_seen = excluded.highest_seen,
          duplicates = duplicates + excluded.duplicates,
          updated_at = excluded.updated_at`),
      sequencesAbove: this.db.prepare<[string, number, string, number, string, number, number], { sequence: number }>(`
        SELECT sequence FROM transactions WHERE terminal_id = ? AND sequence > ?
        UNION
        SELECT sequence FROM rejected WHERE terminal_id = ? AND sequence > ?
        UNION
        SELECT sequence FROM card_locks WHERE terminal_id = ? AND sequence > ?
        ORDER BY sequence LIMIT ?`),
      lockSequencesBetween: this.db
        .prepare<[string, number, number], number>('SELECT sequence FROM card_locks WHERE terminal_id = ? AND sequence BETWEEN ? AND ?')
        .pluck(),
      findTransaction: this.db.prepare<[string, number], StoredTransactionRow>(`${SELECT_TRANSACTION} WHERE terminal_id = ? AND sequence = ?`),
    };
  }

  /** The open database handle, for the clearing centre's stores that share this file. */
  get database(): Database.Database {
    return this.db;
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  transactionWithoutSavepoints<T>(work: () => T): T {
    return withoutSavepoints(this.db, work);
  }

  writeBatch(terminalId: string, accepted: readonly AcceptedTransaction[], rejected: readonly RejectedInput[], locks: readonly AcceptedLock[] = []): BatchWriteResult {
    const write = (): BatchWriteResult => {
      const receivedAt = this.now().toISOString();
      const result: BatchWriteResult = { stored: 0, storedSequences: [], duplicates: 0, conflicts: [], rejectedStored: 0 };
      let highest = 0;
      const conflict = (sequence: number, raw: string) => {
        const reason = `sequence ${sequence} is already stored with different content`;
        result.conflicts.push({ sequence, reason });
        if (this.insertRejected({ terminalId, topic: topics.transactions(terminalId), sequence, reason, payload: raw }, receivedAt)) result.rejectedStored += 1;
        else result.duplicates += 1;
      };

      for (const item of locks) {
        const { sequence } = item.record;
        highest = Math.max(highest, sequence);
        if (this.statements.storedRaw.get(terminalId, sequence) !== undefined) {
          conflict(sequence, item.raw);
          continue;
        }
        if (this.locks.insert(item, receivedAt)) {
          result.stored += 1;
          result.storedSequences.push(sequence);
        } else if (this.locks.storedRaw(terminalId, sequence) === item.raw) {
          result.duplicates += 1;
        } else {
          conflict(sequence, item.raw);
        }
      }

      // Every sequence in `present` is in the transactions, card_locks or rejected table once
      // this transaction commits, so the contiguous point can move over them without a query.
      const present: number[] = [];
      for (const item of locks) present.push(item.record.sequence);

      const columns = accepted.map(columnsOf);
      for (const { sequence } of columns) {
        highest = Math.max(highest, sequence);
        present.push(sequence);
      }
      if (this.isFreshRange(terminalId, columns)) {
        this.insertFresh(terminalId, accepted, columns, receivedAt);
        result.stored += accepted.length;
        for (const { sequence } of columns) result.storedSequences.push(sequence);
      } else {
        const lockedSequences = this.lockedSequences(terminalId, columns);
        accepted.forEach((item, index) => {
          const record = columns[index]!;
          // A lock record already holds this sequence.
          if (lockedSequences.has(record.sequence)) {
            conflict(record.sequence, item.raw);
            return;
          }
          if (this.statements.insertTransaction.run(...transactionRow(terminalId, item, record, receivedAt)).changes === 1) {
            result.stored += 1;
            result.storedSequences.push(record.sequence);
            return;
          }
          const stored = this.statements.storedRaw.get(terminalId, record.sequence);
          if (stored?.raw_json === item.raw) {
            result.duplicates += 1;
            return;
          }
          conflict(record.sequence, item.raw);
        });
      }

      for (const item of rejected) {
        if (item.sequence !== null) highest = Math.max(highest, item.sequence);
        if (this.insertRejected(item, receivedAt)) {
          result.rejectedStored += 1;
          if (item.sequence !== null) present.push(item.sequence);
        } else {
          result.duplicates += 1;
        }
      }

      this.advanceProgress(terminalId, highest, result.duplicates, receivedAt, present);
      return result;
    };
    return nestedWrite(this.db, write);
  }

  /**
   * Returns true when the sequences of `columns` rise strictly and no stored record or lock uses
   * any sequence between the first and the last. Every record of such a batch is then new, as in
   * all but resent batches.
   */
  private isFreshRange(terminalId: string, columns: readonly RecordColumns[]): boolean {
    if (columns.length === 0) return false;
    for (let index = 1; index < columns.length; index += 1) if (columns[index]!.sequence <= columns[index - 1]!.sequence) return false;
    const lowest = columns[0]!.sequence;
    const highest = columns[columns.length - 1]!.sequence;
    return this.statements.anySequenceBetween.get(terminalId, lowest, highest, terminalId, lowest, highest) === undefined;
  }

  /**
   * Inserts records that isFreshRange() found new, TRANSACTION_ROWS per statement. The statements
   * are INSERT OR IGNORE: a statement that may abort halfway makes SQLite copy every page it
   * changes into a statement journal first, which took about 1.4 GB of temporary-file writes for
   * the 200,000 records of the ingest benchmark. A row that was not inserted raises instead.
   */
  private insertFresh(terminalId: string, accepted: readonly AcceptedTransaction[], columns: readonly RecordColumns[], receivedAt: string): void {
    let inserted = 0;
    let index = 0;
    const batch = { terminalId, receivedAt };
    for (; index + TRANSACTION_ROWS <= accepted.length; index += TRANSACTION_ROWS) {
      const values: (RawJson | number | null)[] = [];
      for (let row = index; row < index + TRANSACTION_ROWS; row += 1) pushFreshRow(values, accepted[row]!, columns[row]!);
      inserted += this.statements.insertTransactions.run(values, batch).changes;
    }
    for (; index < accepted.length; index += 1) inserted += this.statements.insertTransaction.run(...transactionRow(terminalId, accepted[index]!, columns[index]!, receivedAt)).changes;
    if (inserted !== accepted.length) throw new Error(`stored ${inserted} of ${accepted.length} new records of terminal ${terminalId}: a row failed a constraint or its sequence was taken after the range check`);
  }

  /** Reads which sequences of `accepted` lock records already use, with one range query per batch. */
  private lockedSequences(terminalId: string, columns: readonly RecordColumns[]): Set<number> {
    if (columns.length === 0) return new Set();
    let lowest = Number.MAX_SAFE_INTEGER;
    let highest = 0;
    for (const { sequence } of columns) {
      lowest = Math.min(lowest, sequence);
      highest = Math.max(highest, sequence);
    }
    return new Set(this.statements.lockSequencesBetween.all(terminalId, lowest, highest));
  }

  addRejected(rejected: RejectedInput): boolean {
    const now = this.now();
    if (rejected.sequence === null) {
      const since = new Date(now.getTime() - REPEATED_REJECTION_WINDOW_MS).toISOString();
      if (this.statements.recentPayloadRejection.get(rejected.terminalId, since, rejected.reason) !== undefined) return false;
    }
    return this.insertRejected(rejected, now.toISOString());
  }

  findTransaction(terminalId: string, sequence: number): StoredTransactionRow | undefined {
    return this.statements.findTransaction.get(terminalId, sequence);
  }

  progress(terminalId: string): TerminalProgress {
    const row = this.statements.selectProgress.get(terminalId);
    const contiguousThrough = row?.contiguous_through ?? 0;
    const highestSeen = row?.highest_seen ?? 0;
    const missing: { from: number; to: number }[] = [];
    if (highestSeen > contiguousThrough) {
      let expected = contiguousThrough + 1;
      let rowsRead = 0;
      for (const { sequence } of this.statements.sequencesAbove.iterate(terminalId, contiguousThrough, terminalId, contiguousThrough, terminalId, contiguousThrough, MISSING_SCAN_LIMIT)) {
        rowsRead += 1;
        if (sequence > expected) missing.push({ from: expected, to: sequence - 1 });
        expected = sequence + 1;
        // Leaving iterate() early ends the statement, so no further row is read.
        if (missing.length === MAX_MISSING_RANGES) break;
      }
      if (rowsRead < MISSING_SCAN_LIMIT && missing.length < MAX_MISSING_RANGES && expected <= highestSeen) missing.push({ from: expected, to: highestSeen });
    }
    return { terminalId, contiguousThrough, highestSeen, missing };
  }

  storePositions(batch: PositionBatch): number {
    // Prepared once: position batches arrive from every bus every few seconds.
    this.insertPosition ??= this.db.prepare(`
      INSERT OR IGNORE INTO positions (terminal_id, vehicle_id, time, lat, lon, speed_mps, course_deg, hdop, satellites,
        route, direction, trip_id, stop_id, received_at)
      VALUES (@terminalId, @vehicleId, @time, @lat, @lon, @speedMps, @courseDeg, @hdop, @satellites,
        @route, @direction, @tripId, @stopId, @receivedAt)`);
    const insert = this.insertPosition;
    const write = this.db.transaction(() => {
      const receivedAt = this.now().toISOString();
      let stored = 0;
      for (const fix of batch.fixes) {
        stored += insert.run({
          terminalId: batch.terminalId,
          vehicleId: batch.vehicleId,
          time: fix.time,
          lat: fix.lat,
          lon: fix.lon,
          speedMps: fix.speedMps ?? null,
          courseDeg: fix.courseDeg ?? null,
          hdop: fix.hdop ?? null,
          satellites: fix.satellites ?? null,
          route: fix.route ?? null,
          direction: fix.direction ?? null,
          tripId: fix.tripId ?? null,
          stopId: fix.stopId ?? null,
          receivedAt,
        }).changes;
      }
      return stored;
    });
    return write();
  }

  storeStatus(status: TerminalStatus): void {
    // The latest status received wins, whatever its `at`. The broker delivers one terminal's
    // statuses in the order it received them, and a replayed retained status is the last one it
    // holds. `at` cannot order them: a terminal's last will carries the time its uplink started,
    // which precedes every heartbeat, and a terminal clock can jump back or run ahead by a day.
    this.upsertStatus ??= this.db.prepare(`
        INSERT INTO terminal_status (terminal_id, state, at, status_json, received_at)
        VALUES (@terminalId, @state, @at, @json, @receivedAt)
        ON CONFLICT (terminal_id) DO UPDATE SET
          state = excluded.state, at = excluded.at, status_json = excluded.status_json, received_at = excluded.received_at`);
    const stored = status.state === 'offline' ? this.withLastKnownCounters(status) : status;
    this.upsertStatus.run({ terminalId: stored.terminalId, state: stored.state, at: stored.at, json: JSON.stringify(stored), receivedAt: this.now().toISOString() });
  }

  /**
   * Returns an offline status (last will or shutdown) with the backlog and last sequence of the
   * status stored before it, which reconciliation needs and the offline status does not carry.
   * It also gets the later of the two times, because a last will's `at` is the time the uplink
   * started, before the terminal's last heartbeat.
   */
  private withLastKnownCounters(status: TerminalStatus): TerminalStatus {
    this.selectStatus ??= this.db.prepare<[string], { status_json: string }>('SELECT status_json FROM terminal_status WHERE terminal_id = ?');
    const row = this.selectStatus.get(status.terminalId);
    const previous = row === undefined ? undefined : terminalStatusSchema.safeParse(JSON.parse(row.status_json)).data;
    if (previous === undefined) return status;
    const merged: TerminalStatus = { ...status };
    if (merged.backlog === undefined && previous.backlog !== undefined) merged.backlog = previous.backlog;
    if (merged.lastSequence === undefined && previous.lastSequence !== undefined) merged.lastSequence = previous.lastSequence;
    if (Date.parse(previous.at) > Date.parse(status.at)) merged.at = previous.at;
    return merged;
  }

  storeShift(record: ShiftRecord): boolean {
    const result = this.db
      .prepare(`
        INSERT OR IGNORE INTO shifts (terminal_id, shift_id, driver_id, started_at, ended_at, first_sequence, last_sequence,
          accepted, amount_fen, record_json, received_at)
        VALUES (@terminalId, @shiftId, @driverId, @startedAt, @endedAt, @firstSequence, @lastSequence, @accepted, @amountFen, @json, @receivedAt)`)
      .run({
        terminalId: record.terminalId,
        shiftId: record.shiftId,
        driverId: record.driverId,
        startedAt: record.startedAt,
        endedAt: record.endedAt,
        firstSequence: record.firstSequence,
        lastSequence: record.lastSequence,
        accepted: record.counters.accepted,
        amountFen: record.counters.amountFen,
        json: JSON.stringify(record),
        receivedAt: this.now().toISOString(),
      });
    return result.changes > 0;
  }

  shiftReconciliations(limit: number): ShiftReconciliation[] {
    return this.db
      .prepare<[number], ShiftReconciliation>(`
        SELECT s.terminal_id AS terminalId, s.shift_id AS shiftId, s.driver_id AS driverId, s.started_at AS startedAt, s.ended_at AS endedAt,
          s.accepted AS reportedAccepted, s.amount_fen AS reportedAmountFen,
          COUNT(t.sequence) AS clearedRecords, COALESCE(SUM(t.amount_fen), 0) AS clearedAmountFen,
          s.amount_fen - COALESCE(SUM(t.amount_fen), 0) AS differenceFen
        FROM shifts s
        LEFT JOIN transactions t ON t.terminal_id = s.terminal_id AND t.sequence BETWEEN s.first_sequence AND s.last_sequence
          AND ${CLEARED_CONDITION.replace(/\b(kind|outcome|verification)\b/g, 't.$1')}
        GROUP BY s.terminal_id, s.shift_id
        ORDER BY s.ended_at DESC
        LIMIT ?`)
      .all(limit);
  }

  latestStatuses(): TerminalStatus[] {
    const rows = this.db.prepare<[], { status_json: string }>('SELECT status_json FROM terminal_status ORDER BY terminal_id').all();
    return rows.map((row) => terminalStatusSchema.parse(JSON.parse(row.status_json)));
  }

  totalsByTerminalAndDay(): DayTotal[] {
    return this.db
      .prepare<[], DayTotal>(`
        SELECT terminal_id AS terminalId, business_day AS businessDay, COUNT(*) AS count, COALESCE(SUM(amount_fen), 0) AS amountFen
        FROM transactions WHERE ${CLEARED_CONDITION}
        GROUP BY terminal_id, business_day
        ORDER BY business_day DESC, terminal_id`)
      .all();
  }

  recentTransactions(limit: number): StoredTransactionRow[] {
    return this.db.prepare<[number], StoredTransactionRow>(`${SELECT_TRANSACTION} ORDER BY rowid DESC LIMIT ?`).all(limit);
  }

  recentCardLocks(limit: number): CardLockRow[] {
    return this.locks.recent(limit);
  }

  recentRejected(limit: number): RejectedRow[] {
    return this.db
      .prepare<[number], RejectedRow>(`
        SELECT id, terminal_id AS terminalId, topic, sequence, reason, payload, received_at AS receivedAt
        FROM rejected ORDER BY id DESC LIMIT ?`)
      .all(limit);
  }

  openInDoubt(): OpenInDoubtRow[] {
    return this.db
      .prepare<[], OpenInDoubtRow>(`
        SELECT t.terminal_id AS terminalId, t.sequence, t.asn, t.amount_fen AS amountFen, t.occurred_at AS occurredAt
        FROM transactions t
        WHERE t.kind = 'in-doubt' AND NOT EXISTS (
          SELECT 1 FROM transactions r
          WHERE r.terminal_id = t.terminal_id AND r.kind = 'resolution' AND r.resolves_sequence = t.sequence)
        ORDER BY t.terminal_id, t.sequence`)
      .all();
  }

  summary(): ClearingSummary {
    const cleared = this.db
      .prepare<[], { count: number; amount: number }>(`SELECT COUNT(*) AS count, COALESCE(SUM(amount_fen), 0) AS amount FROM transactions WHERE ${CLEARED_CONDITION}`)
      .get() ?? { count: 0, amount: 0 };
    const rejected = this.db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM rejected').get()?.count ?? 0;
    const progress = this.db
      .prepare<[], { terminalId: string; ackedThrough: number; duplicates: number }>(
        'SELECT terminal_id AS terminalId, contiguous_through AS ackedThrough, duplicates FROM terminal_progress ORDER BY terminal_id',
      )
      .all();
    return {
      recordsCleared: cleared.count,
      clearedAmountFen: cleared.amount,
      recordsRejected: rejected,
      inDoubtOpen: this.openInDoubt().length,
      duplicatesIgnored: progress.reduce((sum, row) => sum + row.duplicates, 0),
      byTerminal: progress.map(({ terminalId, ackedThrough }) => ({ terminalId, ackedThrough })),
    };
  }

  clearedLedger(): ClearedLedgerRow[] {
    return this.db
      .prepare<[], ClearedLedgerRow>(
        `SELECT terminal_id AS terminalId, sequence, asn, json_extract(raw_json, '$.debit.cardCounter') AS cardCounter, amount_fen AS amountFen
         FROM transactions WHERE ${CLEARED_CONDITION} ORDER BY terminal_id, sequence`,
      )
      .all();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private insertRejected(rejected: RejectedInput, receivedAt: string): boolean {
    return (
      this.statements.insertRejected.run({
        terminalId: rejected.terminalId,
        topic: rejected.topic,
        sequence: rejected.sequence,
        reason: rejected.reason,
        payload: rejected.payload,
        payloadSha256: sha256Hex(rejected.payload),
        receivedAt,
      }).changes === 1
    );
  }

  /**
   * Moves contiguous_through over every stored or rejected sequence that now follows it. The
   * sequences in `present` are known to be stored, so only what lies beyond them is read.
   */
  private advanceProgress(terminalId: string, highestInBatch: number, duplicates: number, updatedAt: string, present: readonly number[]): void {
    const row = this.statements.selectProgress.get(terminalId);
    let contiguous = row?.contiguous_through ?? 0;
    const highestSeen = Math.max(row?.highest_seen ?? 0, highestInBatch);
    for (const sequence of [...present].sort((a, b) => a - b)) {
      if (sequence === contiguous + 1) contiguous = sequence;
      else if (sequence > contiguous + 1) break;
    }

    for (;;) {
      let advanced = 0;
      // Leaving iterate() at the first sequence that does not follow reads no more rows, which
      // matters for a terminal with many gaps above its contiguous point.
      for (const { sequence } of this.statements.sequencesAbove.iterate(terminalId, contiguous, terminalId, contiguous, terminalId, contiguous, SEQUENCE_PAGE)) {
        if (sequence !== contiguous + 1) break;
        contiguous = sequence;
        advanced += 1;
      }
      if (advanced < SEQUENCE_PAGE) break;
    }

    this.statements.upsertProgress.run({ terminalId, contiguousThrough: contiguous, highestSeen, duplicates, updatedAt });
  }
}
