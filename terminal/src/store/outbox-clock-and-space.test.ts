import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteTransactionStore } from './sqlite-transaction-store.js';
import { sampleCompletion, samplePurchase } from './transaction-fixtures.js';

const DAY_MS = 24 * 3600_000;

describe('outbox under clock jumps and a full file', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-clock-space-'));
    path = join(dir, 'transactions.db');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function tapAt(store: SqliteTransactionStore, occurredAt: string, serial: number): number {
    const sequence = store.appendPending(samplePurchase(undefined, occurredAt, serial));
    store.complete(sequence, sampleCompletion);
    return sequence;
  }

  it('numbers taps in order whatever the clock', () => {
    const store = SqliteTransactionStore.open(path, { walReserveBytes: 0 });
    const times = ['2026-01-05T08:00:00+08:00', '2026-01-04T08:00:00+08:00', '2027-01-05T08:00:00+08:00', '2026-01-05T07:59:59+08:00'];
    expect(times.map((time, index) => tapAt(store, time, index + 1))).toEqual([1, 2, 3, 4]);
    store.close();
  });

  it('prunes only acknowledged records after a year jump', () => {
    const store = SqliteTransactionStore.open(path, { walReserveBytes: 0 });
    for (let serial = 1; serial <= 6; serial += 1) tapAt(store, '2026-01-05T08:00:00+08:00', serial);
    store.acknowledge(3);
    // The clock jumps a year ahead: every record is older than any retention.
    expect(store.pruneAcknowledged(new Date(Date.parse('2027-01-06T00:00:00Z') - 7 * DAY_MS))).toBe(3);
    expect([4, 5, 6].map((sequence) => store.get(sequence)?.acknowledged)).toEqual([false, false, false]);
    expect(store.backlog()).toBe(3);
    store.close();
  });

  it('keeps a record stamped in the future until acknowledged', () => {
    const store = SqliteTransactionStore.open(path, { walReserveBytes: 0 });
    tapAt(store, '2027-01-05T08:00:00+08:00', 1);
    // The clock jumped back a day and then taps again.
    tapAt(store, '2026-01-04T08:00:00+08:00', 2);
    expect(store.pruneAcknowledged(new Date('2030-01-01T00:00:00Z'))).toBe(0);
    store.acknowledge(2);
    expect(store.pruneAcknowledged(new Date('2026-06-01T00:00:00Z'))).toBe(1);
    expect(store.get(1)?.acknowledged).toBe(true);
    expect(store.get(2)).toBeUndefined();
    expect(store.lastSequence()).toBe(2);
    store.close();
  });

  it('refuses a tap and keeps every record when the file is full', () => {
    const store = SqliteTransactionStore.open(path, { walReserveBytes: 0, maxPageCount: 30 });
    const stored: number[] = [];
    let failure: unknown;
    for (let serial = 1; serial <= 500 && failure === undefined; serial += 1) {
      try {
        stored.push(tapAt(store, '2026-01-05T08:00:00+08:00', serial));
      } catch (error) {
        failure = error;
      }
    }
    expect((failure as { code?: string }).code).toBe('SQLITE_FULL');
    const last = stored.at(-1)!;
    // A refused append leaves no record and no sequence behind.
    expect(store.lastSequence()).toBe(last);
    expect(store.readReady(0, 1000).map((record) => record.sequence)).toEqual(stored);

    // Acknowledging and pruning still work on a full file, and pruning makes room again.
    store.acknowledge(last);
    expect(store.pruneAcknowledged(new Date('2030-01-01T00:00:00Z'))).toBe(last);
    expect(tapAt(store, '2026-01-05T09:00:00+08:00', 999)).toBe(last + 1);
    store.close();
  });
});
