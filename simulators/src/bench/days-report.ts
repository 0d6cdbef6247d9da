import type { BenchReport } from './bench-report.js';

/** One simulated business day as the back office settled it. */
export interface SettledDaySummary {
  businessDay: string;
  tapsAttempted: number;
  settledCount: number;
  settledAmountFen: number;
  lateCount: number;
  awaitingIssuerCount: number;
  forwardedFiles: number;
  reconciliationFindings: Record<string, number>;
  wallSeconds: number;
}

/** The report of `busfare-bench run --days N`: the bench report plus the settlement fields. */
export interface DaysBenchReport extends BenchReport {
  settledDays: number;
  /** max(|settled − cleared|, |settled − card ledger|), in fen, over the whole run. */
  settlementMismatch: number;
  settledAmountFen: number;
  days: SettledDaySummary[];
}

/**
 * Compares what settlement paid out with what ingest cleared and with what the cards themselves
 * lost: max(|settled − cleared|, |settled − card ledger|), in fen.
 */
export function settlementMismatch(settledFen: number, clearedFen: number, cardLedgerFen: number): number {
  return Math.max(Math.abs(settledFen - clearedFen), Math.abs(settledFen - cardLedgerFen));
}
