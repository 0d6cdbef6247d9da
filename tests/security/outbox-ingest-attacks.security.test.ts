import { fstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../backoffice/src/broker/embedded-broker.js';
import { IngestService } from '../../backoffice/src/ingest/ingest-service.js';
import { TacVerifier } from '../../backoffice/src/ingest/tac-verifier.js';
import { TransactionIngestor } from '../../backoffice/src/ingest/transaction-ingest.js';
import { WalGroupSync } from '../../backoffice/src/ingest/wal-group-sync.js';
import { createLogger } from '../../backoffice/src/logger.js';
import { EvidenceLedger } from '../../backoffice/src/security/evidence-ledger.js';
import { SqliteClearingRepository } from '../../backoffice/src/store/sqlite-clearing-repository.js';
import { LOCAL_ISSUER_PREFIX, fakeRecord, testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';
import { waitFor } from '../../simulators/src/bench/bench-city.js';
import { createLogger as createTerminalLogger } from '../../terminal/src/logger.js';
import { TerminalUplink } from '../../terminal/src/uplink/mqtt-uplink.js';
import { SqliteTransactionStore } from '../../terminal/src/store/sqlite-transaction-store.js';
import { sampleCompletion, samplePurchase } from '../../terminal/src/store/transaction-fixtures.js';

/**
 * fdatasync under test control: with `hold` set, each callback waits until the test calls it, and
 * `descriptors` records which file each flush was asked for.
 */
const flushes = vi.hoisted(() => ({
  hold: false,
  pending: [] as ((error: NodeJS.ErrnoException | null) => void)[],
  descriptors: [] as number[],
}));
vi.mock('node:fs', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:fs')>();
  const fdatasync = ((descriptor: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
    flushes.descriptors.push(descriptor);
    if (flushes.hold) flushes.pending.push(callback);
    else original.fdatasync(descriptor, callback);
  }) as typeof original.fdatasync;
  return { ...original, default: { ...original, fdatasync }, fdatasync };
});

const silent = pino({ level: 'silent' });

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-outbox-attack-'));
  flushes.hold = false;
  flushes.pending = [];
  flushes.descriptors = [];
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function ioError(): NodeJS.ErrnoException {
  return Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5, syscall: 'fdatasync' });
}

describe('terminal outbox against damaged rows', () => {
  let path: string;

  beforeEach(() => {
    path = join(directory, 'transactions.db');
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

  function damageRecordTwo(bytes: Buffer): void {
    const db = new Database(path);
    db.prepare('UPDATE records SET record_json = CAST(? AS TEXT) WHERE sequence = 2').run(bytes);
    db.close();
  }

  /**
   * Checks the outbox contract for one read: records 1 to 3 all come out, every record sent as it
   * is parses to its own sequence, and every damaged one has a quarantine copy.
   */
  function expectNothingLost(store: SqliteTransactionStore): void {
    const ready = store.readReadyText(0, 10);
    expect(ready.map((record) => record.sequence)).toEqual([1, 2, 3]);
    for (const record of ready) {
      if (record.damage !== undefined) continue;
      const parsed = JSON.parse(record.json) as { sequence: unknown };
      expect(parsed.sequence).toBe(record.sequence);
    }
    const quarantinedSequences = store.quarantined().map((record) => record.sequence);
    const damagedSequences = ready.filter((record) => record.damage !== undefined).map((record) => record.sequence);
    expect(quarantinedSequences).toEqual(damagedSequences);
    expect(storedRowCount(store)).toBe(3);
  }

  /** Counts the rows left in records, read raw because get() parses the stored text. */
  function storedRowCount(store: SqliteTransactionStore): number {
    const db = store['db'] as Database.Database;
    return (db.prepare('SELECT COUNT(*) AS count FROM records').get() as { count: number }).count;
  }

  it('sends a deeply nested valid record', () => {
    const text = writeThreeRecords();
    // SQLite 3.53 json_valid() returns 0 past 1000 levels of nesting, while JSON.parse accepts them.
    const record = JSON.parse(text) as Record<string, unknown>;
    const depth = 5_000;
    damageRecordTwo(Buffer.from(`${JSON.stringify(record).slice(0, -1)},"extra":${'['.repeat(depth)}${']'.repeat(depth)}}`));
    const store = SqliteTransactionStore.open(path);
    try {
      expectNothingLost(store);
      expect(store.readReadyText(0, 10)[1]!.damage).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it('sends a record with a 4 MB body', () => {
    const text = writeThreeRecords();
    const record = JSON.parse(text) as Record<string, unknown>;
    record.extra = 'x'.repeat(4 * 1024 * 1024);
    damageRecordTwo(Buffer.from(JSON.stringify(record)));
    const store = SqliteTransactionStore.open(path);
    try {
      expectNothingLost(store);
      store.acknowledge(3);
      expect(store.ackedThrough()).toBe(3);
    } finally {
      store.close();
    }
  });

  const FLOAT_CASES: { name: string; written: string; damaged: boolean }[] = [
    { name: '2.0', written: '2.0', damaged: false },
    { name: '2e0', written: '2e0', damaged: false },
    { name: '2.5', written: '2.5', damaged: true },
    { name: '2.0000000000000001', written: '2.0000000000000001', damaged: false },
    { name: '-0', written: '-0', damaged: true },
  ];
  for (const floatCase of FLOAT_CASES) {
    it(`handles a float sequence ${floatCase.name}`, () => {
      const text = writeThreeRecords();
      damageRecordTwo(Buffer.from(text.replace('"sequence":2,', `"sequence":${floatCase.written},`)));
      const store = SqliteTransactionStore.open(path);
      try {
        expectNothingLost(store);
        expect(store.readReadyText(0, 10)[1]!.damage !== undefined).toBe(floatCase.damaged);
      } finally {
        store.close();
      }
    });
  }

  // JSON.parse keeps the last of two equal keys. Text that starts with the right sequence key can
  // therefore still claim another sequence, so it must not pass as a sound record.
  it('quarantines a duplicated sequence key', () => {
    const text = writeThreeRecords();
    damageRecordTwo(Buffer.from(`${text.slice(0, -1)},"sequence":7}`));
    const store = SqliteTransactionStore.open(path);
    try {
      const ready = store.readReadyText(0, 10);
      expect(ready[1]!.damage).toMatch(/sequence 7, not 2/);
      expectNothingLost(store);
    } finally {
      store.close();
    }
  });

  // SQLite 3.53 json_valid() ignores everything from a NUL byte on, while JSON.parse rejects a
  // payload with a NUL after the record.
  it('quarantines a NUL byte after the closing brace', () => {
    const text = writeThreeRecords();
    damageRecordTwo(Buffer.concat([Buffer.from(text), Buffer.from([0])]));
    const store = SqliteTransactionStore.open(path);
    try {
      expectNothingLost(store);
    } finally {
      store.close();
    }
  });

  const NUL_CASES: { name: string; bytes: (text: string) => Buffer }[] = [
    { name: 'inside a string', bytes: (text) => Buffer.from(text.replace('"sequence":2,', '"sequence":2,"note":"a\u0000b",')) },
    { name: 'between keys', bytes: (text) => Buffer.from(text.replace('"sequence":2,', '"sequence":2,\u0000')) },
    { name: 'in place of the body', bytes: (text) => Buffer.concat([Buffer.from('{"sequence":2,'), Buffer.alloc(text.length - 14)]) },
  ];
  for (const nulCase of NUL_CASES) {
    it(`handles a NUL byte ${nulCase.name}`, () => {
      const text = writeThreeRecords();
      damageRecordTwo(nulCase.bytes(text));
      const store = SqliteTransactionStore.open(path);
      try {
        expectNothingLost(store);
      } finally {
        store.close();
      }
    });
  }

  it('rejects a file with a corrupt state column', () => {
    writeThreeRecords();
    const db = new Database(path);
    db.pragma('ignore_check_constraints = ON');
    db.prepare("UPDATE records SET state = 'garbage' WHERE sequence = 2").run();
    db.close();
    expect(() => SqliteTransactionStore.open(path)).toThrow(/CHECK constraint failed in records; keep the file/);

    const after = new Database(path, { readonly: true });
    const rows = after.prepare('SELECT sequence, state FROM records ORDER BY sequence').all();
    after.close();
    expect(rows).toEqual([
      { sequence: 1, state: 'ready' },
      { sequence: 2, state: 'garbage' },
      { sequence: 3, state: 'ready' },
    ]);
  });

  it('stops at a ready row whose state reads pending', () => {
    writeThreeRecords();
    const db = new Database(path);
    db.prepare("UPDATE records SET state = 'pending' WHERE sequence = 2").run();
    db.close();
    const store = SqliteTransactionStore.open(path);
    try {
      // The store takes the row for an unfinished tap, which recovery settles before sending.
      expect(store.readReadyText(0, 10).map((record) => record.sequence)).toEqual([1]);
      expect(() => store.acknowledge(3)).toThrow(/covers pending record 2/);
      expect(storedRowCount(store)).toBe(3);
    } finally {
      store.close();
    }
  });

  it('stops before a record when the disk is full', () => {
    writeThreeRecords();
    // A long damaged text needs new overflow pages in quarantined_records, which max_page_count forbids.
    damageRecordTwo(Buffer.from(`{"sequence":2,${'x'.repeat(200_000)}`));
    const store = SqliteTransactionStore.open(path);
    try {
      const db = store['db'] as Database.Database;
      const pages = Number(db.pragma('page_count', { simple: true }));
      db.pragma(`max_page_count = ${pages}`);

      expect(store.readReadyText(0, 10).map((record) => record.sequence)).toEqual([1]);
      expect(store.quarantined()).toEqual([]);
      expect(storedRowCount(store)).toBe(3);

      store.acknowledge(1);
      expect(store.ackedThrough()).toBe(1);
      expect(() => store.acknowledge(3)).not.toThrow();

      db.pragma('max_page_count = 1073741823');
      const ready = store.readReadyText(3, 10);
      expect(ready).toEqual([]);
      // The acknowledgement above covered record 2 before it was ever sent or copied.
      expect(store.quarantined().map((record) => record.sequence)).toEqual([]);
    } finally {
      store.close();
    }
  });

  // acknowledge() accepts a sequence above a record that was never sent, because its quarantine
  // copy failed. Pruning must still keep the only copy of its bytes.
  it('keeps the bytes of an unsent damaged record through pruning', () => {
    writeThreeRecords();
    damageRecordTwo(Buffer.from(`{"sequence":2,${'x'.repeat(200_000)}`));
    const store = SqliteTransactionStore.open(path);
    try {
      const db = store['db'] as Database.Database;
      const pages = Number(db.pragma('page_count', { simple: true }));
      db.pragma(`max_page_count = ${pages}`);
      expect(store.readReadyText(0, 10).map((record) => record.sequence)).toEqual([1]);
      db.pragma('max_page_count = 1073741823');

      store.acknowledge(3);
      store.pruneAcknowledged(new Date('2100-01-01T00:00:00Z'));
      const connection = store['db'] as Database.Database;
      const rowPresent = connection.prepare('SELECT 1 FROM records WHERE sequence = 2').get() !== undefined;
      const copyPresent = store.quarantined().some((record) => record.sequence === 2);
      expect(rowPresent || copyPresent).toBe(true);
    } finally {
      store.close();
    }
  });
});

describe('WalGroupSync ordering', () => {
  function openWalDatabase(): Database.Database {
    const db = new Database(join(directory, 'ingest.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
    return db;
  }

  function commitRow(sync: WalGroupSync, db: Database.Database, text: string): void {
    sync.commitWithoutSync(() => db.prepare('INSERT INTO rows (text) VALUES (?)').run(text));
  }

  async function settle(): Promise<void> {
    for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  }

  it('holds a waiter added during a flush for the next flush', async () => {
    const db = openWalDatabase();
    const sync = WalGroupSync.forDatabase(db, silent)!;
    flushes.hold = true;
    const events: string[] = [];
    try {
      commitRow(sync, db, 'a');
      sync.afterSync(() => events.push('a'), () => events.push('a failed'));
      commitRow(sync, db, 'b');
      sync.afterSync(() => events.push('b'), () => events.push('b failed'));
      expect(flushes.pending).toHaveLength(1);

      flushes.pending[0]!(null);
      await settle();
      expect(events).toEqual(['a']);
      expect(flushes.pending).toHaveLength(2);

      flushes.pending[1]!(null);
      await settle();
      expect(events).toEqual(['a', 'b']);
    } finally {
      flushes.hold = false;
      await sync.close();
      db.close();
    }
  });

  it('flushes the current WAL file', async () => {
    const db = openWalDatabase();
    const sync = WalGroupSync.forDatabase(db, silent)!;
    flushes.hold = true;
    try {
      commitRow(sync, db, 'a');
      sync.afterSync(() => undefined, () => undefined);
      expect(fstatSync(flushes.descriptors[0]!).ino).toBe(statSync(`${db.name}-wal`).ino);
      flushes.pending[0]!(null);
      await settle();

      // A TRUNCATE checkpoint from another connection empties the WAL in place.
      const other = new Database(db.name);
      other.pragma('wal_checkpoint(TRUNCATE)');
      other.close();
      commitRow(sync, db, 'b');
      sync.afterSync(() => undefined, () => undefined);
      expect(fstatSync(flushes.descriptors[1]!).ino).toBe(statSync(`${db.name}-wal`).ino);
      flushes.pending[1]!(null);
      await settle();
    } finally {
      flushes.hold = false;
      await sync.close();
      db.close();
    }
  });

  it('fails a waiter when the flush fails', async () => {
    const db = openWalDatabase();
    const sync = WalGroupSync.forDatabase(db, silent)!;
    flushes.hold = true;
    const events: string[] = [];
    try {
      commitRow(sync, db, 'a');
      sync.afterSync(() => events.push('a'), (error) => events.push(`a failed ${(error as NodeJS.ErrnoException).code}`));
      flushes.pending[0]!(ioError());
      await settle();
      expect(events).toEqual(['a failed EIO']);
    } finally {
      flushes.hold = false;
      await sync.close();
      db.close();
    }
  });

  it('fails a waiter when the WAL file is gone', async () => {
    const db = openWalDatabase();
    const sync = WalGroupSync.forDatabase(db, silent)!;
    const events: string[] = [];
    try {
      commitRow(sync, db, 'a');
      rmSync(`${db.name}-wal`);
      sync.afterSync(() => events.push('a'), () => events.push('a failed'));
      await settle();
      expect(events).toEqual(['a failed']);
    } finally {
      await sync.close();
      db.close();
    }
  });

  // After one fdatasync fails, Linux may report the next one as a success although the pages of
  // the failed flush never reached the disk, so no later waiter may be released.
  it('fails every waiter after one failed flush', async () => {
    const db = openWalDatabase();
    const sync = WalGroupSync.forDatabase(db, silent)!;
    flushes.hold = true;
    const events: string[] = [];
    try {
      commitRow(sync, db, 'a');
      sync.afterSync(() => events.push('a'), () => events.push('a failed'));
      flushes.pending[0]!(ioError());
      await settle();

      commitRow(sync, db, 'b');
      sync.afterSync(() => events.push('b'), () => events.push('b failed'));
      if (flushes.pending[1]) flushes.pending[1](null);
      await settle();
      expect(events).toEqual(['a failed', 'b failed']);
    } finally {
      flushes.hold = false;
      await sync.close();
      db.close();
    }
  });

  // A release callback that calls afterSync() starts another flush, and idle() must wait for it.
  it('keeps idle pending while a flush started by a waiter runs', async () => {
    const db = openWalDatabase();
    const sync = WalGroupSync.forDatabase(db, silent)!;
    flushes.hold = true;
    const events: string[] = [];
    try {
      commitRow(sync, db, 'a');
      sync.afterSync(() => {
        events.push('a');
        commitRow(sync, db, 'b');
        sync.afterSync(() => events.push('b'), () => events.push('b failed'));
      }, () => events.push('a failed'));
      let idle = false;
      void sync.idle().then(() => (idle = true));

      flushes.pending[0]!(null);
      await settle();
      expect(events).toEqual(['a']);
      expect(flushes.pending).toHaveLength(2);
      expect(idle).toBe(false);
    } finally {
      flushes.hold = false;
      for (const callback of flushes.pending.slice(1)) callback(null);
      await sync.close();
      db.close();
    }
  });

  // close() follows idle(), so it must not close the WAL descriptor while that flush runs on it.
  it('waits in close for a flush started by a waiter', async () => {
    const db = openWalDatabase();
    const sync = WalGroupSync.forDatabase(db, silent)!;
    flushes.hold = true;
    try {
      commitRow(sync, db, 'a');
      sync.afterSync(() => {
        commitRow(sync, db, 'b');
        sync.afterSync(() => undefined, () => undefined);
      }, () => undefined);
      const closing = sync.close().then(() => 'closed');
      flushes.pending[0]!(null);
      await settle();
      expect(flushes.pending).toHaveLength(2);

      // The flush for b is still held, so close() must not finish within this second.
      const outcome = await Promise.race([closing, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1_000))]);
      expect(outcome).toBe('still waiting');
      expect(sync['walDescriptor']).toBeDefined();
    } finally {
      flushes.hold = false;
      for (const callback of flushes.pending.slice(1)) callback(null);
      await sync.close();
      db.close();
    }
  });

  it('waits in close for a running flush', async () => {
    const db = openWalDatabase();
    const sync = WalGroupSync.forDatabase(db, silent)!;
    flushes.hold = true;
    const events: string[] = [];
    try {
      commitRow(sync, db, 'a');
      sync.afterSync(() => events.push('a'), () => events.push('a failed'));
      let closed = false;
      const closing = sync.close().then(() => (closed = true));
      await settle();
      expect(closed).toBe(false);
      expect(events).toEqual([]);
      flushes.pending[0]!(null);
      await closing;
      expect(events).toEqual(['a']);
    } finally {
      flushes.hold = false;
      db.close();
    }
  });

  it('flushes before releasing a waiter added after close', async () => {
    const db = openWalDatabase();
    const sync = WalGroupSync.forDatabase(db, silent)!;
    await sync.close();
    flushes.hold = true;
    const events: string[] = [];
    try {
      commitRow(sync, db, 'a');
      sync.afterSync(() => events.push('a'), () => events.push('a failed'));
      await settle();
      expect(events).toEqual([]);
      expect(flushes.pending).toHaveLength(1);
      flushes.pending[0]!(null);
      await settle();
      expect(events).toEqual(['a']);
    } finally {
      flushes.hold = false;
      db.close();
    }
  });
});

describe('damaged outbox record through the back office', () => {
  const TERMINAL_ID = 'TX1';
  const RECORDS = 10;
  let broker: EmbeddedBroker;
  let repository: SqliteClearingRepository;
  let service: IngestService;

  beforeEach(async () => {
    broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger: createLogger('test', 'silent') });
    repository = new SqliteClearingRepository({ path: join(directory, 'clearing.db') });
    const transactions = new TransactionIngestor({
      repository,
      verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
      businessDay: { timezoneOffsetMinutes: 480, cutoff: '04:00' },
      evidence: new EvidenceLedger(repository.database),
    });
    service = new IngestService({ brokerUrl: broker.url, repository, transactions, logger: createLogger('test', 'silent'), clientId: 'ingest-attack', database: repository.database });
    await service.start();
  });

  afterEach(async () => {
    await service.stop();
    repository.close();
    await broker.close();
  });

  /** Fills an outbox with RECORDS ready records, rewrites record 4's text and returns the original texts. */
  function fillOutbox(outboxPath: string, damage: (text: string) => Buffer): Map<number, string> {
    const filled = SqliteTransactionStore.open(outboxPath);
    const records = Array.from({ length: RECORDS }, (_, index) => fakeRecord({ sequence: index + 1, terminalId: TERMINAL_ID }));
    filled.restoreSalvaged(
      records.map((record) => ({ record, state: 'ready' as const, inDoubtOpen: false })),
      { lastSequence: RECORDS, ackedThrough: 0 },
    );
    filled.close();

    const db = new Database(outboxPath);
    const texts = new Map<number, string>();
    for (const row of db.prepare('SELECT sequence, record_json FROM records').all() as { sequence: number; record_json: string }[]) texts.set(row.sequence, row.record_json);
    db.prepare('UPDATE records SET record_json = CAST(? AS TEXT) WHERE sequence = 4').run(damage(texts.get(4)!));
    db.close();
    return texts;
  }

  async function drain(outboxPath: string): Promise<SqliteTransactionStore> {
    const logger = createTerminalLogger('test', 'silent');
    const store = SqliteTransactionStore.open(outboxPath, { logger });
    const uplink = new TerminalUplink({ terminalId: TERMINAL_ID, vehicleId: 'V-TX1', brokerUrl: broker.url, store, logger, softwareVersion: 'test', batchSize: 5, notifyDelayMs: 0 });
    try {
      uplink.start();
      await waitFor(() => store.backlog() === 0, 8_000, 'the outbox to drain');
      return store;
    } finally {
      await uplink.stop();
    }
  }

  function storedSequences(): number[] {
    const rows = repository.database.prepare('SELECT sequence FROM transactions WHERE terminal_id = ? ORDER BY sequence').all(TERMINAL_ID) as { sequence: number }[];
    return rows.map((row) => row.sequence);
  }

  // Sent as it is, record 4 would be read by its last sequence key and cleared as fare 9, and the
  // genuine record 9 rejected as a conflict, stalling acknowledgements at 3.
  it('keeps a duplicated sequence key out of clearing', async () => {
    const outboxPath = join(directory, 'outbox.db');
    fillOutbox(outboxPath, (text) => Buffer.from(`${text.slice(0, -1)},"sequence":9}`));
    const store = await drain(outboxPath);
    try {
      expect(store.quarantined().map((record) => record.sequence)).toEqual([4]);
      expect(storedSequences()).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10]);
      const rejected = repository.database.prepare('SELECT sequence FROM rejected WHERE terminal_id = ? ORDER BY sequence').all(TERMINAL_ID) as { sequence: number | null }[];
      expect(rejected.map((row) => row.sequence)).toEqual([4]);
    } finally {
      store.close();
    }
  });

  // A payload with a NUL after record 4 is not JSON, and the back office would reject the whole
  // batch on every resend.
  it('drains past a NUL after a record', async () => {
    const outboxPath = join(directory, 'outbox.db');
    fillOutbox(outboxPath, (text) => Buffer.concat([Buffer.from(text), Buffer.from([0])]));
    const store = await drain(outboxPath);
    try {
      expect(store.ackedThrough()).toBe(RECORDS);
      expect(storedSequences()).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10]);
    } finally {
      store.close();
    }
  });
});
