import type { BusinessDayRule } from '../ingest/business-day.js';
import type { SqliteSettlementStore } from '../store/settlement-store.js';
import { type Atomic, type AuditRecorder, withoutTransaction } from './audit.js';
import { assertBusinessDay, businessDayEnd } from './business-days.js';
import { ClearingError } from './clearing-error.js';
import { type SettlementReport, buildSettlementReport } from './settlement-report.js';

export interface SettlementServiceOptions {
  store: SqliteSettlementStore;
  rule: BusinessDayRule;
  localIssuerPrefixes: readonly string[];
  audit: AuditRecorder;
  /** Joins the saved day and its audit entry; without it they are written one after the other. */
  atomic?: Atomic;
  now?: () => Date;
}

/**
 * Settles business days. A day can be settled once it has ended and every earlier day that holds
 * unsettled records is settled. Settling assigns every settleable item of that day and earlier
 * that no settled day holds yet (late uploads, out-of-town records the issuer confirmed since,
 * in-doubt records decided since) to the day, and freezes the report.
 */
export class SettlementService {
  private readonly now: () => Date;

  constructor(private readonly options: SettlementServiceOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** The frozen report of a settled day, or a preview of what settling it now would hold. */
  report(day: string): SettlementReport {
    assertBusinessDay(day);
    const settled = this.options.store.settledDay(day);
    if (settled) return JSON.parse(settled.reportJson) as SettlementReport;
    return this.preview(day);
  }

  preview(day: string): SettlementReport {
    assertBusinessDay(day);
    const { store } = this.options;
    const items = store.unsettledItems(day);
    return buildSettlementReport({
      businessDay: day,
      items,
      awaitingIssuer: store.awaitingIssuer(day),
      localIssuerPrefixes: this.options.localIssuerPrefixes,
      operatorOfVehicle: store.operatorOfVehicles(),
      shifts: store.shiftsOf([...new Set(items.map((item) => item.terminalId))]),
    });
  }

  isSettled(day: string): boolean {
    return this.options.store.settledDay(day) !== undefined;
  }

  /** Settles a day and returns its frozen report; throws a ClearingError when it cannot. */
  settle(day: string, operator: string): SettlementReport {
    assertBusinessDay(day);
    const { store } = this.options;
    if (store.settledDay(day)) throw new ClearingError('conflict', `business day ${day} is already settled`);
    const end = businessDayEnd(day, this.options.rule);
    if (this.now() < end) throw new ClearingError('conflict', `business day ${day} has not ended: it ends at ${end.toISOString()}`);
    const open = store.openDaysBefore(day);
    if (open.length > 0) throw new ClearingError('conflict', `settle the earlier business days first: ${open.join(', ')}`);

    const items = store.unsettledItems(day);
    const report: SettlementReport = { ...this.preview(day), state: 'settled', settledAt: this.now().toISOString(), settledBy: operator };
    (this.options.atomic ?? withoutTransaction)(() => {
      store.saveSettlement(day, items, report, operator);
      this.options.audit(operator, 'settlement.settle', day, { count: report.totals.count, amountFen: report.totals.amountFen, late: report.late.count });
    });
    return report;
  }

  days(): ReturnType<SqliteSettlementStore['settledDays']> {
    return this.options.store.settledDays();
  }
}
