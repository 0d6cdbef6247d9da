import { afterEach, describe, expect, it } from 'vitest';
import { type BenchCity, type TapRecordOutcome, cityLedgerReport, waitFor } from '@busfare/simulators';
import { payingCards, startTestCity } from './city-fixture.js';

let city: BenchCity | undefined;

afterEach(async () => {
  await city?.stop();
  city = undefined;
});

/** Blacklist entries are the rightmost 8 bytes of the card number. */
const blacklistEntry = (asn: string) => asn.padStart(20, '0').slice(-16).toUpperCase();

describe('card lock records in clearing', () => {
  it('carries a lock to the back office and leaves the ledger alone', async () => {
    city = await startTestCity({ buses: 1 });
    const bus = city.buses[0]!;
    const [listed, other] = payingCards(city);
    const taps: TapRecordOutcome[] = [];
    const tap = async (card: typeof listed) => {
      const outcome = await bus.tap(card!);
      taps.push({ terminalId: bus.terminalId, outcome });
      return outcome;
    };
    expect((await tap(listed)).status).toBe('accepted');

    const authoring = city.office.parameters.authoring;
    if (!authoring) throw new Error('the bench back office has no parameter authoring');
    authoring.changeBlacklist([blacklistEntry(listed!.asn)], []);
    await waitFor(() => bus.parameters.activeBlacklist(new Date()).has(blacklistEntry(listed!.asn)), 15_000, 'the blacklist to reach the terminal');
    expect((await tap(listed)).promptId).toBe('card-blacklisted');
    expect((await tap(other)).status).toBe('accepted');
    await waitFor(() => city!.synced() === city!.stored(), 15_000, 'the outbox to drain');

    const locks = city.office.repository.recentCardLocks(10);
    expect(locks).toEqual([expect.objectContaining({ terminalId: bus.terminalId, sequence: 2, asn: listed!.asn, locked: true, verification: 'not-applicable' })]);
    const report = cityLedgerReport(city, taps);
    expect(report.recordsCleared).toBe(2);
    expect(report.lost).toBe(0);
    expect(report.duplicates).toBe(0);
    expect(report.cardLedgerMismatch).toBe(0);
    expect(city.office.reconcile()).toEqual([expect.objectContaining({ terminalId: bus.terminalId, storedRecords: 3, state: 'balanced' })]);
  });
});
