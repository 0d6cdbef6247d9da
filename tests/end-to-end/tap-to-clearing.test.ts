import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BenchCity, TapRecordOutcome } from '@busfare/simulators';

import { cityLedgerReport as buildLedgerReport, drainBacklogs, representInDoubtCards } from '@busfare/simulators';
import { payingCards, startTestCity } from './city-fixture.js';

let city: BenchCity | undefined;

afterEach(async () => {
  await city?.stop();
  city = undefined;
});

describe('tap to cleared transaction', () => {
  it('clears every accepted tap through aedes with real SQLite files', async () => {
    city = await startTestCity();
    const taps: TapRecordOutcome[] = [];
    const cards = payingCards(city);
    for (const [index, card] of cards.slice(0, 24).entries()) {
      const bus = city.buses[index % city.buses.length]!;
      taps.push({ terminalId: bus.terminalId, outcome: await bus.tap(card) });
    }
    expect(taps.filter((tap) => tap.outcome.status === 'accepted')).toHaveLength(24);

    await drainBacklogs(city, 20_000);
    const report = buildLedgerReport(city, taps);
    expect(report.recordsCleared).toBe(24);
    expect(report.lost).toBe(0);
    expect(report.duplicates).toBe(0);
    expect(report.cardLedgerMismatch).toBe(0);
    expect(report.inDoubtOpen).toBe(0);

    for (const bus of city.buses) {
      expect(existsSync(join(city.dataDir, `${bus.terminalId}-transactions.db`))).toBe(true);
      expect(city.office.repository.progress(bus.terminalId).contiguousThrough).toBe(bus.store.lastSequence());
    }
    expect(existsSync(join(city.dataDir, 'backoffice.db'))).toBe(true);
  });

  it('settles torn taps by transaction proof and never clears one twice', async () => {
    city = await startTestCity({ buses: 1 });
    const bus = city.buses[0]!;
    const taps: TapRecordOutcome[] = [];
    const cards = payingCards(city).slice(0, 8);
    // DEBIT is the fourth card APDU: PPSE, SELECT (EF15 from the FCI), INIT, DEBIT.
    for (const [index, card] of cards.entries()) {
      const phase = index % 2 === 0 ? 'after-card' : 'before-card';
      taps.push({ terminalId: bus.terminalId, outcome: await bus.tap(card, { apduIndex: 3, phase }) });
    }
    expect(taps.every((tap) => tap.outcome.status === 'in-doubt')).toBe(true);
    expect(bus.store.listOpenInDoubt()).toHaveLength(8);

    const settled = await representInDoubtCards(city);
    taps.push(...settled);
    expect(settled.map((tap) => tap.outcome.status)).toEqual(['recovered', 'accepted', 'recovered', 'accepted', 'recovered', 'accepted', 'recovered', 'accepted']);
    for (const card of cards) expect(card.ledger).toHaveLength(1);

    await drainBacklogs(city, 20_000);
    const report = buildLedgerReport(city, taps);
    expect(report.inDoubt).toBe(8);
    expect(report.recordsCleared).toBe(8);
    expect(report.lost).toBe(0);
    expect(report.duplicates).toBe(0);
    expect(report.cardLedgerMismatch).toBe(0);
    expect(report.inDoubtOpen).toBe(0);
  });
});
