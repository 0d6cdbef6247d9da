import Database from 'better-sqlite3';
import type { TransactionRecord } from '@busfare/shared-protocol';

/**
 * Clone checks for MIFARE Classic (M1) purses. Crypto-1 is broken, so an M1 card can be copied
 * with its balance. The copies then spend from the same purse counter, or a balance the card had
 * already spent comes back. The back office keeps one observation per debited M1 record. It flags
 * a card number when two records claim the same purse counter, or when a later counter starts
 * from a higher balance than an earlier one ended with.
 */
export type CloneFlagKind = 'overlapping-counter' | 'balance-without-load';

export interface CloneFlag {
  asn: string;
  kind: CloneFlagKind;
  terminalId: string;
  sequence: number;
  otherTerminalId: string;
  otherSequence: number;
  detail: string;
}

export interface StoredCloneFlag extends CloneFlag {
  id: number;
  flaggedAt: string;
}

/** One debited M1 record, reduced to what the clone checks compare. */
export interface M1PurseObservation {
  asn: string;
  terminalId: string;
  sequence: number;
  purseCounter: number;
  balanceBeforeFen: number;
  balanceAfterFen: number;
}

/** Returns the observation of a record that proves a debit (a completed purchase or a debited resolution), else undefined. */
export function observationOf(terminalId: string, record: TransactionRecord): M1PurseObservation | undefined {
  if (record.card.application !== 'm1') return undefined;
  const debited = record.kind === 'purchase' || (record.kind === 'resolution' && record.outcome === 'debited');
  if (!debited) return undefined;
  const { debit } = record;
  return {
    asn: record.card.asn,
    terminalId,
    sequence: record.sequence,
    purseCounter: debit.cardCounter,
    balanceBeforeFen: debit.balanceBeforeFen,
    balanceAfterFen: debit.balanceAfterFen ?? debit.balanceBeforeFen - debit.amountFen,
  };
}

/**
 * Compares a new observation with the card's earlier ones. Two records of one counter are a
 * clone, and so is a balance before a later counter above the balance after an earlier counter.
 */
// NOTE: loads are not ingested yet, so every balance increase is flagged, including one from a real top-up.
export function detectCloneFlags(observation: M1PurseObservation, earlier: readonly M1PurseObservation[]): CloneFlag[] {
  const flags: CloneFlag[] = [];
  const flag = (kind: CloneFlagKind, other: M1PurseObservation, detail: string) =>
    flags.push({ asn: observation.asn, kind, terminalId: observation.terminalId, sequence: observation.sequence, otherTerminalId: other.terminalId, otherSequence: other.sequence, detail });
  for (const other of earlier) {
    if (other.terminalId === observation.terminalId && other.sequence === observation.sequence) continue;
    if (other.purseCounter === observation.purseCounter) {
      flag('overlapping-counter', other, `purse counter ${observation.purseCounter} used twice`);
      continue;
    }
    const [first, second] = other.purseCounter < observation.purseCounter ? [other, observation] : [observation, other];
    if (second.balanceBeforeFen > first.balanceAfterFen) {
      flag('balance-without-load', other, `balance rose from ${first.balanceAfterFen} fen after counter ${first.purseCounter} to ${second.balanceBeforeFen} fen before counter ${second.purseCounter}`);
    }
  }
  return flags;
}

/** Storage of observations and clone flags. */
export interface CloneFlagStore {
  /** Stores the observation of a debited M1 record and returns the flags it raised (none for other records). */
  observe(terminalId: string, record: TransactionRecord, flaggedAt: string): CloneFlag[];
  /** Flags, newest first. */
  listCloneFlags(limit: number): StoredCloneFlag[];
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS m1_purse_observations (
    asn TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    purse_counter INTEGER NOT NULL,
    balance_before_fen INTEGER NOT NULL,
    balance_after_fen INTEGER NOT NULL,
    PRIMARY KEY (terminal_id, sequence)
  );
  CREATE INDEX IF NOT EXISTS m1_purse_observations_asn ON m1_purse_observations (asn);
  CREATE TABLE IF NOT EXISTS m1_clone_flags (
    id INTEGER PRIMARY KEY,
    asn TEXT NOT NULL,
    kind TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    other_terminal_id TEXT NOT NULL,
    other_sequence INTEGER NOT NULL,
    detail TEXT NOT NULL,
    flagged_at TEXT NOT NULL
  );
`;

interface ObservationRow {
  asn: string;
  terminal_id: string;
  sequence: number;
  purse_counter: number;
  balance_before_fen: number;
  balance_after_fen: number;
}

/** Clone observations and flags in SQLite tables of their own, in the back office's database or any other. */
export class SqliteCloneFlagStore implements CloneFlagStore {
  private readonly statements;
  private ownedDatabase = false;

  /**
   * Opens the clone tables in the database file at `path` (created when missing) on a connection
   * of its own, which close() closes.
   */
  static open(path: string): SqliteCloneFlagStore {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    // An observation must be as durable as the record it came from, which the repository writes with FULL.
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    const store = new SqliteCloneFlagStore(db);
    store.ownedDatabase = true;
    return store;
  }

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    this.statements = {
      byAsn: db.prepare<[string], ObservationRow>('SELECT * FROM m1_purse_observations WHERE asn = ?'),
      insertObservation: db.prepare(
        'INSERT OR IGNORE INTO m1_purse_observations (asn, terminal_id, sequence, purse_counter, balance_before_fen, balance_after_fen) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      insertFlag: db.prepare(
        'INSERT INTO m1_clone_flags (asn, kind, terminal_id, sequence, other_terminal_id, other_sequence, detail, flagged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      list: db.prepare('SELECT * FROM m1_clone_flags ORDER BY id DESC LIMIT ?'),
    };
  }

  observe(terminalId: string, record: TransactionRecord, flaggedAt: string): CloneFlag[] {
    const observation = observationOf(terminalId, record);
    if (!observation) return [];
    return this.db.transaction(() => {
      const inserted = this.statements.insertObservation.run(
        observation.asn,
        observation.terminalId,
        observation.sequence,
        observation.purseCounter,
        observation.balanceBeforeFen,
        observation.balanceAfterFen,
      );
      // A record delivered again was compared the first time.
      if (inserted.changes === 0) return [];
      const earlier = this.statements.byAsn.all(observation.asn).map(toObservation);
      const flags = detectCloneFlags(observation, earlier);
      for (const flag of flags) {
        this.statements.insertFlag.run(flag.asn, flag.kind, flag.terminalId, flag.sequence, flag.otherTerminalId, flag.otherSequence, flag.detail, flaggedAt);
      }
      return flags;
    })();
  }

  /** Closes the connection that open() made; a database passed to the constructor stays open. */
  close(): void {
    if (this.ownedDatabase && this.db.open) this.db.close();
  }

  listCloneFlags(limit: number): StoredCloneFlag[] {
    return (this.statements.list.all(limit) as Record<string, string | number>[]).map((row) => ({
      id: Number(row.id),
      asn: String(row.asn),
      kind: row.kind as CloneFlagKind,
      terminalId: String(row.terminal_id),
      sequence: Number(row.sequence),
      otherTerminalId: String(row.other_terminal_id),
      otherSequence: Number(row.other_sequence),
      detail: String(row.detail),
      flaggedAt: String(row.flagged_at),
    }));
  }
}

function toObservation(row: ObservationRow): M1PurseObservation {
  return {
    asn: row.asn,
    terminalId: row.terminal_id,
    sequence: row.sequence,
    purseCounter: row.purse_counter,
    balanceBeforeFen: row.balance_before_fen,
    balanceAfterFen: row.balance_after_fen,
  };
}
