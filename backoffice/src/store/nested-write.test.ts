import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SavepointRequired, nestedWrite, savepointsOff, withoutSavepoints } from './nested-write.js';

let directory: string;
let db: Database.Database;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-nested-write-'));
  db = new Database(join(directory, 'test.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (value INTEGER PRIMARY KEY)');
});

afterEach(() => {
  db.close();
  rmSync(directory, { recursive: true, force: true });
});

const insert = (value: number) => db.prepare('INSERT INTO t (value) VALUES (?)').run(value);
const values = () => db.prepare<[], { value: number }>('SELECT value FROM t ORDER BY value').all().map((row) => row.value);

function failing(): never {
  throw new Error('nested write failed');
}

describe('nestedWrite', () => {
  it('commits on its own outside a transaction', () => {
    nestedWrite(db, () => insert(1));

    expect(db.inTransaction).toBe(false);
    expect(values()).toEqual([1]);
  });

  it('undoes only itself inside a transaction', () => {
    db.transaction(() => {
      insert(1);
      expect(() =>
        nestedWrite(db, () => {
          insert(2);
          failing();
        }),
      ).toThrow('nested write failed');
      insert(3);
    }).immediate();

    expect(values()).toEqual([1, 3]);
  });

  it('joins the transaction of withoutSavepoints', () => {
    expect(() =>
      withoutSavepoints(db, () => {
        insert(1);
        try {
          nestedWrite(db, () => {
            insert(2);
            failing();
          });
        } catch {
          // Without a savepoint the nested write's row stays, and the caller must give up the whole transaction.
        }
        expect(values()).toEqual([1, 2]);
        throw new SavepointRequired('test');
      }),
    ).toThrow(SavepointRequired);

    expect(values()).toEqual([]);
  });

  it('commits everything when nothing fails', () => {
    withoutSavepoints(db, () => {
      insert(1);
      nestedWrite(db, () => insert(2));
    });

    expect(values()).toEqual([1, 2]);
  });
});

describe('withoutSavepoints', () => {
  it('rejects an open transaction', () => {
    db.transaction(() => {
      expect(() => withoutSavepoints(db, () => insert(1))).toThrow(/outside a transaction/);
    }).immediate();
  });

  it('turns savepoints back on after it', () => {
    withoutSavepoints(db, () => expect(savepointsOff(db)).toBe(true));
    expect(savepointsOff(db)).toBe(false);

    expect(() => withoutSavepoints(db, failing)).toThrow('nested write failed');
    expect(savepointsOff(db)).toBe(false);
  });

  it('leaves other connections with savepoints', () => {
    const other = new Database(join(directory, 'other.db'));
    try {
      withoutSavepoints(db, () => {
        expect(savepointsOff(other)).toBe(false);
      });
    } finally {
      other.close();
    }
  });

  it('names the reason of a required savepoint', () => {
    expect(new SavepointRequired('a claim is held').message).toBe('a savepoint is required: a claim is held');
  });
});
