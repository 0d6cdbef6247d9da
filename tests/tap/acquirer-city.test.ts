import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultFareTable } from '@busfare/backoffice';
import { AID, type FareTableBody, acquirerCityCode, epurse, fareTableBodySchema, parseTransitRecord } from '@busfare/shared-protocol';
import { ALL_BENCH_ISSUERS, BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, BENCH_OUT_OF_TOWN_CITY_CODE, InProcessCardReader, PsamTransport, SoftwarePsam, type VirtualTUnionCard } from '@busfare/simulators';
import { ApduSecureAccessModule, ManualClock, SqliteTransactionStore, TapProcessor } from '@busfare/terminal';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { makeCard } from './cards.js';

const STOPS = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'];
const dirs: string[] = [];
const stores: SqliteTransactionStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Bench fare table with tap-on/tap-off route 30, plus the given fields. */
function sectionTable(extra: Partial<FareTableBody> = {}): FareTableBody {
  return fareTableBodySchema.parse({
    ...defaultFareTable([BENCH_LOCAL_CITY_CODE]),
    sectionRoutes: { '30': { bands: [{ maxStops: 99, fareFen: 200 }], stops: { '0': STOPS, '1': [...STOPS].reverse() }, maxJourneyMinutes: 180 } },
    ...extra,
  });
}

/** Taps the card on once at S1 of route 30 and returns the transit record the card keeps. */
async function boardAndReadRecord(card: VirtualTUnionCard, fareTable: FareTableBody) {
  const dir = mkdtempSync(join(tmpdir(), 'busfare-acquirer-'));
  dirs.push(dir);
  const store = SqliteTransactionStore.open(join(dir, 'transactions.db'), { logger: pino({ level: 'silent' }) });
  stores.push(store);
  const reader = new InProcessCardReader();
  await reader.start();
  const sam = new ApduSecureAccessModule(new PsamTransport(new SoftwarePsam({ terminalNumber: '000058100011', issuers: ALL_BENCH_ISSUERS })));
  await sam.open();
  const processor = new TapProcessor({
    store,
    sam,
    fareTables: { activeFareTable: () => fareTable },
    trip: () => ({ vehicleId: 'V1', route: '30', direction: 0, stopId: 'S1' }),
    clock: new ManualClock(new Date('2026-03-02T08:00:00+08:00')),
    feedback: { show: () => undefined },
    logger: pino({ level: 'silent' }),
  });
  const outcome = await processor.process(reader.present(card));
  reader.remove();
  await reader.stop();
  expect(outcome.status).toBe('accepted');

  card.process(epurse.selectByName(AID.tunionEp));
  const response = card.process(epurse.readRecord(0x1e, 1, 48));
  expect(Buffer.from(response.subarray(-2)).toString('hex')).toBe('9000');
  return parseTransitRecord(response.subarray(0, -2));
}

describe('acquirer city in the transit record', () => {
  it('writes the local city on an out-of-town card', async () => {
    const visitor = makeCard({ issuer: BENCH_ISSUERS.outOfTown, asn: `${BENCH_OUT_OF_TOWN_CITY_CODE}0000000000007001` });
    const record = await boardAndReadRecord(visitor, sectionTable());
    expect(record.acquirerCityCode).toBe(BENCH_LOCAL_CITY_CODE);
  });

  it('writes the city the fare table names', async () => {
    const record = await boardAndReadRecord(makeCard(), sectionTable({ acquirerCityCode: '5811' }));
    expect(record.acquirerCityCode).toBe('5811');
  });
});

describe('acquirerCityCode', () => {
  it('takes the first local issuer prefix', () => {
    expect(acquirerCityCode(sectionTable(), `${BENCH_OUT_OF_TOWN_CITY_CODE}0001FFFFFFFF`)).toBe(BENCH_LOCAL_CITY_CODE);
  });

  it('falls back to the card city for a short prefix', () => {
    expect(acquirerCityCode(sectionTable({ localIssuerPrefixes: ['58'] }), '2000a001ffffffff')).toBe('2000');
  });
});
