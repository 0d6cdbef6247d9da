import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LockRecord, topics } from '@busfare/shared-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteClearingRepository } from '../store/sqlite-clearing-repository.js';
import { LOCAL_ISSUER_PREFIX, fakeBatch, fakeRecord, testKeyStore } from '../testing/fake-terminal.js';
import { TacVerifier } from './tac-verifier.js';
import { TransactionIngestor } from './transaction-ingest.js';

function lockRecord(sequence: number, overrides: Partial<LockRecord['lock']> = {}): LockRecord {
  return {
    sequence,
    kind: 'lock',
    occurredAt: '2025-05-06T01:40:00.000Z',
    card: { application: 'tunion', asn: '99000001000000000077', issuerId: '99000001FFFFFFFF' },
    lock: { locked: true, psamTerminalNumber: '010203040506', ...overrides },
    trip: { vehicleId: 'BUS-1', route: '12' },
  };
}

let directory: string;
let repository: SqliteClearingRepository;
let ingestor: TransactionIngestor;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-lock-ingest-'));
  repository = new SqliteClearingRepository({ path: join(directory, 'clearing.db') });
  ingestor = new TransactionIngestor({
    repository,
    verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
    businessDay: { timezoneOffsetMinutes: 480, cutoff: '00:00' },
  });
});

afterEach(() => {
  repository.close();
  rmSync(directory, { recursive: true, force: true });
});

function ingest(terminalId: string, batchId: string, records: unknown[]) {
  const outcome = ingestor.ingest(topics.transactions(terminalId), fakeBatch(terminalId, batchId, records));
  if (outcome.kind !== 'batch') throw new Error(`batch refused: ${JSON.stringify(outcome)}`);
  return outcome.ack;
}

describe('lock record ingest', () => {
  it('stores a lock record apart from the transactions', () => {
    const ack = ingest('T-LOCK', 'l1', [fakeRecord({ terminalId: 'T-LOCK', sequence: 1 }), lockRecord(2), fakeRecord({ terminalId: 'T-LOCK', sequence: 3 })]);

    expect(ack.ackedThrough).toBe(3);
    expect(ack.stored).toBe(3);
    expect(ack.rejected).toEqual([]);
    expect(repository.findTransaction('T-LOCK', 2)).toBeUndefined();
    expect(repository.recentCardLocks(10)).toEqual([
      expect.objectContaining({ terminalId: 'T-LOCK', sequence: 2, asn: '99000001000000000077', locked: true, verification: 'not-applicable', businessDay: '2025-05-06', route: '12' }),
    ]);
  });

  it('keeps lock records out of the cleared ledger', () => {
    ingest('T-LEDGER', 'l1', [fakeRecord({ terminalId: 'T-LEDGER', sequence: 1 }), lockRecord(2)]);

    expect(repository.clearedLedger().map((row) => row.sequence)).toEqual([1]);
    expect(repository.summary().recordsCleared).toBe(1);
  });

  it('stores a resent lock record once', () => {
    ingest('T-AGAIN', 'l1', [lockRecord(1)]);
    const again = ingest('T-AGAIN', 'l1', [lockRecord(1)]);

    expect(again.stored).toBe(0);
    expect(again.duplicates).toBe(1);
    expect(again.ackedThrough).toBe(1);
    expect(repository.recentCardLocks(10)).toHaveLength(1);
  });

  it('keeps a failed lock with its reason', () => {
    ingest('T-FAILED', 'l1', [lockRecord(1, { locked: false, reason: 'APPLICATION BLOCK failed with SW 6988' })]);

    expect(repository.recentCardLocks(10)[0]).toMatchObject({ locked: false, reason: 'APPLICATION BLOCK failed with SW 6988' });
  });

  it('rejects an invalid lock record with the reason', () => {
    const invalid = { ...lockRecord(1), lock: { locked: 'yes', psamTerminalNumber: '010203040506' } };
    const ack = ingest('T-INVALID', 'l1', [invalid]);

    expect(ack.ackedThrough).toBe(1);
    expect(ack.rejected).toEqual([{ sequence: 1, reason: expect.stringMatching(/^invalid lock record: lock\.locked:/) }]);
    expect(repository.recentCardLocks(10)).toEqual([]);
  });

  it('rejects a lock record at a stored transaction sequence', () => {
    ingest('T-CLASH', 'c1', [fakeRecord({ terminalId: 'T-CLASH', sequence: 1 })]);
    const ack = ingest('T-CLASH', 'c2', [lockRecord(1)]);

    expect(ack.rejected).toEqual([{ sequence: 1, reason: 'sequence 1 is already stored with different content' }]);
    expect(repository.recentCardLocks(10)).toEqual([]);
  });

  it('rejects a transaction at a stored lock sequence', () => {
    ingest('T-CLASH2', 'c1', [lockRecord(1)]);
    const ack = ingest('T-CLASH2', 'c2', [fakeRecord({ terminalId: 'T-CLASH2', sequence: 1 })]);

    expect(ack.rejected).toEqual([{ sequence: 1, reason: 'sequence 1 is already stored with different content' }]);
    expect(repository.findTransaction('T-CLASH2', 1)).toBeUndefined();
  });
});
