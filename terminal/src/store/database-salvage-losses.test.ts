import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOutbox } from './database-salvage.js';
import { SqliteTransactionStore } from './sqlite-transaction-store.js';
import { sampleCompletion, samplePurchase } from './transaction-fixtures.js';

const logger = pino({ level: 'silent' });
const PAGE_SIZE = 4096;
/** A walReserveBytes of 0 keeps the WAL file as SQLite wrote it. */
const NO_RESERVE = { walReserveBytes: 0 };

/** Writes `count` completed purchases and acknowledges the first `acked`; returns the open store. */
function writePurchases(path: string, count: number, acked: number): SqliteTransactionStore {
  const store = SqliteTransactionStore.open(path, NO_RESERVE);
  for (let serial = 1; serial <= count; serial += 1) store.complete(store.appendPending(samplePurchase(undefined, undefined, serial)), sampleCompletion);
  if (acked > 0) store.acknowledge(acked);
  return store;
}

function overwrite(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
}

/** Pages of one table or index, from SQLite's dbstat table. */
function pagesOf(path: string, name: string, type: 'leaf' | 'internal' | 'any' = 'any'): number[] {
  const db = new Database(path, { readonly: true });
  const filter = type === 'any' ? '' : ` AND pagetype = '${type}'`;
  const pages = db.prepare<[string], { pageno: number }>(`SELECT pageno FROM dbstat WHERE name = ?${filter} ORDER BY pageno`).all(name);
  db.close();
  return pages.map((page) => page.pageno);
}

/** Sequences above `after` as readReadyText() returns them, with whether each is a notice. */
function outgoing(store: SqliteTransactionStore, after: number): Array<{ sequence: number; notice: boolean }> {
  return store.readReadyText(after, 10_000).map((row) => ({ sequence: row.sequence, notice: row.damage !== undefined }));
}

describe('openOutbox losses', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-salvage-losses-'));
    path = join(dir, 'transactions.db');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps quarantined bytes through a rebuild', () => {
    const store = writePurchases(path, 300, 10);
    store.close();
    const damaged = Buffer.concat([Buffer.from('{"seq'), Buffer.from([0xff, 0xfe, 0x00, 0x41])]);
    const db = new Database(path);
    db.prepare('UPDATE records SET record_json = CAST(? AS TEXT) WHERE sequence = 20').run(damaged);
    db.close();
    const first = SqliteTransactionStore.open(path, NO_RESERVE);
    expect(outgoing(first, 10).find((row) => row.sequence === 20)?.notice).toBe(true);
    first.close();
    overwrite(path, (pagesOf(path, 'records', 'leaf').at(-1)! - 1) * PAGE_SIZE, Buffer.alloc(PAGE_SIZE, 0xa5));

    const { store: rebuilt, salvage } = openOutbox(path, { logger, ...NO_RESERVE });

    expect(salvage).toBeDefined();
    const quarantined = rebuilt.quarantined().find((row) => row.sequence === 20);
    expect(quarantined?.bytes.equals(damaged)).toBe(true);
    expect(outgoing(rebuilt, 10).find((row) => row.sequence === 20)?.notice).toBe(true);
    rebuilt.close();
  });

  it('keeps the bytes of a damaged record found in salvage', () => {
    writePurchases(path, 300, 0).close();
    const damaged = Buffer.from('{"sequence":5,"kind":"purch');
    const db = new Database(path);
    db.prepare('UPDATE records SET record_json = CAST(? AS TEXT) WHERE sequence = 5').run(damaged);
    db.close();
    overwrite(path, (pagesOf(path, 'records', 'leaf').at(-1)! - 1) * PAGE_SIZE, Buffer.alloc(PAGE_SIZE, 0xa5));

    const { store } = openOutbox(path, { logger, ...NO_RESERVE });

    expect(store.quarantined().find((row) => row.sequence === 5)?.bytes.equals(damaged)).toBe(true);
    expect(outgoing(store, 0).find((row) => row.sequence === 5)?.notice).toBe(true);
    store.close();
  });

  it('sends a notice for each lost record', () => {
    writePurchases(path, 300, 100).close();
    overwrite(path, (pagesOf(path, 'records', 'leaf')[20]! - 1) * PAGE_SIZE, Buffer.alloc(PAGE_SIZE, 0xa5));

    const { store, salvage } = openOutbox(path, { logger, ...NO_RESERVE });

    expect(salvage!.unreadable).toBeGreaterThan(0);
    const rows = outgoing(store, store.ackedThrough());
    // Acknowledgements never cross a gap, so every sequence above ackedThrough must go out once.
    expect(rows.map((row) => row.sequence)).toEqual(Array.from({ length: 300 - salvage!.ackedThrough }, (_, index) => salvage!.ackedThrough + 1 + index));
    expect(rows.filter((row) => row.notice).length).toBe(salvage!.unreadable);
    store.close();
  });

  it('never reuses sequences of an unreadable file', () => {
    writePurchases(path, 50, 20).close();
    overwrite(path, 0, Buffer.alloc(100, 0x5a));

    const { store, salvage } = openOutbox(path, { logger, ...NO_RESERVE });

    expect(salvage!.lastSequence).toBe(50);
    expect(store.appendPending(samplePurchase())).toBe(51);
    store.close();
  });

  it('ignores a lone sequence in damaged bytes', () => {
    writePurchases(path, 50, 20).close();
    overwrite(path, 0, Buffer.alloc(100, 0x5a));
    // A changed digit makes a record text claim a sequence far above every other one.
    overwrite(path, 5 * PAGE_SIZE + 200, Buffer.from('{"sequence":900000000,"kind":"purchase"'));

    const { store, salvage } = openOutbox(path, { logger, ...NO_RESERVE });

    expect(salvage!.lastSequence).toBe(50);
    expect(store.appendPending(samplePurchase())).toBe(51);
    store.close();
  });

  it('never reuses sequences after WAL frames are dropped', () => {
    const writer = writePurchases(path, 30, 0);
    // The tap path leaves checkpoints to idle moments, so records 1..30 are in the WAL only.
    // Copying both files while the store is open gives what a killed process leaves behind.
    const crashed = join(dir, 'crashed.db');
    copyFileSync(path, crashed);
    copyFileSync(`${path}-wal`, `${crashed}-wal`);
    writer.close();
    // Damage one frame in the middle: SQLite's WAL recovery stops at the first frame whose
    // checksum fails and silently drops every commit after it.
    const frameBytes = 24 + PAGE_SIZE;
    overwrite(`${crashed}-wal`, 32 + 40 * frameBytes + 24 + 100, Buffer.alloc(64, 0x5a));
    const walBytes = readFileSync(`${crashed}-wal`);

    const { store, salvage } = openOutbox(crashed, { logger, ...NO_RESERVE });

    expect(salvage).toBeDefined();
    // The WAL moved aside keeps every byte, including the frames SQLite dropped.
    expect(readFileSync(`${salvage!.movedTo}-wal`).equals(walBytes)).toBe(true);
    expect(store.lastSequence()).toBe(30);
    // The terminal turns pending records left by a stop into in-doubt records at start-up.
    store.recoverPending();
    const sent = outgoing(store, 0).map((row) => row.sequence);
    expect(sent).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
    expect(store.appendPending(samplePurchase())).toBe(31);
    store.close();
  });
  /** Copies the WAL of a new outbox with `count` records next to `path`; returns the copied bytes. */
  function copyForeignWal(count: number): Buffer {
    const foreign = join(dir, 'foreign.db');
    const other = SqliteTransactionStore.open(foreign, NO_RESERVE);
    for (let serial = 1; serial <= count; serial += 1) other.complete(other.appendPending(samplePurchase('3104000000000777', undefined, serial)), sampleCompletion);
    copyFileSync(`${foreign}-wal`, `${path}-wal`);
    other.close();
    return readFileSync(`${path}-wal`);
  }

  it('ignores a WAL of another outbox', () => {
    writePurchases(path, 10, 4).close();
    const walBytes = copyForeignWal(40);

    const { store, salvage } = openOutbox(path, { logger, ...NO_RESERVE });

    expect(salvage).toBeDefined();
    expect(readFileSync(`${salvage!.movedTo}-foreign-wal`).equals(walBytes)).toBe(true);
    expect(store.lastSequence()).toBe(10);
    expect(store.ackedThrough()).toBe(4);
    const texts = store.readReadyText(4, 100);
    expect(texts.map((row) => row.sequence)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(texts.every((row) => row.json.includes('"asn":"3104000000000001"'))).toBe(true);
    store.close();
  });

  it('salvages when a foreign WAL reads as malformed', () => {
    writePurchases(path, 10, 4).close();
    copyForeignWal(5);

    const { store, salvage } = openOutbox(path, { logger, ...NO_RESERVE });

    expect(salvage).toBeDefined();
    expect(store.lastSequence()).toBeGreaterThanOrEqual(10);
    const texts = store.readReadyText(store.ackedThrough(), 100);
    expect(texts.some((row) => row.json.includes('3104000000000777'))).toBe(false);
    expect(store.appendPending(samplePurchase())).toBeGreaterThan(10);
    store.close();
  });

  it('opens a crashed outbox without its -shm file', () => {
    const writer = writePurchases(path, 30, 10);
    const crashed = join(dir, 'crashed.db');
    copyFileSync(path, crashed);
    copyFileSync(`${path}-wal`, `${crashed}-wal`);
    writer.close();

    const { store, salvage } = openOutbox(crashed, { logger, ...NO_RESERVE });

    expect(salvage).toBeUndefined();
    expect(store.lastSequence()).toBe(30);
    expect(store.ackedThrough()).toBe(10);
    expect(store.readReadyText(10, 100).length).toBe(20);
    store.close();
  });
});
