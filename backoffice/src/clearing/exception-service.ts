import { TX_BATCH_SCHEMA, canonicalJson, topics } from '@busfare/shared-protocol';
import type { TransactionIngestor } from '../ingest/transaction-ingest.js';
import type { ClearingRepository } from '../store/clearing-repository.js';
import type { InDoubtExceptionRow, RejectedExceptionRow, SqliteExceptionStore } from '../store/exception-store.js';
import { type Atomic, type AuditRecorder, withoutTransaction } from './audit.js';
import { ClearingError } from './clearing-error.js';
import { type RejectionCategory, categoryOfReason } from './rejection-category.js';

export interface RejectedQueueItem extends RejectedExceptionRow {
  category: RejectionCategory;
}

export interface ReprocessResult {
  outcome: 'stored' | 'rejected-again';
  reason?: string;
}

export interface ResolveInDoubtInput {
  terminalId: string;
  sequence: number;
  reason: string;
  /** A later stored record of the same card whose counter and balance prove the outcome. */
  matched?: { terminalId: string; sequence: number };
  /** The operator's decision when no record proves the outcome. */
  outcome?: 'debited' | 'not-debited';
}

export interface ExceptionServiceOptions {
  store: SqliteExceptionStore;
  repository: ClearingRepository;
  ingestor: TransactionIngestor;
  audit: AuditRecorder;
  /** Joins each decision and its audit entry; without it they are written one after the other. */
  atomic?: Atomic;
  now?: () => Date;
}

/**
 * The exception queues: records refused at ingest and in-doubt records. Operators re-process a
 * rejected record (after a key or parameter fix), resolve an in-doubt record from a later
 * transaction of the same card or by hand, or write either off; the audit log keeps every action.
 */
export class ExceptionService {
  private readonly atomic: Atomic;

  constructor(private readonly options: ExceptionServiceOptions) {
    this.atomic = options.atomic ?? withoutTransaction;
  }

  rejected(open = true, limit = 500): RejectedQueueItem[] {
    return this.options.store.rejected({ open, limit }).map((row) => ({ ...row, category: categoryOfReason(row.reason) }));
  }

  inDoubt(open = true): InDoubtExceptionRow[] {
    return this.options.store.inDoubt({ open });
  }

  /** Runs a rejected record through ingest again, as a batch of one from its terminal. */
  reprocess(id: number, operator: string): ReprocessResult {
    const row = this.requireRejected(id);
    if (row.sequence === null) throw new ClearingError('invalid', `rejected item ${id} is a whole payload, not one record: it cannot be re-processed`);
    let record: unknown;
    try {
      record = JSON.parse(row.payload);
    } catch {
      throw new ClearingError('invalid', `rejected item ${id} is not valid JSON: it cannot be re-processed`);
    }
    const payload = JSON.stringify({
      schema: TX_BATCH_SCHEMA,
      terminalId: row.terminalId,
      batchId: `reprocess-${id}-${Date.now()}`,
      sentAt: (this.options.now?.() ?? new Date()).toISOString(),
      records: [record],
    });
    const outcome = this.options.ingestor.ingest(topics.transactions(row.terminalId), payload);
    const stored = outcome.kind === 'batch' && outcome.stored.length === 1;
    const alreadyStored =
      outcome.kind === 'batch' && outcome.stored.length === 0 && outcome.ack.rejected.length === 0 && canonicalJson(record) === this.storedRaw(row.terminalId, row.sequence);
    const reason = outcome.kind === 'batch' ? (outcome.ack.rejected[0]?.reason ?? 'stored') : outcome.reason;

    if (stored || alreadyStored) {
      this.atomic(() => {
        this.options.store.recordAction('rejected', String(id), 'reprocessed', 'stored after re-processing', operator, { terminalId: row.terminalId, sequence: row.sequence });
        this.options.audit(operator, 'exception.reprocess', `rejected:${id}`, { outcome: 'stored', terminalId: row.terminalId, sequence: row.sequence });
      });
      return { outcome: 'stored' };
    }
    this.options.audit(operator, 'exception.reprocess', `rejected:${id}`, { outcome: 'rejected-again', reason });
    return { outcome: 'rejected-again', reason };
  }

  /** Closes a rejected record without storing it. */
  writeOffRejected(id: number, reason: string, operator: string): void {
    const row = this.requireRejected(id);
    if (row.lastAction === 'reprocessed' || row.lastAction === 'written-off') throw new ClearingError('conflict', `rejected item ${id} is already ${row.lastAction}`);
    requireReason(reason);
    this.atomic(() => {
      this.options.store.recordAction('rejected', String(id), 'written-off', reason, operator, { terminalId: row.terminalId, sequence: row.sequence });
      this.options.audit(operator, 'exception.write-off', `rejected:${id}`, { reason, terminalId: row.terminalId, sequence: row.sequence });
    });
  }

  /**
   * Resolves an open in-doubt record. With `matched`, the later record of the same card decides:
   * its card counter equal to the in-doubt one means the card never took the debit (the counter
   * was not used), one more with the balance lowered by the fare means it did. Without `matched`
   * the operator's `outcome` and reason decide. A debited decision moves the fare to settlement.
   */
  resolveInDoubt(input: ResolveInDoubtInput, operator: string): 'debited' | 'not-debited' {
    requireReason(input.reason);
    const row = this.requireOpenInDoubt(input.terminalId, input.sequence);
    let outcome = input.outcome;
    if (input.matched) {
      outcome = this.outcomeFromLaterRecord(row, input.matched.terminalId, input.matched.sequence);
      if (input.outcome !== undefined && input.outcome !== outcome) {
        throw new ClearingError('invalid', `the matched record shows the card was ${outcome}, which contradicts the requested outcome ${input.outcome}`);
      }
    }
    if (outcome === undefined) throw new ClearingError('invalid', 'give an outcome (debited or not-debited) or a matched later record');

    const decidedOutcome = outcome;
    this.atomic(() => {
      const decided = this.options.store.decideInDoubt({ terminalId: row.terminalId, sequence: row.sequence, outcome: decidedOutcome, reason: input.reason, decidedBy: operator, matched: input.matched });
      if (!decided) throw new ClearingError('conflict', `in-doubt record ${row.terminalId}#${row.sequence} is already decided`);
      const key = `${row.terminalId}#${row.sequence}`;
      this.options.store.recordAction('in-doubt', key, 'resolved', input.reason, operator, { outcome: decidedOutcome, matched: input.matched ?? null });
      this.options.audit(operator, 'exception.resolve-in-doubt', `in-doubt:${key}`, { outcome: decidedOutcome, reason: input.reason, matched: input.matched ?? null, amountFen: row.amountFen });
    });
    return outcome;
  }

  writeOffInDoubt(terminalId: string, sequence: number, reason: string, operator: string): void {
    requireReason(reason);
    const row = this.requireOpenInDoubt(terminalId, sequence);
    const key = `${row.terminalId}#${row.sequence}`;
    this.atomic(() => {
      this.options.store.recordAction('in-doubt', key, 'written-off', reason, operator, { amountFen: row.amountFen });
      this.options.audit(operator, 'exception.write-off', `in-doubt:${key}`, { reason, amountFen: row.amountFen });
    });
  }

  private outcomeFromLaterRecord(row: InDoubtExceptionRow, terminalId: string, sequence: number): 'debited' | 'not-debited' {
    const later = this.options.repository.findTransaction(terminalId, sequence);
    if (!later) throw new ClearingError('not-found', `matched record ${terminalId}#${sequence} is not stored`);
    if (later.asn !== row.asn) throw new ClearingError('invalid', `matched record ${terminalId}#${sequence} is of card ${later.asn}, not ${row.asn}`);
    if (later.kind === 'in-doubt') throw new ClearingError('invalid', `matched record ${terminalId}#${sequence} is itself in doubt`);
    if (later.occurredAt <= row.occurredAt) throw new ClearingError('invalid', `matched record ${terminalId}#${sequence} is not later than the in-doubt record`);
    const evidence = this.debitEvidence(terminalId, sequence);
    if (evidence.cardCounter === row.cardCounter) return 'not-debited';
    if (evidence.cardCounter === row.cardCounter + 1 && evidence.balanceBeforeFen === row.balanceBeforeFen - row.amountFen) return 'debited';
    throw new ClearingError(
      'invalid',
      `matched record ${terminalId}#${sequence} has card counter ${evidence.cardCounter} and balance ${evidence.balanceBeforeFen} fen before its debit, which prove neither outcome (in-doubt counter ${row.cardCounter}, balance ${row.balanceBeforeFen} fen)`,
    );
  }

  private debitEvidence(terminalId: string, sequence: number): { cardCounter: number; balanceBeforeFen: number } {
    const raw = this.storedRaw(terminalId, sequence);
    const record = JSON.parse(raw ?? '{}') as { debit?: { cardCounter?: number; balanceBeforeFen?: number } };
    return { cardCounter: record.debit?.cardCounter ?? -1, balanceBeforeFen: record.debit?.balanceBeforeFen ?? -1 };
  }

  private storedRaw(terminalId: string, sequence: number): string | undefined {
    return this.options.store.storedRaw(terminalId, sequence);
  }

  private requireRejected(id: number): RejectedExceptionRow {
    const row = this.options.store.findRejected(id);
    if (!row) throw new ClearingError('not-found', `rejected item ${id} not found`);
    return row;
  }

  private requireOpenInDoubt(terminalId: string, sequence: number): InDoubtExceptionRow {
    const row = this.options.store.findInDoubt(terminalId, sequence);
    if (!row) throw new ClearingError('not-found', `in-doubt record ${terminalId}#${sequence} not found`);
    if (row.resolvedBySequence !== null) throw new ClearingError('conflict', `in-doubt record ${terminalId}#${sequence} is already settled by the card's proof in record ${row.resolvedBySequence}`);
    if (row.decision !== null) throw new ClearingError('conflict', `in-doubt record ${terminalId}#${sequence} is already decided as ${row.decision}`);
    if (row.writtenOff) throw new ClearingError('conflict', `in-doubt record ${terminalId}#${sequence} is written off`);
    return row;
  }
}

function requireReason(reason: string): void {
  if (reason.trim().length === 0) throw new ClearingError('invalid', 'a reason is required');
}
