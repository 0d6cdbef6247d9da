import type { PositionBatch, ShiftRecord, TerminalStatus, TransactionRecord } from '@busfare/shared-protocol';
import type { AcceptedLock, CardLockRow } from './card-lock-table.js';
import type { RecordColumns } from './record-columns.js';

/**
 * Outcome of the evidence check of a stored record.
 * - `verified`: the TAC was recomputed with the issuer's key and matched.
 * - `queued-for-issuer`: an out-of-town T-Union issuer whose keys this centre does not hold; the
 *   record waits for that issuer's clearing to verify it.
 * - `not-applicable`: the record carries no TAC to check (an in-doubt record, or a resolution
 *   whose card proved that no debit happened).
 */
export type VerificationStatus = 'verified' | 'queued-for-issuer' | 'not-applicable';

/** A record that passed validation and verification, ready to store. */
export interface AcceptedTransaction {
  terminalId: string;
  record: TransactionRecord;
  verification: VerificationStatus;
  /** Local business day (YYYY-MM-DD) that the record's occurredAt falls in. */
  businessDay: string;
  /** The record as received, as canonical JSON, so a resent copy compares equal. */
  raw: string;
  /**
   * The UTF-8 bytes of `raw`, when the record arrived packed from the check worker. Storing binds
   * them as they are instead of encoding the text again.
   */
  rawBytes?: Buffer;
  /** The fields that storing and screening read; without them they are read from `record`. */
  columns?: RecordColumns;
}

/** A payload or record that ingest refused, kept with the reason. */
export interface RejectedInput {
  terminalId: string;
  topic: string;
  /** The record's sequence when it could be read, so the acknowledgement can cover it. */
  sequence: number | null;
  reason: string;
  /** The refused text: the whole payload, or one record as JSON. */
  payload: string;
}

export interface RejectedRow extends RejectedInput {
  id: number;
  receivedAt: string;
}

export interface StoredTransactionRow {
  terminalId: string;
  sequence: number;
  kind: TransactionRecord['kind'];
  asn: string;
  issuerId: string;
  cardType: string;
  amountFen: number;
  occurredAt: string;
  businessDay: string;
  verification: VerificationStatus;
  resolvesSequence: number | null;
  outcome: 'debited' | 'not-debited' | null;
  route: string | null;
  vehicleId: string;
  receivedAt: string;
}

export interface BatchWriteResult {
  /** Records newly stored in the transactions table, and lock records in theirs. */
  stored: number;
  /** Sequences of the records newly stored, in batch order. */
  storedSequences: number[];
  /** Records already stored with the same content, and rejections already kept. */
  duplicates: number;
  /**
   * Records whose sequence was already stored with different content. The repository keeps them
   * in the rejected table and returns them so the caller can report them.
   */
  conflicts: { sequence: number; reason: string }[];
  /** Rejections newly kept. */
  rejectedStored: number;
}

export interface TerminalProgress {
  terminalId: string;
  /** Every sequence from 1 to this one is stored or kept as rejected. */
  contiguousThrough: number;
  highestSeen: number;
  /** Ranges below highestSeen that are neither stored nor rejected, in order. */
  missing: { from: number; to: number }[];
}

export interface DayTotal {
  terminalId: string;
  businessDay: string;
  count: number;
  amountFen: number;
}

export interface OpenInDoubtRow {
  terminalId: string;
  sequence: number;
  asn: string;
  amountFen: number;
  occurredAt: string;
}

/**
 * Counts for the bench report and the console. "Cleared" records are stored records that move
 * money, whose evidence is verified or queued for the issuer: purchases, and resolutions whose
 * card proved the debit. In-doubt records and not-debited resolutions move no money and are not
 * counted. Rejections count every row of the rejected table, payload-level ones included.
 */
export interface ClearingSummary {
  recordsCleared: number;
  clearedAmountFen: number;
  recordsRejected: number;
  inDoubtOpen: number;
  duplicatesIgnored: number;
  byTerminal: { terminalId: string; ackedThrough: number }[];
}

/** A cleared record reduced to what a card-ledger check needs. */
export interface ClearedLedgerRow {
  terminalId: string;
  sequence: number;
  asn: string;
  cardCounter: number;
  amountFen: number;
}

/**
 * A driver shift as its terminal counted it, beside the cleared records of the shift's sequence
 * range. A difference means records are missing, rejected or still in doubt, or the terminal lost
 * counts in a power cut.
 */
export interface ShiftReconciliation {
  terminalId: string;
  shiftId: string;
  driverId: string;
  startedAt: string;
  endedAt: string;
  reportedAccepted: number;
  reportedAmountFen: number;
  clearedRecords: number;
  clearedAmountFen: number;
  /** reportedAmountFen minus clearedAmountFen. */
  differenceFen: number;
}

/**
 * Storage of the clearing back office. Every method is synchronous in the SQLite adapter; a
 * server-database adapter would make them asynchronous, so callers keep their use in one place.
 */
export interface ClearingRepository {
  /**
   * Runs `work` in one write transaction (BEGIN IMMEDIATE) and commits it once. Writes that
   * `work` makes through this repository's connection, writeBatch included, join it.
   */
  transaction<T>(work: () => T): T;
  /**
   * Runs `work` as transaction() does, except that writeBatch and the evidence claims open no
   * savepoint of their own inside it. An error in `work` therefore rolls back all of it, and a
   * write that needs a savepoint raises SavepointRequired (nested-write.ts).
   */
  transactionWithoutSavepoints<T>(work: () => T): T;
  /**
   * Stores one batch's accepted records and rejections in one durable transaction and advances
   * the terminal's progress. A record whose (terminalId, sequence) is already stored is a
   * duplicate when its content is the same, and a conflict (kept as rejected) when it differs.
   * Lock records go to their own table and take part in the same checks.
   */
  writeBatch(terminalId: string, accepted: readonly AcceptedTransaction[], rejected: readonly RejectedInput[], locks?: readonly AcceptedLock[]): BatchWriteResult;
  /**
   * Keeps one rejected payload that belongs to no batch (invalid JSON, wrong envelope). Returns
   * false when it was not stored: the same payload is stored already, or the terminal had a payload
   * rejected for the same reason within REPEATED_REJECTION_WINDOW_MS.
   */
  addRejected(rejected: RejectedInput): boolean;
  /** Returns a stored record, or undefined. */
  findTransaction(terminalId: string, sequence: number): StoredTransactionRow | undefined;
  progress(terminalId: string): TerminalProgress;
  storePositions(batch: PositionBatch): number;
  /**
   * Stores a terminal's status as its latest, replacing the one stored before whatever either's
   * `at`. An `offline` status takes the backlog and last sequence it lacks, and the later `at`,
   * from the one before.
   */
  storeStatus(status: TerminalStatus): void;
  /** Stores a shift record; returns false when the same shift was already stored. */
  storeShift(record: ShiftRecord): boolean;
  /** Shifts, newest first, each reconciled against the cleared records of its sequence range. */
  shiftReconciliations(limit: number): ShiftReconciliation[];
  latestStatuses(): TerminalStatus[];
  totalsByTerminalAndDay(): DayTotal[];
  recentTransactions(limit: number): StoredTransactionRow[];
  recentRejected(limit: number): RejectedRow[];
  /** Lock records of blacklisted cards, newest first. */
  recentCardLocks(limit: number): CardLockRow[];
  openInDoubt(): OpenInDoubtRow[];
  summary(): ClearingSummary;
  /** Every cleared record with the card counter its debit used, for ledger checks. */
  clearedLedger(): ClearedLedgerRow[];
  close(): void;
}
