import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type LockRecord,
  type TransactionRecord,
  asnFactor,
  computeM1RecordMac,
  diversifyKey,
  fromHex,
  toHex,
  topics,
  transactionRecordSchema,
} from '@busfare/shared-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toLiveTap } from '../../backoffice/src/ingest/ingest-service.js';
import type { CloneFlag, CloneFlagStore, StoredCloneFlag } from '../../backoffice/src/ingest/m1-clone-flags.js';
import { type CheckedBatch, type CheckedPayload, PayloadChecker } from '../../backoffice/src/ingest/payload-check.js';
import { packCheckedPayload, unpackCheckedPayload } from '../../backoffice/src/ingest/payload-check-thread.js';
import { TacVerifier } from '../../backoffice/src/ingest/tac-verifier.js';
import { type GroupedIngestResult, type IngestInput, TransactionIngestor } from '../../backoffice/src/ingest/transaction-ingest.js';
import { EvidenceLedger } from '../../backoffice/src/security/evidence-ledger.js';
import type { AcceptedLock } from '../../backoffice/src/store/card-lock-table.js';
import type { AcceptedTransaction, BatchWriteResult, RejectedInput } from '../../backoffice/src/store/clearing-repository.js';
import { type RecordColumns, columnsOf, recordColumns } from '../../backoffice/src/store/record-columns.js';
import { withoutClaimKeys } from '../../backoffice/src/testing/checked-payload.js';
import { SavepointRequired } from '../../backoffice/src/store/nested-write.js';
import { SqliteClearingRepository } from '../../backoffice/src/store/sqlite-clearing-repository.js';
import { LOCAL_ISSUER, LOCAL_ISSUER_PREFIX, TEST_DES_MASTER_KEY, fakeRecord, testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';
import { batchPayload, movedTo, randomSource, recordWithEvidence, tacOf } from './security-records.js';

/*
 * Attacks on the ingest fast path: the multi-row INSERT of a batch whose sequence range is free,
 * the contiguous point moved over the batch's own sequences, and records that reach the storing
 * thread as columns beside their JSON text. The reference is the same repository with the fast
 * path switched off, and for the repository calls also an in-memory model of the tables.
 */

const NOW = new Date('2026-12-05T00:00:00Z');
const BUSINESS_DAY = { timezoneOffsetMinutes: 480, cutoff: '04:00' };
const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

let workDirectory: string;
let databaseCount = 0;

beforeEach(() => {
  workDirectory = mkdtempSync(join(tmpdir(), 'busfare-ingest-fast-path-'));
});

afterEach(() => {
  rmSync(workDirectory, { recursive: true, force: true });
});

interface PathCounts {
  fresh: number;
  recordByRecord: number;
  /** Records of fresh batches with at least one full multi-row statement. */
  multiRowRecords: number;
}

type RepositoryInternals = { isFreshRange: (terminalId: string, columns: readonly RecordColumns[]) => boolean };

/**
 * Opens a repository in the work directory. `fastPath: false` gives the record-by-record reference.
 * The returned counts record how often each path ran.
 */
function openRepository(fastPath: boolean): { repository: SqliteClearingRepository; counts: PathCounts } {
  databaseCount += 1;
  const repository = new SqliteClearingRepository({ path: join(workDirectory, `clearing-${databaseCount}.db`), now: () => NOW });
  // These files are thrown away, so hundreds of commits need not wait for the disk.
  repository.database.pragma('synchronous = OFF');
  const counts: PathCounts = { fresh: 0, recordByRecord: 0, multiRowRecords: 0 };
  const internals = repository as unknown as RepositoryInternals;
  if (typeof internals.isFreshRange !== 'function') throw new Error('SqliteClearingRepository has no isFreshRange() to switch the fast path off with, so update this test');
  const isFreshRange = internals.isFreshRange.bind(repository);
  internals.isFreshRange = (terminalId, columns) => {
    const fresh = fastPath && isFreshRange(terminalId, columns);
    if (fresh) counts.fresh += 1;
    else counts.recordByRecord += 1;
    if (fresh && columns.length >= 32) counts.multiRowRecords += columns.length;
    return fresh;
  };
  return { repository, counts };
}

/** Returns every row of every table, in a stable order. */
function dumpTables(repository: SqliteClearingRepository): Record<string, unknown[]> {
  const db = repository.database;
  const names = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
  const tables: Record<string, unknown[]> = {};
  for (const { name } of names) {
    // Rows are sorted by every column, because the two paths may insert evidence claims in another order.
    const columnCount = db.prepare(`SELECT * FROM "${name}" LIMIT 0`).columns().length;
    const orderBy = Array.from({ length: columnCount }, (_, index) => index + 1).join(', ');
    tables[name] = db.prepare(`SELECT * FROM "${name}" ORDER BY ${orderBy}`).all();
  }
  return tables;
}

// ---------------------------------------------------------------------------------------------
// Records whose TAC is not recomputed: writeBatch stores what the checker accepted and checks no
// evidence, so the repository tests need only valid shapes.

const TEMPLATE = transactionRecordSchema.parse(fakeRecord({ sequence: 1 }));
const TERMINALS = ['TA', 'TB', 'TC'] as const;

type RecordVariant = 0 | 1 | 2;

/**
 * Returns the transaction record of (terminal, sequence, variant). The same arguments give the same
 * text, with the keys in schema order as the checker writes them.
 */
function plainRecord(terminalId: string, sequence: number, variant: RecordVariant): TransactionRecord {
  const record = structuredClone(TEMPLATE);
  record.sequence = sequence;
  // Hex letters in the card number catch a case change between the columns and the text.
  record.card.asn = `9F${TERMINALS.indexOf(terminalId as (typeof TERMINALS)[number]) + 1}0${String(sequence).padStart(16, '0')}`;
  record.debit.amountFen = 200 - variant * 10;
  record.debit.cardCounter = sequence % 0x10000;
  record.debit.terminalSerial = sequence % 0x1_0000_0000;
  // Every third sequence is an in-doubt record, and every fifth a debited resolution of the one before.
  if (sequence % 3 === 0) {
    record.kind = 'in-doubt';
    delete record.debit.tac;
    delete record.debit.balanceAfterFen;
    delete record.debit.mac2Verified;
  } else if (sequence % 5 === 0 && sequence > 1) {
    record.kind = 'resolution';
    record.resolvesSequence = sequence - 1;
    record.outcome = variant === 2 ? 'not-debited' : 'debited';
  }
  if (sequence % 7 === 0) delete record.trip.route;
  return record;
}

function lockRecord(sequence: number, variant: RecordVariant): LockRecord {
  return {
    sequence,
    kind: 'lock',
    occurredAt: '2025-05-06T01:40:00.000Z',
    card: { application: 'tunion', asn: '99000001000000000077', issuerId: LOCAL_ISSUER },
    lock: variant === 0 ? { locked: true, psamTerminalNumber: '010203040506' } : { locked: false, reason: `failed ${variant}`, psamTerminalNumber: '010203040506' },
    trip: { vehicleId: 'BUS-1', route: '12' },
  };
}

const recordCache = new Map<string, TransactionRecord>();

/** Returns plainRecord() through a cache, so that resent records cost no rebuilding. */
function cachedRecord(terminalId: string, sequence: number, variant: RecordVariant): TransactionRecord {
  const key = `${terminalId}/${sequence}/${variant}`;
  let record = recordCache.get(key);
  if (record === undefined) {
    record = plainRecord(terminalId, sequence, variant);
    recordCache.set(key, record);
  }
  return record;
}

function acceptedItem(terminalId: string, record: TransactionRecord): AcceptedTransaction {
  const verification = record.kind === 'in-doubt' || record.outcome === 'not-debited' ? 'not-applicable' : 'verified';
  return { terminalId, record, verification, businessDay: '2025-05-06', raw: JSON.stringify(record), columns: recordColumns(record) };
}

function lockItem(terminalId: string, record: LockRecord): AcceptedLock {
  return { terminalId, record, businessDay: '2025-05-06', raw: JSON.stringify(record) };
}

/** The three shapes a storing thread gets an accepted record in: in-thread, from the worker, or without columns. */
type ItemForm = 'in-thread' | 'from-worker' | 'without-columns';

/** Returns `accepted` as the storing thread gets them in `form`. A worker's reply travels through structuredClone. */
function inForm(form: ItemForm, terminalId: string, accepted: readonly AcceptedTransaction[]): AcceptedTransaction[] {
  if (form === 'in-thread') return [...accepted];
  if (form === 'without-columns') {
    return accepted.map((item) => {
      const copy = { ...item };
      delete copy.columns;
      return copy;
    });
  }
  const batch: CheckedBatch = { kind: 'checked-batch', terminalId, topic: topics.transactions(terminalId), batchId: 'b', sentAt: NOW.toISOString(), accepted: [...accepted], locks: [], rejected: [] };
  const unpacked = unpackCheckedPayload(structuredClone(packCheckedPayload(batch)));
  if (unpacked.kind !== 'checked-batch') throw new Error('expected a checked batch');
  return unpacked.accepted;
}

interface Batch {
  terminalId: string;
  accepted: AcceptedTransaction[];
  rejected: RejectedInput[];
  locks: AcceptedLock[];
}

// ---------------------------------------------------------------------------------------------
// A model of what writeBatch must do, written from its contract rather than from its code.

interface TerminalModel {
  transactions: Map<number, string>;
  locks: Map<number, string>;
  rejectedSequences: Set<number>;
  highestSeen: number;
  duplicates: number;
}

class ClearingModel {
  private readonly terminals = new Map<string, TerminalModel>();
  /** Rejected rows are unique by (terminal, payload). */
  private readonly rejectedPayloads = new Set<string>();

  terminal(terminalId: string): TerminalModel {
    let model = this.terminals.get(terminalId);
    if (!model) {
      model = { transactions: new Map(), locks: new Map(), rejectedSequences: new Set(), highestSeen: 0, duplicates: 0 };
      this.terminals.set(terminalId, model);
    }
    return model;
  }

  write(batch: Batch): BatchWriteResult {
    const model = this.terminal(batch.terminalId);
    const result: BatchWriteResult = { stored: 0, storedSequences: [], duplicates: 0, conflicts: [], rejectedStored: 0 };
    const reject = (sequence: number | null, payload: string) => {
      const key = `${batch.terminalId}\u0000${payload}`;
      if (this.rejectedPayloads.has(key)) {
        result.duplicates += 1;
        return;
      }
      this.rejectedPayloads.add(key);
      result.rejectedStored += 1;
      if (sequence !== null) model.rejectedSequences.add(sequence);
    };
    const conflict = (sequence: number, raw: string) => {
      result.conflicts.push({ sequence, reason: `sequence ${sequence} is already stored with different content` });
      reject(sequence, raw);
    };
    const store = (table: Map<number, string>, sequence: number, raw: string) => {
      const stored = table.get(sequence);
      if (stored === undefined) {
        table.set(sequence, raw);
        result.stored += 1;
        result.storedSequences.push(sequence);
      } else if (stored === raw) {
        result.duplicates += 1;
      } else {
        conflict(sequence, raw);
      }
    };

    for (const lock of batch.locks) {
      const { sequence } = lock.record;
      model.highestSeen = Math.max(model.highestSeen, sequence);
      if (model.transactions.has(sequence)) conflict(sequence, lock.raw);
      else store(model.locks, sequence, lock.raw);
    }
    for (const item of batch.accepted) {
      const { sequence } = item.record;
      model.highestSeen = Math.max(model.highestSeen, sequence);
      if (model.locks.has(sequence)) conflict(sequence, item.raw);
      else store(model.transactions, sequence, item.raw);
    }
    for (const item of batch.rejected) {
      if (item.sequence !== null) model.highestSeen = Math.max(model.highestSeen, item.sequence);
      reject(item.sequence, item.payload);
    }
    model.duplicates += result.duplicates;
    return result;
  }

  /** Returns the progress that the tables imply: contiguous from 1 over stored, locked and rejected sequences. */
  progress(terminalId: string): { terminalId: string; contiguousThrough: number; highestSeen: number; missing: { from: number; to: number }[] } {
    const model = this.terminal(terminalId);
    const present = new Set([...model.transactions.keys(), ...model.locks.keys(), ...model.rejectedSequences]);
    let contiguousThrough = 0;
    while (present.has(contiguousThrough + 1)) contiguousThrough += 1;
    const missing: { from: number; to: number }[] = [];
    let expected = contiguousThrough + 1;
    for (const sequence of [...present].filter((value) => value > contiguousThrough).sort((a, b) => a - b)) {
      if (sequence > expected) missing.push({ from: expected, to: sequence - 1 });
      expected = sequence + 1;
    }
    if (model.highestSeen > contiguousThrough && expected <= model.highestSeen) missing.push({ from: expected, to: model.highestSeen });
    return { terminalId, contiguousThrough, highestSeen: model.highestSeen, missing };
  }

  storedRaw(terminalId: string): { transactions: [number, string][]; locks: [number, string][] } {
    const model = this.terminal(terminalId);
    const sorted = (table: Map<number, string>) => [...table.entries()].sort(([a], [b]) => a - b);
    return { transactions: sorted(model.transactions), locks: sorted(model.locks) };
  }
}

function storedRaw(repository: SqliteClearingRepository, terminalId: string): { transactions: [number, string][]; locks: [number, string][] } {
  const db = repository.database;
  const rows = (table: string) =>
    db
      .prepare<[string], { sequence: number; raw_json: string }>(`SELECT sequence, raw_json FROM ${table} WHERE terminal_id = ? ORDER BY sequence`)
      .all(terminalId)
      .map((row): [number, string] => [row.sequence, row.raw_json]);
  return { transactions: rows('transactions'), locks: rows('card_locks') };
}

// ---------------------------------------------------------------------------------------------
// Random batches of three terminals.

const FRESH_LENGTHS = [1, 2, 31, 32, 33, 63, 64, 65, 96, 97];

interface TerminalState {
  next: number;
  /** Sequences already sent, with what was sent there. */
  sent: { sequence: number; type: 'transaction' | 'lock'; variant: RecordVariant }[];
  previousBatches: Batch[];
}

class BatchGenerator {
  private readonly states = new Map<string, TerminalState>();

  constructor(private readonly random: () => number) {
    for (const terminalId of TERMINALS) this.states.set(terminalId, { next: 1, sent: [], previousBatches: [] });
  }

  private pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.random() * values.length)]!;
  }

  private chance(probability: number): boolean {
    return this.random() < probability;
  }

  next(): Batch {
    const terminalId = this.pick(TERMINALS);
    const state = this.states.get(terminalId)!;
    const batch: Batch = { terminalId, accepted: [], rejected: [], locks: [] };
    const addTransaction = (sequence: number, variant: RecordVariant) => {
      batch.accepted.push(acceptedItem(terminalId, cachedRecord(terminalId, sequence, variant)));
      state.sent.push({ sequence, type: 'transaction', variant });
    };
    const addLock = (sequence: number, variant: RecordVariant) => {
      batch.locks.push(lockItem(terminalId, lockRecord(sequence, variant)));
      state.sent.push({ sequence, type: 'lock', variant });
    };
    const addRejected = (sequence: number | null) => {
      batch.rejected.push({ terminalId, topic: topics.transactions(terminalId), sequence, reason: 'invalid record: test', payload: `{"bad":${sequence},"copy":${this.pick([0, 1])}}` });
    };
    const addSent = (changed: boolean) => {
      if (state.sent.length === 0) return;
      const earlier = this.pick(state.sent);
      const variant = (changed ? (earlier.variant + 1) % 3 : earlier.variant) as RecordVariant;
      // A changed resend may also turn a transaction into a lock or back.
      const asLock = changed && this.chance(0.2) ? earlier.type !== 'lock' : earlier.type === 'lock';
      if (asLock) addLock(earlier.sequence, variant);
      else addTransaction(earlier.sequence, variant);
    };

    const scenario = this.random();
    if (scenario < 0.1 && state.previousBatches.length > 0) {
      // A batch sent again as it was, after a lost acknowledgement.
      return this.pick(state.previousBatches);
    }
    if (scenario < 0.5) {
      // New sequences only, sometimes after a gap, sometimes with a lock or a rejected record inside.
      if (this.chance(0.2)) state.next += 1 + Math.floor(this.random() * 4);
      const length = this.pick(FRESH_LENGTHS);
      for (let index = 0; index < length; index += 1) {
        const sequence = state.next;
        state.next += 1;
        const roll = this.random();
        if (roll < 0.005) addLock(sequence, 0);
        else if (roll < 0.035) addRejected(sequence);
        else addTransaction(sequence, 0);
      }
      if (this.chance(0.1)) addRejected(null);
    } else if (scenario < 0.6) {
      // A fresh range that ends at the largest sequence the schema allows.
      const length = this.pick([1, 32, 33]);
      for (let sequence = MAX_SEQUENCE - length + 1; sequence <= MAX_SEQUENCE; sequence += 1) addTransaction(sequence, 0);
    } else if (scenario < 0.7) {
      // A fresh range straddling a gap that an earlier lock or rejected record sits in.
      const start = Math.max(1, state.next - 1 - Math.floor(this.random() * 40));
      for (let sequence = start; sequence < start + 40; sequence += 1) {
        if (!state.sent.some((entry) => entry.sequence === sequence)) addTransaction(sequence, 0);
      }
      state.next = Math.max(state.next, start + 40);
    } else {
      // Everything at once: new, resent, changed, duplicated, locks, rejections, in any order.
      const operations = 1 + Math.floor(this.random() * 40);
      for (let index = 0; index < operations; index += 1) {
        const roll = this.random();
        if (roll < 0.35) {
          addTransaction(state.next, 0);
          state.next += 1;
        } else if (roll < 0.4) {
          state.next += 1 + Math.floor(this.random() * 3);
        } else if (roll < 0.55) {
          addSent(false);
        } else if (roll < 0.63) {
          addSent(true);
        } else if (roll < 0.7 && batch.accepted.length > 0) {
          batch.accepted.push(this.pick(batch.accepted));
        } else if (roll < 0.77) {
          addLock(state.next, this.pick([0, 1] as const));
          state.next += 1;
        } else if (roll < 0.85) {
          addRejected(this.chance(0.5) ? state.next++ : this.pick([1, state.next - 1, state.next + 2]));
        } else if (roll < 0.9) {
          addRejected(null);
        } else if (roll < 0.95 && batch.accepted.length > 1) {
          batch.accepted.reverse();
        } else if (batch.accepted.length > 1) {
          const [moved] = batch.accepted.splice(Math.floor(this.random() * batch.accepted.length), 1);
          batch.accepted.push(moved!);
        }
      }
    }
    if (batch.accepted.length + batch.locks.length + batch.rejected.length === 0) addTransaction(state.next++, 0);
    state.previousBatches.push(batch);
    return batch;
  }
}

describe('writeBatch fast path against the record-by-record path', () => {
  it('matches the reference and the model on random batches', () => {
    const forms: ItemForm[] = ['in-thread', 'from-worker', 'without-columns'];
    const totals: PathCounts = { fresh: 0, recordByRecord: 0, multiRowRecords: 0 };
    for (const seed of [20261205, 7]) {
      const random = randomSource(seed);
      const generator = new BatchGenerator(random);
      const fast = openRepository(true);
      const reference = openRepository(false);
      const model = new ClearingModel();
      try {
        for (let round = 0; round < 100; round += 1) {
          const batch = generator.next();
          const form = forms[round % forms.length]!;
          const context = `seed ${seed} round ${round} (${form}, terminal ${batch.terminalId})`;

          const fastResult = fast.repository.writeBatch(batch.terminalId, inForm(form, batch.terminalId, batch.accepted), batch.rejected, batch.locks);
          const referenceResult = reference.repository.writeBatch(batch.terminalId, batch.accepted, batch.rejected, batch.locks);
          const modelResult = model.write(batch);

          expect(fastResult, context).toEqual(referenceResult);
          expect(fastResult, context).toEqual(modelResult);
          const progress = fast.repository.progress(batch.terminalId);
          expect(progress, context).toEqual(reference.repository.progress(batch.terminalId));
          expect(progress, context).toEqual(model.progress(batch.terminalId));
          if (round % 40 === 39) expect(dumpTables(fast.repository), context).toEqual(dumpTables(reference.repository));
        }
        expect(dumpTables(fast.repository)).toEqual(dumpTables(reference.repository));
        for (const terminalId of TERMINALS) expect(storedRaw(fast.repository, terminalId)).toEqual(model.storedRaw(terminalId));
        totals.fresh += fast.counts.fresh;
        totals.recordByRecord += fast.counts.recordByRecord;
        totals.multiRowRecords += fast.counts.multiRowRecords;
      } finally {
        fast.repository.close();
        reference.repository.close();
      }
    }

    // Both paths must have run often, or the comparison proves little.
    expect(totals.fresh).toBeGreaterThan(50);
    expect(totals.recordByRecord).toBeGreaterThan(50);
    expect(totals.multiRowRecords).toBeGreaterThan(1_500);
  });

  it('builds records that the schema accepts unchanged', () => {
    for (const sequence of [1, 3, 5, 7, 35, MAX_SEQUENCE - 2, MAX_SEQUENCE]) {
      for (const variant of [0, 1, 2] as const) {
        const record = plainRecord('TC', sequence, variant);
        expect(JSON.stringify(transactionRecordSchema.parse(record))).toBe(JSON.stringify(record));
      }
    }
  });

  it('stores batches of 32, 33 and 64 records at the sequence limits', () => {
    const fast = openRepository(true);
    const reference = openRepository(false);
    try {
      const batches: [number, number][] = [
        [1, 32],
        [33, 33],
        [66, 64],
        [MAX_SEQUENCE - 63, 64],
        [MAX_SEQUENCE - 200, 33],
      ];
      for (const [first, length] of batches) {
        const accepted = Array.from({ length }, (_, index) => acceptedItem('TE', plainRecord('TE', first + index, 0)));
        const fastResult = fast.repository.writeBatch('TE', inForm('from-worker', 'TE', accepted), []);
        expect(fastResult).toEqual(reference.repository.writeBatch('TE', accepted, []));
        expect(fastResult.stored).toBe(length);
      }

      expect(fast.counts).toEqual({ fresh: 5, recordByRecord: 0, multiRowRecords: 32 + 33 + 64 + 64 + 33 });
      expect(fast.repository.progress('TE')).toEqual({
        terminalId: 'TE',
        contiguousThrough: 129,
        highestSeen: MAX_SEQUENCE,
        missing: [
          { from: 130, to: MAX_SEQUENCE - 201 },
          { from: MAX_SEQUENCE - 167, to: MAX_SEQUENCE - 64 },
        ],
      });
      expect(fast.repository.findTransaction('TE', MAX_SEQUENCE)?.sequence).toBe(MAX_SEQUENCE);
      expect(dumpTables(fast.repository)).toEqual(dumpTables(reference.repository));
    } finally {
      fast.repository.close();
      reference.repository.close();
    }
  });

  it('takes the record path for a range around a stored lock', () => {
    const { repository, counts } = openRepository(true);
    try {
      repository.writeBatch('TL', [], [], [lockItem('TL', lockRecord(20, 0))]);
      const accepted = Array.from({ length: 40 }, (_, index) => acceptedItem('TL', plainRecord('TL', index + 1, 0)));

      const result = repository.writeBatch('TL', inForm('from-worker', 'TL', accepted), []);

      expect(counts).toMatchObject({ fresh: 0, recordByRecord: 2 });
      expect(result.stored).toBe(39);
      expect(result.conflicts).toEqual([{ sequence: 20, reason: 'sequence 20 is already stored with different content' }]);
      expect(repository.findTransaction('TL', 20)).toBeUndefined();
      expect(repository.progress('TL')).toMatchObject({ contiguousThrough: 40, missing: [] });
    } finally {
      repository.close();
    }
  });

  it('stores a fresh range over a rejected sequence', () => {
    const { repository, counts } = openRepository(true);
    try {
      repository.writeBatch('TR', [], [{ terminalId: 'TR', topic: topics.transactions('TR'), sequence: 5, reason: 'invalid record: test', payload: '{"bad":5}' }]);
      expect(repository.progress('TR')).toMatchObject({ contiguousThrough: 0, highestSeen: 5, missing: [{ from: 1, to: 4 }] });
      const accepted = Array.from({ length: 33 }, (_, index) => acceptedItem('TR', plainRecord('TR', index + 1, 0)));

      const result = repository.writeBatch('TR', accepted, []);

      // A rejected record takes no row of the transactions table, so the terminal's later valid copy is stored.
      expect(counts.fresh).toBe(1);
      expect(result.storedSequences).toEqual(accepted.map((item) => item.record.sequence));
      expect(repository.progress('TR')).toEqual({ terminalId: 'TR', contiguousThrough: 33, highestSeen: 33, missing: [] });
    } finally {
      repository.close();
    }
  });

  it('moves progress over a lock that fills a gap', () => {
    const { repository } = openRepository(true);
    try {
      repository.writeBatch('TG', [acceptedItem('TG', plainRecord('TG', 1, 0))], []);
      repository.writeBatch('TG', Array.from({ length: 32 }, (_, index) => acceptedItem('TG', plainRecord('TG', index + 3, 0))), []);
      expect(repository.progress('TG')).toMatchObject({ contiguousThrough: 1, highestSeen: 34, missing: [{ from: 2, to: 2 }] });

      const result = repository.writeBatch('TG', [], [], [lockItem('TG', lockRecord(2, 0))]);

      expect(result.storedSequences).toEqual([2]);
      expect(repository.progress('TG')).toEqual({ terminalId: 'TG', contiguousThrough: 34, highestSeen: 34, missing: [] });
    } finally {
      repository.close();
    }
  });

  it('fails a batch whose columns break the schema', () => {
    const { repository, counts } = openRepository(true);
    try {
      repository.writeBatch('TK', [acceptedItem('TK', cachedRecord('TK', 1, 0))], []);
      const broken = (change: Partial<Record<keyof RecordColumns, unknown>>): AcceptedTransaction => {
        const item = acceptedItem('TK', cachedRecord('TK', 2, 0));
        return { ...item, columns: { ...item.columns!, ...change } as RecordColumns };
      };
      const resent = acceptedItem('TK', cachedRecord('TK', 1, 0));

      // Record by record, because sequence 1 is stored: the row must fail, not be skipped as a conflict.
      expect(() => repository.writeBatch('TK', [resent, broken({ kind: 'refund' })], [])).toThrow(/CHECK constraint failed/);
      expect(() => repository.writeBatch('TK', [resent, broken({ asn: null })], [])).toThrow(/NOT NULL constraint failed/);
      expect(counts).toMatchObject({ fresh: 1, recordByRecord: 2 });
      // The multi-row path.
      expect(() => repository.writeBatch('TK', [broken({ kind: 'refund' })], [])).toThrow(/CHECK constraint failed/);
      expect(counts.fresh).toBe(2);

      expect(repository.findTransaction('TK', 2)).toBeUndefined();
      expect(repository.recentRejected(10)).toEqual([]);
      expect(repository.progress('TK')).toEqual({ terminalId: 'TK', contiguousThrough: 1, highestSeen: 1, missing: [] });
    } finally {
      repository.close();
    }
  });

  it('does not count a rejected sequence stored before', () => {
    const { repository } = openRepository(true);
    try {
      const rejected = (sequence: number | null): RejectedInput => ({ terminalId: 'TD', topic: topics.transactions('TD'), sequence, reason: 'invalid record: test', payload: '{"bad":"same text"}' });
      // The rejected table keeps one row per payload text, here with no sequence.
      repository.writeBatch('TD', [], [rejected(null)]);

      const result = repository.writeBatch('TD', [], [rejected(1)]);

      expect(result).toMatchObject({ rejectedStored: 0, duplicates: 1 });
      expect(repository.progress('TD')).toEqual({ terminalId: 'TD', contiguousThrough: 0, highestSeen: 1, missing: [{ from: 1, to: 1 }] });
    } finally {
      repository.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Whole ingest with the evidence ledger: worker replies, in-thread checks and the reference.

const PSAMS: Record<string, string> = { TA: '000000001001', TB: '000000001002' };

interface IngestHarness {
  repository: SqliteClearingRepository;
  ingestor: TransactionIngestor;
  observed: { terminalId: string; record: TransactionRecord }[];
  /** Groups that committed without savepoints, and groups that ran again with them. */
  groups: { withoutSavepoints: number; again: number };
}

class RecordingCloneFlags implements CloneFlagStore {
  readonly observed: { terminalId: string; record: TransactionRecord }[] = [];

  observe(terminalId: string, record: TransactionRecord): CloneFlag[] {
    this.observed.push({ terminalId, record });
    return [];
  }

  listCloneFlags(): StoredCloneFlag[] {
    return [];
  }
}

/**
 * Opens a repository and an ingestor. Without `fastPath` it is the reference: record-by-record
 * inserts and claims, and every group stored payload by payload with savepoints.
 */
function openIngestHarness(fastPath: boolean): IngestHarness {
  const { repository } = openRepository(fastPath);
  const ledger = new EvidenceLedger(repository.database, () => NOW);
  if (!fastPath) (ledger as unknown as { claimAllFresh: () => boolean }).claimAllFresh = () => false;
  const groups = { withoutSavepoints: 0, again: 0 };
  const withoutSavepoints = repository.transactionWithoutSavepoints.bind(repository);
  repository.transactionWithoutSavepoints = <T>(work: () => T): T => {
    if (!fastPath) throw new SavepointRequired('the reference stores with savepoints');
    try {
      const result = withoutSavepoints(work);
      groups.withoutSavepoints += 1;
      return result;
    } catch (error) {
      groups.again += 1;
      throw error;
    }
  };
  const cloneFlags = new RecordingCloneFlags();
  const ingestor = new TransactionIngestor({
    repository,
    verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
    businessDay: BUSINESS_DAY,
    evidence: ledger,
    cloneFlags,
  });
  return { repository, ingestor, observed: cloneFlags.observed, groups };
}

/** Checks a payload the way the worker does and returns it as the storing thread receives the reply. */
function fromWorker(checker: PayloadChecker, topic: string, payload: string): CheckedPayload {
  return unpackCheckedPayload(structuredClone(packCheckedPayload(checker.check(topic, payload))));
}

function checker(): PayloadChecker {
  return new PayloadChecker({ verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }), businessDay: BUSINESS_DAY });
}

function summarise(results: readonly GroupedIngestResult[]): unknown[] {
  return results.map((result) => {
    if ('error' in result) return { error: String(result.error) };
    if (result.outcome.kind === 'payload-rejected') return { payloadRejected: result.outcome.reason };
    const { ack, stored } = result.outcome;
    return { ack, stored: stored.map((item) => ({ raw: item.raw, columns: withoutClaimKeys(columnsOf(item)), liveTap: toLiveTap(item) })) };
  });
}

/** Returns a record of `terminalId` with a valid TAC. Variant 1 changes the amount but keeps the card counter. */
function evidenceRecord(terminalId: string, sequence: number, variant: 0 | 1): TransactionRecord {
  const psam = PSAMS[terminalId]!;
  let record: TransactionRecord;
  // Hex letters in the card number catch a case change between the columns and the text.
  const asn = `9900AB${psam.slice(-4)}${String(sequence).padStart(6, '0')}`;
  if (sequence % 4 === 0) record = recordWithEvidence({ sequence, psam, asn, kind: 'in-doubt' });
  else if (sequence % 4 === 1 && sequence > 1) record = recordWithEvidence({ sequence, psam, asn, kind: 'resolution', resolvesSequence: sequence - 1, outcome: 'debited' });
  else record = recordWithEvidence({ sequence, psam, asn });
  if (variant === 1 && record.debit.tac !== undefined) {
    record.debit.amountFen = 150;
    record.debit.balanceAfterFen = record.debit.balanceBeforeFen - 150;
    record.debit.tac = tacOf(record);
  }
  return record;
}

/** Builds random groups of payloads for two terminals: new, resent, changed, replayed, locks, invalid. */
function ingestGroups(seed: number): { topic: string; payload: string }[][] {
  const random = randomSource(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const next: Record<'TA' | 'TB', number> = { TA: 1, TB: 1 };
  // Valid transaction records sent so far, to resend, change or replay.
  const sentRecords: Record<'TA' | 'TB', TransactionRecord[]> = { TA: [], TB: [] };
  const groups: { topic: string; payload: string }[][] = [];
  let batchNumber = 0;
  for (let groupIndex = 0; groupIndex < 10; groupIndex += 1) {
    const group: { topic: string; payload: string }[] = [];
    const size = 1 + Math.floor(random() * 4);
    for (let messageIndex = 0; messageIndex < size; messageIndex += 1) {
      const terminalId = pick(['TA', 'TB'] as const);
      const other = terminalId === 'TA' ? 'TB' : 'TA';
      const sent = (record: TransactionRecord) => {
        sentRecords[terminalId].push(record);
        return record;
      };
      const records: unknown[] = [];
      const roll = random();
      if (roll < 0.45) {
        const length = pick([1, 5, 32, 33, 40]);
        for (let index = 0; index < length; index += 1) records.push(sent(evidenceRecord(terminalId, next[terminalId]++, 0)));
      } else {
        const operations = 1 + Math.floor(random() * 12);
        for (let index = 0; index < operations; index += 1) {
          const step = random();
          const earlier = sentRecords[terminalId];
          if (step < 0.3) records.push(sent(evidenceRecord(terminalId, next[terminalId]++, 0)));
          else if (step < 0.45 && earlier.length > 0) records.push(pick(earlier));
          else if (step < 0.55 && earlier.length > 0) records.push(sent(evidenceRecord(terminalId, pick(earlier).sequence, 1)));
          else if (step < 0.62 && sentRecords[other].length > 0) records.push(movedTo(pick(sentRecords[other]), next[terminalId]++));
          else if (step < 0.7) records.push(lockRecord(next[terminalId]++, 0));
          else if (step < 0.76) records.push({ ...evidenceRecord(terminalId, next[terminalId]++, 0), kind: 'refund' });
          else if (step < 0.8) records.push({ kind: 'purchase' });
          else if (step < 0.86) next[terminalId] += 2;
          else if (step < 0.93 && records.length > 0) records.push(pick(records));
          else if (records.length > 1) records.reverse();
        }
        if (records.length === 0) records.push(sent(evidenceRecord(terminalId, next[terminalId]++, 0)));
      }
      batchNumber += 1;
      const payload = random() < 0.03 ? '{"schema":' : batchPayload(terminalId, `b${batchNumber}`, records);
      group.push({ topic: topics.transactions(terminalId), payload });
    }
    groups.push(group);
  }
  return groups;
}

describe('ingestMany with evidence claims on both paths', () => {
  it('gives worker replies, in-thread checks and the reference the same results', () => {
    for (const seed of [11, 2026]) {
      const groups = ingestGroups(seed);
      const workerChecker = checker();
      const run = (fastPath: boolean, input: (message: { topic: string; payload: string }) => IngestInput) => {
        const harness = openIngestHarness(fastPath);
        try {
          const results = groups.flatMap((group) => summarise(harness.ingestor.ingestMany(group.map(input))));
          return { results, tables: dumpTables(harness.repository), groups: harness.groups };
        } finally {
          harness.repository.close();
        }
      };

      const worker = run(true, (message) => fromWorker(workerChecker, message.topic, message.payload));
      const inThread = run(true, (message) => message);
      const reference = run(false, (message) => message);

      expect(worker.results, `seed ${seed}`).toEqual(reference.results);
      expect(inThread.results, `seed ${seed}`).toEqual(reference.results);
      expect(worker.tables, `seed ${seed}`).toEqual(reference.tables);
      expect(inThread.tables, `seed ${seed}`).toEqual(reference.tables);
      const transactions = reference.tables.transactions!.length;
      expect(transactions, `seed ${seed}`).toBeGreaterThan(100);
      expect(reference.tables.rejected!.length, `seed ${seed}`).toBeGreaterThan(5);
      // Both ways of storing a group ran: in one commit without savepoints, and again after a held claim or an error.
      expect(worker.groups.withoutSavepoints, `seed ${seed}`).toBeGreaterThan(0);
      expect(worker.groups.again, `seed ${seed}`).toBeGreaterThan(0);
      expect(reference.groups).toEqual({ withoutSavepoints: 0, again: 0 });
    }
  });

  it('keeps a batch whose worker columns break the schema out of the store', () => {
    const harness = openIngestHarness(true);
    try {
      const good = fromWorker(checker(), topics.transactions('TA'), batchPayload('TA', 'a1', [evidenceRecord('TA', 1, 0), evidenceRecord('TA', 2, 0)]));
      const packed = packCheckedPayload(checker().check(topics.transactions('TB'), batchPayload('TB', 'b1', [evidenceRecord('TB', 1, 0), evidenceRecord('TB', 2, 0)])));
      if (packed.kind !== 'checked-batch') throw new Error('expected a checked batch');
      // The second value of each record is its kind. A kind that the transactions table does not allow fails the insert.
      packed.accepted.columns[1] = 'refund';

      const results = harness.ingestor.ingestMany([good, unpackCheckedPayload(packed)]);

      expect(results[0]).toMatchObject({ outcome: { kind: 'batch', ack: { ackedThrough: 2, stored: 2 } } });
      expect(results[1]).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/CHECK constraint failed/) }) });
      expect(harness.repository.progress('TB')).toMatchObject({ contiguousThrough: 0, highestSeen: 0 });
      expect(dumpTables(harness.repository).card_claims!.length).toBe(4);
    } finally {
      harness.repository.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Records from the worker: columns, live taps and M1 clone observations.

/** Returns a debited M1 purchase of the test 3DES issuer whose record MAC verifies. */
function m1Record(sequence: number, purseCounter: number): TransactionRecord {
  const record = recordWithEvidence({ sequence, psam: PSAMS.TA!, asn: '9900000177000001', cardCounter: purseCounter });
  record.card.application = 'm1';
  const { debit } = record;
  const uid = '4D0C0FFE';
  const recordKey = diversifyKey('des', fromHex(TEST_DES_MASTER_KEY), asnFactor(record.card.asn));
  const mac = toHex(
    computeM1RecordMac(recordKey, {
      asn8: asnFactor(record.card.asn),
      uid: fromHex(uid),
      purseCounter: debit.cardCounter,
      balanceBeforeFen: debit.balanceBeforeFen,
      amountFen: debit.amountFen,
      transactionType: debit.transactionType,
      terminalNumber: fromHex(debit.psamTerminalNumber),
      terminalSerial: debit.terminalSerial,
      dateTime: debit.cardDateTime,
      recordRandom: fromHex(debit.cardRandom),
    }),
  );
  debit.m1 = { uid, recordMac: mac };
  debit.tac = mac;
  return record;
}

/** Builds the live tap from the parsed record, as the reference for toLiveTap(). */
function liveTapFromRecord(item: AcceptedTransaction): ReturnType<typeof toLiveTap> {
  const { record } = item;
  return {
    terminalId: item.terminalId,
    sequence: record.sequence,
    kind: record.kind,
    occurredAt: record.occurredAt,
    asn: record.card.asn,
    cardType: record.card.cardType,
    amountFen: record.debit.amountFen,
    route: record.trip.route ?? null,
    vehicleId: record.trip.vehicleId,
    verification: item.verification,
    outcome: record.outcome ?? null,
  };
}

describe('records from the payload-check worker', () => {
  it('observes M1 records and no others', () => {
    const payload = batchPayload('TA', 'm1', [evidenceRecord('TA', 1, 0), m1Record(2, 30), evidenceRecord('TA', 3, 0), m1Record(4, 31)]);
    const worker = openIngestHarness(true);
    const inThread = openIngestHarness(true);
    try {
      const [fromWorkerResult] = worker.ingestor.ingestMany([fromWorker(checker(), topics.transactions('TA'), payload)]);
      inThread.ingestor.ingestMany([{ topic: topics.transactions('TA'), payload }]);

      expect(fromWorkerResult).toMatchObject({ outcome: { ack: { ackedThrough: 4, stored: 4, rejected: [] } } });
      expect(worker.observed.map(({ record }) => record.sequence)).toEqual([2, 4]);
      expect(worker.observed).toEqual(inThread.observed);
      expect(worker.observed[0]!.record.debit.m1).toEqual({ uid: '4D0C0FFE', recordMac: m1Record(2, 30).debit.tac });

      // A resent batch stores nothing new, so nothing is observed twice.
      worker.ingestor.ingestMany([fromWorker(checker(), topics.transactions('TA'), payload)]);
      expect(worker.observed).toHaveLength(2);
    } finally {
      worker.repository.close();
      inThread.repository.close();
    }
  });

  it('builds the same live tap as from the record', () => {
    const withoutRoute = evidenceRecord('TA', 3, 0);
    delete withoutRoute.trip.route;
    const records = [evidenceRecord('TA', 1, 0), evidenceRecord('TA', 4, 0), evidenceRecord('TA', 5, 0), withoutRoute, m1Record(6, 40)];
    const payload = batchPayload('TA', 'taps', records);

    const inThread = checker().check(topics.transactions('TA'), payload);
    const worker = fromWorker(checker(), topics.transactions('TA'), payload);
    if (inThread.kind !== 'checked-batch' || worker.kind !== 'checked-batch') throw new Error('expected checked batches');

    expect(worker.accepted).toHaveLength(records.length);
    for (const [index, item] of worker.accepted.entries()) {
      expect(toLiveTap(item)).toEqual(liveTapFromRecord(inThread.accepted[index]!));
      expect(toLiveTap(item)).toEqual(liveTapFromRecord(item));
      expect(withoutClaimKeys(columnsOf(item))).toEqual(recordColumns(transactionRecordSchema.parse(JSON.parse(item.raw))));
    }
    expect(worker.accepted.map((item) => toLiveTap(item).route)).toEqual(['12', '12', '12', null, '12']);
    expect(worker.accepted.map((item) => toLiveTap(item).outcome)).toEqual([null, null, 'debited', null, null]);
  });
});

