import type Database from 'better-sqlite3';

/** A stored record of one business day, with the fields reconciliation compares. */
export interface DayRecordRow {
  terminalId: string;
  sequence: number;
  kind: 'purchase' | 'in-doubt' | 'resolution';
  outcome: 'debited' | 'not-debited' | null;
  resolvesSequence: number | null;
  asn: string;
  cardType: string;
  cardCounter: number;
  amountFen: number;
  occurredAt: string;
  verification: string;
}

/** A rejected row with the time and card fields read from its payload where the payload is a record. */
export interface RejectedDayRow {
  id: number;
  terminalId: string;
  sequence: number | null;
  reason: string;
  occurredAt: string | null;
  cardType: string | null;
  amountFen: number | null;
  kind: string | null;
  receivedAt: string;
}

export interface BatchReceiptRow {
  terminalId: string;
  batchId: string;
  businessDay: string;
  stored: number;
  duplicates: number;
  receivedAt: string;
}

/** A money-moving record of a card, for the card-counter checks. */
export interface CardDebitRow {
  terminalId: string;
  sequence: number;
  asn: string;
  cardCounter: number;
  amountFen: number;
  occurredAt: string;
  businessDay: string;
}

const CLEARED = `(kind = 'purchase' OR (kind = 'resolution' AND outcome = 'debited')) AND verification IN ('verified', 'queued-for-issuer')`;

/** Read-side queries of reconciliation, and the batch receipts that only reconciliation uses. */
export class SqliteReconciliationStore {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  dayRecords(day: string): DayRecordRow[] {
    return this.db
      .prepare<[string], DayRecordRow>(`
        SELECT terminal_id AS terminalId, sequence, kind, outcome, resolves_sequence AS resolvesSequence, asn, card_type AS cardType,
          json_extract(raw_json, '$.debit.cardCounter') AS cardCounter, amount_fen AS amountFen, occurred_at AS occurredAt, verification
        FROM transactions WHERE business_day = ? ORDER BY terminal_id, sequence`)
      .all(day);
  }

  /** Every rejected row; the caller places each in a business day. */
  rejectedRows(): RejectedDayRow[] {
    return this.db
      .prepare<[], RejectedDayRow>(`
        SELECT id, terminal_id AS terminalId, sequence, reason,
          CASE WHEN json_valid(payload) THEN json_extract(payload, '$.occurredAt') END AS occurredAt,
          CASE WHEN json_valid(payload) THEN json_extract(payload, '$.card.cardType') END AS cardType,
          CASE WHEN json_valid(payload) THEN json_extract(payload, '$.debit.amountFen') END AS amountFen,
          CASE WHEN json_valid(payload) THEN json_extract(payload, '$.kind') END AS kind,
          received_at AS receivedAt
        FROM rejected ORDER BY id`)
      .all();
  }

  /** Sequences of one terminal between two bounds that are stored (lock records included) or kept as rejected. */
  presentSequences(terminalId: string, from: number, to: number): Set<number> {
    const rows = this.db
      .prepare<[string, number, number, string, number, number, string, number, number], { sequence: number }>(`
        SELECT sequence FROM transactions WHERE terminal_id = ? AND sequence BETWEEN ? AND ?
        UNION SELECT sequence FROM rejected WHERE terminal_id = ? AND sequence BETWEEN ? AND ?
        UNION SELECT sequence FROM card_locks WHERE terminal_id = ? AND sequence BETWEEN ? AND ?`)
      .all(terminalId, from, to, terminalId, from, to, terminalId, from, to);
    return new Set(rows.map((row) => row.sequence));
  }

  /** Stored records of one terminal in a sequence range (any business day). */
  recordsInRange(terminalId: string, from: number, to: number): DayRecordRow[] {
    return this.db
      .prepare<[string, number, number], DayRecordRow>(`
        SELECT terminal_id AS terminalId, sequence, kind, outcome, resolves_sequence AS resolvesSequence, asn, card_type AS cardType,
          json_extract(raw_json, '$.debit.cardCounter') AS cardCounter, amount_fen AS amountFen, occurred_at AS occurredAt, verification
        FROM transactions WHERE terminal_id = ? AND sequence BETWEEN ? AND ? ORDER BY sequence`)
      .all(terminalId, from, to);
  }

  recordReceipt(receipt: Omit<BatchReceiptRow, 'receivedAt'>): void {
    this.db
      .prepare('INSERT INTO batch_receipts (terminal_id, batch_id, business_day, stored, duplicates, received_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(receipt.terminalId, receipt.batchId, receipt.businessDay, receipt.stored, receipt.duplicates, this.now().toISOString());
  }

  redeliveredBatches(day: string): BatchReceiptRow[] {
    return this.db
      .prepare<[string], BatchReceiptRow>(`
        SELECT terminal_id AS terminalId, batch_id AS batchId, business_day AS businessDay, stored, duplicates, received_at AS receivedAt
        FROM batch_receipts WHERE business_day = ? AND duplicates > 0 ORDER BY id`)
      .all(day);
  }

  /** Cleared debits of the given cards up to the end of `throughDay`, ordered per card by time. */
  cardDebits(asns: readonly string[], throughDay: string): CardDebitRow[] {
    if (asns.length === 0) return [];
    const rows: CardDebitRow[] = [];
    const statement = this.db.prepare<[string, string], CardDebitRow>(`
      SELECT terminal_id AS terminalId, sequence, asn, json_extract(raw_json, '$.debit.cardCounter') AS cardCounter, amount_fen AS amountFen,
        occurred_at AS occurredAt, business_day AS businessDay
      FROM transactions WHERE asn = ? AND business_day <= ? AND ${CLEARED} ORDER BY occurred_at, terminal_id, sequence`);
    for (const asn of asns) rows.push(...statement.all(asn, throughDay));
    return rows;
  }

  /** Card numbers with cleared debits in a business day. */
  cardsOfDay(day: string): string[] {
    return this.db
      .prepare<[string], { asn: string }>(`SELECT DISTINCT asn FROM transactions WHERE business_day = ? AND ${CLEARED} ORDER BY asn`)
      .all(day)
      .map((row) => row.asn);
  }
}
