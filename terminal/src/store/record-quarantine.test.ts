import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDriverScreen } from '../ports/driver-screen.js';
import { RECORD_QUARANTINED_ALERT, SqliteTransactionStore } from './sqlite-transaction-store.js';
import { sampleCompletion, sampleLock, samplePurchase } from './transaction-fixtures.js';

/** Damage done to the stored text of record 2 of 3, and the reason the store gives for it. */
const DAMAGE_CASES: { name: string; bytes: (text: string) => Buffer; reason: RegExp }[] = [
  { name: 'cut short', bytes: (text) => Buffer.from(text.slice(0, 40)), reason: /^stored text of 40 characters is not valid JSON$/ },
  { name: 'invalid UTF-8 in the sequence key', bytes: (text) => Buffer.concat([Buffer.from(text.slice(0, 2)), Buffer.from([0xff, 0xfe]), Buffer.from(text.slice(4))]), reason: /^stored text has no sequence, expected 2$/ },
  { name: 'zeroed bytes', bytes: (text) => Buffer.alloc(text.length), reason: /is not valid JSON$/ },
  { name: 'another sequence', bytes: (text) => Buffer.from(text.replace('"sequence":2', '"sequence":7')), reason: /^stored text holds sequence 7, not 2$/ },
  { name: 'sequence as text', bytes: (text) => Buffer.from(text.replace('"sequence":2', '"sequence":"2"')), reason: /^stored text holds sequence of type string, not 2$/ },
  { name: 'no sequence', bytes: (text) => Buffer.from(text.replace('"sequence":2,', '')), reason: /^stored text has no sequence, expected 2$/ },
  { name: 'JSON array', bytes: () => Buffer.from('[2]'), reason: /^stored text is JSON but not an object$/ },
  // Valid JSON of the right sequence that fails the record schema, as the back office applies it.
  { name: 'with a lower-case hex digit', bytes: (text) => Buffer.from(replaced(text, '"cardRandom":"1A2B3C4D"', '"cardRandom":"1a2B3C4D"')), reason: /^stored text fails the record schema: debit\.cardRandom: expected 4 bytes as upper-case hex$/ },
  { name: 'with a lower-case TAC', bytes: (text) => Buffer.from(replaced(text, '"tac":"A1B2C3D4"', '"tac":"a1B2C3D4"')), reason: /^stored text fails the record schema: debit\.tac: expected 4 bytes as upper-case hex$/ },
  { name: 'with an amount as text', bytes: (text) => Buffer.from(replaced(text, '"amountFen":200', '"amountFen":"200"')), reason: /^stored text fails the record schema: debit\.amountFen: .*expected number, received string$/ },
  { name: 'with a MAC2 flag as text', bytes: (text) => Buffer.from(replaced(text, '"mac2Verified":true', '"mac2Verified":"true"')), reason: /^stored text fails the record schema: debit\.mac2Verified: / },
  { name: 'with a missing field', bytes: (text) => Buffer.from(replaced(text, '"psamTerminalNumber":"010203040506",', '')), reason: /^stored text fails the record schema: debit\.psamTerminalNumber: required, but missing/ },
  { name: 'with a missing card', bytes: (text) => Buffer.from(JSON.stringify({ ...JSON.parse(text), card: undefined })), reason: /^stored text fails the record schema: card: required, but missing/ },
  { name: 'of an unknown kind', bytes: (text) => Buffer.from(replaced(text, '"kind":"purchase"', '"kind":"refund"')), reason: /^stored text fails the record schema: kind: / },
  { name: 'of kind quarantined', bytes: (text) => Buffer.from(replaced(text, '"kind":"purchase"', '"kind":"quarantined"')), reason: /^stored text fails the record schema: kind: / },
  { name: 'of an M1 card without M1 evidence', bytes: (text) => Buffer.from(replaced(text, '"application":"tunion"', '"application":"m1"')), reason: /^stored text fails the record schema: debit\.m1: an M1 record must carry its UID and record MAC$/ },
  { name: 'with an empty debit and nothing else', bytes: () => Buffer.from('{"sequence":2,"debit":{}}'), reason: /^stored text fails the record schema: kind: [^;]+(; [^;]+){4}; and \d+ more$/ },
];

/** Returns `text` with `from` replaced by `to`, and fails when `from` is not in it. */
function replaced(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`stored text does not contain ${from}`);
  return text.replace(from, to);
}

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

  /**
   * Writes three records, completed purchases or a lock between two purchases, closes the store
   * and returns the stored text of record 2.
   */
  function writeThreeRecords(second: 'purchase' | 'lock' = 'purchase'): string {
    const store = SqliteTransactionStore.open(path);
    for (let serial = 1; serial <= 3; serial += 1) {
      if (serial === 2 && second === 'lock') {
        store.appendLock(sampleLock());
        continue;
      }
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

  const SOUND_CASES: { name: string; text: (text: string) => string }[] = [
    { name: 'unknown keys', text: (text) => `${text.slice(0, -1)},"note":"kept by an older version"}` },
    { name: 'keys in another order', text: (text) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(text) as object).reverse())) },
    { name: 'M1 evidence', text: (text) => replaced(replaced(text, '"application":"tunion"', '"application":"m1"'), '"mac2Verified":true', '"mac2Verified":true,"m1":{"uid":"04A1B2C3","recordMac":"0A0B0C0D"}') },
  ];
  for (const sound of SOUND_CASES) {
    it(`sends a record with ${sound.name}`, () => {
      const text = sound.text(writeThreeRecords());
      damageRecordTwo(Buffer.from(text));
      const screen = new MemoryDriverScreen();
      const store = SqliteTransactionStore.open(path, { screen });
      try {
        const ready = store.readReadyText(0, 10);
        expect(ready[1]!.damage).toBeUndefined();
        expect(ready[1]!.json).toBe(text);
        expect(store.quarantined()).toEqual([]);
        expect(screen.alerts.size).toBe(0);
      } finally {
        store.close();
      }
    });
  }

  const LOCK_CASES: { name: string; text: (text: string) => string; reason: RegExp | undefined }[] = [
    { name: 'sound', text: (text) => text, reason: undefined },
    { name: 'with lower-case hex in the PSAM number', text: (text) => replaced(text, '"psamTerminalNumber":"010203040506"', '"psamTerminalNumber":"0102030405af"'), reason: /^stored text fails the lock record schema: lock\.psamTerminalNumber: expected 6 bytes as upper-case hex$/ },
    { name: 'without its outcome', text: (text) => replaced(text, '"locked":true,', ''), reason: /^stored text fails the lock record schema: lock\.locked: required, but missing/ },
    { name: 'with a debit instead of a lock', text: (text) => replaced(text, '"lock":{', '"debit":{'), reason: /^stored text fails the lock record schema: lock: required, but missing/ },
  ];
  for (const lockCase of LOCK_CASES) {
    it(`checks a lock record ${lockCase.name}`, () => {
      const text = lockCase.text(writeThreeRecords('lock'));
      damageRecordTwo(Buffer.from(text));
      const store = SqliteTransactionStore.open(path);
      try {
        const ready = store.readReadyText(0, 10);
        expect(ready.map((record) => record.sequence)).toEqual([1, 2, 3]);
        if (lockCase.reason === undefined) expect(ready[1]!.damage).toBeUndefined();
        else expect(ready[1]!.damage).toMatch(lockCase.reason);
        expect(store.quarantined()).toHaveLength(lockCase.reason === undefined ? 0 : 1);
      } finally {
        store.close();
      }
    });
  }

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

  describe('driver alert', () => {
    /** Damages record 2 with a lower-case hex digit and opens the store with a fresh screen. */
    function openDamaged(): { store: SqliteTransactionStore; screen: MemoryDriverScreen } {
      damageRecordTwo(Buffer.from(replaced(writeThreeRecords(), '"cardRandom":"1A2B3C4D"', '"cardRandom":"1a2B3C4D"')));
      const screen = new MemoryDriverScreen();
      return { store: SqliteTransactionStore.open(path, { screen }), screen };
    }

    /** Opens the store again with a fresh screen, as after a restart. */
    function reopen(): { store: SqliteTransactionStore; screen: MemoryDriverScreen } {
      const screen = new MemoryDriverScreen();
      return { store: SqliteTransactionStore.open(path, { screen }), screen };
    }

    it('stays up until the notice is acknowledged', () => {
      const { store, screen } = openDamaged();
      try {
        expect(screen.alerts.has(RECORD_QUARANTINED_ALERT.id)).toBe(false);
        store.readReadyText(0, 10);
        expect(screen.alerts.get(RECORD_QUARANTINED_ALERT.id)).toEqual(RECORD_QUARANTINED_ALERT);

        store.acknowledge(1);
        expect(screen.alerts.has(RECORD_QUARANTINED_ALERT.id)).toBe(true);

        store.acknowledge(2);
        expect(screen.alerts.has(RECORD_QUARANTINED_ALERT.id)).toBe(false);
        expect(store.quarantined().map((record) => record.sequence)).toEqual([2]);
      } finally {
        store.close();
      }
    });

    it('comes back at start-up while unacknowledged', () => {
      const first = openDamaged();
      first.store.readReadyText(0, 10);
      first.store.acknowledge(1);
      first.store.close();

      const { store, screen } = reopen();
      try {
        expect(screen.alerts.get(RECORD_QUARANTINED_ALERT.id)).toEqual(RECORD_QUARANTINED_ALERT);
        store.acknowledge(3);
        expect(screen.alerts.has(RECORD_QUARANTINED_ALERT.id)).toBe(false);
      } finally {
        store.close();
      }
    });

    it('stays cleared after a restart', () => {
      const first = openDamaged();
      first.store.readReadyText(0, 10);
      first.store.acknowledge(3);
      first.store.close();

      const { store, screen } = reopen();
      try {
        expect(screen.alerts.size).toBe(0);
        expect(store.readReadyText(3, 10)).toEqual([]);
        expect(screen.alerts.size).toBe(0);
        expect(store.quarantined().map((record) => record.sequence)).toEqual([2]);
      } finally {
        store.close();
      }
    });

    it('stays cleared when an acknowledged notice is resent', () => {
      const { store, screen } = openDamaged();
      try {
        store.readReadyText(0, 10);
        store.acknowledge(3);
        const resent = store.readReadyText(0, 10);
        expect(resent[1]!.damage).toMatch(/debit\.cardRandom/);
        expect(screen.alerts.size).toBe(0);
      } finally {
        store.close();
      }
    });

    it('stays up for a later unacknowledged notice', () => {
      const { store, screen } = openDamaged();
      try {
        store.readReadyText(0, 10);
        store.acknowledge(2);
        expect(screen.alerts.size).toBe(0);

        const sequence = store.appendPending(samplePurchase('3104000000000004', undefined, 4));
        store.complete(sequence, sampleCompletion);
        const db = store['db'] as Database.Database;
        db.prepare('UPDATE records SET record_json = ? WHERE sequence = 4').run('{"sequence":4}');
        expect(store.readReadyText(2, 10)[1]!.damage).toMatch(/fails the record schema/);
        expect(screen.alerts.has(RECORD_QUARANTINED_ALERT.id)).toBe(true);

        store.acknowledge(3);
        expect(screen.alerts.has(RECORD_QUARANTINED_ALERT.id)).toBe(true);
        store.acknowledge(4);
        expect(screen.alerts.has(RECORD_QUARANTINED_ALERT.id)).toBe(false);
      } finally {
        store.close();
      }
    });
  });
});
