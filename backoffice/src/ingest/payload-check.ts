import {
  type TransactionRecord,
  canonicalJson,
  lockRecordSchema,
  parseCommonRecord,
  terminalIdFromTopic,
  terminalIdSchema,
  transactionBatchSchema,
  transactionRecordSchema,
} from '@busfare/shared-protocol';
import type { AcceptedTransaction, RejectedInput } from '../store/clearing-repository.js';
import type { AcceptedLock } from '../store/card-lock-table.js';
import { recordColumns } from '../store/record-columns.js';
import { describeIssues } from '../zod-issues.js';
import { type BusinessDayRule, businessDayPlacer } from './business-day.js';
import type { TacVerifier } from './tac-verifier.js';

/** A payload rejected as a whole, before anything was stored. */
export interface RejectedPayload {
  kind: 'payload-rejected';
  terminalId: string;
  topic: string;
  reason: string;
  payload: string;
}

/**
 * A transaction batch whose records were each validated and TAC-checked. What still needs the
 * database (the in-doubt record a resolution settles, evidence claims, duplicates) is decided when
 * it is stored.
 */
export interface CheckedBatch {
  kind: 'checked-batch';
  terminalId: string;
  topic: string;
  batchId: string;
  sentAt: string;
  accepted: AcceptedTransaction[];
  locks: AcceptedLock[];
  rejected: RejectedInput[];
}

export type CheckedPayload = RejectedPayload | CheckedBatch;

export interface PayloadCheckerOptions {
  verifier: TacVerifier;
  businessDay: BusinessDayRule;
}

/**
 * The part of transaction ingest that needs no database: topic, JSON, schema and TAC checks of
 * one payload. It keeps no state apart from the verifier's key caches, so it can run in a worker
 * thread beside the thread that stores the records.
 */
export class PayloadChecker {
  private readonly businessDayOf: (isoTime: string) => string;

  constructor(private readonly options: PayloadCheckerOptions) {
    this.businessDayOf = businessDayPlacer(options.businessDay);
  }

  check(topic: string, payload: string): CheckedPayload {
    const terminalId = terminalIdFromTopic(topic) ?? '';
    const rejectPayload = (reason: string): RejectedPayload => ({ kind: 'payload-rejected', terminalId, topic, reason, payload });

    if (!terminalIdSchema.safeParse(terminalId).success) return rejectPayload(`invalid terminal id in topic "${topic}"`);

    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch (error) {
      return rejectPayload(`invalid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }

    const batch = transactionBatchSchema.safeParse(json);
    if (!batch.success) return rejectPayload(`invalid transaction batch: ${describeIssues(batch.error).join('; ')}`);
    if (batch.data.terminalId !== terminalId) {
      return rejectPayload(`terminal id "${batch.data.terminalId}" in the payload does not match "${terminalId}" in the topic`);
    }

    const checked: CheckedBatch = { kind: 'checked-batch', terminalId, topic, batchId: batch.data.batchId, sentAt: batch.data.sentAt, accepted: [], locks: [], rejected: [] };
    for (const rawRecord of batch.data.records) {
      const decision = isLockRecord(rawRecord) ? this.decideLock(terminalId, rawRecord) : this.decide(terminalId, rawRecord);
      if ('reason' in decision) checked.rejected.push({ terminalId, topic, sequence: decision.sequence, reason: decision.reason, payload: rejectedRecordText(rawRecord) });
      else if (decision.record.kind === 'lock') checked.locks.push(decision as AcceptedLock);
      else checked.accepted.push(decision as AcceptedTransaction);
    }
    return checked;
  }

  private decide(terminalId: string, rawRecord: unknown): AcceptedTransaction | { sequence: number | null; reason: string } {
    let record = parseCommonRecord(rawRecord);
    if (record === undefined) {
      const quarantined = describeQuarantineNotice(rawRecord);
      if (quarantined !== undefined) return { sequence: readableSequence(rawRecord), reason: quarantined };
      const parsed = transactionRecordSchema.safeParse(rawRecord);
      if (!parsed.success) return { sequence: readableSequence(rawRecord), reason: `invalid record: ${describeIssues(parsed.error).join('; ')}` };
      record = parsed.data;
    }

    if (record.kind === 'resolution' && record.resolvesSequence !== undefined && record.resolvesSequence >= record.sequence) {
      return { sequence: record.sequence, reason: `resolution ${record.sequence} settles sequence ${record.resolvesSequence}, which is not an earlier record` };
    }

    let verification: AcceptedTransaction['verification'] = 'not-applicable';
    if (carriesTac(record)) {
      const check = this.options.verifier.verify(record);
      if (check.outcome === 'failed') return { sequence: record.sequence, reason: check.reason };
      verification = check.outcome;
    }

    return {
      terminalId,
      record,
      verification,
      businessDay: this.businessDayOf(record.occurredAt),
      // Both parsers write keys in schema order and drop unknown ones, so equal content gives
      // equal text whatever key order the terminal used.
      raw: JSON.stringify(record),
      columns: recordColumns(record),
    };
  }

  /** Validates a lock record. It moves no money and carries no TAC, so nothing is verified. */
  private decideLock(terminalId: string, rawRecord: unknown): AcceptedLock | { sequence: number | null; reason: string } {
    const parsed = lockRecordSchema.safeParse(rawRecord);
    if (!parsed.success) return { sequence: readableSequence(rawRecord), reason: `invalid lock record: ${describeIssues(parsed.error).join('; ')}` };
    const record = parsed.data;
    return { terminalId, record, businessDay: this.businessDayOf(record.occurredAt), raw: JSON.stringify(record) };
  }
}

/** Purchases and debited resolutions carry a TAC; in-doubt records and not-debited resolutions do not. */
function carriesTac(record: TransactionRecord): boolean {
  return record.kind === 'purchase' || (record.kind === 'resolution' && record.outcome === 'debited');
}

function isLockRecord(rawRecord: unknown): boolean {
  return typeof rawRecord === 'object' && rawRecord !== null && (rawRecord as { kind?: unknown }).kind === 'lock';
}

/**
 * Returns a rejected record as canonical JSON. JSON.parse reads nesting deeper than canonicalJson
 * can recurse, and the RangeError would fail the whole batch. A record nested that deeply is
 * therefore kept as a note with its sequence in place of its text.
 */
function rejectedRecordText(rawRecord: unknown): string {
  try {
    return canonicalJson(rawRecord);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return JSON.stringify({ unstored: 'record nested too deeply to keep as text', sequence: readableSequence(rawRecord) });
  }
}

/**
 * Returns the rejection reason for a terminal's quarantine notice, or undefined for anything else.
 * A terminal sends the notice, kind `quarantined` with a `reason` and the `storedText`, in place
 * of a record whose stored text it found damaged. It keeps the bytes, and the rejected table keeps
 * the notice, so the record can be rebuilt by hand.
 */
function describeQuarantineNotice(rawRecord: unknown): string | undefined {
  if (typeof rawRecord !== 'object' || rawRecord === null) return undefined;
  const { kind, reason } = rawRecord as { kind?: unknown; reason?: unknown };
  if (kind !== 'quarantined') return undefined;
  const detail = typeof reason === 'string' ? reason.slice(0, 200) : 'no reason given';
  return `record damaged in the terminal's outbox and quarantined there (${detail}); its stored text is kept with this rejection`;
}

/** Reads the sequence of a record that failed validation, when it still has a usable one. */
function readableSequence(rawRecord: unknown): number | null {
  if (typeof rawRecord !== 'object' || rawRecord === null) return null;
  const sequence = (rawRecord as { sequence?: unknown }).sequence;
  return typeof sequence === 'number' && Number.isSafeInteger(sequence) && sequence >= 1 ? sequence : null;
}
