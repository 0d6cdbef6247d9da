import { describe, expect, it } from 'vitest';
import { SHIFT_RECORD_SCHEMA, topics, type ShiftRecord } from '@busfare/shared-protocol';
import { SqliteClearingRepository } from '../store/sqlite-clearing-repository.js';
import { ingestShift } from './telemetry-ingest.js';

function shiftRecord(overrides: Partial<ShiftRecord> = {}): ShiftRecord {
  return {
    schema: SHIFT_RECORD_SCHEMA,
    terminalId: 'T001',
    vehicleId: 'V001',
    shiftId: 'T001-20260302000000',
    driverId: '8123',
    route: '1',
    direction: 0,
    startedAt: '2026-03-02T00:00:00.000Z',
    endedAt: '2026-03-02T08:00:00.000Z',
    firstSequence: 1,
    lastSequence: 3,
    counters: { taps: 4, accepted: 3, refused: 1, inDoubt: 0, failed: 0, amountFen: 500, byCardType: { ordinary: { taps: 2, amountFen: 400 }, student: { taps: 1, amountFen: 100 } } },
    ...overrides,
  };
}

describe('ingestShift', () => {
  it('stores a shift record once', () => {
    const repository = new SqliteClearingRepository({ path: ':memory:' });
    const payload = JSON.stringify(shiftRecord());
    expect(ingestShift(repository, topics.shifts('T001'), payload)).toEqual({ kind: 'stored', terminalId: 'T001', count: 1 });
    expect(ingestShift(repository, topics.shifts('T001'), payload)).toEqual({ kind: 'stored', terminalId: 'T001', count: 0 });
    const [shift] = repository.shiftReconciliations(10);
    expect(shift).toMatchObject({ shiftId: 'T001-20260302000000', reportedAccepted: 3, reportedAmountFen: 500, clearedRecords: 0, clearedAmountFen: 0, differenceFen: 500 });
    repository.close();
  });

  it('rejects invalid shift payloads', () => {
    const repository = new SqliteClearingRepository({ path: ':memory:' });
    const cases: Array<[string, string]> = [
      ['{', 'invalid JSON'],
      [JSON.stringify({ ...shiftRecord(), schema: 'busfare.shift/0' }), 'invalid shift record'],
      [JSON.stringify(shiftRecord({ driverId: 'a b' })), 'invalid shift record'],
      [JSON.stringify(shiftRecord({ firstSequence: 5, lastSequence: 2 })), 'lastSequence 2 is below firstSequence 5'],
      [JSON.stringify(shiftRecord({ firstSequence: null })), 'both be null or both be set'],
      [JSON.stringify(shiftRecord({ endedAt: '2026-03-01T00:00:00.000Z' })), 'endedAt is before startedAt'],
      [JSON.stringify(shiftRecord({ terminalId: 'T002', shiftId: 'T002-20260302000000' })), 'does not match'],
    ];
    for (const [payload, reason] of cases) {
      const outcome = ingestShift(repository, topics.shifts('T001'), payload);
      expect(outcome.kind, payload).toBe('payload-rejected');
      if (outcome.kind === 'payload-rejected') expect(outcome.reason, payload).toContain(reason);
    }
    expect(repository.shiftReconciliations(10)).toEqual([]);
    expect(repository.summary().recordsRejected).toBe(cases.length);
    repository.close();
  });
});
