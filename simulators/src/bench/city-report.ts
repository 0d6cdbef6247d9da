import { cardDebitsOf } from '../cards/population.js';
import type { BenchCity } from './bench-city.js';
import { type BenchReport, type TapRecordOutcome, computeLedgerReport } from './bench-report.js';

/**
 * The bench report's counting fields for a city: the back office's cleared records against every
 * virtual card's own ledger. In-doubt records count as open while either the back office or a
 * terminal still holds one unresolved.
 */
export function cityLedgerReport(city: BenchCity, taps: TapRecordOutcome[]): BenchReport {
  const summary = city.office.summary();
  const terminalInDoubt = city.buses.reduce((sum, bus) => sum + bus.store.listOpenInDoubt().length, 0);
  return computeLedgerReport({
    taps,
    cleared: city.office.repository.clearedLedger(),
    cardDebits: city.cards.flatMap((entry) => cardDebitsOf(entry.card)),
    cardBalanceDecreaseFen: city.cardBalanceDecreaseFen(),
    recordsRejectedAtIngest: summary.recordsRejected,
    inDoubtOpen: Math.max(summary.inDoubtOpen, terminalInDoubt),
  });
}
