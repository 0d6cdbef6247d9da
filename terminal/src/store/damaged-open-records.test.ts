import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteTransactionStore } from './sqlite-transaction-store.js';
import { sampleCompletion, samplePurchase } from './transaction-fixtures.js';

/** Damage that leaves the page intact, so PRAGMA integrity_check passes, but spoils the record text. */
const TEXT_DAMAGE: { name: string; change: (text: string) => string }[] = [
  { name: 'cut short', change: (text) => text.slice(0, 40) },
  { name: 'with a lower-case hex digit', change: (text) => text.replace('"cardRandom":"1A2B3C4D"', '"cardRandom":"1a2B3C4D"') },
  { name: 'as a JSON array', change: () => '[2]' },
];

describe('damaged open records', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-damaged-open-'));
    path = join(dir, 'transactions.db');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function damageText(sequence: number, change: (text: string) => string): void {
    const db = new Database(path);
    const row = db.prepare<[number], { record_json: string }>('SELECT record_json FROM records WHERE sequence = ?').get(sequence)!;
    db.prepare('UPDATE records SET record_json = ? WHERE sequence = ?').run(change(row.record_json), sequence);
    db.close();
  }

  for (const damage of TEXT_DAMAGE) {
    it(`recovers past a pending record ${damage.name}`, () => {
      const writer = SqliteTransactionStore.open(path, { walReserveBytes: 0 });
      writer.complete(writer.appendPending(samplePurchase('3104000000000001', undefined, 1)), sampleCompletion);
      writer.appendPending(samplePurchase('3104000000000002', undefined, 2));
      writer.appendPending(samplePurchase('3104000000000003', undefined, 3));
      writer.close();
      damageText(2, damage.change);

      const store = SqliteTransactionStore.open(path, { walReserveBytes: 0 });
      expect(store.recoverPending()).toBe(2);

      const sent = store.readReadyText(0, 10);
      expect(sent.map((row) => row.sequence)).toEqual([1, 2, 3]);
      expect(sent[1]!.damage).toBeDefined();
      expect(store.quarantined().map((row) => row.sequence)).toEqual([2]);
      expect(store.get(3)?.record.kind).toBe('in-doubt');
      expect(store.listOpenInDoubt().map((open) => open.sequence)).toEqual([3]);
      store.close();
    });

    it(`finds no open in-doubt record ${damage.name}`, () => {
      const store = SqliteTransactionStore.open(path, { walReserveBytes: 0 });
      store.markInDoubt(store.appendPending(samplePurchase('3104000000000002', undefined, 1)));
      damageText(1, damage.change);

      expect(store.findOpenInDoubt('3104000000000002')).toBeUndefined();
      expect(store.listOpenInDoubt()).toEqual([]);
      store.close();
    });
  }
});
