import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDriverScreen } from '../ports/driver-screen.js';
import { MemoryTransactionStore } from './memory-transaction-store.js';
import { SqliteTransactionStore } from './sqlite-transaction-store.js';
import { StorageGuardedStore } from './storage-guard.js';
import { TransactionStoreError } from './store-errors.js';
import { sampleCompletion, samplePurchase } from './transaction-fixtures.js';
import type { TransactionStore } from './transaction-store.js';

const logger = pino({ level: 'silent' });
const MIB = 1024 * 1024;
const WRITES = new Set(['appendPending', 'recordDebit', 'complete', 'markInDoubt', 'recoverPending']);

/** Creates a memory store whose writes fail with SQLite's "disk full" error while `full.on` is set. */
function fillableStore(full: { on: boolean }): TransactionStore {
  const memory = new MemoryTransactionStore();
  return new Proxy(memory, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (full.on && WRITES.has(String(property))) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        return (value as (...parameters: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

function storeErrorCode(operation: () => unknown): string | undefined {
  try {
    operation();
  } catch (error) {
    if (error instanceof TransactionStoreError) return error.code;
    throw error;
  }
  return undefined;
}

describe('StorageGuardedStore', () => {
  let dir: string;
  let free: number;
  let screen: MemoryDriverScreen;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-guard-'));
    free = 1024 * MIB;
    screen = new MemoryDriverScreen();
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function guarded(inner: TransactionStore = SqliteTransactionStore.open(join(dir, 'transactions.db'))): StorageGuardedStore {
    return new StorageGuardedStore(inner, { directory: dir, screen, logger, freeBytes: () => free, checkIntervalMs: 0 });
  }

  it('takes fares while space is plentiful', () => {
    const store = guarded();
    expect(store.appendPending(samplePurchase())).toBe(1);
    expect(store.storageLevel()).toBe('ok');
    expect(screen.alerts.size).toBe(0);
    store.close();
  });

  it('warns and prunes acknowledged records when low', () => {
    const store = guarded();
    for (let i = 1; i <= 3; i += 1) store.complete(store.appendPending(samplePurchase(undefined, '2026-01-05T08:00:00+08:00', i)), sampleCompletion);
    store.acknowledge(2);

    free = 32 * MIB;
    expect(store.appendPending(samplePurchase())).toBe(4);
    expect(store.storageLevel()).toBe('low');
    expect(screen.alerts.get('storage-low')?.severity).toBe('warning');
    expect(store.get(1)).toBeUndefined();
    expect(store.get(2)).toBeUndefined();
    expect(store.get(3)?.acknowledged).toBe(false);
    store.close();
  });

  it('refuses new fares when nearly full', () => {
    const store = guarded();
    const sequence = store.appendPending(samplePurchase());
    free = 4 * MIB;
    expect(storeErrorCode(() => store.appendPending(samplePurchase()))).toBe('storage-full');
    expect(screen.alerts.get('storage-full')?.severity).toBe('critical');
    expect(screen.alerts.has('storage-low')).toBe(false);

    // A debit already under way still completes.
    expect(store.complete(sequence, sampleCompletion).kind).toBe('purchase');
    store.close();
  });

  it('clears the alert when space returns', () => {
    const store = guarded();
    free = 4 * MIB;
    expect(storeErrorCode(() => store.appendPending(samplePurchase()))).toBe('storage-full');
    free = 512 * MIB;
    expect(store.appendPending(samplePurchase())).toBe(1);
    expect(screen.alerts.size).toBe(0);
    store.close();
  });

  it('reports SQLITE_FULL as storage-full', () => {
    const inner = SqliteTransactionStore.open(join(dir, 'transactions.db'), { maxPageCount: 40 });
    const store = guarded(inner);
    let code: string | undefined;
    for (let i = 1; i <= 2_000 && code === undefined; i += 1) {
      code = storeErrorCode(() => store.complete(store.appendPending(samplePurchase(undefined, '2026-01-05T08:00:00+08:00', i)), sampleCompletion));
    }
    expect(code).toBe('storage-full');
    expect(screen.alerts.get('storage-full')?.severity).toBe('critical');
    const last = store.lastSequence();
    expect(storeErrorCode(() => store.appendPending(samplePurchase()))).toBe('storage-full');

    // Records written before the disk filled are intact and acknowledgement frees room again.
    expect(store.get(1)?.record.kind).toBe('purchase');
    store.acknowledge(last);
    expect(store.storageLevel()).toBe('ok');
    expect(store.appendPending(samplePurchase())).toBe(last + 1);
    store.close();
  });

  it('takes fares again once free space grows', () => {
    const full = { on: true };
    const store = guarded(fillableStore(full));
    expect(storeErrorCode(() => store.appendPending(samplePurchase()))).toBe('storage-full');
    full.on = false;

    // Fares stay refused until free space has grown by refuseFreeBytes (8 MiB by default).
    free += 4 * MIB;
    expect(storeErrorCode(() => store.appendPending(samplePurchase()))).toBe('storage-full');
    free += 4 * MIB;
    expect(store.appendPending(samplePurchase())).toBe(1);
    expect(store.storageLevel()).toBe('ok');
    expect(screen.alerts.size).toBe(0);
    store.close();
  });

  it('retries a completion deferred for space', () => {
    const full = { on: false };
    const store = guarded(fillableStore(full));
    const sequence = store.appendPending(samplePurchase());
    store.recordDebit(sequence, { tac: sampleCompletion.tac, balanceAfterFen: sampleCompletion.balanceAfterFen });
    full.on = true;
    expect(storeErrorCode(() => store.complete(sequence, sampleCompletion))).toBe('storage-full');
    expect(store.get(sequence)?.state).toBe('pending');

    full.on = false;
    free += 8 * MIB;
    expect(store.appendPending(samplePurchase())).toBe(sequence + 1);
    expect(store.get(sequence)?.state).toBe('ready');
    expect(store.get(sequence)?.record.kind).toBe('purchase');
    store.close();
  });

  it('finds a debit whose in-doubt mark was deferred', () => {
    const full = { on: false };
    const store = guarded(fillableStore(full));
    const sequence = store.appendPending(samplePurchase('3104000000000042'));
    full.on = true;
    expect(storeErrorCode(() => store.markInDoubt(sequence))).toBe('storage-full');

    full.on = false;
    expect(store.findOpenInDoubt('3104000000000042')?.sequence).toBe(sequence);
    store.close();
  });

  it('refuses a fare for a card its deferred mark put in doubt', () => {
    const full = { on: false };
    const store = guarded(fillableStore(full));
    const asn = '3104000000000042';
    const acknowledged = store.appendPending(samplePurchase('3104000000000001'));
    store.complete(acknowledged, sampleCompletion);
    store.acknowledge(acknowledged);
    const torn = store.appendPending(samplePurchase(asn));
    full.on = true;
    expect(storeErrorCode(() => store.markInDoubt(torn))).toBe('storage-full');

    // The card's next tap looks for an open in-doubt record while SQLite still reports the disk full.
    expect(store.findOpenInDoubt(asn)).toBeUndefined();

    // appendPending prunes the acknowledged record, which frees pages, so the deferred mark is stored.
    full.on = false;
    expect(storeErrorCode(() => store.appendPending(samplePurchase(asn)))).toBe('storage-full');
    expect(store.findOpenInDoubt(asn)?.sequence).toBe(torn);
    expect(store.lastSequence()).toBe(torn);

    // Another card pays as usual.
    expect(store.appendPending(samplePurchase('3104000000000007'))).toBe(torn + 1);
    store.close();
  });

  it('starts on a full disk and recovers later', () => {
    const full = { on: false };
    const store = guarded(fillableStore(full));
    const sequence = store.appendPending(samplePurchase());
    full.on = true;
    expect(store.recoverPending()).toBe(0);
    expect(screen.alerts.get('storage-full')?.severity).toBe('critical');
    expect(store.get(sequence)?.state).toBe('pending');

    full.on = false;
    free += 8 * MIB;
    expect(store.appendPending(samplePurchase('3104000000000007'))).toBe(sequence + 1);
    expect(store.get(sequence)?.record.kind).toBe('in-doubt');
    store.close();
  });

  it('rejects a refuse threshold above the warning one', () => {
    const inner = SqliteTransactionStore.open(join(dir, 'transactions.db'));
    expect(() => new StorageGuardedStore(inner, { directory: dir, screen, logger, warnFreeBytes: MIB, refuseFreeBytes: 2 * MIB })).toThrow(RangeError);
    inner.close();
  });
});
