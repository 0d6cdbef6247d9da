import Database from 'better-sqlite3';
import { terminalStatusSchema } from '@busfare/shared-protocol';

/**
 * One terminal's own counters against what the back office holds for it.
 * - `balanced`: every sequence the terminal has handed out is stored (as a transaction or a lock
 *   record) or kept as rejected;
 * - `awaiting-upload`: some are not here yet, but no more than the terminal's reported backlog;
 * - `mismatch`: more are missing than the terminal still holds, so records were lost on the way
 *   or the terminal's store was replaced.
 */
export interface TerminalReconciliation {
  terminalId: string;
  /** lastSequence and backlog from the terminal's latest status, when it reported them. */
  reportedLastSequence: number | null;
  reportedBacklog: number | null;
  highestSeen: number;
  contiguousThrough: number;
  storedRecords: number;
  /** Sequences kept only in the rejected table. */
  rejectedRecords: number;
  clearedRecords: number;
  clearedAmountFen: number;
  inDoubtOpen: number;
  duplicatesIgnored: number;
  /** Sequences up to the highest known one that are neither stored nor rejected. */
  outstanding: number;
  state: 'balanced' | 'awaiting-upload' | 'mismatch';
}

interface Row {
  terminalId: string;
  contiguousThrough: number | null;
  highestSeen: number | null;
  duplicates: number | null;
  storedRecords: number;
  rejectedRecords: number;
  clearedRecords: number;
  clearedAmountFen: number;
  inDoubtOpen: number;
  statusJson: string | null;
}

const CLEARED = `(t.kind = 'purchase' OR (t.kind = 'resolution' AND t.outcome = 'debited')) AND t.verification IN ('verified', 'queued-for-issuer')`;

const RECONCILIATION_SQL = `
WITH ids AS (SELECT terminal_id FROM terminal_progress UNION SELECT terminal_id FROM terminal_status)
SELECT ids.terminal_id AS terminalId,
  p.contiguous_through AS contiguousThrough,
  p.highest_seen AS highestSeen,
  p.duplicates AS duplicates,
  (SELECT COUNT(*) FROM transactions t WHERE t.terminal_id = ids.terminal_id)
    + (SELECT COUNT(*) FROM card_locks l WHERE l.terminal_id = ids.terminal_id) AS storedRecords,
  (SELECT COUNT(DISTINCT r.sequence) FROM rejected r WHERE r.terminal_id = ids.terminal_id AND r.sequence IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM transactions t WHERE t.terminal_id = r.terminal_id AND t.sequence = r.sequence)
     AND NOT EXISTS (SELECT 1 FROM card_locks l WHERE l.terminal_id = r.terminal_id AND l.sequence = r.sequence)) AS rejectedRecords,
  (SELECT COUNT(*) FROM transactions t WHERE t.terminal_id = ids.terminal_id AND ${CLEARED}) AS clearedRecords,
  (SELECT COALESCE(SUM(t.amount_fen), 0) FROM transactions t WHERE t.terminal_id = ids.terminal_id AND ${CLEARED}) AS clearedAmountFen,
  (SELECT COUNT(*) FROM transactions t WHERE t.terminal_id = ids.terminal_id AND t.kind = 'in-doubt' AND NOT EXISTS (
     SELECT 1 FROM transactions r WHERE r.terminal_id = t.terminal_id AND r.kind = 'resolution' AND r.resolves_sequence = t.sequence)) AS inDoubtOpen,
  s.status_json AS statusJson
FROM ids
LEFT JOIN terminal_progress p ON p.terminal_id = ids.terminal_id
LEFT JOIN terminal_status s ON s.terminal_id = ids.terminal_id
ORDER BY ids.terminal_id`;

/**
 * Reconciles each terminal's counters with the clearing database, over a read-only connection to
 * the clearing database file.
 */
export class TerminalReconciler {
  private readonly db: Database.Database;
  private readonly query;

  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.query = this.db.prepare<[], Row>(RECONCILIATION_SQL);
  }

  reconcile(): TerminalReconciliation[] {
    return this.query.all().map(toReconciliation);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toReconciliation(row: Row): TerminalReconciliation {
  const status = row.statusJson === null ? undefined : terminalStatusSchema.safeParse(JSON.parse(row.statusJson)).data;
  const reportedLastSequence = status?.lastSequence ?? null;
  const reportedBacklog = status?.backlog ?? null;
  const highestSeen = row.highestSeen ?? 0;
  const accountedFor = row.storedRecords + row.rejectedRecords;
  const outstanding = Math.max(0, Math.max(reportedLastSequence ?? 0, highestSeen) - accountedFor);
  let state: TerminalReconciliation['state'] = 'balanced';
  if (outstanding > 0) state = reportedBacklog !== null && outstanding > reportedBacklog ? 'mismatch' : 'awaiting-upload';
  return {
    terminalId: row.terminalId,
    reportedLastSequence,
    reportedBacklog,
    highestSeen,
    contiguousThrough: row.contiguousThrough ?? 0,
    storedRecords: row.storedRecords,
    rejectedRecords: row.rejectedRecords,
    clearedRecords: row.clearedRecords,
    clearedAmountFen: row.clearedAmountFen,
    inDoubtOpen: row.inDoubtOpen,
    duplicatesIgnored: row.duplicates ?? 0,
    outstanding,
    state,
  };
}
