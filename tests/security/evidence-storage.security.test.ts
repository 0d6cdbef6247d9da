import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { topics, type TransactionRecord } from '@busfare/shared-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AcceptedTransaction, type BatchWriteResult, type RejectedInput, SqliteClearingRepository, TacVerifier, TransactionIngestor } from '@busfare/backoffice';
import { EvidenceLedger } from '../../backoffice/src/security/evidence-ledger.js';
import { LOCAL_ISSUER_PREFIX, testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';
import { batchPayload, movedTo, recordWithEvidence } from './security-records.js';

const PSAM_A = '000000000101';
const PSAM_F = '000000000909';

/** A repository whose batch write fails for terminal TF, as a full disk or an I/O error would. */
class FailingRepository extends SqliteClearingRepository {
  override writeBatch(terminalId: string, accepted: readonly AcceptedTransaction[], rejected: readonly RejectedInput[]): BatchWriteResult {
    if (terminalId === 'TF') throw new Error('disk I/O error');
    return super.writeBatch(terminalId, accepted, rejected);
  }
}

let directory: string;
let path: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-evidence-storage-'));
  path = join(directory, 'clearing.db');
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function ingestorOf(repository: SqliteClearingRepository): TransactionIngestor {
  return new TransactionIngestor({
    repository,
    verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
    businessDay: { timezoneOffsetMinutes: 480, cutoff: '00:00' },
    evidence: new EvidenceLedger(repository.database),
  });
}

function message(terminalId: string, batchId: string, records: readonly TransactionRecord[]) {
  return { topic: topics.transactions(terminalId), payload: batchPayload(terminalId, batchId, records) };
}

function claimCount(repository: SqliteClearingRepository): number {
  return repository.database.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM card_claims').get()!.count;
}

describe('evidence claims in the batch transaction', () => {
  it('rolls back claims of a failed batch', () => {
    const repository = new FailingRepository({ path });
    try {
      const ingestor = ingestorOf(repository);
      const results = ingestor.ingestMany([message('TA', 'a1', [recordWithEvidence({ sequence: 1, psam: PSAM_A })]), message('TF', 'f1', [recordWithEvidence({ sequence: 1, psam: PSAM_F })])]);

      expect(results[0]).toMatchObject({ outcome: { kind: 'batch', ack: { stored: 1 } } });
      expect(results[1]).toMatchObject({ error: expect.objectContaining({ message: 'disk I/O error' }) });
      // Each record claims two keys. Only TA's record keeps them, and TF's PSAM stays unbound.
      expect(claimCount(repository)).toBe(2);
      expect(new EvidenceLedger(repository.database).psamBinding(PSAM_F)).toBeUndefined();
      expect(repository.findTransaction('TA', 1)?.verification).toBe('verified');
    } finally {
      repository.close();
    }
  });

  it('keeps fixed-size binary keys', () => {
    const repository = new SqliteClearingRepository({ path });
    try {
      ingestorOf(repository).ingest(topics.transactions('TA'), batchPayload('TA', 'a1', [recordWithEvidence({ sequence: 1, psam: PSAM_A })]));
      const lengths = repository.database.prepare<[], number>('SELECT length(claim_key) FROM card_claims ORDER BY 1').pluck().all();
      expect(lengths).toEqual([14, 33]);
    } finally {
      repository.close();
    }
  });
});

describe('claims of an older database', () => {
  function writeTextClaims(keys: readonly string[]): void {
    const db = new Database(path);
    db.exec('CREATE TABLE card_evidence (evidence_key TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, sequence INTEGER NOT NULL) WITHOUT ROWID');
    const insert = db.prepare('INSERT INTO card_evidence VALUES (?, ?, ?)');
    for (const key of keys) insert.run(key, 'TA', 1);
    db.close();
  }

  it('moves text claims to the binary table and still rejects their replay', () => {
    const genuine = recordWithEvidence({ sequence: 1, psam: PSAM_A });
    const { asn } = genuine.card;
    const { cardCounter, terminalSerial, cardDateTime, tac } = genuine.debit;
    writeTextClaims([`counter:${asn}:${cardCounter}`, `tac:${asn}:${PSAM_A}:${terminalSerial}:${cardDateTime}:${tac}`]);

    const repository = new SqliteClearingRepository({ path });
    try {
      const ingestor = ingestorOf(repository);
      const tables = repository.database.prepare<[], string>("SELECT name FROM sqlite_master WHERE name = 'card_evidence'").pluck().all();
      expect(tables).toEqual([]);
      expect(claimCount(repository)).toBe(2);

      const outcome = ingestor.ingest(topics.transactions('TA'), batchPayload('TA', 'a2', [movedTo(genuine, 2)]));
      expect(outcome.kind).toBe('batch');
      expect(outcome.kind === 'batch' ? outcome.ack.rejected[0]?.reason : undefined).toMatch(/replayed card evidence: card 990000\*{10}\d{4} counter 1 was already accepted as terminal TA sequence 1/);
      const resend = ingestor.ingest(topics.transactions('TA'), batchPayload('TA', 'a1', [genuine]));
      expect(resend.kind).toBe('batch');
      expect(resend.kind === 'batch' ? resend.ack.rejected : undefined).toEqual([]);
    } finally {
      repository.close();
    }
  });

  it('rejects an unreadable text claim', () => {
    writeTextClaims(['counter:not-a-card']);
    const repository = new SqliteClearingRepository({ path });
    try {
      expect(() => new EvidenceLedger(repository.database)).toThrow(/unreadable card evidence key "counter:not-a-card"/);
    } finally {
      repository.close();
    }
  });
});
