import type { BusinessDayRule } from '../ingest/business-day.js';
import type { AdjustmentRow, SqliteExceptionStore } from '../store/exception-store.js';
import { type Atomic, type AuditRecorder, withoutTransaction } from './audit.js';
import { businessDayOf } from './business-days.js';
import { ClearingError } from './clearing-error.js';

/** Whether a card number is on the blacklist the back office publishes. */
export type BlacklistLookup = (asn: string) => boolean;

export interface CustomerServiceOptions {
  store: SqliteExceptionStore;
  audit: AuditRecorder;
  rule: BusinessDayRule;
  isBlacklisted: BlacklistLookup;
  /** Joins each change and its audit entry; without it they are written one after the other. */
  atomic?: Atomic;
  now?: () => Date;
}

const ASN_PATTERN = /^[0-9A-F]{8,20}$/;
const MAX_ADJUSTMENT_FEN = 1_000_000;

/**
 * Refunds, adjustments and balance transfers, each with a reason, requested by one operator and
 * approved or declined by a different administrator (four-eyes rule). An approved item settles in
 * the business day of its approval: a refund as money paid back to the rider (negative), an
 * adjustment with its sign, a balance transfer as a zero-sum entry that records the amount the
 * replacement card receives at its next top-up.
 */
export class CustomerService {
  private readonly atomic: Atomic;

  constructor(private readonly options: CustomerServiceOptions) {
    this.atomic = options.atomic ?? withoutTransaction;
  }

  /** Replaces the blacklist lookup, once the published parameter sets are open. */
  useBlacklist(lookup: BlacklistLookup): void {
    this.options.isBlacklisted = lookup;
  }

  requestRefund(input: { asn: string; amountFen: number; reason: string }, operator: string): AdjustmentRow {
    checkCard(input.asn);
    if (!Number.isSafeInteger(input.amountFen) || input.amountFen <= 0 || input.amountFen > MAX_ADJUSTMENT_FEN) {
      throw new ClearingError('invalid', `invalid refund amount ${input.amountFen} fen: expected 1 to ${MAX_ADJUSTMENT_FEN}`);
    }
    return this.request({ kind: 'refund', asn: input.asn, targetAsn: null, amountFen: -input.amountFen, reason: input.reason }, operator);
  }

  requestAdjustment(input: { asn: string; amountFen: number; reason: string }, operator: string): AdjustmentRow {
    checkCard(input.asn);
    if (!Number.isSafeInteger(input.amountFen) || input.amountFen === 0 || Math.abs(input.amountFen) > MAX_ADJUSTMENT_FEN) {
      throw new ClearingError('invalid', `invalid adjustment ${input.amountFen} fen: expected a non-zero whole number within ±${MAX_ADJUSTMENT_FEN}`);
    }
    return this.request({ kind: 'adjustment', asn: input.asn, targetAsn: null, amountFen: input.amountFen, reason: input.reason }, operator);
  }

  /**
   * Moves the last known balance of a lost registered card to its replacement. The old card must
   * be blacklisted first, so that it cannot spend the same money again.
   */
  requestBalanceTransfer(input: { lostAsn: string; replacementAsn: string; reason: string }, operator: string): AdjustmentRow {
    checkCard(input.lostAsn);
    checkCard(input.replacementAsn);
    if (input.lostAsn === input.replacementAsn) throw new ClearingError('invalid', 'the replacement card must differ from the lost card');
    if (!this.options.isBlacklisted(input.lostAsn)) throw new ClearingError('conflict', `card ${input.lostAsn} is not blacklisted: blacklist the lost card before moving its balance`);
    const balance = this.options.store.lastKnownBalance(input.lostAsn);
    if (!balance) throw new ClearingError('not-found', `no cleared transaction of card ${input.lostAsn}: its balance is not known`);
    return this.request({ kind: 'balance-transfer', asn: input.lostAsn, targetAsn: input.replacementAsn, amountFen: balance.balanceFen, reason: input.reason }, operator);
  }

  decide(id: number, decision: 'approved' | 'declined', approver: string): AdjustmentRow {
    const row = this.options.store.findAdjustment(id);
    if (!row) throw new ClearingError('not-found', `customer-service item ${id} not found`);
    if (row.state !== 'pending') throw new ClearingError('conflict', `customer-service item ${id} is already ${row.state}`);
    if (row.requestedBy === approver) throw new ClearingError('forbidden', 'the operator who requested an item cannot approve or decline it');
    const day = businessDayOf((this.options.now?.() ?? new Date()).toISOString(), this.options.rule);
    this.atomic(() => {
      this.options.store.decideAdjustment(id, decision, approver, day);
      this.options.audit(approver, `customer-service.${decision === 'approved' ? 'approve' : 'decline'}`, `adjustment:${id}`, { kind: row.kind, asn: row.asn, amountFen: row.amountFen });
    });
    return this.options.store.findAdjustment(id) as AdjustmentRow;
  }

  list(limit = 200): AdjustmentRow[] {
    return this.options.store.listAdjustments(limit);
  }

  private request(input: Pick<AdjustmentRow, 'kind' | 'asn' | 'targetAsn' | 'amountFen' | 'reason'>, operator: string): AdjustmentRow {
    if (input.reason.trim().length === 0) throw new ClearingError('invalid', 'a reason is required');
    // A balance transfer moves money between two cards of the same rider, so it settles as zero.
    return this.atomic(() => {
      const row = this.options.store.insertAdjustment({ ...input, requestedBy: operator });
      this.options.audit(operator, `customer-service.request-${input.kind}`, `adjustment:${row.id}`, { asn: input.asn, targetAsn: input.targetAsn, amountFen: input.amountFen, reason: input.reason });
      return row;
    });
  }
}

function checkCard(asn: string): void {
  if (!ASN_PATTERN.test(asn)) throw new ClearingError('invalid', `invalid card number "${asn}": expected 8-20 digits or upper-case hex digits`);
}
