import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDriverScreen } from '../ports/driver-screen.js';
import { RECORD_QUARANTINED_ALERT, SqliteTransactionStore } from './sqlite-transaction-store.js';
import { sampleCompletion, samplePurchase } from './transaction-fixtures.js';

/** Damage done to the stored text of record 2 of 3, and the reason the store gives for it. */
const DAMAGE_CASES: { name: string; bytes: (text: string) => Buffer; reason: RegExp }[] = [
  { name: 'cut short', bytes: (text) => Buffer.from(text.slice(0, 40)), reason: /^stored text of 40 characters is not valid JSON$/ },
  { name: 'invalid UTF-8 in the sequence key', bytes: (text) => Buffer.concat([Buffer.from(text.slice(0, 2)), Buffer.from([0xff, 0xfe]), Buffer.from(text.slice(4))]), reason: /^stored text has no sequence, expected 2$/ },
  { name: 'zeroed bytes', bytes: (text) => Buffer.alloc(text.length), reason: /is not valid JSON$/ },
  { name: 'another sequence', bytes: (text) => Buffer.from(text.replace('"sequence":2', '"sequence":7')), reason: /^stored text holds sequence 7, not 2$/ },
  { name: 'sequence as text', bytes: (text) => Buffer.from(text.replace('"sequence":2', '"sequence":"2"')), reason: /^stored text holds sequence of type string, not 2$/ },
  { name: 'no sequence', bytes: (text) => Buffer.from(text.replace('"sequence":2,', '')), reason: /^stored text has no sequence, expected 2$/ },
  { name: 'JSON array', bytes: () => Buffer.from('[2]'), reason: /^stored text is JSON but not an object$/ },
];

describe('record quarantine', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-quarantine-'));
    path = join(dir, 'transactions.db');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes three completed purchases, closes the store and returns the stored text of record 2. */
  function writeThreeRecords(): string {
    const store = SqliteTransactionStore.open(path);
    for (let serial = 1; serial <= 3; serial += 1) {
      const sequence = store.appendPending(samplePurchase(`310400000000000${serial}`, undefined, serial));
      store.complete(sequence, sampleCompletion);
    }
    store.close();
    const db = new Database(path);
    const text = (db.prepare('SELECT record_json FROM records WHERE sequence = 2').get() as { record_json: string }).record_json;
    db.close();
    return text;
  }

  /** Overwrites record 2's stored text with raw bytes through a connection of its own. */
  function damageRecordTwo(bytes: Buffer): void {
    const db = new Database(path);
    db.prepare('UPDATE records SET record_json = CAST(? AS TEXT) WHERE sequence = 2').run(bytes);
    db.close();
  }

  for (const damage of DAMAGE_CASES) {
    it(`quarantines a record ${damage.name}`, () => {
      const text = writeThreeRecords();
      const bytes = damage.bytes(text);
      damageRecordTwo(bytes);

      const screen = new MemoryDriverScreen();
      const store = SqliteTransactionStore.open(path, { screen });
      try {
        const ready = store.readReadyText(0, 10);
        expect(ready.map((record) => record.sequence)).toEqual([1, 2, 3]);
        expect(ready[0]!.damage).toBeUndefined();
        expect(ready[1]!.damage).toMatch(damage.reason);
        expect(ready[2]!.damage).toBeUndefined();
        expect(JSON.parse(ready[2]!.json).sequence).toBe(3);

        const quarantined = store.quarantined();
        expect(quarantined.map((record) => record.sequence)).toEqual([2]);
        expect(quarantined[0]!.bytes.equals(bytes)).toBe(true);
        expect(quarantined[0]!.reason).toMatch(damage.reason);
        expect(screen.alerts.get(RECORD_QUARANTINED_ALERT.id)).toEqual(RECORD_QUARANTINED_ALERT);

        expect(store.readReady(0, 10).map((record) => record.sequence)).toEqual([1, 3]);
      } finally {
        store.close();
      }
    });
  }

  it('keeps the quarantine copy after acknowledgement and pruning', () => {
    const text = writeThreeRecords();
    damageRecordTwo(Buffer.from(text.slice(0, 10)));
    const store = SqliteTransactionStore.open(path);
    try {
      store.readReadyText(0, 10);
      store.acknowledge(3);
      expect(store.pruneAcknowledged(new Date('2100-01-01T00:00:00Z'))).toBe(3);
      expect(store.get(2)).toBeUndefined();
      expect(store.quarantined().map((record) => record.bytes.toString())).toEqual([text.slice(0, 10)]);
    } finally {
      store.close();
    }
  });

  it('copies a record once when read again', () => {
    const text = writeThreeRecords();
    damageRecordTwo(Buffer.from(text.slice(0, 10)));
    const store = SqliteTransactionStore.open(path);
    try {
      const first = store.readReadyText(0, 10);
      const second = store.readReadyText(1, 10);
      expect(first[1]!.damage).toBe(second[0]!.damage);
      expect(store.quarantined()).toHaveLength(1);
    } finally {
      store.close();
    }
  });

  it('sends a schema-invalid record as it is', () => {
    const text = writeThreeRecords();
    const record = JSON.parse(text) as { debit: { amountFen: unknown } };
    record.debit.amountFen = 'two yuan';
    damageRecordTwo(Buffer.from(JSON.stringify(record)));
    const store = SqliteTransactionStore.open(path);
    try {
      const ready = store.readReadyText(0, 10);
      expect(ready[1]!.damage).toBeUndefined();
      expect(JSON.parse(ready[1]!.json).debit.amountFen).toBe('two yuan');
      expect(store.quarantined()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('stops before a record it cannot copy', () => {
    const text = writeThreeRecords();
    damageRecordTwo(Buffer.from(text.slice(0, 10)));
    const store = SqliteTransactionStore.open(path);
    const blocker = new Database(path);
    try {
      // A write transaction of another connection holds the lock, so the copy fails with SQLITE_BUSY.
      store['db'].pragma('busy_timeout = 0');
      blocker.exec('BEGIN IMMEDIATE');
      expect(store.readReadyText(0, 10).map((record) => record.sequence)).toEqual([1]);
      blocker.exec('ROLLBACK');
      expect(store.readReadyText(0, 10).map((record) => record.sequence)).toEqual([1, 2, 3]);
      expect(store.quarantined()).toHaveLength(1);
    } finally {
      blocker.close();
      store.close();
    }
  });
});
