import { TX_ACK_SCHEMA, type TransactionAck } from '@busfare/shared-protocol';
import type { AcceptedTransaction, ClearingRepository, RejectedInput, StoredTransactionRow } from '../store/clearing-repository.js';
import type { BusinessDayRule } from './business-day.js';
import type { EvidenceScreen } from '../security/evidence-ledger.js';
import type { TacVerifier } from './tac-verifier.js';
import type { Logger } from '../logger.js';
import type { CloneFlagStore } from './m1-clone-flags.js';
import { type RecordColumns, columnsOf } from '../store/record-columns.js';
import { type CheckedPayload, PayloadChecker } from './payload-check.js';

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

/** A payload as received, or already checked by a PayloadChecker (in a worker thread). */
export type IngestInput = { topic: string; payload: string } | CheckedPayload;

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
  /** Receives a debug line when a group is stored again payload by payload. */
  logger?: Logger;
}

/**
 * Turns one payload from a terminal's transactions topic into stored records, rejections and an
 * acknowledgement. It keeps no state of its own, because every decision depends only on the
 * payload and the repository. Several ingest workers could therefore share one database.
 */
export class TransactionIngestor {
  private readonly checker: PayloadChecker;

  constructor(private readonly options: TransactionIngestorOptions) {
    this.checker = new PayloadChecker({ verifier: options.verifier, businessDay: options.businessDay });
  }

  /** Ingests one payload in its own durable transaction. */
  ingest(topic: string, payload: string): TransactionIngestOutcome {
    const stored: StoredRecords[] = [];
    const outcome = this.options.repository.transaction(() => this.storePayload(this.checker.check(topic, payload), stored));
    this.observeClones(stored);
    return outcome;
  }

  /**
   * Ingests several payloads in one write transaction, so they cost one synchronous commit. A
   * payload that fails with an error is rolled back alone and reported as `error`, and the
   * others still commit. Every outcome holds only once this returns, so acknowledgements go out after it.
   */
  ingestMany(messages: readonly IngestInput[]): GroupedIngestResult[] {
    let stored: StoredRecords[] = [];
    let results: GroupedIngestResult[] | undefined;
    // Almost every group stores without an error, so it first runs without savepoints, which
    // save SQLite copying every changed page into a journal. Any error, or a write that needs a
    // savepoint, rolls the whole group back, and it runs again payload by payload.
    try {
      results = this.options.repository.transactionWithoutSavepoints(() => messages.map((message): GroupedIngestResult => ({ outcome: this.storePayload(this.checked(message), stored) })));
    } catch (error) {
      // A held claim of a resent batch lands here too, so this is not an error in itself. An
      // error of a payload shows in its result of the second run.
      this.options.logger?.debug({ err: error, payloads: messages.length }, 'group rolled back, storing it again payload by payload with savepoints');
      stored = [];
    }
    results ??= this.options.repository.transaction(() =>
      messages.map((message): GroupedIngestResult => {
        try {
          const checked = this.checked(message);
          // A nested transaction is a savepoint: an error undoes this payload's writes only.
          return { outcome: this.options.repository.transaction(() => this.storePayload(checked, stored)) };
        } catch (error) {
          return { error };
        }
      }),
    );
    this.observeClones(stored);
    return results;
  }

  private checked(message: IngestInput): CheckedPayload {
    return 'kind' in message ? message : this.checker.check(message.topic, message.payload);
  }

  /** Clone checks write through their own connection, so they run after the batch's commit. */
  private observeClones(stored: readonly StoredRecords[]): void {
    const { cloneFlags } = this.options;
    if (!cloneFlags || stored.length === 0) return;
    const flaggedAt = new Date().toISOString();
    // Only MIFARE Classic purses are observed, so other records are never parsed here.
    for (const { terminalId, items } of stored) for (const item of items) if (columnsOf(item).application === 'm1') cloneFlags.observe(terminalId, item.record, flaggedAt);
  }

  /**
   * Stores one payload inside the caller's repository transaction and appends its newly stored
   * records to `storedRecords`. `checked` is the payload as PayloadChecker returns it, from this
   * thread or a worker.
   */
  private storePayload(checked: CheckedPayload, storedRecords: StoredRecords[]): TransactionIngestOutcome {
    const { repository } = this.options;
    const { terminalId, topic } = checked;
    if (checked.kind === 'payload-rejected') {
      repository.addRejected({ terminalId, topic, sequence: null, reason: checked.reason, payload: checked.payload });
      return { kind: 'payload-rejected', terminalId, reason: checked.reason };
    }

    let accepted: AcceptedTransaction[] = [];
    const rejected: RejectedInput[] = [...checked.rejected];
    const inDoubtInBatch = new Set<number>();
    for (const item of checked.accepted) {
      const columns = columnsOf(item);
      const linkProblem = this.checkResolutionLink(terminalId, columns, inDoubtInBatch);
      if (linkProblem) {
        rejected.push({ terminalId, topic, sequence: columns.sequence, reason: linkProblem, payload: item.raw });
        continue;
      }
      if (columns.kind === 'in-doubt') inDoubtInBatch.add(columns.sequence);
      accepted.push(item);
    }

    // The evidence claims and the records share the caller's transaction, so they commit together.
    if (this.options.evidence) {
      const screened = this.options.evidence.screen(terminalId, topic, accepted);
      accepted = screened.accepted;
      rejected.push(...screened.rejected);
    }
    const written = repository.writeBatch(terminalId, accepted, rejected, checked.locks);
    const progress = repository.progress(terminalId);
    const ack: TransactionAck = {
      schema: TX_ACK_SCHEMA,
      terminalId,
      batchId: checked.batchId,
      ackedThrough: progress.contiguousThrough,
      stored: written.stored,
      duplicates: written.duplicates,
      rejected: [
        ...rejected.flatMap((item) => (item.sequence === null ? [] : [{ sequence: item.sequence, reason: item.reason }])),
        ...written.conflicts,
      ],
    };
    if (progress.missing.length > 0) ack.missing = progress.missing;

    // A sequence repeated within the batch was stored from its first copy, so only that copy counts.
    const storedSequences = new Set(written.storedSequences);
    const stored = accepted.filter((item) => storedSequences.delete(columnsOf(item).sequence));
    storedRecords.push({ terminalId, items: stored });
    return { kind: 'batch', terminalId, ack, sentAt: checked.sentAt, stored };
  }

  /**
   * A resolution must settle an in-doubt record: one of this batch, or a stored one. Whether it
   * names an earlier sequence at all is checked with the payload.
   */
  private checkResolutionLink(terminalId: string, record: RecordColumns, inDoubtInBatch: ReadonlySet<number>): string | undefined {
    if (record.kind !== 'resolution' || record.resolvesSequence === null) return undefined;
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

