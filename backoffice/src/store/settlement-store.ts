import type Database from 'better-sqlite3';
import type { ShiftRecord } from '@busfare/shared-protocol';

/**
 * One item that moves money in a settlement: a cleared transaction, an in-doubt record that an
 * operator decided as debited, or an approved customer-service adjustment (terminalId
 * `adjustment`, sequence = adjustment id, negative amount for a refund).
 */
export interface SettlementItem {
  terminalId: string;
  sequence: number;
  source: 'transaction' | 'in-doubt-decision' | 'adjustment';
  businessDay: string;
  occurredAt: string;
  asn: string;
  issuerId: string;
  cardType: string;
  /** Amount taken from the card (the discounted fare). */
  amountFen: number;
  /** The full fare before any discount. */
  listFareFen: number;
  route: string | null;
  vehicleId: string;
  driverId: string | null;
  verification: string;
}

export interface SettledDayRow {
  businessDay: string;
  settledAt: string;
  settledBy: string;
  recordCount: number;
  amountFen: number;
  reportJson: string;
}

/** An out-of-town record whose issuer has not confirmed or refused it yet. */
export interface AwaitingIssuerRow {
  terminalId: string;
  sequence: number;
  businessDay: string;
  issuerId: string;
  amountFen: number;
  rawJson: string;
  forwardedIn: string | null;
}

export interface IssuerVerdictInput {
  terminalId: string;
  sequence: number;
  verdict: 'confirmed' | 'refused';
  reason?: string;
}

/** A driver's shift record as ingest stored it in the shifts table. */
export interface StoredShift {
  terminalId: string;
  shiftId: string;
  driverId: string;
  startedAt: string;
  firstSequence: number | null;
  lastSequence: number | null;
  record: ShiftRecord;
}

type ShiftRow = Omit<StoredShift, 'record'> & { recordJson: string };

const SHIFT_SELECT = `
  SELECT terminal_id AS terminalId, shift_id AS shiftId, driver_id AS driverId, started_at AS startedAt,
    first_sequence AS firstSequence, last_sequence AS lastSequence, record_json AS recordJson
  FROM shifts`;

function toStoredShift({ recordJson, ...row }: ShiftRow): StoredShift {
  return { ...row, record: JSON.parse(recordJson) as ShiftRecord };
}

const ITEM_COLUMNS = `t.terminal_id AS terminalId, t.sequence, t.business_day AS businessDay, t.occurred_at AS occurredAt, t.asn,
  t.issuer_id AS issuerId, t.card_type AS cardType, t.amount_fen AS amountFen,
  COALESCE(json_extract(t.raw_json, '$.debit.listFareFen'), t.amount_fen) AS listFareFen, t.route, t.vehicle_id AS vehicleId,
  json_extract(t.raw_json, '$.trip.driverId') AS driverId, t.verification`;

/** A balance transfer moves money between two cards of one rider, so it settles as zero. */
const ADJUSTMENT_AMOUNT = "CASE WHEN a.kind = 'balance-transfer' THEN 0 ELSE a.amount_fen END";

/** Columns that present an approved adjustment as a settlement item. */
const ADJUSTMENT_COLUMNS = `'adjustment' AS terminalId, a.id AS sequence, 'adjustment' AS source, a.business_day AS businessDay,
  a.decided_at AS occurredAt, a.asn, '' AS issuerId, a.kind AS cardType, ${ADJUSTMENT_AMOUNT} AS amountFen,
  ${ADJUSTMENT_AMOUNT} AS listFareFen, NULL AS route, '' AS vehicleId, NULL AS driverId, 'approved' AS verification`;

const UNSETTLED = `NOT EXISTS (SELECT 1 FROM settlement_entries e WHERE e.terminal_id = t.terminal_id AND e.sequence = t.sequence)`;

/** Cleared transactions whose evidence is verified, or confirmed by the out-of-town issuer. */
const SETTLEABLE_TRANSACTION = `(t.kind = 'purchase' OR (t.kind = 'resolution' AND t.outcome = 'debited'))
  AND (t.verification = 'verified' OR (t.verification = 'queued-for-issuer' AND EXISTS (
    SELECT 1 FROM issuer_verdicts v WHERE v.terminal_id = t.terminal_id AND v.sequence = t.sequence AND v.verdict = 'confirmed')))`;

/** In-doubt records an operator decided as debited, unless the card's own proof arrived. */
const DECIDED_DEBITED = `t.kind = 'in-doubt'
  AND EXISTS (SELECT 1 FROM in_doubt_decisions d WHERE d.terminal_id = t.terminal_id AND d.sequence = t.sequence AND d.outcome = 'debited')
  AND NOT EXISTS (SELECT 1 FROM transactions r WHERE r.terminal_id = t.terminal_id AND r.kind = 'resolution' AND r.resolves_sequence = t.sequence)`;

/**
 * Storage of settlement: the items each settled day contains (frozen once written), issuer
 * verdicts on forwarded out-of-town records; it reads the drivers' shift records that ingest stores.
 */
export class SqliteSettlementStore {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Items not yet in any settled day whose business day is on or before `throughDay`. */
  unsettledItems(throughDay: string): SettlementItem[] {
    const transactions = this.db
      .prepare<[string], Omit<SettlementItem, 'source'> & { kind: string }>(`
        SELECT ${ITEM_COLUMNS}, t.kind FROM transactions t
        WHERE t.business_day <= ? AND ${UNSETTLED} AND ((${SETTLEABLE_TRANSACTION}) OR (${DECIDED_DEBITED}))
        ORDER BY t.business_day, t.terminal_id, t.sequence`)
      .all(throughDay)
      .map(({ kind, ...row }) => ({ ...row, source: kind === 'in-doubt' ? ('in-doubt-decision' as const) : ('transaction' as const) }));
    const adjustments = this.db
      .prepare<[string], SettlementItem>(`
        SELECT ${ADJUSTMENT_COLUMNS}
        FROM adjustments a
        WHERE a.state = 'approved' AND a.business_day <= ?
          AND NOT EXISTS (SELECT 1 FROM settlement_entries e WHERE e.terminal_id = 'adjustment' AND e.sequence = a.id)
        ORDER BY a.id`)
      .all(throughDay);
    return [...transactions, ...adjustments];
  }

  /** Business days before `day` that hold unsettled items and are not settled themselves. */
  openDaysBefore(day: string): string[] {
    return this.db
      .prepare<[string], { businessDay: string }>(`
        SELECT DISTINCT t.business_day AS businessDay FROM transactions t
        WHERE t.business_day < ? AND ${UNSETTLED} AND ((${SETTLEABLE_TRANSACTION}) OR (${DECIDED_DEBITED}))
          AND NOT EXISTS (SELECT 1 FROM settlement_days s WHERE s.business_day = t.business_day)
        ORDER BY businessDay`)
      .all(day)
      .map((row) => row.businessDay);
  }

  /** Settled items of one day, in the order the report lists them. */
  settledItems(day: string): SettlementItem[] {
    const transactions = this.db
      .prepare<[string], Omit<SettlementItem, 'source'> & { kind: string }>(`
        SELECT ${ITEM_COLUMNS}, t.kind FROM settlement_entries e
        JOIN transactions t ON t.terminal_id = e.terminal_id AND t.sequence = e.sequence
        WHERE e.settlement_day = ? ORDER BY t.business_day, t.terminal_id, t.sequence`)
      .all(day)
      .map(({ kind, ...row }) => ({ ...row, source: kind === 'in-doubt' ? ('in-doubt-decision' as const) : ('transaction' as const) }));
    const adjustments = this.db
      .prepare<[string], SettlementItem>(`
        SELECT ${ADJUSTMENT_COLUMNS}
        FROM settlement_entries e JOIN adjustments a ON e.terminal_id = 'adjustment' AND a.id = e.sequence
        WHERE e.settlement_day = ? ORDER BY a.id`)
      .all(day);
    return [...transactions, ...adjustments];
  }

  /** Out-of-town records with no issuer verdict, business day on or before `throughDay`. */
  awaitingIssuer(throughDay: string): AwaitingIssuerRow[] {
    return this.db
      .prepare<[string], AwaitingIssuerRow>(`
        SELECT t.terminal_id AS terminalId, t.sequence, t.business_day AS businessDay, t.issuer_id AS issuerId, t.amount_fen AS amountFen,
          t.raw_json AS rawJson, f.file_name AS forwardedIn
        FROM transactions t LEFT JOIN forwarded_records f ON f.terminal_id = t.terminal_id AND f.sequence = t.sequence
        WHERE t.verification = 'queued-for-issuer' AND t.business_day <= ?
          AND (t.kind = 'purchase' OR (t.kind = 'resolution' AND t.outcome = 'debited'))
          AND NOT EXISTS (SELECT 1 FROM issuer_verdicts v WHERE v.terminal_id = t.terminal_id AND v.sequence = t.sequence)
        ORDER BY t.issuer_id, t.terminal_id, t.sequence`)
      .all(throughDay);
  }

  /** Out-of-town records the issuer refused, for the exception view. */
  refusedByIssuer(): { terminalId: string; sequence: number; issuerId: string; amountFen: number; reason: string | null; sourceFile: string }[] {
    return this.db
      .prepare<[], { terminalId: string; sequence: number; issuerId: string; amountFen: number; reason: string | null; sourceFile: string }>(`
        SELECT v.terminal_id AS terminalId, v.sequence, t.issuer_id AS issuerId, t.amount_fen AS amountFen, v.reason, v.source_file AS sourceFile
        FROM issuer_verdicts v JOIN transactions t ON t.terminal_id = v.terminal_id AND t.sequence = v.sequence
        WHERE v.verdict = 'refused' ORDER BY v.terminal_id, v.sequence`)
      .all();
  }

  markForwarded(keys: readonly { terminalId: string; sequence: number }[], partnerCity: string, fileName: string): void {
    const insert = this.db.prepare(`
      INSERT INTO forwarded_records (terminal_id, sequence, partner_city, file_name, forwarded_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (terminal_id, sequence) DO UPDATE SET file_name = excluded.file_name, forwarded_at = excluded.forwarded_at`);
    const at = this.now().toISOString();
    this.db.transaction(() => {
      for (const key of keys) insert.run(key.terminalId, key.sequence, partnerCity, fileName, at);
    })();
  }

  /**
   * Stores verdicts from an issuer's answer file. A verdict already stored is kept, so that a
   * settled record cannot change its standing. Returns how many were new.
   */
  recordVerdicts(verdicts: readonly IssuerVerdictInput[], sourceFile: string): number {
    const insert = this.db.prepare(`
      INSERT OR IGNORE INTO issuer_verdicts (terminal_id, sequence, verdict, reason, source_file, recorded_at) VALUES (?, ?, ?, ?, ?, ?)`);
    const at = this.now().toISOString();
    return this.db.transaction(() => {
      let stored = 0;
      for (const verdict of verdicts) stored += insert.run(verdict.terminalId, verdict.sequence, verdict.verdict, verdict.reason ?? null, sourceFile, at).changes;
      return stored;
    })();
  }

  settledDay(day: string): SettledDayRow | undefined {
    return this.db
      .prepare<[string], SettledDayRow>(`
        SELECT business_day AS businessDay, settled_at AS settledAt, settled_by AS settledBy, record_count AS recordCount,
          amount_fen AS amountFen, report_json AS reportJson
        FROM settlement_days WHERE business_day = ?`)
      .get(day);
  }

  settledDays(): Omit<SettledDayRow, 'reportJson'>[] {
    return this.db
      .prepare<[], Omit<SettledDayRow, 'reportJson'>>(`
        SELECT business_day AS businessDay, settled_at AS settledAt, settled_by AS settledBy, record_count AS recordCount, amount_fen AS amountFen
        FROM settlement_days ORDER BY business_day DESC`)
      .all();
  }

  /**
   * Writes a settled day and its items in one transaction. Throws when the day is
   * already settled or an item already belongs to another day, so a settled day never changes.
   */
  saveSettlement(day: string, items: readonly SettlementItem[], report: unknown, settledBy: string): void {
    const insertEntry = this.db.prepare('INSERT INTO settlement_entries (terminal_id, sequence, settlement_day) VALUES (?, ?, ?)');
    const insertDay = this.db.prepare(`
      INSERT INTO settlement_days (business_day, settled_at, settled_by, record_count, amount_fen, report_json) VALUES (?, ?, ?, ?, ?, ?)`);
    this.db.transaction(() => {
      const amount = items.reduce((sum, item) => sum + item.amountFen, 0);
      insertDay.run(day, this.now().toISOString(), settledBy, items.length, amount, JSON.stringify(report));
      for (const item of items) insertEntry.run(item.terminalId, item.sequence, day);
    }).immediate();
  }

  /** Total of every settled item, in fen. */
  settledTotalFen(): number {
    return this.db.prepare<[], { total: number }>('SELECT COALESCE(SUM(amount_fen), 0) AS total FROM settlement_days').get()?.total ?? 0;
  }

  operatorOfVehicles(): Map<string, string> {
    const rows = this.db.prepare<[], { vehicleId: string; operatorId: string }>('SELECT vehicle_id AS vehicleId, operator_id AS operatorId FROM vehicle_operators').all();
    return new Map(rows.map((row) => [row.vehicleId, row.operatorId]));
  }

  assignVehicleOperator(vehicleId: string, operatorId: string): void {
    this.db
      .prepare('INSERT INTO vehicle_operators (vehicle_id, operator_id) VALUES (?, ?) ON CONFLICT (vehicle_id) DO UPDATE SET operator_id = excluded.operator_id')
      .run(vehicleId, operatorId);
  }

  /** Shift records of the given terminals, ordered by first sequence. */
  shiftsOf(terminalIds: readonly string[]): StoredShift[] {
    if (terminalIds.length === 0) return [];
    const placeholders = terminalIds.map(() => '?').join(', ');
    return this.db
      .prepare<string[], ShiftRow>(`${SHIFT_SELECT} WHERE terminal_id IN (${placeholders}) ORDER BY terminal_id, first_sequence`)
      .all(...terminalIds)
      .map(toStoredShift);
  }


  /** Shift records that started in [from, to), ISO 8601 instants. */
  shiftsStartedBetween(from: string, to: string): StoredShift[] {
    return this.db
      .prepare<[string, string], ShiftRow>(`${SHIFT_SELECT} WHERE started_at >= ? AND started_at < ? ORDER BY terminal_id, started_at`)
      .all(from, to)
      .map(toStoredShift);
  }

}
