import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type MqttClient, connectAsync } from 'mqtt';
import pino from 'pino';
import { POSITION_BATCH_SCHEMA, SHIFT_RECORD_SCHEMA, TERMINAL_STATUS_SCHEMA, type TransactionAck, topics } from '@busfare/shared-protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../broker/embedded-broker.js';
import { EvidenceLedger } from '../security/evidence-ledger.js';
import { SqliteClearingRepository } from '../store/sqlite-clearing-repository.js';
import { LOCAL_ISSUER_PREFIX, fakeBatch, fakeRecord, testKeyStore } from '../testing/fake-terminal.js';
import { IngestService } from './ingest-service.js';
import { TacVerifier } from './tac-verifier.js';
import { TransactionIngestor } from './transaction-ingest.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { WalGroupSync } from './wal-group-sync.js';

/**
 * fdatasync under test control: `hold` keeps each callback until the test calls it, so a test can
 * see what happened before the flush returned.
 */
const flushes = vi.hoisted(() => ({ hold: false, pending: [] as ((error: NodeJS.ErrnoException | null) => void)[], calls: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:fs')>();
  const fdatasync = ((descriptor: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
    flushes.calls += 1;
    if (flushes.hold) flushes.pending.push(callback);
    else original.fdatasync(descriptor, callback);
  }) as typeof original.fdatasync;
  return { ...original, default: { ...original, fdatasync }, fdatasync };
});

const silent = pino({ level: 'silent' });
const BUSINESS_DAY = { timezoneOffsetMinutes: 480, cutoff: '04:00' };

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-wal-sync-'));
  flushes.hold = false;
  flushes.pending = [];
  flushes.calls = 0;
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function openWalDatabase(name = 'test.db'): Database.Database {
  const db = new Database(join(directory, name));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
  return db;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('WalGroupSync', () => {
  it('skips an in-memory database', () => {
    const db = new Database(':memory:');
    expect(WalGroupSync.forDatabase(db, silent)).toBeUndefined();
    db.close();
  });

  it('commits without fsync and restores FULL', async () => {
    const db = openWalDatabase();
    const sync = WalGroupSync.forDatabase(db, silent)!;
    try {
      const during = sync.commitWithoutSync(() => {
        db.prepare("INSERT INTO rows (text) VALUES ('a')").run();
        return db.pragma('synchronous', { simple: true });
      });
      expect(during).toBe(1);
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(() => sync.commitWithoutSync(() => { throw new Error('write failed'); })).toThrow('write failed');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
    } finally {
      await sync.close();
      db.close();
    }
  });

  it('releases waiters in order after the flush', async () => {
    const db = openWalDatabase();
    const sync = WalGroupSync.forDatabase(db, silent)!;
    try {
      flushes.hold = true;
      const released: string[] = [];
      sync.commitWithoutSync(() => db.prepare("INSERT INTO rows (text) VALUES ('a')").run());
      sync.afterSync(() => released.push('a'), () => released.push('a failed'));
      sync.commitWithoutSync(() => db.prepare("INSERT INTO rows (text) VALUES ('b')").run());
      sync.afterSync(() => released.push('b'), () => released.push('b failed'));
      sync.afterSync(() => released.push('c'), () => released.push('c failed'));

      // The first flush covers the first commit only; the later ones wait for the next flush.
      expect(flushes.pending).toHaveLength(1);
      expect(released).toEqual([]);
      flushes.pending.shift()!(null);
      expect(released).toEqual(['a']);
      expect(flushes.pending).toHaveLength(1);
      flushes.pending.shift()!(null);
      expect(released).toEqual(['a', 'b', 'c']);
      await sync.idle();
    } finally {
      flushes.hold = false;
      await sync.close();
      db.close();
    }
  });

  it('releases the rest after a throwing callback', async () => {
    const db = openWalDatabase();
    const errors: { msg: string }[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => errors.push(JSON.parse(line) as { msg: string }) });
    const sync = WalGroupSync.forDatabase(db, logger)!;
    try {
      flushes.hold = true;
      const released: string[] = [];
      sync.commitWithoutSync(() => db.prepare("INSERT INTO rows (text) VALUES ('a')").run());
      sync.afterSync(() => released.push('a'), () => released.push('a failed'));
      // b and c wait for the second flush, as one group.
      sync.afterSync(() => {
        throw new Error('listener failed');
      }, () => released.push('b failed'));
      sync.afterSync(() => released.push('c'), () => released.push('c failed'));
      flushes.pending.shift()!(null);
      flushes.pending.shift()!(null);

      expect(released).toEqual(['a', 'c']);
      expect(errors.map((line) => line.msg)).toEqual(['a callback after the WAL flush failed']);
      await sync.idle();
    } finally {
      flushes.hold = false;
      await sync.close();
      db.close();
    }
  });

  it('fails waiters when the flush fails', async () => {
    const db = openWalDatabase();
    const sync = WalGroupSync.forDatabase(db, silent)!;
    try {
      flushes.hold = true;
      const outcomes: string[] = [];
      sync.commitWithoutSync(() => db.prepare("INSERT INTO rows (text) VALUES ('a')").run());
      sync.afterSync(() => outcomes.push('released'), (error) => outcomes.push(`failed: ${error.message}`));
      flushes.pending.shift()!(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      expect(outcomes).toEqual(['failed: EIO: i/o error, fdatasync']);
    } finally {
      flushes.hold = false;
      await sync.close();
      db.close();
    }
  });

  it('hands checkpoints to a worker thread', async () => {
    const db = openWalDatabase();
    const before = db.pragma('wal_autocheckpoint', { simple: true });
    const sync = WalGroupSync.forDatabase(db, silent)!;
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await sync.close();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(before);
    db.close();
  });

  it('keeps the worker after a checkpoint that SQLite refused', async () => {
    const db = openWalDatabase();
    const errors: { msg: string }[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => errors.push(JSON.parse(line) as { msg: string }) });
    const sync = WalGroupSync.forDatabase(db, logger)!;
    const internals = sync as unknown as { checkpointer: WalCheckpointer | undefined; maybeCheckpoint(): void };
    const worker = internals.checkpointer!;
    // The worker thread replies with an error, as it does when the disk is full.
    const failingCheckpointer = { usable: true, running: false, checkpoint: () => Promise.reject(new Error('SqliteError: database or disk is full')), close: () => worker.close() };
    internals.checkpointer = failingCheckpointer as unknown as WalCheckpointer;
    try {
      internals.maybeCheckpoint();
      await until(() => errors.length === 1, 'the error');
      expect(errors[0]!.msg).toBe('WAL checkpoint in the worker thread failed, so the next one tries again');
      expect(internals.checkpointer).toBe(failingCheckpointer);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    } finally {
      await sync.close();
      db.close();
    }
  });

  it('checkpoints in the ingest thread after the worker fails', async () => {
    const db = openWalDatabase();
    const errors: unknown[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => errors.push(JSON.parse(line)) });
    const sync = WalGroupSync.forDatabase(db, logger)!;
    try {
      await (sync as unknown as { checkpointer: WalCheckpointer }).checkpointer.close();
      (sync as unknown as { maybeCheckpoint(): void }).maybeCheckpoint();
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      expect(errors).toHaveLength(1);
    } finally {
      await sync.close();
      db.close();
    }
  });
});

describe('closing checkpoints', () => {
  const walFile = () => join(directory, 'test.db-wal');
  const fill = (db: Database.Database, rows: number) => {
    const insert = db.prepare('INSERT INTO rows (text) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < rows; i += 1) insert.run('x'.repeat(1_000));
    })();
  };

  it('starts the WAL again after a closing checkpoint', async () => {
    const db = openWalDatabase();
    const sync = WalGroupSync.forDatabase(db, silent, { restartBytes: 64 * 1024, maxBytes: 256 * 1024 })!;
    try {
      sync.commitWithoutSync(() => fill(db, 400));
      expect(statSync(walFile()).size).toBeGreaterThan(256 * 1024);
      let resumed = false;
      (sync as unknown as { maybeCheckpoint(): void }).maybeCheckpoint();
      expect(sync.writesPaused).toBe(true);
      sync.whenWritable(() => (resumed = true));
      expect(resumed).toBe(false);
      await until(() => resumed, 'the end of the closing checkpoint');
      expect(sync.writesPaused).toBe(false);

      // The first commit after it writes from the start of the WAL, which SQLite then cuts to
      // journal_size_limit.
      sync.commitWithoutSync(() => fill(db, 1));
      expect(statSync(walFile()).size).toBeLessThanOrEqual(64 * 1024);
      const other = new Database(join(directory, 'test.db'));
      try {
        expect((other.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log).toBeLessThan(5);
      } finally {
        other.close();
      }
      expect((db.prepare('SELECT COUNT(*) AS count FROM rows').get() as { count: number }).count).toBe(401);
    } finally {
      await sync.close();
      db.close();
    }
  });

  it('pauses once an interval while a reader holds an old snapshot', async () => {
    const db = openWalDatabase();
    const warnings: { msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line) as { msg: string }) });
    const sync = WalGroupSync.forDatabase(db, logger, { restartBytes: 64 * 1024, maxBytes: 256 * 1024 })!;
    const maybeCheckpoint = () => (sync as unknown as { maybeCheckpoint(): void }).maybeCheckpoint();
    const reader = new Database(join(directory, 'test.db'), { readonly: true });
    try {
      sync.commitWithoutSync(() => fill(db, 1));
      // A read transaction that stays open, as a long console export would.
      reader.exec('BEGIN');
      reader.prepare('SELECT COUNT(*) FROM rows').get();
      sync.commitWithoutSync(() => fill(db, 400));
      maybeCheckpoint();
      expect(sync.writesPaused).toBe(true);
      await until(() => !sync.writesPaused, 'the end of the closing checkpoint');
      expect(warnings.map((line) => line.msg)).toEqual(['closing WAL checkpoint left frames behind, so the WAL goes on growing']);

      // Commits after it do not pause again within the interval.
      for (let i = 0; i < 5; i += 1) {
        sync.commitWithoutSync(() => fill(db, 1));
        maybeCheckpoint();
        expect(sync.writesPaused).toBe(false);
      }
      expect(warnings).toHaveLength(1);
    } finally {
      reader.exec('COMMIT');
      reader.close();
      await sync.close();
      db.close();
    }
  });

  it('lets commits go on when the closing checkpoint does not return in time', async () => {
    const db = openWalDatabase();
    const warnings: { msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line) as { msg: string }) });
    const sync = WalGroupSync.forDatabase(db, logger, { restartBytes: 64 * 1024, maxBytes: 1, maxPauseMs: 50 })!;
    const internals = sync as unknown as { checkpointer: WalCheckpointer; maybeCheckpoint(): void };
    const worker = internals.checkpointer;
    // A checkpoint that never returns, as on a disk that stalls.
    internals.checkpointer = { usable: true, running: false, checkpoint: () => new Promise(() => undefined), close: () => worker.close() } as unknown as WalCheckpointer;
    try {
      sync.commitWithoutSync(() => fill(db, 1));
      internals.maybeCheckpoint();
      expect(sync.writesPaused).toBe(true);
      let resumed = false;
      sync.whenWritable(() => (resumed = true));
      await until(() => resumed, 'commits to resume');
      expect(warnings.map((line) => line.msg)).toEqual(['closing WAL checkpoint still running, so commits go on']);
    } finally {
      await sync.close();
      db.close();
    }
  });
});

describe('WalCheckpointer', () => {
  it('copies every frame of an idle WAL', async () => {
    const db = openWalDatabase();
    db.pragma('wal_autocheckpoint = 0');
    const insert = db.prepare('INSERT INTO rows (text) VALUES (?)');
    db.transaction(() => {
      for (let index = 0; index < 2_000; index += 1) insert.run('x'.repeat(200));
    })();
    const checkpointer = new WalCheckpointer(join(directory, 'test.db'));
    try {
      const result = await checkpointer.checkpoint();
      expect(result.busy).toBe(0);
      expect(result.log).toBeGreaterThan(0);
      expect(result.checkpointed).toBe(result.log);
      await expect(Promise.all([checkpointer.checkpoint(), checkpointer.checkpoint()])).rejects.toThrow('already running');
    } finally {
      await checkpointer.close();
      db.close();
    }
  });

  it('rejects after it was closed', async () => {
    const db = openWalDatabase();
    const checkpointer = new WalCheckpointer(join(directory, 'test.db'));
    await checkpointer.close();
    expect(checkpointer.usable).toBe(false);
    await expect(checkpointer.checkpoint()).rejects.toThrow('closed');
    db.close();
  });
});

describe('ingest with the WAL flush off the thread', () => {
  let broker: EmbeddedBroker;
  let repository: SqliteClearingRepository;
  let service: IngestService;
  let transactions: TransactionIngestor;
  let terminal: MqttClient;
  const acks: TransactionAck[] = [];
  /** Acknowledgements as the service publishes them, before the broker delivers them. */
  const published: string[] = [];

  beforeEach(async () => {
    broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger: silent });
    repository = new SqliteClearingRepository({ path: join(directory, 'clearing.db') });
    transactions = new TransactionIngestor({
      repository,
      verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
      businessDay: BUSINESS_DAY,
      evidence: new EvidenceLedger(repository.database),
    });
    service = new IngestService({ brokerUrl: broker.url, repository, transactions, logger: silent, clientId: 'ingest-wal', database: repository.database });
    await service.start();
    published.length = 0;
    service.on('ack', (ack) => published.push(ack.batchId ?? ''));
    acks.length = 0;
    terminal = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'terminal-wal', clean: true });
    terminal.on('message', (_topic, payload) => acks.push(JSON.parse(payload.toString('utf8')) as TransactionAck));
    await terminal.subscribeAsync(topics.acks('T1'), { qos: 1 });
  });

  afterEach(async () => {
    flushes.hold = false;
    for (const callback of flushes.pending.splice(0)) callback(null);
    await terminal.endAsync();
    await service.stop();
    repository.close();
    await broker.close();
  });

  const storedCount = () => (repository.database.prepare("SELECT COUNT(*) AS count FROM transactions WHERE terminal_id = 'T1'").get() as { count: number }).count;
  const records = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => fakeRecord({ sequence: from + index, terminalId: 'T1' }));

  it('acknowledges only after the flush', async () => {
    flushes.hold = true;
    await terminal.publishAsync(topics.transactions('T1'), fakeBatch('T1', 'b1', records(1, 5)), { qos: 1 });
    await until(() => flushes.pending.length === 1, 'the flush of the commit');

    // The commit is visible to readers, and its acknowledgement waits for the flush.
    expect(storedCount()).toBe(5);
    expect(published).toEqual([]);
    flushes.pending.shift()!(null);
    expect(published).toEqual(['b1']);
    await until(() => acks.length === 1, 'the acknowledgement');
    expect(acks[0]!.batchId).toBe('b1');
    expect(acks[0]!.ackedThrough).toBe(5);
  });

  it('stores positions and statuses without an fsync of their own', async () => {
    // SQLite syncs a commit itself only under synchronous=FULL (2); NORMAL (1) leaves the WAL
    // to the next flush or checkpoint.
    const modes: Record<string, number> = {};
    const watch = <T extends unknown[], R>(name: string, store: (...args: T) => R) => (...args: T): R => {
      modes[name] = Number(repository.database.pragma('synchronous', { simple: true }));
      return store(...args);
    };
    repository.storePositions = watch('positions', repository.storePositions.bind(repository));
    repository.storeStatus = watch('status', repository.storeStatus.bind(repository));
    const positions = { schema: POSITION_BATCH_SCHEMA, terminalId: 'T1', vehicleId: 'BUS-1', fixes: [{ time: '2025-05-06T01:00:00Z', lat: 31.2, lon: 121.5 }] };
    await terminal.publishAsync(topics.positions('T1'), JSON.stringify(positions), { qos: 1 });
    await terminal.publishAsync(topics.status('T1'), JSON.stringify({ schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T1', state: 'online', at: '2025-05-06T01:00:00Z' }), { qos: 1 });
    await until(() => modes.positions !== undefined && modes.status !== undefined, 'both messages stored');

    expect(modes).toEqual({ positions: 1, status: 1 });
    expect(repository.database.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('holds commits and telemetry during a closing checkpoint', async () => {
    await service.stop();
    // Every WAL is past maxBytes, so the first commit starts a closing checkpoint, which the test
    // finishes by hand.
    service = new IngestService({ brokerUrl: broker.url, repository, transactions, logger: silent, clientId: 'ingest-wal', database: repository.database, walLimits: { restartBytes: 1, maxBytes: 1 } });
    await service.start();
    service.on('ack', (ack) => published.push(ack.batchId ?? ''));
    const walSync = (service as unknown as { walSync: WalGroupSync }).walSync;
    const internals = walSync as unknown as { checkpointer: WalCheckpointer };
    const worker = internals.checkpointer;
    let finish: (() => void) | undefined;
    internals.checkpointer = {
      usable: true,
      get running() {
        return finish !== undefined;
      },
      checkpoint: () => new Promise((resolve) => (finish = () => resolve({ busy: 0, log: 0, checkpointed: 0 }))),
      close: () => worker.close(),
    } as unknown as WalCheckpointer;

    await terminal.publishAsync(topics.transactions('T1'), fakeBatch('T1', 'b1', records(1, 5)), { qos: 1 });
    await until(() => acks.length === 1 && walSync.writesPaused, 'the first acknowledgement and the pause');
    const statuses: string[] = [];
    service.on('status', (status) => statuses.push(status.state));
    await terminal.publishAsync(topics.transactions('T1'), fakeBatch('T1', 'b2', records(6, 8)), { qos: 1 });
    await terminal.publishAsync(topics.status('T1'), JSON.stringify({ schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T1', state: 'online', at: '2025-05-06T01:00:00Z' }), { qos: 1 });
    await terminal.publishAsync(topics.status('T1'), JSON.stringify({ schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T1', state: 'offline', at: '2025-05-06T01:00:05Z' }), { qos: 1 });
    const shift = { schema: SHIFT_RECORD_SCHEMA, terminalId: 'T1', vehicleId: 'V1', shiftId: 'T1-20250506010000', driverId: '8123', route: '1', direction: 0, startedAt: '2025-05-06T01:00:00.000Z', endedAt: '2025-05-06T02:00:00.000Z', firstSequence: 1, lastSequence: 5, counters: { taps: 5, accepted: 5, refused: 0, inDoubt: 0, failed: 0, amountFen: 1000, byCardType: { ordinary: { taps: 5, amountFen: 1000 } } } };
    await terminal.publishAsync(topics.shifts('T1'), JSON.stringify(shift), { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(storedCount()).toBe(5);
    expect(statuses).toEqual([]);
    // A shift record does not wait: the terminal let it go at the broker's PUBACK.
    expect(repository.shiftReconciliations(10).map((item) => item.shiftId)).toEqual(['T1-20250506010000']);

    finish!();
    await until(() => acks.length === 2 && statuses.length === 2, 'the held batch and statuses');
    expect(storedCount()).toBe(8);
    expect(acks[1]!.ackedThrough).toBe(8);
    expect(statuses).toEqual(['online', 'offline']);
  });

  it('withholds every acknowledgement after a failed flush', async () => {
    flushes.hold = true;
    await terminal.publishAsync(topics.transactions('T1'), fakeBatch('T1', 'b1', records(1, 5)), { qos: 1 });
    await until(() => flushes.pending.length === 1, 'the flush of the commit');
    flushes.pending.shift()!(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    expect(published).toEqual([]);

    // A later flush that succeeds does not prove the failed one's pages reached the disk, so the
    // batch sent again is not acknowledged either. Only a restart, which replays the WAL, does that.
    await terminal.publishAsync(topics.transactions('T1'), fakeBatch('T1', 'b1-again', records(1, 5)), { qos: 1 });
    await until(() => flushes.pending.length === 1, 'the flush of the second commit');
    flushes.pending.shift()!(null);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(published).toEqual([]);
    expect(acks).toEqual([]);
    expect(storedCount()).toBe(5);
  });
});
