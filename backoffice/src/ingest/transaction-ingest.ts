import {
  TX_ACK_SCHEMA,
  type TransactionAck,
  type TransactionRecord,
  canonicalJson,
  lockRecordSchema,
  terminalIdFromTopic,
  terminalIdSchema,
  transactionBatchSchema,
  transactionRecordSchema,
} from '@busfare/shared-protocol';
import type { AcceptedTransaction, ClearingRepository, RejectedInput, StoredTransactionRow } from '../store/clearing-repository.js';
import type { AcceptedLock } from '../store/card-lock-table.js';
import { describeIssues } from '../zod-issues.js';
import { type BusinessDayRule, businessDayPlacer } from './business-day.js';
import type { EvidenceScreen } from '../security/evidence-ledger.js';
import type { TacVerifier } from './tac-verifier.js';
import type { CloneFlagStore } from './m1-clone-flags.js';

/** A payload refused as a whole: it is kept in the rejected table and gets no acknowledgement. */
export interface PayloadRejection {
  kind: 'payload-rejected';
  terminalId: string;
  reason: string;
}

/** A batch whose records were each stored or rejected, with the acknowledgement to publish. */
export interface BatchOutcome {
  kind: 'batch';
  terminalId: string;
  ack: TransactionAck;
  /** The terminal's clock when it sent the batch. */
  sentAt: string;
  /** Records stored for the first time by this batch. */
  stored: AcceptedTransaction[];
}

export type TransactionIngestOutcome = PayloadRejection | BatchOutcome;

/** One payload of ingestMany(): its outcome, or the error that rolled it back. */
export type GroupedIngestResult = { outcome: TransactionIngestOutcome } | { error: unknown };

interface StoredRecords {
  terminalId: string;
  items: readonly AcceptedTransaction[];
}

export interface TransactionIngestorOptions {
  repository: ClearingRepository;
  verifier: TacVerifier;
  businessDay: BusinessDayRule;
  /** Replay and PSAM-ownership checks on verified records; without it none are made. */
  evidence?: EvidenceScreen;
  /** Clone checks of MIFARE Classic purses on every newly stored M1 debit; without it none are made. */
  cloneFlags?: CloneFlagStore;
}

/**
 * Turns one payload from a terminal's transactions topic into stored records, rejections and an
 * acknowledgement. It keeps no state of its own, because every decision depends only on the
 * payload and the repository. Several ingest workers could therefore share one database.
 */
export class TransactionIngestor {
  private readonly businessDayOf: (isoTime: string) => string;

  constructor(private readonly options: TransactionIngestorOptions) {
    this.businessDayOf = businessDayPlacer(options.businessDay);
  }

  /** Ingests one payload in its own durable transaction. */
  ingest(topic: string, payload: string): TransactionIngestOutcome {
    const stored: StoredRecords[] = [];
    const outcome = this.options.repository.transaction(() => this.ingestPayload(topic, payload, stored));
    this.observeClones(stored);
    return outcome;
  }

  /**
   * Ingests several payloads in one write transaction, so they cost one synchronous commit. A
   * payload that fails with an error is rolled back alone and reported as `error`, and the
   * others still commit. Every outcome holds only once this returns, so acknowledgements go out after it.
   */
  ingestMany(messages: readonly { topic: string; payload: string }[]): GroupedIngestResult[] {
    const stored: StoredRecords[] = [];
    const results = this.options.repository.transaction(() =>
      messages.map((message): GroupedIngestResult => {
        try {
          // A nested transaction is a savepoint: an error undoes this payload's writes only.
          return { outcome: this.options.repository.transaction(() => this.ingestPayload(message.topic, message.payload, stored)) };
        } catch (error) {
          return { error };
        }
      }),
    );
    this.observeClones(stored);
    return results;
  }

  /** Clone checks write through their own connection, so they run after the batch's commit. */
  private observeClones(stored: readonly StoredRecords[]): void {
    const { cloneFlags } = this.options;
    if (!cloneFlags || stored.length === 0) return;
    const flaggedAt = new Date().toISOString();
    for (const { terminalId, items } of stored) for (const item of items) cloneFlags.observe(terminalId, item.record, flaggedAt);
  }

  /** Ingests one payload inside the caller's repository transaction and appends its newly stored records to `storedRecords`. */
  private ingestPayload(topic: string, payload: string, storedRecords: StoredRecords[]): TransactionIngestOutcome {
    const { repository } = this.options;
    const topicTerminalId = terminalIdFromTopic(topic) ?? '';
    const rejectPayload = (reason: string): PayloadRejection => {
      repository.addRejected({ terminalId: topicTerminalId, topic, sequence: null, reason, payload });
      return { kind: 'payload-rejected', terminalId: topicTerminalId, reason };
    };

    if (!terminalIdSchema.safeParse(topicTerminalId).success) return rejectPayload(`invalid terminal id in topic "${topic}"`);

    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch (error) {
      return rejectPayload(`invalid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }

    const batch = transactionBatchSchema.safeParse(json);
    if (!batch.success) return rejectPayload(`invalid transaction batch: ${describeIssues(batch.error).join('; ')}`);
    if (batch.data.terminalId !== topicTerminalId) {
      return rejectPayload(`terminal id "${batch.data.terminalId}" in the payload does not match "${topicTerminalId}" in the topic`);
    }

    let accepted: AcceptedTransaction[] = [];
    const rejected: RejectedInput[] = [];
    const locks: AcceptedLock[] = [];
    const inDoubtInBatch = new Set<number>();
    for (const rawRecord of batch.data.records) {
      if (isLockRecord(rawRecord)) {
        const lock = this.decideLock(topicTerminalId, rawRecord);
        if ('reason' in lock) rejected.push({ terminalId: topicTerminalId, topic, sequence: lock.sequence, reason: lock.reason, payload: canonicalJson(rawRecord) });
        else locks.push(lock);
        continue;
      }
      const decision = this.decide(topicTerminalId, rawRecord, inDoubtInBatch);
      if ('reason' in decision) {
        rejected.push({ terminalId: topicTerminalId, topic, sequence: decision.sequence, reason: decision.reason, payload: canonicalJson(rawRecord) });
        continue;
      }
      if (decision.record.kind === 'in-doubt') inDoubtInBatch.add(decision.record.sequence);
      accepted.push(decision);
    }

    // The evidence claims and the records share the caller's transaction, so they commit together.
    if (this.options.evidence) {
      const screened = this.options.evidence.screen(topicTerminalId, topic, accepted);
      accepted = screened.accepted;
      rejected.push(...screened.rejected);
    }
    const written = repository.writeBatch(topicTerminalId, accepted, rejected, locks);
    const progress = repository.progress(topicTerminalId);
    const ack: TransactionAck = {
      schema: TX_ACK_SCHEMA,
      terminalId: topicTerminalId,
      batchId: batch.data.batchId,
      ackedThrough: progress.contiguousThrough,
      stored: written.stored,
      duplicates: written.duplicates,
      rejected: [
        ...rejected.flatMap((item) => (item.sequence === null ? [] : [{ sequence: item.sequence, reason: item.reason }])),
        ...written.conflicts,
      ],
    };
    if (progress.missing.length > 0) ack.missing = progress.missing;

    const storedSequences = new Set(written.storedSequences);
    const stored = accepted.filter((item) => storedSequences.has(item.record.sequence));
    storedRecords.push({ terminalId: topicTerminalId, items: stored });
    return { kind: 'batch', terminalId: topicTerminalId, ack, sentAt: batch.data.sentAt, stored };
  }

  private decide(
    terminalId: string,
    rawRecord: unknown,
    inDoubtInBatch: ReadonlySet<number>,
  ): AcceptedTransaction | { sequence: number | null; reason: string } {
    const parsed = transactionRecordSchema.safeParse(rawRecord);
    if (!parsed.success) return { sequence: readableSequence(rawRecord), reason: `invalid record: ${describeIssues(parsed.error).join('; ')}` };
    const record = parsed.data;

    const linkProblem = this.checkResolutionLink(terminalId, record, inDoubtInBatch);
    if (linkProblem) return { sequence: record.sequence, reason: linkProblem };

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
      // zod writes keys in schema order and drops unknown ones, so equal content gives equal text
      // whatever key order the terminal used.
      raw: JSON.stringify(record),
    };
  }

  /** Validates a lock record. It moves no money and carries no TAC, so nothing is verified. */
  private decideLock(terminalId: string, rawRecord: unknown): AcceptedLock | { sequence: number | null; reason: string } {
    const parsed = lockRecordSchema.safeParse(rawRecord);
    if (!parsed.success) return { sequence: readableSequence(rawRecord), reason: `invalid lock record: ${describeIssues(parsed.error).join('; ')}` };
    const record = parsed.data;
    return { terminalId, record, businessDay: this.businessDayOf(record.occurredAt), raw: JSON.stringify(record) };
  }

  /** A resolution must follow the record it settles, and that record, when stored, must be in doubt. */
  private checkResolutionLink(terminalId: string, record: TransactionRecord, inDoubtInBatch: ReadonlySet<number>): string | undefined {
    if (record.kind !== 'resolution' || record.resolvesSequence === undefined) return undefined;
    if (record.resolvesSequence >= record.sequence) {
      return `resolution ${record.sequence} settles sequence ${record.resolvesSequence}, which is not an earlier record`;
    }
    if (inDoubtInBatch.has(record.resolvesSequence)) return undefined;
    const target: StoredTransactionRow | undefined = this.options.repository.findTransaction(terminalId, record.resolvesSequence);
    if (target !== undefined && target.kind !== 'in-doubt') {
      return `resolution ${record.sequence} settles sequence ${record.resolvesSequence}, which is a ${target.kind} record, not an in-doubt one`;
    }
    // A resolution can arrive before its in-doubt record (after a gap). It is stored, and the
    // in-doubt record counts as settled from the moment it arrives.
    return undefined;
  }
}

/** Purchases and debited resolutions carry a TAC; in-doubt records and not-debited resolutions do not. */
function carriesTac(record: TransactionRecord): boolean {
  return record.kind === 'purchase' || (record.kind === 'resolution' && record.outcome === 'debited');
}

function isLockRecord(rawRecord: unknown): boolean {
  return typeof rawRecord === 'object' && rawRecord !== null && (rawRecord as { kind?: unknown }).kind === 'lock';
}

/** Reads the sequence of a record that failed validation, when it still has a usable one. */
function readableSequence(rawRecord: unknown): number | null {
  if (typeof rawRecord !== 'object' || rawRecord === null) return null;
  const sequence = (rawRecord as { sequence?: unknown }).sequence;
  return typeof sequence === 'number' && Number.isSafeInteger(sequence) && sequence >= 1 ? sequence : null;
}
