import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '@busfare/backoffice';
import { type BenchCity, type TapRecordOutcome, cityLedgerReport, drainBacklogs, waitFor } from '@busfare/simulators';
import pino from 'pino';
import { payingCards, startTestCity } from './city-fixture.js';

const logger = pino({ level: 'silent' });
let city: BenchCity | undefined;
let broker: Awaited<ReturnType<typeof startEmbeddedBroker>> | undefined;

afterEach(async () => {
  await city?.stop();
  await broker?.close();
  city = undefined;
  broker = undefined;
});

describe('broker outage', () => {
  it('keeps taking fares while the broker is down and clears everything after it returns', async () => {
    broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger });
    const port = broker.port;
    city = await startTestCity({ externalBrokerUrl: broker.url });
    const taps: TapRecordOutcome[] = [];
    const cards = payingCards(city);
    const tapSome = async (from: number, count: number) => {
      for (let index = from; index < from + count; index += 1) {
        const bus = city!.buses[index % city!.buses.length]!;
        taps.push({ terminalId: bus.terminalId, outcome: await bus.tap(cards[index]!) });
      }
    };

    await tapSome(0, 6);
    await drainBacklogs(city, 20_000);

    await broker.close();
    broker = undefined;
    await waitFor(() => city!.buses.every((bus) => !bus.uplink.stats().connected), 10_000, 'the terminals to notice the outage');
    await tapSome(6, 12);
    expect(taps.every((tap) => tap.outcome.status === 'accepted')).toBe(true);
    expect(city.backlog()).toBe(12);
    expect(city.office.summary().recordsCleared).toBe(6);

    broker = await startEmbeddedBroker({ port, host: '127.0.0.1', logger });
    await drainBacklogs(city, 30_000);
    await waitFor(() => city!.office.summary().recordsCleared === 18, 10_000, 'the back office to clear every record');

    const report = cityLedgerReport(city, taps);
    expect(report.recordsCleared).toBe(18);
    expect(report.lost).toBe(0);
    expect(report.duplicates).toBe(0);
    expect(report.cardLedgerMismatch).toBe(0);
  });
});
