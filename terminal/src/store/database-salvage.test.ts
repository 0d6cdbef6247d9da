import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDriverScreen } from '../ports/driver-screen.js';
import { openOutbox } from './database-salvage.js';
import { DatabaseFileError } from './sqlite-file.js';
import { SqliteTransactionStore } from './sqlite-transaction-store.js';
import { sampleCompletion, samplePurchase } from './transaction-fixtures.js';

const logger = pino({ level: 'silent' });
const PAGE_SIZE = 4096;

/** Fills an outbox with `count` completed purchases, acknowledges the first `acked`, leaves one pending. */
function fillOutbox(path: string, count: number, acked: number): void {
  const store = SqliteTransactionStore.open(path);
  for (let i = 1; i <= count; i += 1) store.complete(store.appendPending(samplePurchase(undefined, undefined, i)), sampleCompletion);
  store.acknowledge(acked);
  store.appendPending(samplePurchase('3104000000000009'));
  store.close();
}

/** Overwrites one leaf page of the records table with garbage and returns its page number. */
function damageRecordsLeaf(path: string, which: number): number {
  const db = new Database(path, { readonly: true });
  const leaves = db.prepare<[], { pageno: number }>("SELECT pageno FROM dbstat WHERE name = 'records' AND pagetype = 'leaf' ORDER BY pageno").all();
  db.close();
  const page = leaves[which]!.pageno;
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(PAGE_SIZE, 0xa5), 0, PAGE_SIZE, (page - 1) * PAGE_SIZE);
  closeSync(fd);
  return page;
}

describe('openOutbox', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-salvage-'));
    path = join(dir, 'transactions.db');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens a healthy file without salvage', () => {
    fillOutbox(path, 5, 2);
    const screen = new MemoryDriverScreen();
    const { store, salvage } = openOutbox(path, { logger, screen });
    expect(salvage).toBeUndefined();
    expect(store.lastSequence()).toBe(6);
    expect(screen.alerts.size).toBe(0);
    store.close();
  });

  it('salvages readable records of a damaged file', () => {
    fillOutbox(path, 300, 100);
    damageRecordsLeaf(path, 10);
    const screen = new MemoryDriverScreen();

    const { store, salvage } = openOutbox(path, { logger, screen, now: () => new Date('2026-01-05T00:00:00Z') });

    expect(salvage).toBeDefined();
    expect(salvage!.salvaged).toBeGreaterThan(250);
    expect(salvage!.salvaged).toBeLessThan(301);
    expect(salvage!.salvaged + salvage!.unreadable).toBe(301);
    expect(salvage!.lastSequence).toBe(301);
    expect(salvage!.ackedThrough).toBe(100);
    expect(existsSync(salvage!.movedTo)).toBe(true);
    expect(salvage!.movedTo).toContain('.corrupt-2026-01-05T00-00-00-000Z');
    expect(screen.alerts.get('storage-recovered')?.messageId).toBe('alert.storage-recovered');

    expect(store.lastSequence()).toBe(301);
    expect(store.ackedThrough()).toBe(100);
    expect(store.get(301)?.state).toBe('pending');
    expect(store.get(1)?.acknowledged).toBe(true);
    expect(store.appendPending(samplePurchase())).toBe(302);
    store.close();
  });

  it('keeps the new file usable after reopen', () => {
    fillOutbox(path, 200, 50);
    damageRecordsLeaf(path, 3);
    openOutbox(path, { logger }).store.close();

    const reopened = openOutbox(path, { logger });
    expect(reopened.salvage).toBeUndefined();
    expect(reopened.store.lastSequence()).toBe(201);
    reopened.store.close();
  });

  it('continues above acknowledged records when counters are lost', () => {
    fillOutbox(path, 300, 280);
    const db = new Database(path, { readonly: true });
    const metaPage = db.prepare<[], { pageno: number }>("SELECT pageno FROM dbstat WHERE name = 'meta'").get()!.pageno;
    db.close();
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(PAGE_SIZE, 0x5a), 0, PAGE_SIZE, (metaPage - 1) * PAGE_SIZE);
    closeSync(fd);

    const { store, salvage } = openOutbox(path, { logger });
    expect(salvage!.ackedThrough).toBe(280);
    expect(salvage!.lastSequence).toBe(301);
    expect(store.appendPending(samplePurchase())).toBe(302);
    store.close();
  });

  it('replaces a file that is not a database', () => {
    writeFileSync(path, 'not an SQLite database at all, '.repeat(300));
    const screen = new MemoryDriverScreen();
    const { store, salvage } = openOutbox(path, { logger, screen });
    expect(salvage!.salvaged).toBe(0);
    expect(store.lastSequence()).toBe(0);
    expect(readdirSync(dir).some((name) => name.startsWith('transactions.db.corrupt-'))).toBe(true);
    expect(screen.alerts.has('storage-recovered')).toBe(true);
    store.close();
  });

  it('leaves a newer schema untouched', () => {
    SqliteTransactionStore.open(path).close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();

    expect(() => openOutbox(path, { logger })).toThrow(DatabaseFileError);
    expect(readdirSync(dir).some((name) => name.includes('.corrupt-'))).toBe(false);
  });
});
