import { transactionRecordSchema, type TransactionRecord } from '@busfare/shared-protocol';
import { TransactionStoreError } from './store-errors.js';
import type { PendingPurchase } from './transaction-store.js';

/**
 * The record changes that every TransactionStore makes, kept apart from storage so that the
 * SQLite and in-memory stores build identical records.
 */

export interface CompletionResult {
  tac: string;
  balanceAfterFen: number;
  mac2Verified: boolean;
}

export interface ResolutionProof {
  tac?: string;
  mac2Verified?: boolean;
  balanceAfterFen?: number;
  occurredAt: string;
}

/** Throws `invalid-record` unless the record passes the wire schema the back office applies. */
function checkRecord(record: TransactionRecord, description: string): TransactionRecord {
  const result = transactionRecordSchema.safeParse(record);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`);
    throw new TransactionStoreError('invalid-record', `invalid ${description} for sequence ${record.sequence}: ${problems.join('; ')}`);
  }
  return record;
}

/**
 * Builds the record written before DEBIT. It has kind `purchase` but no TAC yet, so it is checked
 * with the in-doubt rules, because it becomes an in-doubt record if the card does not respond to DEBIT.
 */
export function pendingRecord(sequence: number, purchase: PendingPurchase): TransactionRecord {
  const record: TransactionRecord = structuredClone({
    sequence,
    kind: 'purchase',
    occurredAt: purchase.occurredAt,
    card: purchase.card,
    debit: { ...purchase.debit, tac: undefined, balanceAfterFen: undefined, mac2Verified: undefined },
    trip: purchase.trip,
  });
  checkRecord({ ...record, kind: 'in-doubt' }, 'pending purchase');
  return dropUndefined(record);
}

export function completedRecord(pending: TransactionRecord, result: CompletionResult): TransactionRecord {
  const record: TransactionRecord = {
    ...pending,
    kind: 'purchase',
    debit: { ...pending.debit, tac: result.tac, balanceAfterFen: result.balanceAfterFen, mac2Verified: result.mac2Verified },
  };
  return checkRecord(record, 'completed purchase');
}

export function inDoubtRecord(pending: TransactionRecord): TransactionRecord {
  return checkRecord({ ...pending, kind: 'in-doubt' }, 'in-doubt record');
}

/** Builds the record that settles an in-doubt purchase; card, trip and debit come from it. */
export function resolutionRecord(
  sequence: number,
  inDoubt: TransactionRecord,
  outcome: 'debited' | 'not-debited',
  proof: ResolutionProof,
): TransactionRecord {
  const record: TransactionRecord = dropUndefined({
    sequence,
    kind: 'resolution',
    occurredAt: proof.occurredAt,
    card: structuredClone(inDoubt.card),
    debit: dropUndefined({
      ...structuredClone(inDoubt.debit),
      tac: proof.tac,
      mac2Verified: proof.mac2Verified,
      balanceAfterFen: proof.balanceAfterFen,
    }),
    trip: structuredClone(inDoubt.trip),
    resolvesSequence: inDoubt.sequence,
    outcome,
  });
  return checkRecord(record, 'resolution');
}

/** Removes keys whose value is undefined, so a record reads the same before and after JSON. */
function dropUndefined<T extends object>(value: T): T {
  const copy = { ...value } as Record<string, unknown>;
  for (const key of Object.keys(copy)) {
    if (copy[key] === undefined) delete copy[key];
    else if (key === 'debit') copy[key] = dropUndefined(copy[key] as object);
  }
  return copy as T;
}
