import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSITION_BATCH_SCHEMA, TERMINAL_STATUS_SCHEMA, canonicalJson, topics } from '@busfare/shared-protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestPositions, ingestStatus } from '../ingest/telemetry-ingest.js';
import { fakeRecord } from '../testing/fake-terminal.js';
import type { AcceptedTransaction } from './clearing-repository.js';
import { MAX_MISSING_RANGES, REPEATED_REJECTION_WINDOW_MS, SqliteClearingRepository } from './sqlite-clearing-repository.js';

let directory: string;
let path: string;
let repository: SqliteClearingRepository;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-repository-'));
  path = join(directory, 'clearing.db');
  repository = new SqliteClearingRepository({ path });
});

afterEach(() => {
  repository.close();
  rmSync(directory, { recursive: true, force: true });
});

function accepted(sequence: number, overrides: Parameters<typeof fakeRecord>[0] | object = {}): AcceptedTransaction {
  const record = fakeRecord({ sequence, ...overrides });
  return { terminalId: 'T-1', record, verification: 'verified', businessDay: '2025-05-06', raw: canonicalJson(record) };
}

describe('SQLite clearing repository', () => {
  it('opens the file in WAL mode', () => {
    const probe = new Database(path, { readonly: true });
    try {
      expect(probe.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      probe.close();
    }
  });

  it('keeps a resent record with different content as a conflict', () => {
    repository.writeBatch('T-1', [accepted(1)], []);
    const result = repository.writeBatch('T-1', [accepted(1, { amountFen: 1 })], []);

    expect(result.stored).toBe(0);
    expect(result.duplicates).toBe(0);
    expect(result.conflicts).toEqual([{ sequence: 1, reason: 'sequence 1 is already stored with different content' }]);
    expect(repository.recentRejected(10)[0]?.topic).toBe(topics.transactions('T-1'));
    expect(repository.findTransaction('T-1', 1)?.amountFen).toBe(200);
  });

  it('advances progress over rejected sequences', () => {
    repository.writeBatch('T-1', [accepted(1), accepted(3)], [{ terminalId: 'T-1', topic: 't', sequence: 2, reason: 'bad', payload: '{}' }]);

    expect(repository.progress('T-1')).toEqual({ terminalId: 'T-1', contiguousThrough: 3, highestSeen: 3, missing: [] });
  });

  it('lists several missing ranges', () => {
    repository.writeBatch('T-1', [accepted(1), accepted(4), accepted(7)], []);

    expect(repository.progress('T-1').missing).toEqual([
      { from: 2, to: 3 },
      { from: 5, to: 6 },
    ]);
  });

  it('lists only the first missing ranges', () => {
    // Every other sequence: one missing range per stored record.
    const records = Array.from({ length: 5_000 }, (_, index) => accepted(2 * (index + 1)));
    repository.writeBatch('T-1', records, []);

    const { missing, highestSeen } = repository.progress('T-1');

    expect(highestSeen).toBe(10_000);
    expect(missing).toHaveLength(MAX_MISSING_RANGES);
    expect(missing[0]).toEqual({ from: 1, to: 1 });
    expect(missing.at(-1)).toEqual({ from: 2 * MAX_MISSING_RANGES - 1, to: 2 * MAX_MISSING_RANGES - 1 });
  });

  it('lists the open range up to the highest sequence', () => {
    repository.writeBatch('T-1', [accepted(1), accepted(4)], [{ terminalId: 'T-1', topic: 't', sequence: 9, reason: 'bad', payload: '{}' }]);

    expect(repository.progress('T-1').missing).toEqual([
      { from: 2, to: 3 },
      { from: 5, to: 8 },
    ]);
  });

  it('advances progress across more than one page of sequences', () => {
    const records = Array.from({ length: 2_500 }, (_, index) => accepted(index + 1));
    repository.writeBatch('T-1', records, []);

    expect(repository.progress('T-1').contiguousThrough).toBe(2_500);
  });

  it('advances progress over sequences stored before a gap closed', () => {
    repository.writeBatch('T-1', Array.from({ length: 2_499 }, (_, index) => accepted(index + 2)), []);
    expect(repository.progress('T-1').contiguousThrough).toBe(0);

    repository.writeBatch('T-1', [accepted(1)], []);

    expect(repository.progress('T-1').contiguousThrough).toBe(2_500);
  });

  it('stores every row of a batch longer than one multi-row insert', () => {
    const result = repository.writeBatch('T-1', Array.from({ length: 70 }, (_, index) => accepted(index + 1, { amountFen: index + 1 })), []);

    expect(result.stored).toBe(70);
    expect(result.storedSequences).toEqual(Array.from({ length: 70 }, (_, index) => index + 1));
    expect([1, 32, 33, 64, 65, 70].map((sequence) => repository.findTransaction('T-1', sequence)?.amountFen)).toEqual([1, 32, 33, 64, 65, 70]);
    expect(repository.summary()).toMatchObject({ recordsCleared: 70, clearedAmountFen: (70 * 71) / 2 });
  });

  it('stores packed bytes as text', () => {
    const packed = (sequence: number, route: string): AcceptedTransaction => {
      const item = accepted(sequence);
      const raw = canonicalJson({ ...item.record, trip: { ...item.record.trip, route } });
      return { ...item, raw, rawBytes: Buffer.from(raw) };
    };
    // 40 new records take the multi-row insert. A batch that reaches back to a stored record takes the record-by-record path.
    const fresh = Array.from({ length: 40 }, (_, index) => packed(index + 1, index === 0 ? '游1路' : String(index)));
    repository.writeBatch('T-1', fresh, []);
    const resent = [packed(40, '39'), packed(41, '夜班𠀀3')];
    expect(repository.writeBatch('T-1', resent, [])).toMatchObject({ stored: 1, duplicates: 1, conflicts: [] });

    const db = new Database(path, { readonly: true });
    const rows = db
      .prepare<[], { sequence: number; type: string; valid: number; raw: string }>(
        "SELECT sequence, typeof(raw_json) AS type, json_valid(raw_json) AS valid, raw_json AS raw FROM transactions WHERE terminal_id = 'T-1' ORDER BY sequence",
      )
      .all();
    db.close();
    expect(rows).toHaveLength(41);
    expect(rows.every((row) => row.type === 'text' && row.valid === 1)).toBe(true);
    expect(rows.map((row) => row.raw)).toEqual([...fresh, resent[1]!].map((item) => item.raw));
  });

  it('counts a stored record inside a batch as duplicate', () => {
    repository.writeBatch('T-1', [accepted(5)], []);
    const result = repository.writeBatch('T-1', Array.from({ length: 10 }, (_, index) => accepted(index + 1)), []);

    expect(result).toMatchObject({ stored: 9, duplicates: 1, conflicts: [] });
    expect(result.storedSequences).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect(repository.progress('T-1').contiguousThrough).toBe(10);
  });

  it('stores a sequence repeated within one batch once', () => {
    const result = repository.writeBatch('T-1', [accepted(1), accepted(2), accepted(2), accepted(3)], []);

    expect(result).toMatchObject({ stored: 3, duplicates: 1, storedSequences: [1, 2, 3] });
  });

  it('keeps a changed copy within one batch as a conflict', () => {
    const result = repository.writeBatch('T-1', [accepted(1), accepted(2), accepted(2, { amountFen: 1 })], []);

    expect(result.stored).toBe(2);
    expect(result.conflicts).toEqual([{ sequence: 2, reason: 'sequence 2 is already stored with different content' }]);
    expect(repository.findTransaction('T-1', 2)?.amountFen).toBe(200);
  });

  it('keeps progress after reopening the file', () => {
    repository.writeBatch('T-1', [accepted(1), accepted(2)], []);
    repository.close();
    repository = new SqliteClearingRepository({ path });

    expect(repository.progress('T-1').contiguousThrough).toBe(2);
    expect(repository.summary().recordsCleared).toBe(2);
  });

  it('counts a not-debited resolution as neither cleared nor open', () => {
    const inDoubt = { ...accepted(1, { kind: 'in-doubt' }), verification: 'not-applicable' as const };
    const resolution = { ...accepted(2, { kind: 'resolution', resolvesSequence: 1, outcome: 'not-debited' }), verification: 'not-applicable' as const };
    repository.writeBatch('T-1', [inDoubt, resolution], []);

    const summary = repository.summary();
    expect(summary.recordsCleared).toBe(0);
    expect(summary.clearedAmountFen).toBe(0);
    expect(summary.inDoubtOpen).toBe(0);
  });

  it('stores positions and ignores a repeated fix', () => {
    const payload = JSON.stringify({
      schema: POSITION_BATCH_SCHEMA,
      terminalId: 'T-1',
      vehicleId: 'BUS-1',
      fixes: [{ time: '2025-05-06T01:00:00Z', lat: 31.2, lon: 121.5, route: '12' }],
    });

    expect(ingestPositions(repository, topics.positions('T-1'), payload)).toEqual({ kind: 'stored', terminalId: 'T-1', count: 1 });
    expect(ingestPositions(repository, topics.positions('T-1'), payload)).toEqual({ kind: 'stored', terminalId: 'T-1', count: 0 });
  });

  it('rejects an invalid position batch with the reason', () => {
    const payload = JSON.stringify({ schema: POSITION_BATCH_SCHEMA, terminalId: 'T-1', vehicleId: 'BUS-1', fixes: [{ time: 'now', lat: 91, lon: 0 }] });

    const outcome = ingestPositions(repository, topics.positions('T-1'), payload);

    expect(outcome.kind).toBe('payload-rejected');
    expect(repository.recentRejected(1)[0]?.reason).toMatch(/^invalid position batch: fixes\.0\.time: .*; fixes\.0\.lat: /);
  });

  it('keeps the last will after a later heartbeat', () => {
    const status = (at: string, state: 'online' | 'offline') => JSON.stringify({ schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T-1', state, at });
    ingestStatus(repository, topics.status('T-1'), status('2025-05-06T02:00:00Z', 'online'));
    // A last will carries the time the terminal's uplink started, before its heartbeats.
    ingestStatus(repository, topics.status('T-1'), status('2025-05-06T01:00:00Z', 'offline'));

    expect(repository.latestStatuses().map((item) => item.state)).toEqual(['offline']);
  });

  it('keeps the heartbeat counters with the last will', () => {
    const online = { schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T-1', state: 'online', at: '2025-05-06T02:00:00Z', backlog: 4, lastSequence: 12, softwareVersion: '0.2.0' };
    const will = { schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T-1', state: 'offline', at: '2025-05-06T01:00:00Z', softwareVersion: '0.2.0' };
    ingestStatus(repository, topics.status('T-1'), JSON.stringify(online));
    ingestStatus(repository, topics.status('T-1'), JSON.stringify(will));

    const [stored] = repository.latestStatuses();

    expect(stored?.state).toBe('offline');
    expect(stored?.at).toBe('2025-05-06T02:00:00Z');
    expect(stored?.backlog).toBe(4);
    expect(stored?.lastSequence).toBe(12);
  });

  it('keeps the time of a shutdown after the heartbeat', () => {
    const status = (state: 'online' | 'offline', at: string) => JSON.stringify({ schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T-1', state, at });
    ingestStatus(repository, topics.status('T-1'), status('online', '2025-05-06T10:00:00+08:00'));
    // 02:30Z is later than 10:00+08:00 (02:00Z), though it sorts first as text.
    ingestStatus(repository, topics.status('T-1'), status('offline', '2025-05-06T02:30:00Z'));

    expect(repository.latestStatuses()[0]?.at).toBe('2025-05-06T02:30:00Z');
  });

  it('drops versions and alerts with the last will', () => {
    const online = { schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T-1', state: 'online', at: '2025-05-06T02:00:00Z', parameters: { active: { routes: 1 }, pending: {} }, alerts: [{ id: 'a', severity: 'warning', messageId: 'alert.storage-low' }] };
    const will = { schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T-1', state: 'offline', at: '2025-05-06T01:00:00Z' };
    ingestStatus(repository, topics.status('T-1'), JSON.stringify(online));
    ingestStatus(repository, topics.status('T-1'), JSON.stringify(will));

    const [stored] = repository.latestStatuses();

    expect(stored?.parameters).toBeUndefined();
    expect(stored?.alerts).toBeUndefined();
  });

  it('drops old counters with the next heartbeat', () => {
    const status = (state: 'online' | 'offline', extra: object) => JSON.stringify({ schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T-1', state, at: '2025-05-06T02:00:00Z', ...extra });
    ingestStatus(repository, topics.status('T-1'), status('online', { backlog: 4, alerts: [{ id: 'a', severity: 'warning', messageId: 'alert.storage-low' }] }));
    ingestStatus(repository, topics.status('T-1'), status('online', {}));

    const [stored] = repository.latestStatuses();

    expect(stored?.backlog).toBeUndefined();
    expect(stored?.alerts).toBeUndefined();
  });

  it('replaces a status dated in the future', () => {
    const status = (at: string, lastSequence: number) => JSON.stringify({ schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T-1', state: 'online', at, lastSequence });
    ingestStatus(repository, topics.status('T-1'), status('2099-01-01T00:00:00Z', 4));
    ingestStatus(repository, topics.status('T-1'), status('2025-05-06T02:00:00Z', 9));

    expect(repository.latestStatuses().map((item) => item.lastSequence)).toEqual([9]);
  });

  it('rejects a status whose terminal id differs from the topic', () => {
    const payload = JSON.stringify({ schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T-2', state: 'online', at: '2025-05-06T02:00:00Z' });

    const outcome = ingestStatus(repository, topics.status('T-1'), payload);

    expect(outcome).toEqual({ kind: 'payload-rejected', terminalId: 'T-1', reason: 'terminal id "T-2" in the payload does not match "T-1" in the topic' });
    expect(repository.latestStatuses()).toEqual([]);
  });

  it('rejects invalid JSON on the status topic', () => {
    expect(ingestStatus(repository, topics.status('T-1'), 'online').kind).toBe('payload-rejected');
  });
});

describe('payloads rejected again and again', () => {
  let clock: Date;
  let clocked: SqliteClearingRepository;
  const topic = topics.transactions('T-9');
  const rejection = (batchId: string, reason = 'unknown batch schema busfare.tx-batch/9') => ({ terminalId: 'T-9', topic, sequence: null, reason, payload: `{"batchId":"${batchId}"}` });
  const storedPayloads = () => clocked.database.prepare<[], string>("SELECT payload FROM rejected WHERE terminal_id = 'T-9' ORDER BY id").pluck().all();

  beforeEach(() => {
    clock = new Date('2025-05-06T02:00:00Z');
    clocked = new SqliteClearingRepository({ path: join(directory, 'clocked.db'), now: () => clock });
  });

  afterEach(() => {
    clocked.close();
  });

  it('keeps one payload per reason while a terminal re-sends it', () => {
    expect(clocked.addRejected(rejection('b1'))).toBe(true);
    // Each re-send carries a new batch id and send time, so its text differs.
    for (let attempt = 2; attempt <= 360; attempt += 1) {
      clock = new Date(clock.getTime() + 10_000);
      expect(clocked.addRejected(rejection(`b${attempt}`))).toBe(false);
    }
    expect(storedPayloads()).toEqual(['{"batchId":"b1"}']);
  });

  it('stores a payload rejected for another reason', () => {
    clocked.addRejected(rejection('b1'));
    expect(clocked.addRejected(rejection('b2', 'invalid JSON: Unexpected end of JSON input'))).toBe(true);
    expect(storedPayloads()).toHaveLength(2);
  });

  it('stores the payload again once the window has passed', () => {
    clocked.addRejected(rejection('b1'));
    clock = new Date(clock.getTime() + REPEATED_REJECTION_WINDOW_MS + 1_000);
    expect(clocked.addRejected(rejection('b2'))).toBe(true);
    expect(storedPayloads()).toEqual(['{"batchId":"b1"}', '{"batchId":"b2"}']);
  });

  it('still stores every rejected record of a batch', () => {
    clocked.addRejected(rejection('b1'));
    const result = clocked.writeBatch('T-9', [], [
      { terminalId: 'T-9', topic, sequence: 1, reason: 'unknown batch schema busfare.tx-batch/9', payload: '{"sequence":1}' },
      { terminalId: 'T-9', topic, sequence: 2, reason: 'unknown batch schema busfare.tx-batch/9', payload: '{"sequence":2}' },
    ]);
    expect(result.rejectedStored).toBe(2);
  });
});
