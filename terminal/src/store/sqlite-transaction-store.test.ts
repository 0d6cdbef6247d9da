import { mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteTransactionStore, WAL_RESERVE_BYTES } from './sqlite-transaction-store.js';
import { DatabaseFileError, schemaVersionOf } from './sqlite-file.js';
import { TRANSACTION_MIGRATIONS } from './sqlite-schema.js';
import { sampleCompletion, sampleLock, samplePurchase } from './transaction-fixtures.js';
import { transactionStoreContract } from './transaction-store.contract.js';

let contractDir: string | undefined;
transactionStoreContract('SqliteTransactionStore', {
  create: () => {
    contractDir = mkdtempSync(join(tmpdir(), 'busfare-store-'));
    return SqliteTransactionStore.open(join(contractDir, 'transactions.db'));
  },
  dispose: () => {
    if (contractDir) rmSync(contractDir, { recursive: true, force: true });
  },
});

const SCHEMA_VERSION = schemaVersionOf(TRANSACTION_MIGRATIONS);

function openError(path: string): DatabaseFileError {
  try {
    SqliteTransactionStore.open(path).close();
  } catch (error) {
    if (error instanceof DatabaseFileError) return error;
    throw error;
  }
  throw new Error(`opening ${path} succeeded`);
}

describe('SqliteTransactionStore file', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-store-'));
    path = join(dir, 'transactions.db');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('upgrades a version 1 outbox for lock records', () => {
    const old = new Database(path);
    old.exec(TRANSACTION_MIGRATIONS[1]!);
    old.pragma('user_version = 1');
    const purchase = { sequence: 1, kind: 'in-doubt', ...samplePurchase() };
    old.prepare("INSERT INTO records (sequence, state, kind, asn, in_doubt_open, occurred_at_ms, record_json) VALUES (1, 'ready', 'in-doubt', ?, 1, 0, ?)").run(purchase.card.asn, JSON.stringify(purchase));
    old.prepare("UPDATE meta SET value = 1 WHERE key = 'last_sequence'").run();
    old.close();

    const store = SqliteTransactionStore.open(path);
    const lock = store.appendLock(sampleLock());
    const open = store.listOpenInDoubt();
    store.close();

    expect(lock.sequence).toBe(2);
    expect(open.map((entry) => entry.sequence)).toEqual([1]);
    expect(SCHEMA_VERSION).toBe(3);
  });

  it('keeps every state across reopen', () => {
    const first = SqliteTransactionStore.open(path);
    const completed = first.appendPending(samplePurchase());
    first.complete(completed, sampleCompletion);
    const inDoubt = first.appendPending(samplePurchase('3104000000000002'));
    first.markInDoubt(inDoubt);
    const pending = first.appendPending(samplePurchase('3104000000000003'));
    first.acknowledge(completed);
    const before = [completed, inDoubt, pending].map((sequence) => first.get(sequence));
    first.close();

    const second = SqliteTransactionStore.open(path);
    expect([completed, inDoubt, pending].map((sequence) => second.get(sequence))).toEqual(before);
    expect(second.lastSequence()).toBe(3);
    expect(second.ackedThrough()).toBe(1);
    expect(second.backlog()).toBe(2);
    expect(second.findOpenInDoubt('3104000000000002')?.sequence).toBe(inDoubt);
    expect(second.get(pending)?.state).toBe('pending');

    expect(second.recoverPending()).toBe(1);
    expect(second.readReady(completed, 10).map((record) => record.kind)).toEqual(['in-doubt', 'in-doubt']);
    second.close();
  });

  it('keeps the sequence counter across prune and reopen', () => {
    const first = SqliteTransactionStore.open(path);
    first.complete(first.appendPending(samplePurchase(undefined, '2026-01-01T08:00:00+08:00')), sampleCompletion);
    first.acknowledge(1);
    expect(first.pruneAcknowledged(new Date('2026-02-01T00:00:00+08:00'))).toBe(1);
    first.close();

    const second = SqliteTransactionStore.open(path);
    expect(second.appendPending(samplePurchase())).toBe(2);
    second.close();
  });

  it('opens in WAL mode with the current schema version', () => {
    SqliteTransactionStore.open(path).close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('rejects a file that is not a database', () => {
    writeFileSync(path, 'this is not an SQLite database, only text that fills the header and more'.repeat(100));
    const error = openError(path);
    expect(error.code).toBe('corrupt');
    expect(error.message).toContain(path);
  });

  it('rejects a database with damaged pages', () => {
    const store = SqliteTransactionStore.open(path);
    for (let i = 1; i <= 150; i += 1) store.complete(store.appendPending(samplePurchase(undefined, undefined, i)), sampleCompletion);
    store.close();

    const fd = openSync(path, 'r+');
    const pageSize = 4096;
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, pageSize * 3);
    closeSync(fd);

    const error = openError(path);
    expect(error.code).toBe('corrupt');
    expect(error.message).toMatch(/quick_check|not a readable/);
  });

  it('keeps a debited record across a reopen', () => {
    const first = SqliteTransactionStore.open(path);
    const sequence = first.appendPending(samplePurchase());
    first.recordDebit(sequence, { tac: 'A1B2C3D4', balanceAfterFen: 4800 });
    first.close();

    const reopened = SqliteTransactionStore.open(path);
    expect(reopened.recoverPending()).toBe(1);
    expect(reopened.get(sequence)?.record).toMatchObject({ kind: 'purchase', debit: { tac: 'A1B2C3D4', balanceAfterFen: 4800 } });
    reopened.close();
  });

  it('restores full sync after a completion', () => {
    const store = SqliteTransactionStore.open(path);
    const db = (store as unknown as { db: Database.Database }).db;
    const autoCheckpoint = db.pragma('wal_autocheckpoint', { simple: true });
    const sequence = store.appendPending(samplePurchase());
    store.recordDebit(sequence, { tac: 'A1B2C3D4', balanceAfterFen: 4800 });
    store.complete(sequence, sampleCompletion);

    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(autoCheckpoint);
    store.close();

    const reopened = SqliteTransactionStore.open(path);
    expect(reopened.get(sequence)?.state).toBe('ready');
    expect(reopened.get(sequence)?.record).toMatchObject({ debit: { mac2Verified: true } });
    reopened.close();
  });

  it('checkpoints tap commits while idle', () => {
    const store = SqliteTransactionStore.open(path);
    const db = (store as unknown as { db: Database.Database }).db;
    // Few commits: nothing to do yet.
    store.appendPending(samplePurchase());
    store.maintainWhileIdle();
    const sizeBefore = statSync(path).size;

    for (let tap = 0; tap < 40; tap += 1) {
      const sequence = store.appendPending(samplePurchase());
      store.recordDebit(sequence, { tac: 'A1B2C3D4', balanceAfterFen: 4800 });
      store.complete(sequence, sampleCompletion);
    }
    expect(statSync(path).size).toBe(sizeBefore);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);

    store.maintainWhileIdle();
    expect(statSync(path).size).toBeGreaterThan(sizeBefore);
    store.close();
    store.maintainWhileIdle();
  });

  it('reserves the WAL so tap commits reuse it', () => {
    const store = SqliteTransactionStore.open(path);
    expect(statSync(`${path}-wal`).size).toBe(WAL_RESERVE_BYTES);

    for (let round = 0; round < 3; round += 1) {
      for (let tap = 0; tap < 40; tap += 1) {
        const sequence = store.appendPending(samplePurchase());
        store.recordDebit(sequence, { tac: 'A1B2C3D4', balanceAfterFen: 4800 });
        store.complete(sequence, sampleCompletion);
      }
      store.maintainWhileIdle();
    }

    // The idle checkpoints restart the WAL at its start, so 360 commits stay inside the reserve.
    expect(statSync(`${path}-wal`).size).toBe(WAL_RESERVE_BYTES);
    store.close();
  });

  it('recovers commits from a WAL with reserved space', () => {
    const store = SqliteTransactionStore.open(path, { walReserveBytes: 256 * 1024 });
    const sequences: number[] = [];
    for (let tap = 0; tap < 5; tap += 1) sequences.push(store.appendPending(samplePurchase()));
    store.complete(sequences[0]!, sampleCompletion);
    // A copy taken while the store is open is what a power cut leaves: frames, then zeros.
    const copy = join(dir, 'copy.db');
    writeFileSync(copy, readFileSync(path));
    writeFileSync(`${copy}-wal`, readFileSync(`${path}-wal`));
    store.close();

    const recovered = SqliteTransactionStore.open(copy, { walReserveBytes: 0 });

    expect(recovered.lastSequence()).toBe(5);
    expect(recovered.get(sequences[0]!)?.state).toBe('ready');
    expect(recovered.get(sequences[4]!)?.state).toBe('pending');
    recovered.close();
  });

  it('leaves the WAL as SQLite made it without a reserve', () => {
    const store = SqliteTransactionStore.open(path, { walReserveBytes: 0 });

    expect(statSync(`${path}-wal`).size).toBeLessThan(WAL_RESERVE_BYTES);
    store.close();
  });

  it('flushes a completion before sending it', () => {
    const store = SqliteTransactionStore.open(path);
    const state = store as unknown as { unflushedCompletion: boolean };
    const sequence = store.appendPending(samplePurchase());
    store.recordDebit(sequence, { tac: 'A1B2C3D4', balanceAfterFen: 4800 });
    store.complete(sequence, sampleCompletion);

    expect(state.unflushedCompletion).toBe(true);
    expect(store.readReady(0, 10).map((record) => record.sequence)).toEqual([sequence]);
    expect(state.unflushedCompletion).toBe(false);
    store.close();
  });

  it('rejects a schema from newer software', () => {
    SqliteTransactionStore.open(path).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();

    const error = openError(path);
    expect(error.code).toBe('unsupported-schema');
  });
});

describe('SqliteTransactionStore acknowledgements', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-store-ack-'));
    path = join(dir, 'transactions.db');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function flagged(): number[] {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare<[], number>('SELECT sequence FROM records WHERE acknowledged = 1 ORDER BY sequence').pluck().all();
    } finally {
      db.close();
    }
  }

  it('flags only the record at the counter', () => {
    const store = SqliteTransactionStore.open(path);
    for (let index = 0; index < 5; index += 1) {
      const sequence = store.appendPending(samplePurchase());
      store.complete(sequence, sampleCompletion);
    }
    store.acknowledge(3);

    expect(flagged()).toEqual([3]);
    expect([1, 2, 3, 4].map((sequence) => store.get(sequence)?.acknowledged)).toEqual([true, true, true, false]);
    expect(store.backlog()).toBe(2);

    expect(store.pruneAcknowledged(new Date('2026-01-01T00:00:00Z'))).toBe(0);
    expect(store.pruneAcknowledged(new Date('2026-02-01T00:00:00Z'))).toBe(3);
    expect(store.get(1)).toBeUndefined();
    expect(store.get(4)?.acknowledged).toBe(false);
    expect(store.backlog()).toBe(2);
    store.close();
  });

  it('keeps an acknowledgement across a reopen', () => {
    const store = SqliteTransactionStore.open(path);
    const sequence = store.appendPending(samplePurchase());
    store.complete(sequence, sampleCompletion);
    store.acknowledge(sequence);
    store.close();

    const reopened = SqliteTransactionStore.open(path);
    expect(reopened.ackedThrough()).toBe(sequence);
    expect(reopened.backlog()).toBe(0);
    reopened.close();
  });
});
