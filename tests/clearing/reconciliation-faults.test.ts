import { afterEach, describe, expect, it } from 'vitest';
import type { TransactionRecord } from '@busfare/shared-protocol';
import { type ClearingFixture, openClearingFixture, shiftFor } from '../../backoffice/src/testing/clearing-fixture.js';
import { fakeRecord } from '../../backoffice/src/testing/fake-terminal.js';

const onDay6 = (minutes: number) => new Date(Date.UTC(2025, 4, 6, 1, minutes));
const DAY = '2025-05-06';

/** Purchases of one terminal, each by its own card, a minute apart. */
function purchases(terminal: 'T1' | 'T2', from: number, to: number): TransactionRecord[] {
  const records: TransactionRecord[] = [];
  for (let sequence = from; sequence <= to; sequence += 1) {
    const cardBase = terminal === 'T1' ? 1000 : 2000;
    records.push(fakeRecord({ sequence, occurredAt: onDay6(terminal === 'T1' ? sequence : 30 + sequence), asn: `99000001${String(cardBase + sequence).padStart(12, '0')}` }));
  }
  return records;
}

const shiftTimes = (first: number, last: number, offset: number) => [onDay6(offset + first).toISOString(), onDay6(offset + last + 1).toISOString()] as const;

describe('reconciliation of a day with injected faults', () => {
  let fixture: ClearingFixture;
  afterEach(() => fixture?.close());

  it('lists a clean day with no findings', () => {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    const t1 = purchases('T1', 1, 10);
    fixture.ingest('T1', 'b1', t1.slice(0, 5));
    fixture.ingest('T1', 'b2', t1.slice(5));
    fixture.centre.recordShift(shiftFor('T1', 'D01', t1, ...shiftTimes(1, 10, 0)));
    const report = fixture.centre.reconcile(DAY);
    expect(report.findings).toEqual([]);
    expect(report.checked).toEqual({ records: 10, rejected: 0, terminals: 1, shifts: 1, cards: 10 });
  });

  it('lists exactly the missing, duplicated, tampered and shift faults', () => {
    // Batches arrive during the day (18:00 local); a redelivery is listed on the day it arrives.
    fixture = openClearingFixture('2025-05-06T10:00:00Z');
    const t1 = purchases('T1', 1, 15);
    fixture.ingest('T1', 'T1-b1', t1.slice(0, 5));
    // Fault 1: batch T1-b2 (sequences 6-10) never arrives.
    fixture.ingest('T1', 'T1-b3', t1.slice(10));
    fixture.centre.recordShift(shiftFor('T1', 'D01', t1, ...shiftTimes(1, 15, 0)));

    const t2 = purchases('T2', 1, 10);
    const honestT2 = structuredClone(t2);
    // Fault 3: sequence 3 is altered after the card computed its TAC.
    (t2[2] as TransactionRecord).debit.amountFen = 20;
    fixture.ingest('T2', 'T2-b1', t2.slice(0, 5));
    // Fault 2: batch T2-b1 is delivered a second time.
    fixture.ingest('T2', 'T2-b1', t2.slice(0, 5));
    fixture.ingest('T2', 'T2-b2', t2.slice(5));
    fixture.centre.recordShift(shiftFor('T2', 'D02', honestT2.slice(0, 5), ...shiftTimes(1, 5, 30)));
    // Fault 4: the second shift's record claims one more fare than the terminal stored.
    const disagreeing = shiftFor('T2', 'D03', honestT2.slice(5), ...shiftTimes(6, 10, 30));
    disagreeing.counters.accepted += 1;
    disagreeing.counters.amountFen += 200;
    fixture.centre.recordShift(disagreeing);

    const { findings } = fixture.centre.reconcile(DAY);
    expect(findings.map((finding) => finding.kind).sort()).toEqual(['redelivered-batch', 'rejected-record', 'sequence-gap', 'shift-mismatch', 'shift-mismatch']);

    const gap = findings.find((finding) => finding.kind === 'sequence-gap');
    expect(gap?.terminalId).toBe('T1');
    expect(gap?.sequences).toEqual({ from: 6, to: 10 });
    expect(gap?.details.shiftId).toBe('T1-20250506010100');

    const redelivered = findings.find((finding) => finding.kind === 'redelivered-batch');
    expect(redelivered?.terminalId).toBe('T2');
    expect(redelivered?.details).toEqual({ batchId: 'T2-b1', duplicates: 5, stored: 0 });

    const rejected = findings.find((finding) => finding.kind === 'rejected-record');
    expect(rejected?.terminalId).toBe('T2');
    expect(rejected?.sequences).toEqual({ from: 3, to: 3 });
    expect(rejected?.details.category).toBe('tac');

    const mismatches = findings.filter((finding) => finding.kind === 'shift-mismatch');
    expect(mismatches.every((finding) => finding.shiftId === disagreeing.shiftId)).toBe(true);
    expect(mismatches.map((finding) => finding.details)).toEqual([
      { field: 'accepted', terminal: 6, records: 5 },
      { field: 'amountFen', terminal: 1200, records: 1000 },
    ]);
  });

  it('lists a gap once the missing batch arrives no more', () => {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    const t1 = purchases('T1', 1, 15);
    fixture.ingest('T1', 'T1-b1', t1.slice(0, 5));
    fixture.ingest('T1', 'T1-b3', t1.slice(10));
    expect(fixture.centre.reconcile(DAY).findings.map((finding) => finding.kind)).toEqual(['sequence-gap']);
    fixture.ingest('T1', 'T1-b2', t1.slice(5, 10));
    expect(fixture.centre.reconcile(DAY).findings).toEqual([]);
  });

  it('flags card counters that repeat, go backwards or skip', () => {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    const card = '99000001000000007777';
    const tap = (sequence: number, minute: number, counter: number) => {
      const record = fakeRecord({ sequence, occurredAt: onDay6(minute), asn: card });
      record.debit.cardCounter = counter;
      return record;
    };
    // fakeRecord's TAC does not cover the counter, so each record still verifies.
    fixture.ingest('T1', 'b1', [tap(1, 1, 10), tap(2, 2, 11), tap(3, 3, 11), tap(4, 4, 9), tap(5, 5, 14)]);
    const findings = fixture.centre.reconcile(DAY).findings;
    expect(findings.map((finding) => [finding.kind, finding.sequences?.from])).toEqual([
      ['card-counter-repeat', 3],
      ['card-counter-backwards', 4],
      ['card-counter-gap', 5],
    ]);
  });

  it('lists an in-doubt record with no proof', () => {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, kind: 'in-doubt', occurredAt: onDay6(1) })]);
    const [finding] = fixture.centre.reconcile(DAY).findings;
    expect(finding?.kind).toBe('in-doubt-open');
    expect(finding?.sequences).toEqual({ from: 1, to: 1 });
  });

  it('rejects an invalid shift record', () => {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    const shift = shiftFor('T1', 'D01', purchases('T1', 1, 2), ...shiftTimes(1, 2, 0));
    expect(() => fixture.centre.recordShift({ ...shift, lastSequence: 0 })).toThrow(/invalid shift record/);
    expect(() => fixture.centre.recordShift({ ...shift, driverId: 'no spaces' })).toThrow(/invalid shift record/);
    expect(() => fixture.centre.recordShift('not a record')).toThrow(/invalid shift record/);
  });
});
