import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TransactionAck, type TransactionRecord, topics } from '@busfare/shared-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EvidenceLedger } from '../security/evidence-ledger.js';
import { SqliteClearingRepository } from '../store/sqlite-clearing-repository.js';
import { LOCAL_ISSUER_PREFIX, fakeBatch, fakeRecord, testKeyStore } from '../testing/fake-terminal.js';
import { TacVerifier } from './tac-verifier.js';
import { type GroupedIngestResult, TransactionIngestor } from './transaction-ingest.js';

const TERMINAL = 'T-GRP';
const TOPIC = topics.transactions(TERMINAL);

let directory: string;
let repository: SqliteClearingRepository;
let ledger: EvidenceLedger;
let ingestor: TransactionIngestor;

/** Opens the clearing database in `directory`, as the back office does at start. */
function open(): void {
  repository = new SqliteClearingRepository({ path: join(directory, 'clearing.db') });
  ledger = new EvidenceLedger(repository.database);
  ingestor = new TransactionIngestor({
    repository,
    verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
    businessDay: { timezoneOffsetMinutes: 480, cutoff: '04:00' },
    evidence: ledger,
  });
}

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-group-ingest-'));
  open();
});

afterEach(() => {
  repository.close();
  rmSync(directory, { recursive: true, force: true });
});

function records(...sequences: number[]): TransactionRecord[] {
  return sequences.map((sequence) => fakeRecord({ terminalId: TERMINAL, sequence }));
}

function payload(batchId: string, items: readonly TransactionRecord[]) {
  return { topic: TOPIC, payload: fakeBatch(TERMINAL, batchId, [...items]) };
}

function acksOf(results: readonly GroupedIngestResult[]): TransactionAck[] {
  return results.map((result) => {
    if (!('outcome' in result) || result.outcome.kind !== 'batch') throw new Error(`expected a batch outcome, got ${JSON.stringify(result)}`);
    return result.outcome.ack;
  });
}

function storedCount(): number {
  return repository.database.prepare<[string], number>('SELECT COUNT(*) FROM transactions WHERE terminal_id = ?').pluck().get(TERMINAL) ?? 0;
}

describe('grouped ingest of one terminal', () => {
  it('stores a batch delivered three times once', () => {
    const batch = payload('b1', records(1, 2, 3));

    const acks = acksOf(ingestor.ingestMany([batch, batch, batch]));

    expect(acks.map((ack) => ack.stored)).toEqual([3, 0, 0]);
    expect(acks.map((ack) => ack.duplicates)).toEqual([0, 3, 3]);
    expect(acks.map((ack) => ack.ackedThrough)).toEqual([3, 3, 3]);
    expect(acks.flatMap((ack) => ack.rejected)).toEqual([]);
    expect(storedCount()).toBe(3);
  });

  it('keeps an overlapping changed record as a conflict', () => {
    const changed = fakeRecord({ terminalId: TERMINAL, sequence: 3 });
    changed.trip.route = '99';

    const acks = acksOf(ingestor.ingestMany([payload('b1', records(1, 2, 3)), payload('b2', [changed, ...records(4)])]));

    expect(acks[1]?.stored).toBe(1);
    expect(acks[1]?.rejected).toEqual([{ sequence: 3, reason: 'sequence 3 is already stored with different content' }]);
    expect(acks[1]?.ackedThrough).toBe(4);
    expect(repository.findTransaction(TERMINAL, 3)?.route).toBe('12');
  });

  it('closes a gap filled later in the group', () => {
    const acks = acksOf(ingestor.ingestMany([payload('b2', records(4, 5)), payload('b1', records(1, 2, 3))]));

    expect(acks[0]?.ackedThrough).toBe(0);
    expect(acks[0]?.missing).toEqual([{ from: 1, to: 3 }]);
    expect(acks[1]?.ackedThrough).toBe(5);
    expect(acks[1]?.missing).toBeUndefined();
  });

  it('stores a resent group after a restart', () => {
    const group = [payload('b1', records(1, 2)), payload('b2', records(3, 4))];
    ingestor.ingestMany(group);
    repository.close();
    open();

    const acks = acksOf(ingestor.ingestMany([...group, payload('b3', records(5))]));

    expect(acks.map((ack) => ack.duplicates)).toEqual([2, 2, 0]);
    expect(acks.map((ack) => ack.ackedThrough)).toEqual([4, 4, 5]);
    expect(acks.flatMap((ack) => ack.rejected)).toEqual([]);
    expect(storedCount()).toBe(5);
  });

  it('rejects the same debit under two sequences in one group', () => {
    const original = fakeRecord({ terminalId: TERMINAL, sequence: 1 });
    const copy = { ...original, sequence: 2 };

    const acks = acksOf(ingestor.ingestMany([payload('b1', [original]), payload('b2', [copy])]));

    expect(acks[0]?.stored).toBe(1);
    expect(acks[1]?.stored).toBe(0);
    expect(acks[1]?.rejected[0]?.reason).toMatch(/^replayed card evidence/);
    expect(acks[1]?.ackedThrough).toBe(2);
  });
});
