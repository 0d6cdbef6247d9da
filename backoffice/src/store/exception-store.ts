import type Database from 'better-sqlite3';

export type ExceptionQueue = 'rejected' | 'in-doubt';
export type ExceptionAction = 'reprocessed' | 'resolved' | 'written-off';

/** A rejected row with the last action taken on it, if any. */
export interface RejectedExceptionRow {
  id: number;
  terminalId: string;
  topic: string;
  sequence: number | null;
  reason: string;
  payload: string;
  receivedAt: string;
  lastAction: ExceptionAction | null;
}

/** An in-doubt record with how it was settled, if it was. */
export interface InDoubtExceptionRow {
  terminalId: string;
  sequence: number;
  asn: string;
  amountFen: number;
  cardCounter: number;
  balanceBeforeFen: number;
  occurredAt: string;
  businessDay: string;
  /** Sequence of the card-proof resolution record that settled it, if one arrived. */
  resolvedBySequence: number | null;
  resolutionOutcome: 'debited' | 'not-debited' | null;
  decision: 'debited' | 'not-debited' | null;
  decidedBy: string | null;
  writtenOff: boolean;
}

export interface InDoubtDecisionInput {
  terminalId: string;
  sequence: number;
  outcome: 'debited' | 'not-debited';
  reason: string;
  decidedBy: string;
  matched?: { terminalId: string; sequence: number };
}

export interface AdjustmentRow {
  id: number;
  kind: 'refund' | 'adjustment' | 'balance-transfer';
  asn: string;
  targetAsn: string | null;
  amountFen: number;
  reason: string;
  requestedBy: string;
  requestedAt: string;
  state: 'pending' | 'approved' | 'declined';
  decidedBy: string | null;
  decidedAt: string | null;
  businessDay: string | null;
}

const IN_DOUBT_SELECT = `
  SELECT t.terminal_id AS terminalId, t.sequence, t.asn, t.amount_fen AS amountFen,
    json_extract(t.raw_json, '$.debit.cardCounter') AS cardCounter, json_extract(t.raw_json, '$.debit.balanceBeforeFen') AS balanceBeforeFen,
    t.occurred_at AS occurredAt, t.business_day AS businessDay,
    (SELECT r.sequence FROM transactions r WHERE r.terminal_id = t.terminal_id AND r.kind = 'resolution' AND r.resolves_sequence = t.sequence) AS resolvedBySequence,
    (SELECT r.outcome FROM transactions r WHERE r.terminal_id = t.terminal_id AND r.kind = 'resolution' AND r.resolves_sequence = t.sequence) AS resolutionOutcome,
    d.outcome AS decision, d.decided_by AS decidedBy,
    EXISTS (SELECT 1 FROM exception_actions a WHERE a.queue = 'in-doubt' AND a.item_key = t.terminal_id || '#' || t.sequence AND a.action = 'written-off') AS writtenOff
  FROM transactions t LEFT JOIN in_doubt_decisions d ON d.terminal_id = t.terminal_id AND d.sequence = t.sequence
  WHERE t.kind = 'in-doubt'`;

type InDoubtDbRow = Omit<InDoubtExceptionRow, 'writtenOff'> & { writtenOff: number };

/** The exception queues' state, the actions operators took on them, and customer-service adjustments. */
export class SqliteExceptionStore {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  rejected(options: { open: boolean; limit: number }): RejectedExceptionRow[] {
    return this.db
      .prepare<[number, number], RejectedExceptionRow>(`
        SELECT r.id, r.terminal_id AS terminalId, r.topic, r.sequence, r.reason, r.payload, r.received_at AS receivedAt,
          (SELECT a.action FROM exception_actions a WHERE a.queue = 'rejected' AND a.item_key = CAST(r.id AS TEXT) ORDER BY a.id DESC LIMIT 1) AS lastAction
        FROM rejected r
        WHERE (? = 0 OR NOT EXISTS (SELECT 1 FROM exception_actions a WHERE a.queue = 'rejected' AND a.item_key = CAST(r.id AS TEXT)
          AND a.action IN ('reprocessed', 'written-off')))
        ORDER BY r.id DESC LIMIT ?`)
      .all(options.open ? 1 : 0, options.limit);
  }

  findRejected(id: number): RejectedExceptionRow | undefined {
    return this.db
      .prepare<[number], RejectedExceptionRow>(`
        SELECT r.id, r.terminal_id AS terminalId, r.topic, r.sequence, r.reason, r.payload, r.received_at AS receivedAt,
          (SELECT a.action FROM exception_actions a WHERE a.queue = 'rejected' AND a.item_key = CAST(r.id AS TEXT) ORDER BY a.id DESC LIMIT 1) AS lastAction
        FROM rejected r WHERE r.id = ?`)
      .get(id);
  }

  /** In-doubt records; `open` keeps those with no card proof, no decision and no write-off. */
  inDoubt(options: { open: boolean }): InDoubtExceptionRow[] {
    const rows = this.db.prepare<[], InDoubtDbRow>(`${IN_DOUBT_SELECT} ORDER BY t.terminal_id, t.sequence`).all();
    const all = rows.map((row) => ({ ...row, writtenOff: row.writtenOff === 1 }));
    return options.open ? all.filter((row) => row.resolvedBySequence === null && row.decision === null && !row.writtenOff) : all;
  }

  findInDoubt(terminalId: string, sequence: number): InDoubtExceptionRow | undefined {
    const row = this.db.prepare<[string, number], InDoubtDbRow>(`${IN_DOUBT_SELECT} AND t.terminal_id = ? AND t.sequence = ?`).get(terminalId, sequence);
    return row === undefined ? undefined : { ...row, writtenOff: row.writtenOff === 1 };
  }

  /** Stores an operator's decision on an in-doubt record; returns false if one is already stored. */
  decideInDoubt(input: InDoubtDecisionInput): boolean {
    return (
      this.db
        .prepare(`
          INSERT OR IGNORE INTO in_doubt_decisions (terminal_id, sequence, outcome, reason, decided_by, decided_at, matched_terminal_id, matched_sequence)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(input.terminalId, input.sequence, input.outcome, input.reason, input.decidedBy, this.now().toISOString(), input.matched?.terminalId ?? null, input.matched?.sequence ?? null)
        .changes === 1
    );
  }

  recordAction(queue: ExceptionQueue, itemKey: string, action: ExceptionAction, reason: string, operator: string, details: Record<string, unknown>): void {
    this.db
      .prepare('INSERT INTO exception_actions (queue, item_key, action, reason, operator, at, details_json) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(queue, itemKey, action, reason, operator, this.now().toISOString(), JSON.stringify(details));
  }

  insertAdjustment(input: Pick<AdjustmentRow, 'kind' | 'asn' | 'targetAsn' | 'amountFen' | 'reason' | 'requestedBy'>): AdjustmentRow {
    const requestedAt = this.now().toISOString();
    const result = this.db
      .prepare(`
        INSERT INTO adjustments (kind, asn, target_asn, amount_fen, reason, requested_by, requested_at, state)
        VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')`)
      .run(input.kind, input.asn, input.targetAsn, input.amountFen, input.reason, input.requestedBy, requestedAt);
    return this.findAdjustment(Number(result.lastInsertRowid)) as AdjustmentRow;
  }

  findAdjustment(id: number): AdjustmentRow | undefined {
    return this.db.prepare<[number], AdjustmentRow>(`${ADJUSTMENT_SELECT} WHERE id = ?`).get(id);
  }

  listAdjustments(limit: number): AdjustmentRow[] {
    return this.db.prepare<[number], AdjustmentRow>(`${ADJUSTMENT_SELECT} ORDER BY id DESC LIMIT ?`).all(limit);
  }

  /** Approves or declines a pending adjustment; returns false when it is not pending. */
  decideAdjustment(id: number, state: 'approved' | 'declined', decidedBy: string, businessDay: string): boolean {
    return (
      this.db
        .prepare("UPDATE adjustments SET state = ?, decided_by = ?, decided_at = ?, business_day = ? WHERE id = ? AND state = 'pending'")
        .run(state, decidedBy, this.now().toISOString(), businessDay, id).changes === 1
    );
  }

  storedRaw(terminalId: string, sequence: number): string | undefined {
    return this.db.prepare<[string, number], { raw: string }>('SELECT raw_json AS raw FROM transactions WHERE terminal_id = ? AND sequence = ?').get(terminalId, sequence)?.raw;
  }

  /** The card's last balance known from its cleared records, or undefined when none is stored. */
  lastKnownBalance(asn: string): { balanceFen: number; occurredAt: string } | undefined {
    return this.db
      .prepare<[string], { balanceFen: number; occurredAt: string }>(`
        SELECT json_extract(raw_json, '$.debit.balanceAfterFen') AS balanceFen, occurred_at AS occurredAt FROM transactions
        WHERE asn = ? AND json_extract(raw_json, '$.debit.balanceAfterFen') IS NOT NULL
          AND (kind = 'purchase' OR (kind = 'resolution' AND outcome = 'debited'))
        ORDER BY occurred_at DESC LIMIT 1`)
      .get(asn);
  }
}

const ADJUSTMENT_SELECT = `
  SELECT id, kind, asn, target_asn AS targetAsn, amount_fen AS amountFen, reason, requested_by AS requestedBy, requested_at AS requestedAt,
    state, decided_by AS decidedBy, decided_at AS decidedAt, business_day AS businessDay
  FROM adjustments`;
