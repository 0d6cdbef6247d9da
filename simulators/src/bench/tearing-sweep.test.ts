import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { runTearingSweep } from './tearing-sweep.js';

describe('tearing sweep', () => {
  it('never debits twice and records every debit when cards are torn at every APDU', async () => {
    const report = await runTearingSweep({ rounds: 2, logger: pino({ level: 'silent' }) });
    expect(report.tornTaps).toBeGreaterThan(200);
    expect(report.recoveredByProof).toBeGreaterThan(0);
    expect(report.doubleDebits).toBe(0);
    expect(report.unrecordedDebits).toBe(0);
    expect(report.unpaidRides).toBe(0);
    expect(report.lost).toBe(0);
    expect(report.duplicates).toBe(0);
    expect(report.cardLedgerMismatch).toBe(0);
    expect(report.inDoubtOpen).toBe(0);
    expect(report.recordsRejectedAtIngest).toBe(0);
  });

  it('finishes torn M1 debits without a double or unrecorded debit', async () => {
    const report = await runTearingSweep({ rounds: 1, kinds: ['m1'], logger: pino({ level: 'silent' }) });
    // 17 card APDUs, two phases and three follow-ups each.
    expect(report.tornTaps).toBeGreaterThanOrEqual(17 * 2 * 3);
    expect(report.recoveredByProof).toBeGreaterThan(0);
    expect(report.doubleDebits).toBe(0);
    expect(report.unrecordedDebits).toBe(0);
    expect(report.unpaidRides).toBe(0);
    expect(report.lost).toBe(0);
    expect(report.cardLedgerMismatch).toBe(0);
    expect(report.inDoubtOpen).toBe(0);
    expect(report.recordsRejectedAtIngest).toBe(0);
  });

  it('tears M1 boardings and alightings without a double or unrecorded debit', async () => {
    // Round 1 is the tap-on/tap-off route: both journeys torn at every APDU, in both phases, with three follow-ups.
    const report = await runTearingSweep({ rounds: 2, kinds: ['m1'], logger: pino({ level: 'silent' }) });
    // 14 card APDUs on the flat route, 17 for the longer of boarding and alighting.
    expect(report.tornTaps).toBeGreaterThanOrEqual(14 * 2 * 3 + 2 * 17 * 2 * 3);
    expect(report.doubleDebits).toBe(0);
    expect(report.unrecordedDebits).toBe(0);
    expect(report.unpaidRides).toBe(0);
    expect(report.boardingsLeftOpen).toBe(0);
    expect(report.lost).toBe(0);
    expect(report.duplicates).toBe(0);
    expect(report.cardLedgerMismatch).toBe(0);
    expect(report.inDoubtOpen).toBe(0);
    expect(report.recordsRejectedAtIngest).toBe(0);
  });
});
