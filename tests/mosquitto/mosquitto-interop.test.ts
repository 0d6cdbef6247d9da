import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchCity, type TapRecordOutcome, cityLedgerReport, drainBacklogs, representInDoubtCards, waitFor } from '@busfare/simulators';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { payingCards, startTestCity } from '../end-to-end/city-fixture.js';
import { MosquittoBroker, mosquittoAvailable } from './mosquitto-broker.js';

let directory: string;
let broker: MosquittoBroker | undefined;
let city: BenchCity | undefined;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-mosquitto-'));
});

afterEach(async () => {
  await city?.stop();
  await broker?.stop();
  city = undefined;
  broker = undefined;
  rmSync(directory, { recursive: true, force: true });
});

async function tapCards(target: BenchCity, from: number, count: number, taps: TapRecordOutcome[]): Promise<void> {
  const cards = payingCards(target);
  for (let index = from; index < from + count; index += 1) {
    const bus = target.buses[index % target.buses.length]!;
    taps.push({ terminalId: bus.terminalId, outcome: await bus.tap(cards[index]!) });
  }
}

describe.skipIf(!mosquittoAvailable())('mosquitto as the external broker', () => {
  it('clears every accepted tap', async () => {
    broker = await MosquittoBroker.start(directory);
    city = await startTestCity({ externalBrokerUrl: broker.url });
    const taps: TapRecordOutcome[] = [];
    await tapCards(city, 0, 16, taps);
    expect(taps.every((tap) => tap.outcome.status === 'accepted')).toBe(true);

    await drainBacklogs(city, 20_000);
    const report = cityLedgerReport(city, taps);
    expect(report.recordsCleared).toBe(16);
    expect(report.lost).toBe(0);
    expect(report.duplicates).toBe(0);
    expect(report.cardLedgerMismatch).toBe(0);
    expect(report.inDoubtOpen).toBe(0);
  });

  it('clears everything across a broker restart', async () => {
    broker = await MosquittoBroker.start(directory);
    city = await startTestCity({ externalBrokerUrl: broker.url });
    const taps: TapRecordOutcome[] = [];
    await tapCards(city, 0, 6, taps);
    await drainBacklogs(city, 20_000);

    await broker.stop();
    await waitFor(() => city!.buses.every((bus) => !bus.uplink.stats().connected), 10_000, 'the terminals to notice the outage');
    await tapCards(city, 6, 10, taps);
    expect(city.backlog()).toBe(10);

    await broker.restart();
    await drainBacklogs(city, 30_000);
    await waitFor(() => city!.office.summary().recordsCleared === 16, 10_000, 'the back office to clear every record');
    const report = cityLedgerReport(city, taps);
    expect(report.lost).toBe(0);
    expect(report.duplicates).toBe(0);
    expect(report.cardLedgerMismatch).toBe(0);
  });

  it('settles torn taps by transaction proof', async () => {
    broker = await MosquittoBroker.start(directory);
    city = await startTestCity({ externalBrokerUrl: broker.url, buses: 1 });
    const bus = city.buses[0]!;
    const taps: TapRecordOutcome[] = [];
    for (const [index, card] of payingCards(city).slice(0, 4).entries()) {
      taps.push({ terminalId: bus.terminalId, outcome: await bus.tap(card, { apduIndex: 3, phase: index % 2 === 0 ? 'after-card' : 'before-card' }) });
    }
    taps.push(...(await representInDoubtCards(city)));
    await drainBacklogs(city, 20_000);

    const report = cityLedgerReport(city, taps);
    expect(report.inDoubt).toBe(4);
    expect(report.lost).toBe(0);
    expect(report.duplicates).toBe(0);
    expect(report.cardLedgerMismatch).toBe(0);
    expect(report.inDoubtOpen).toBe(0);
  });
});
