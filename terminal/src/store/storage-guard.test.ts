import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDriverScreen } from '../ports/driver-screen.js';
import { SqliteTransactionStore } from './sqlite-transaction-store.js';
import { StorageGuardedStore } from './storage-guard.js';
import { TransactionStoreError } from './store-errors.js';
import { sampleCompletion, samplePurchase } from './transaction-fixtures.js';

const logger = pino({ level: 'silent' });
const MIB = 1024 * 1024;

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

  function guarded(inner = SqliteTransactionStore.open(join(dir, 'transactions.db'))): StorageGuardedStore {
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

  it('rejects a refuse threshold above the warning one', () => {
    const inner = SqliteTransactionStore.open(join(dir, 'transactions.db'));
    expect(() => new StorageGuardedStore(inner, { directory: dir, screen, logger, warnFreeBytes: MIB, refuseFreeBytes: 2 * MIB })).toThrow(RangeError);
    inner.close();
  });
});
