import type { LockRecord, OutboxRecord, TransactionRecord } from '@busfare/shared-protocol';
import {
  completedRecord,
  debitedRecord,
  inDoubtRecord,
  pendingRecord,
  recoveredRecord,
  resolutionRecord,
  type CompletionResult,
  type DebitResult,
  type ResolutionProof,
} from './record-transitions.js';
import { TransactionStoreError } from './store-errors.js';
import type { OpenInDoubt, PendingLock, PendingPurchase, ReadyRecordText, RecordState, StoredRecord, TransactionStore } from './transaction-store.js';

type MemoryRow = { record: TransactionRecord; state: RecordState; inDoubtOpen: boolean } | { record: LockRecord; state: 'ready'; inDoubtOpen: false };

/**
 * A TransactionStore in process memory, with the same behaviour as the SQLite store, for fast
 * unit tests. Nothing survives the process.
 */
export class MemoryTransactionStore implements TransactionStore {
  private readonly rows = new Map<number, MemoryRow>();
  private lastAllocated = 0;
  private acked = 0;
  private closed = false;

  appendPending(purchase: PendingPurchase): number {
    this.checkOpen();
    const sequence = this.lastAllocated + 1;
    const record = pendingRecord(sequence, purchase);
    this.lastAllocated = sequence;
    this.rows.set(sequence, { record, state: 'pending', inDoubtOpen: false });
    return sequence;
  }

  recordDebit(sequence: number, result: DebitResult): void {
    const row = this.pendingRow(sequence);
    this.rows.set(sequence, { record: debitedRecord(row.record, result), state: 'pending', inDoubtOpen: false });
  }

  complete(sequence: number, result: CompletionResult): TransactionRecord {
    const row = this.pendingRow(sequence);
    const record = completedRecord(row.record, result);
    this.rows.set(sequence, { record, state: 'ready', inDoubtOpen: false });
    return structuredClone(record);
  }

  markInDoubt(sequence: number): TransactionRecord {
    const row = this.pendingRow(sequence);
    const record = inDoubtRecord(row.record);
    this.rows.set(sequence, { record, state: 'ready', inDoubtOpen: true });
    return structuredClone(record);
  }

  recoverPending(): number {
    this.checkOpen();
    let count = 0;
    for (const [sequence, row] of this.rows) {
      if (row.state !== 'pending') continue;
      const record = recoveredRecord(row.record);
      this.rows.set(sequence, { record, state: 'ready', inDoubtOpen: record.kind === 'in-doubt' });
      count += 1;
    }
    return count;
  }

  appendLock(lock: PendingLock): LockRecord {
    this.checkOpen();
    const sequence = this.lastAllocated + 1;
    const record: LockRecord = { sequence, kind: 'lock', ...structuredClone(lock) };
    this.lastAllocated = sequence;
    this.rows.set(sequence, { record, state: 'ready', inDoubtOpen: false });
    return structuredClone(record);
  }

  findOpenInDoubt(asn: string): OpenInDoubt | undefined {
    const open = this.listOpenInDoubt().filter((entry) => entry.record.card.asn === asn);
    return open.at(-1);
  }

  listOpenInDoubt(): OpenInDoubt[] {
    this.checkOpen();
    return this.sortedRows().flatMap((row) => (row.inDoubtOpen ? [{ sequence: row.record.sequence, record: structuredClone(row.record) }] : []));
  }

  appendResolution(inDoubtSequence: number, outcome: 'debited' | 'not-debited', proof: ResolutionProof): TransactionRecord {
    this.checkOpen();
    const inDoubt = this.rows.get(inDoubtSequence);
    if (!inDoubt) throw new TransactionStoreError('not-found', `no record with sequence ${inDoubtSequence}`);
    if (!inDoubt.inDoubtOpen) throw new TransactionStoreError('invalid-state', `record ${inDoubtSequence} is not an open in-doubt record`);

    const sequence = this.lastAllocated + 1;
    const record = resolutionRecord(sequence, inDoubt.record, outcome, proof);
    this.lastAllocated = sequence;
    this.rows.set(sequence, { record, state: 'ready', inDoubtOpen: false });
    inDoubt.inDoubtOpen = false;
    return structuredClone(record);
  }

  readReadyText(afterSequence: number, limit: number): ReadyRecordText[] {
    return this.readReady(afterSequence, limit).map((record) => ({ sequence: record.sequence, json: JSON.stringify(record) }));
  }

  readReady(afterSequence: number, limit: number): OutboxRecord[] {
    this.checkOpen();
    const ready: OutboxRecord[] = [];
    for (const row of this.sortedRows()) {
      if (ready.length >= limit) break;
      if (row.record.sequence <= afterSequence) continue;
      if (row.state === 'pending') break;
      ready.push(structuredClone(row.record));
    }
    return ready;
  }

  acknowledge(throughSequence: number): void {
    this.checkOpen();
    if (throughSequence <= this.acked) return;
    if (throughSequence > this.lastAllocated) {
      throw new TransactionStoreError('invalid-acknowledgement', `acknowledgement through ${throughSequence} is above the last sequence ${this.lastAllocated}`);
    }
    for (const row of this.rows.values()) {
      if (row.state === 'pending' && row.record.sequence <= throughSequence) {
        throw new TransactionStoreError('invalid-acknowledgement', `acknowledgement through ${throughSequence} covers pending record ${row.record.sequence}`);
      }
    }
    this.acked = throughSequence;
  }

  ackedThrough(): number {
    this.checkOpen();
    return this.acked;
  }

  lastSequence(): number {
    this.checkOpen();
    return this.lastAllocated;
  }

  backlog(): number {
    this.checkOpen();
    let count = 0;
    for (const sequence of this.rows.keys()) if (sequence > this.acked) count += 1;
    return count;
  }

  pruneAcknowledged(olderThan: Date): number {
    this.checkOpen();
    const cutOffMs = olderThan.getTime();
    let count = 0;
    for (const [sequence, row] of this.rows) {
      if (sequence > this.acked || row.inDoubtOpen) continue;
      if (Date.parse(row.record.occurredAt) >= cutOffMs) continue;
      this.rows.delete(sequence);
      count += 1;
    }
    return count;
  }

  get(sequence: number): StoredRecord | undefined {
    this.checkOpen();
    const row = this.rows.get(sequence);
    if (!row) return undefined;
    return { record: structuredClone(row.record), state: row.state, acknowledged: sequence <= this.acked };
  }

  close(): void {
    this.closed = true;
  }

  private pendingRow(sequence: number): MemoryRow & { record: TransactionRecord } {
    this.checkOpen();
    const row = this.rows.get(sequence);
    if (!row) throw new TransactionStoreError('not-found', `no record with sequence ${sequence}`);
    if (row.state !== 'pending') throw new TransactionStoreError('invalid-state', `record ${sequence} is ${row.record.kind}, not pending`);
    return row;
  }

  private sortedRows(): MemoryRow[] {
    return [...this.rows.values()].sort((a, b) => a.record.sequence - b.record.sequence);
  }

  private checkOpen(): void {
    if (this.closed) throw new TransactionStoreError('invalid-state', 'the transaction store is closed');
  }
}
