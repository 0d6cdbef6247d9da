import type Database from 'better-sqlite3';
import type { LockRecord } from '@busfare/shared-protocol';

/**
 * Lock records: blacklisted cards that terminals locked at the door, or failed to lock. They move
 * no money and carry no TAC (verification `not-applicable`), so they are kept in a table of their
 * own that no clearing sum, settlement or ledger check reads. Their sequence numbers still count
 * towards each terminal's contiguous acknowledgement.
 */
export const CARD_LOCK_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS card_locks (
  terminal_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  application TEXT NOT NULL,
  asn TEXT NOT NULL,
  issuer_id TEXT NOT NULL,
  locked INTEGER NOT NULL CHECK (locked IN (0, 1)),
  reason TEXT,
  psam_terminal_number TEXT NOT NULL,
  occurred_at TEXT NOT NULL,
  business_day TEXT NOT NULL,
  vehicle_id TEXT NOT NULL,
  route TEXT,
  raw_json TEXT NOT NULL,
  received_at TEXT NOT NULL,
  UNIQUE (terminal_id, sequence)
);
CREATE INDEX IF NOT EXISTS card_locks_asn ON card_locks (asn);
`;

/** A lock record that passed validation, ready to store. */
export interface AcceptedLock {
  terminalId: string;
  record: LockRecord;
  /** Local business day (YYYY-MM-DD) that the record's occurredAt falls in. */
  businessDay: string;
  /** The record as received, as canonical JSON, so a resent copy compares equal. */
  raw: string;
}

export interface CardLockRow {
  terminalId: string;
  sequence: number;
  application: LockRecord['card']['application'];
  asn: string;
  issuerId: string;
  locked: boolean;
  reason: string | null;
  psamTerminalNumber: string;
  occurredAt: string;
  businessDay: string;
  vehicleId: string;
  route: string | null;
  /** Always `not-applicable`: a lock record carries no TAC. */
  verification: 'not-applicable';
  receivedAt: string;
}

/** Statements on the card_locks table of the clearing database; the caller owns the transaction. */
export class CardLockTable {
  private readonly statements;

  constructor(db: Database.Database) {
    db.exec(CARD_LOCK_SCHEMA_SQL);
    this.statements = {
      insert: db.prepare<[string, number, string, string, string, number, string | null, string, string, string, string, string | null, string, string]>(`
        INSERT OR IGNORE INTO card_locks (terminal_id, sequence, application, asn, issuer_id, locked, reason, psam_terminal_number,
          occurred_at, business_day, vehicle_id, route, raw_json, received_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      storedRaw: db.prepare<[string, number], { raw_json: string }>('SELECT raw_json FROM card_locks WHERE terminal_id = ? AND sequence = ?'),
      recent: db.prepare<[number], Omit<CardLockRow, 'locked' | 'verification'> & { locked: number }>(`
        SELECT terminal_id AS terminalId, sequence, application, asn, issuer_id AS issuerId, locked, reason,
          psam_terminal_number AS psamTerminalNumber, occurred_at AS occurredAt, business_day AS businessDay,
          vehicle_id AS vehicleId, route, received_at AS receivedAt
        FROM card_locks ORDER BY received_at DESC, terminal_id, sequence DESC LIMIT ?`),
    };
  }

  /** Inserts a lock record; returns false when its (terminal, sequence) is already in the table. */
  insert(item: AcceptedLock, receivedAt: string): boolean {
    const { record } = item;
    const changes = this.statements.insert.run(
      item.terminalId,
      record.sequence,
      record.card.application,
      record.card.asn,
      record.card.issuerId,
      record.lock.locked ? 1 : 0,
      record.lock.reason ?? null,
      record.lock.psamTerminalNumber,
      record.occurredAt,
      item.businessDay,
      record.trip.vehicleId,
      record.trip.route ?? null,
      item.raw,
      receivedAt,
    ).changes;
    return changes === 1;
  }

  /** Returns the stored JSON of the lock record at (terminal, sequence), or undefined. */
  storedRaw(terminalId: string, sequence: number): string | undefined {
    return this.statements.storedRaw.get(terminalId, sequence)?.raw_json;
  }

  /** Lock records, newest first. */
  recent(limit: number): CardLockRow[] {
    return this.statements.recent.all(limit).map((row) => ({ ...row, locked: row.locked === 1, verification: 'not-applicable' as const }));
  }
}
