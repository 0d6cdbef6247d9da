import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics, type TransactionAck, type TransactionRecord } from '@busfare/shared-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteClearingRepository, TacVerifier, TransactionIngestor, type BatchOutcome } from '@busfare/backoffice';
import { EvidenceLedger } from '../../backoffice/src/security/evidence-ledger.js';
import { LOCAL_ISSUER_PREFIX, testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';
import { batchPayload, movedTo, recordWithEvidence, tacOf } from './security-records.js';

const PSAM_A = '000000000101';
const PSAM_B = '000000000202';

let directory: string;
let repository: SqliteClearingRepository;
let ledger: EvidenceLedger;
let ingestor: TransactionIngestor;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-replay-security-'));
  const path = join(directory, 'clearing.db');
  repository = new SqliteClearingRepository({ path });
  ledger = new EvidenceLedger(repository.database);
  ingestor = new TransactionIngestor({
    repository,
    verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
    businessDay: { timezoneOffsetMinutes: 480, cutoff: '00:00' },
    evidence: ledger,
  });
});

afterEach(() => {
  ledger.close();
  repository.close();
  rmSync(directory, { recursive: true, force: true });
});

function send(terminalId: string, batchId: string, records: readonly TransactionRecord[]): TransactionAck {
  const outcome = ingestor.ingest(topics.transactions(terminalId), batchPayload(terminalId, batchId, records));
  expect(outcome.kind).toBe('batch');
  return (outcome as BatchOutcome).ack;
}

function reasonFor(ack: TransactionAck, sequence: number): string | undefined {
  return ack.rejected.find((item) => item.sequence === sequence)?.reason;
}

describe('replay detection across batches and terminals', () => {
  it('stores a replayed batch once', () => {
    const records = [1, 2, 3].map((sequence) => recordWithEvidence({ sequence, psam: PSAM_A }));
    const first = send('TA', 'a1', records);
    const second = send('TA', 'a1', records);

    expect(first.stored).toBe(3);
    expect(second.stored).toBe(0);
    expect(second.duplicates).toBe(3);
    expect(second.rejected).toEqual([]);
    expect(second.ackedThrough).toBe(3);
  });

  it('rejects a record moved to another terminal', () => {
    const genuine = recordWithEvidence({ sequence: 1, psam: PSAM_A });
    send('TA', 'a1', [genuine]);
    send('TB', 'b1', [recordWithEvidence({ sequence: 1, psam: PSAM_B })]);

    const ack = send('TB', 'b2', [movedTo(genuine, 2), recordWithEvidence({ sequence: 3, psam: PSAM_B })]);

    expect(reasonFor(ack, 2)).toMatch(/PSAM terminal number 000000000101 belongs to terminal TA, not TB/);
    expect(ack.stored).toBe(1);
    expect(ack.ackedThrough).toBe(3);
    expect(repository.findTransaction('TB', 2)).toBeUndefined();
    expect(repository.findTransaction('TA', 1)?.verification).toBe('verified');
    expect(repository.recentRejected(10).some((row) => row.terminalId === 'TB' && row.sequence === 2)).toBe(true);
  });

  it('rejects the same debit under a new sequence', () => {
    const genuine = recordWithEvidence({ sequence: 1, psam: PSAM_A });
    send('TA', 'a1', [genuine]);

    const ack = send('TA', 'a2', [movedTo(genuine, 2)]);

    expect(reasonFor(ack, 2)).toMatch(/replayed card evidence: card 990000\*{10}\d{4} counter 1 was already accepted as terminal TA sequence 1/);
    expect(reasonFor(ack, 2)).not.toContain(genuine.card.asn);
    expect(ack.stored).toBe(0);
    expect(ack.ackedThrough).toBe(2);
  });

  it('rejects a copy with an edited card counter', () => {
    const genuine = recordWithEvidence({ sequence: 1, psam: PSAM_A });
    send('TA', 'a1', [genuine]);
    const edited = movedTo(genuine, 2);
    edited.debit.cardCounter += 1;

    const ack = send('TA', 'a2', [edited]);

    // The TAC does not cover the card counter, so the copy still verifies and only the TAC-field key catches it.
    expect(tacOf(edited)).toBe(edited.debit.tac);
    expect(reasonFor(ack, 2)).toMatch(/replayed card evidence: the TAC of card 990000\*{10}\d{4} with PSAM 000000000101 serial 50001/);
  });

  it('rejects a duplicate within one batch', () => {
    const genuine = recordWithEvidence({ sequence: 1, psam: PSAM_A });
    const ack = send('TA', 'a1', [genuine, movedTo(genuine, 2)]);

    expect(ack.stored).toBe(1);
    expect(reasonFor(ack, 2)).toMatch(/already accepted as terminal TA sequence 1/);
  });

  it('rejects one replay in a large batch', () => {
    const genuine = recordWithEvidence({ sequence: 1, psam: PSAM_A });
    send('TA', 'a1', [genuine]);
    // 130 records fill two multi-row claim inserts of 64 and leave two for single-row inserts.
    const records = Array.from({ length: 130 }, (_, index) => recordWithEvidence({ sequence: index + 2, psam: PSAM_A }));
    records[100] = movedTo(genuine, 102);

    const ack = send('TA', 'a2', records);
    const claims = repository.database.prepare<[], number>('SELECT COUNT(*) FROM card_claims').pluck().get();

    expect(ack.stored).toBe(129);
    expect(ack.rejected.map((item) => item.sequence)).toEqual([102]);
    expect(reasonFor(ack, 102)).toMatch(/already accepted as terminal TA sequence 1/);
    expect(ack.ackedThrough).toBe(131);
    expect(claims).toBe(2 * 130);
  });

  it('claims every record of a large fresh batch', () => {
    const records = Array.from({ length: 130 }, (_, index) => recordWithEvidence({ sequence: index + 1, psam: PSAM_A }));

    const ack = send('TA', 'a1', records);
    const claims = repository.database.prepare<[], number>('SELECT COUNT(*) FROM card_claims').pluck().get();
    const again = send('TB', 'b1', [movedTo(records[129]!, 1)]);

    expect(ack.stored).toBe(130);
    expect(claims).toBe(2 * 130);
    expect(ledger.psamBinding(PSAM_A)?.terminalId).toBe('TA');
    expect(reasonFor(again, 1)).toMatch(/PSAM terminal number 000000000101 belongs to terminal TA/);
  });

  it('rejects a replay after rebinding', () => {
    const genuine = recordWithEvidence({ sequence: 1, psam: PSAM_A });
    send('TA', 'a1', [genuine]);
    ledger.bindPsam(PSAM_A, 'TC');

    const ack = send('TC', 'c1', [movedTo(genuine, 1)]);

    expect(reasonFor(ack, 1)).toMatch(/replayed card evidence: card 990000\*{10}\d{4} counter 1 was already accepted as terminal TA sequence 1/);
  });

  it('accepts a settled in-doubt debit', () => {
    const inDoubt = recordWithEvidence({ sequence: 1, psam: PSAM_A, kind: 'in-doubt' });
    const resolution = recordWithEvidence({ sequence: 2, psam: PSAM_A, kind: 'resolution', resolvesSequence: 1, outcome: 'debited', asn: inDoubt.card.asn, cardCounter: 1, terminalSerial: inDoubt.debit.terminalSerial });
    resolution.debit.cardDateTime = inDoubt.debit.cardDateTime;
    resolution.debit.tac = tacOf(resolution);

    const ack = send('TA', 'a1', [inDoubt, resolution]);

    expect(ack.rejected).toEqual([]);
    expect(ack.stored).toBe(2);
  });

  it('keeps evidence free after a forged TAC', () => {
    const genuine = recordWithEvidence({ sequence: 1, psam: PSAM_A });
    const forged = { ...structuredClone(genuine), debit: { ...genuine.debit, tac: 'DEADBEEF' } };

    const forgedAck = send('TX', 'x1', [forged]);
    const genuineAck = send('TA', 'a1', [genuine]);

    expect(reasonFor(forgedAck, 1)).toMatch(/TAC does not match/);
    expect(ledger.psamBinding(PSAM_A)?.terminalId).toBe('TA');
    expect(genuineAck.stored).toBe(1);
    expect(genuineAck.rejected).toEqual([]);
  });

  it('admits a PSAM that an operator rebinds', () => {
    send('TA', 'a1', [recordWithEvidence({ sequence: 1, psam: PSAM_A })]);
    ledger.bindPsam(PSAM_A, 'TD');

    const moved = send('TD', 'd1', [recordWithEvidence({ sequence: 1, psam: PSAM_A, asn: '99000001777777000001' })]);
    const resent = send('TA', 'a1', [recordWithEvidence({ sequence: 1, psam: PSAM_A })]);

    expect(moved.stored).toBe(1);
    expect(ledger.psamBinding(PSAM_A)).toMatchObject({ terminalId: 'TD', source: 'operator' });
    expect(resent.duplicates).toBe(1);
    expect(resent.rejected).toEqual([]);
  });

  it('rejects an invalid PSAM number to bind', () => {
    expect(() => ledger.bindPsam('0102', 'TA')).toThrow(/invalid PSAM terminal number "0102"/);
  });
});
