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

/** The card's response to DEBIT, stored in a pending record while the PSAM still checks MAC2. */
export interface DebitResult {
  tac: string;
  balanceAfterFen: number;
}

/**
 * Adds the TAC and the balance after DEBIT to a pending record. It stays pending, but it is
 * checked as a completed purchase, because start-up recovery completes it (without a MAC2
 * verdict) if the terminal stops before complete().
 */
export function debitedRecord(pending: TransactionRecord, result: DebitResult): TransactionRecord {
  if (pending.debit.tac !== undefined) throw new TransactionStoreError('invalid-state', `record ${pending.sequence} already carries a TAC`);
  const record: TransactionRecord = { ...pending, debit: { ...pending.debit, tac: result.tac, balanceAfterFen: result.balanceAfterFen } };
  checkRecord({ ...record, kind: 'purchase' }, 'debited purchase');
  return record;
}

/**
 * Turns a pending record left by a stop into what start-up recovery keeps: a completed purchase
 * without a MAC2 verdict when its TAC was stored (the card did debit), else an in-doubt record.
 */
export function recoveredRecord(pending: TransactionRecord): TransactionRecord {
  if (pending.debit.tac === undefined) return inDoubtRecord(pending);
  return checkRecord({ ...pending, kind: 'purchase' }, 'recovered purchase');
}

export function completedRecord(pending: TransactionRecord, result: CompletionResult): TransactionRecord {
  if (pending.debit.tac !== undefined) {
    if (pending.debit.tac !== result.tac || pending.debit.balanceAfterFen !== result.balanceAfterFen) {
      const stored = `TAC ${pending.debit.tac} and balance ${pending.debit.balanceAfterFen}`;
      throw new TransactionStoreError('invalid-state', `record ${pending.sequence} stores ${stored}, but its completion gives TAC ${result.tac} and balance ${result.balanceAfterFen}`);
    }
    // debitedRecord() checked this record as a completed purchase, and a boolean verdict keeps it valid.
    return { ...pending, kind: 'purchase', debit: { ...pending.debit, mac2Verified: result.mac2Verified } };
  }
  const record: TransactionRecord = {
    ...pending,
    kind: 'purchase',
    debit: { ...pending.debit, tac: result.tac, balanceAfterFen: result.balanceAfterFen, mac2Verified: result.mac2Verified },
  };
  return checkRecord(record, 'completed purchase');
}

export function inDoubtRecord(pending: TransactionRecord): TransactionRecord {
  if (pending.debit.tac !== undefined) throw new TransactionStoreError('invalid-state', `record ${pending.sequence} carries the TAC of a debit that happened, so it cannot be in doubt`);
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
