import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_DRIVER_CARD_TYPE_CODES,
  DriverCardSignOn,
  DriverShift,
  ManualClock,
  ApduSecureAccessModule,
  MemoryTransactionStore,
  ShiftStore,
  TapProcessor,
  TerminalRuntime,
  composeRiderDisplay,
  type DriverCardHandler,
  type TapOutcome,
} from '@busfare/terminal';
import { AID, EF15_LENGTH, parseFci, toHex, type ShiftRecord } from '@busfare/shared-protocol';
import { defaultFareTable } from '@busfare/backoffice';
import { ALL_BENCH_ISSUERS, BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, InProcessCardReader, PsamTransport, SoftwarePsam, createDriverCard, purseApplicationFci, respond, type ApduCard } from '@busfare/simulators';
import pino from 'pino';
import { makeCard, makeM1Card } from './cards.js';
import { PSAM_TERMINAL_NUMBER, createTapFixture, startRuntimeTaps } from './tap-fixture.js';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Opens a shift file in a new temporary folder that the test's cleanup removes. */
function openShiftStore(): ShiftStore {
  const dir = mkdtempSync(join(tmpdir(), 'busfare-driver-card-'));
  const store = ShiftStore.open(join(dir, 'shifts.db'));
  cleanups.push(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

/** Builds a tap path that hands driver cards to a real driver shift on an SQLite shift file. */
async function createDriverFixture(options: { handler?: 'none'; riderTapsWithoutShift?: 'accept' | 'reject' } = {}) {
  const clock = new ManualClock(new Date('2026-03-02T06:00:00+08:00'));
  const store = openShiftStore();
  const sent: ShiftRecord[] = [];
  const fixture = await createTapFixture({
    clock,
    driverCards: { typeCodes: DEFAULT_DRIVER_CARD_TYPE_CODES, driverNumberDigits: 8, handler: () => (options.handler === 'none' ? undefined : signOn) },
  });
  const shift = new DriverShift({
    terminalId: 'T001',
    vehicleId: 'V001',
    store,
    sender: { send: async (record) => void sent.push(record) },
    clock,
    logger,
    lastSequence: () => fixture.store.lastSequence(),
    serviceChoices: () => [{ route: '1', direction: 0 }],
  });
  const signOn: DriverCardHandler = new DriverCardSignOn({ shift, clock, logger, ...(options.riderTapsWithoutShift ? { riderTapsWithoutShift: options.riderTapsWithoutShift } : {}) });

  /** Presents a card, runs one tap, counts it in the shift as the driver screen does, takes the card away. */
  async function tap(card: ApduCard): Promise<TapOutcome> {
    const session = fixture.reader.present(card);
    const outcome = await fixture.processor.process(session);
    fixture.reader.remove();
    shift.recordTap(outcome);
    return outcome;
  }

  return { ...fixture, clock, shift, sent, tap };
}

/**
 * Wraps a driver card so that its SELECT response carries an EF15 that `edit` rewrote, as a
 * hostile or damaged card would send it. Every other command goes to the real card.
 */
function withEditedEf15(card: ReturnType<typeof createDriverCard>, edit: (ef15: Uint8Array) => Uint8Array): ApduCard {
  const tunionPrefix = toHex(AID.tunionEp);
  return {
    atr: card.atr,
    protocol: card.protocol,
    uid: card.uid,
    label: `${card.label} edited`,
    process(command: Uint8Array): Uint8Array {
      const response = card.process(command);
      const isSelect = command[1] === 0xa4 && toHex(command.subarray(5, 5 + command[4]!)).startsWith(tunionPrefix);
      if (!isSelect || !('dfName' in card)) return response;
      const ef15 = parseFci(response.subarray(0, response.length - 2)).issuerDiscretionary;
      if (!ef15 || ef15.length !== EF15_LENGTH) throw new Error('the driver card sent no EF15 in its FCI');
      return respond(purseApplicationFci(card.dfName, 0x02, edit(ef15.slice())), 0x9000);
    },
  };
}

describe('driver card tap', () => {
  it('signs the driver on without a debit', async () => {
    const fixture = await createDriverFixture();
    const card = createDriverCard({ driverNumber: '8123' });
    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('accepted');
    expect(outcome.promptId).toBe('driver-signed-on');
    expect(outcome.driverCard).toEqual({ action: 'signed-on', driverId: '8123' });
    expect(outcome.amountFen).toBeUndefined();
    expect(outcome.sequence).toBeUndefined();
    expect(fixture.store.lastSequence()).toBe(0);
    expect(card.balanceFen).toBe(0);
    expect(card.debits).toHaveLength(0);
    expect(outcome.psamApdus).toBe(0);
    expect(fixture.shift.current()).toMatchObject({ driverId: '8123', startedAt: '2026-03-01T22:00:00.000Z' });
    expect(fixture.shift.current()?.counters.taps).toBe(0);

    expect(fixture.shown.at(-1)).toEqual({ promptId: 'driver-signed-on' });
    const display = composeRiderDisplay(fixture.shown.at(-1)!);
    expect(display.voice).toBe('v41-driver-signed-on');
    expect(display.lines).toEqual({ zh: ['签到完毕'], en: ['Signed on'] });
  });

  it('signs on with a MOHURD driver card', async () => {
    const fixture = await createDriverFixture();
    const outcome = await fixture.tap(createDriverCard({ driverNumber: '42', application: 'mohurd' }));
    expect(outcome.driverCard).toEqual({ action: 'signed-on', driverId: '42' });
    expect(outcome.application).toBe('mohurd');
    expect(fixture.shift.current()?.driverId).toBe('42');
  });

  it('signs on before any fare table is active', async () => {
    const fixture = await createDriverFixture();
    const withoutTable = new TapProcessor({
      store: fixture.store,
      sam: fixture.sam,
      fareTables: { activeFareTable: () => undefined },
      trip: () => ({ vehicleId: 'V001' }),
      clock: fixture.clock,
      feedback: { show: () => undefined },
      logger,
      driverCards: { typeCodes: DEFAULT_DRIVER_CARD_TYPE_CODES, driverNumberDigits: 8, handler: () => new DriverCardSignOn({ shift: fixture.shift, clock: fixture.clock, logger }) },
    });
    const driver = await withoutTable.process(fixture.reader.present(createDriverCard({ driverNumber: '7' })));
    fixture.reader.remove();
    expect(driver.promptId).toBe('driver-signed-on');
    expect(fixture.shift.current()?.driverId).toBe('7');

    const rider = await withoutTable.process(fixture.reader.present(makeCard()));
    fixture.reader.remove();
    expect(rider.promptId).toBe('terminal-fault');
  });

  it('signs off only on a second tap in the window', async () => {
    const fixture = await createDriverFixture();
    const card = createDriverCard({ driverNumber: '8123' });
    await fixture.tap(card);
    await fixture.tap(makeCard({ balanceFen: 1000 }));

    fixture.clock.advance(60_000);
    const first = await fixture.tap(card);
    expect(first.promptId).toBe('driver-tap-again-to-sign-off');
    expect(first.driverCard?.action).toBe('sign-off-armed');
    expect(fixture.shift.current()).toBeDefined();

    // Seen again within the same presentation: still only armed, and the window is not moved on.
    fixture.clock.advance(500);
    const bounce = await fixture.tap(card);
    expect(bounce.driverCard?.action).toBe('sign-off-armed');
    expect(fixture.shift.current()).toBeDefined();

    fixture.clock.advance(4_500);
    const second = await fixture.tap(card);
    expect(second.status).toBe('accepted');
    expect(second.promptId).toBe('driver-signed-off');
    expect(second.driverCard).toEqual({ action: 'signed-off', driverId: '8123' });
    expect(fixture.shift.current()).toBeUndefined();

    const record = fixture.shift.latestRecord()!.record;
    expect(record.driverId).toBe('8123');
    expect(record.counters.taps).toBe(1);
    expect(record.counters.accepted).toBe(1);
    expect(record.counters.amountFen).toBe(200);
    expect(record.firstSequence).toBe(1);
    expect(record.lastSequence).toBe(1);
    expect(composeRiderDisplay(fixture.shown.at(-1)!).voice).toBe('v43-driver-signed-off');
  });

  it('asks again after the window passes', async () => {
    const fixture = await createDriverFixture();
    const card = createDriverCard({ driverNumber: '8123' });
    await fixture.tap(card);
    fixture.clock.advance(60_000);
    expect((await fixture.tap(card)).driverCard?.action).toBe('sign-off-armed');
    fixture.clock.advance(16_000);
    expect((await fixture.tap(card)).driverCard?.action).toBe('sign-off-armed');
    expect(fixture.shift.current()?.driverId).toBe('8123');
    fixture.clock.advance(3_000);
    expect((await fixture.tap(card)).driverCard?.action).toBe('signed-off');
  });

  it('forgets an armed sign-off when the screen ends the shift', async () => {
    const fixture = await createDriverFixture();
    const card = createDriverCard({ driverNumber: '8123' });
    await fixture.tap(card);
    fixture.clock.advance(60_000);
    await fixture.tap(card);
    fixture.shift.signOff();
    fixture.clock.advance(3_000);
    const next = await fixture.tap(card);
    expect(next.driverCard?.action).toBe('signed-on');
    fixture.clock.advance(3_000);
    expect((await fixture.tap(card)).driverCard?.action).toBe('sign-off-armed');
  });

  for (const [gapMs, action] of [[1_999, 'sign-off-armed'], [2_000, 'signed-off'], [15_000, 'signed-off'], [15_001, 'sign-off-armed']] as const) {
    it(`answers a second tap ${gapMs} ms after the first with ${action}`, async () => {
      const fixture = await createDriverFixture();
      const card = createDriverCard({ driverNumber: '8123' });
      await fixture.tap(card);
      fixture.clock.advance(60_000);
      await fixture.tap(card);
      // Wall time set back does not move the window, which runs on the monotonic clock.
      fixture.clock.setWall(new Date(fixture.clock.now().getTime() - 3_600_000));
      fixture.clock.advance(gapMs);
      expect((await fixture.tap(card)).driverCard?.action).toBe(action);
    });
  }

  it('takes a repeat of the sign-off tap as the same presentation', async () => {
    const fixture = await createDriverFixture();
    const card = createDriverCard({ driverNumber: '8123' });
    await fixture.tap(card);
    fixture.clock.advance(60_000);
    await fixture.tap(card);
    fixture.clock.advance(3_000);
    expect((await fixture.tap(card)).driverCard?.action).toBe('signed-off');
    fixture.clock.advance(1_000);
    const repeat = await fixture.tap(card);
    expect(repeat.driverCard?.action).toBe('signed-off');
    expect(fixture.shift.current()).toBeUndefined();
    fixture.clock.advance(2_000);
    expect((await fixture.tap(card)).driverCard?.action).toBe('signed-on');
  });

  it('keeps two shifts apart that start in one second', async () => {
    const fixture = await createDriverFixture();
    const card = createDriverCard({ driverNumber: '8123' });
    await fixture.tap(card);
    const first = fixture.shift.signOff();
    fixture.clock.advance(500);
    expect((await fixture.tap(card)).driverCard?.action).toBe('signed-on');
    expect(fixture.shift.current()?.driverId).toBe('8123');
    const second = fixture.shift.signOff();
    expect(second.shiftId).not.toBe(first.shiftId);
    expect(fixture.shift.latestRecord()?.record.shiftId).toBe(second.shiftId);
  });

  it('settles an in-doubt record of the card before it signs on', async () => {
    const fixture = await createDriverFixture();
    const card = createDriverCard({ driverNumber: '8123' });
    const sequence = fixture.store.appendPending({
      occurredAt: fixture.clock.now().toISOString(),
      card: { application: 'tunion', medium: 'card', asn: card.asn, issuerId: card.issuerId, cardType: 'ordinary' },
      debit: {
        transactionType: 0x06,
        amountFen: 200,
        listFareFen: 200,
        balanceBeforeFen: 200,
        cardCounter: 0,
        cardRandom: '1A2B3C4D',
        keyVersion: 1,
        algorithmId: 0,
        psamTerminalNumber: PSAM_TERMINAL_NUMBER,
        terminalSerial: 1,
        cardDateTime: '20260302060000',
      },
      trip: { vehicleId: 'V001', route: '1', direction: 0 },
    });
    fixture.store.markInDoubt(sequence);

    const outcome = await fixture.tap(card);

    expect(outcome.driverCard?.action).toBe('signed-on');
    expect(fixture.store.listOpenInDoubt()).toEqual([]);
    expect(fixture.store.get(sequence + 1)?.record).toMatchObject({ kind: 'resolution', resolvesSequence: sequence, outcome: 'not-debited' });
    expect(card.debits).toHaveLength(0);
  });

  it('rejects another driver while one is signed on', async () => {
    const fixture = await createDriverFixture();
    await fixture.tap(createDriverCard({ driverNumber: '8123' }));
    const other = await fixture.tap(createDriverCard({ driverNumber: '9001' }));
    expect(other.status).toBe('refused');
    expect(other.promptId).toBe('driver-sign-off-first');
    expect(other.driverCard).toEqual({ action: 'rejected', driverId: '9001' });
    expect(fixture.shift.current()?.driverId).toBe('8123');
    expect(fixture.shift.current()?.counters.taps).toBe(0);
    expect(composeRiderDisplay(fixture.shown.at(-1)!).lines.zh).toEqual(['请先签退']);
  });

  it('rejects a driver card on a terminal without a shift', async () => {
    const fixture = await createDriverFixture({ handler: 'none' });
    const card = createDriverCard({ driverNumber: '8123' });
    const outcome = await fixture.tap(card);
    expect(outcome.status).toBe('refused');
    expect(outcome.promptId).toBe('driver-sign-on-unavailable');
    expect(card.debits).toHaveLength(0);
    expect(fixture.store.lastSequence()).toBe(0);
  });

  it('never charges a driver card the fare table maps', async () => {
    const fixture = await createDriverFixture();
    fixture.fareTable.cardTypeByCode[String(DEFAULT_DRIVER_CARD_TYPE_CODES[0])] = 'ordinary';
    const card = createDriverCard({ driverNumber: '8123' });
    const outcome = await fixture.tap(card);
    expect(outcome.driverCard?.action).toBe('signed-on');
    expect(card.debits).toHaveLength(0);
  });

  it('charges an out-of-town rider card whose type code is a local driver code', async () => {
    const fixture = await createDriverFixture();
    await fixture.tap(createDriverCard({ driverNumber: '8123' }));
    const visitor = makeCard({ issuer: BENCH_ISSUERS.outOfTown, asn: `${BENCH_ISSUERS.outOfTown.cityCode}0000000000009001`, cardTypeCode: DEFAULT_DRIVER_CARD_TYPE_CODES[0], balanceFen: 1000 });
    const outcome = await fixture.tap(visitor);
    expect(outcome.driverCard).toBeUndefined();
    expect(outcome.status).toBe('accepted');
    expect(visitor.balanceFen).toBeLessThan(1000);
    expect(fixture.shift.current()?.driverId).toBe('8123');
  });

  it('rejects riders until sign-on when configured', async () => {
    const fixture = await createDriverFixture({ riderTapsWithoutShift: 'reject' });
    const cpu = makeCard({ balanceFen: 1000 });
    const m1 = makeM1Card({ balanceFen: 1000 });

    const cpuBefore = await fixture.tap(cpu);
    expect(cpuBefore.status).toBe('refused');
    expect(cpuBefore.promptId).toBe('driver-sign-on-required');
    expect(composeRiderDisplay(fixture.shown.at(-1)!).lines.zh).toEqual(['司机未签到，暂不能刷卡']);
    const m1Before = await fixture.tap(m1);
    expect(m1Before.status).toBe('refused');
    expect(m1Before.promptId).toBe('driver-sign-on-required');
    expect(cpu.balanceFen).toBe(1000);
    expect(m1.balanceFen).toBe(1000);
    expect(fixture.store.lastSequence()).toBe(0);

    await fixture.tap(createDriverCard({ driverNumber: '8123' }));
    expect((await fixture.tap(cpu)).status).toBe('accepted');
    expect((await fixture.tap(m1)).status).toBe('accepted');
    expect(cpu.balanceFen).toBe(800);
    expect(m1.balanceFen).toBe(800);
  });

  it('keeps rider cards paying as before', async () => {
    const fixture = await createDriverFixture();
    const outcome = await fixture.tap(makeCard({ balanceFen: 1000 }));
    expect(outcome.status).toBe('accepted');
    expect(outcome.driverCard).toBeUndefined();
    expect(outcome.amountFen).toBe(200);
  });

  const hostile: { name: string; card: () => ApduCard; promptId: string; reason: RegExp }[] = [
    {
      name: 'card number with hex digits',
      card: () => withEditedEf15(createDriverCard({ driverNumber: '8123' }), (ef15) => ef15.fill(0xab, 16, 20)),
      promptId: 'driver-card-invalid',
      reason: /is not decimal/,
    },
    {
      name: 'driver number of zeros',
      card: () => withEditedEf15(createDriverCard({ driverNumber: '8123' }), (ef15) => ef15.fill(0x00, 16, 20)),
      promptId: 'driver-card-invalid',
      reason: /holds no driver number/,
    },
    {
      name: 'dates that are not BCD',
      card: () => withEditedEf15(createDriverCard({ driverNumber: '8123' }), (ef15) => ef15.fill(0xff, 20, 28)),
      promptId: 'driver-card-invalid',
      reason: /invalid validity dates/,
    },
    {
      name: 'expired card',
      card: () => createDriverCard({ driverNumber: '8123', startDate: '20150101', expiryDate: '20201231' }),
      promptId: 'card-expired',
      reason: /is valid from 20150101 to 20201231/,
    },
  ];

  for (const entry of hostile) {
    it(`rejects a driver card with ${entry.name}`, async () => {
      const fixture = await createDriverFixture();
      const outcome = await fixture.tap(entry.card());
      expect(outcome.status).toBe('refused');
      expect(outcome.promptId).toBe(entry.promptId);
      expect(outcome.reason).toMatch(entry.reason);
      expect(outcome.driverCard).toEqual({ action: 'rejected' });
      expect(fixture.shift.current()).toBeUndefined();
      expect(fixture.store.lastSequence()).toBe(0);
    });
  }

  it('keeps the open shift when a hostile card is tapped', async () => {
    const fixture = await createDriverFixture();
    await fixture.tap(createDriverCard({ driverNumber: '8123' }));
    const garbled = withEditedEf15(createDriverCard({ driverNumber: '8123' }), (ef15) => ef15.fill(0xab, 16, 20));
    const outcome = await fixture.tap(garbled);
    expect(outcome.promptId).toBe('driver-card-invalid');
    expect(fixture.shift.current()?.driverId).toBe('8123');
    fixture.clock.advance(3_000);
    expect((await fixture.tap(createDriverCard({ driverNumber: '8123' }))).driverCard?.action).toBe('sign-off-armed');
  });

  it('rejects a blacklisted driver card', async () => {
    const card = createDriverCard({ driverNumber: '8123' });
    const fixture = await createTapFixture({
      blacklist: [card.asn.slice(-16)],
      driverCards: { typeCodes: DEFAULT_DRIVER_CARD_TYPE_CODES, driverNumberDigits: 8, handler: () => ({ tapDriverCard: () => ({ status: 'accepted', promptId: 'driver-signed-on' }), acceptsRiderTaps: () => true }) },
    });
    const outcome = await fixture.tap(card);
    expect(outcome.status).toBe('refused');
    expect(outcome.promptId).toBe('card-blacklisted');
    expect(fixture.lockLog.records).toHaveLength(0);
  });
});

describe('terminal runtime driver cards', () => {
  it('takes the configured codes and the installed handler', async () => {
    const clock = new ManualClock(new Date('2026-03-02T06:00:00+08:00'));
    const shiftStore = openShiftStore();
    const reader = new InProcessCardReader();
    const store = new MemoryTransactionStore();
    const fareTable = defaultFareTable([BENCH_LOCAL_CITY_CODE]);
    const runtime = new TerminalRuntime({
      terminalId: 'T001',
      vehicleId: 'V001',
      reader,
      sam: new ApduSecureAccessModule(new PsamTransport(new SoftwarePsam({ terminalNumber: PSAM_TERMINAL_NUMBER, issuers: ALL_BENCH_ISSUERS }))),
      store,
      fareTables: { activeFareTable: () => fareTable },
      feedback: { show: () => undefined },
      clock,
      logger,
      driverCards: { typeCodes: [70], driverNumberDigits: 4 },
    });
    const shift = new DriverShift({ terminalId: 'T001', vehicleId: 'V001', store: shiftStore, clock, logger, lastSequence: () => store.lastSequence(), serviceChoices: () => [] });
    const { tap, stop } = await startRuntimeTaps(runtime, reader);
    cleanups.push(stop);

    const configured = createDriverCard({ driverNumber: '12345678', cardTypeCode: 70 });
    expect((await tap(configured)).promptId).toBe('driver-sign-on-unavailable');

    runtime.setDriverCardHandler(new DriverCardSignOn({ shift, clock, logger }));
    const signedOn = await tap(configured);
    expect(signedOn.driverCard).toEqual({ action: 'signed-on', driverId: '5678' });
    expect(shift.current()?.driverId).toBe('5678');

    // Code 10 is not a driver card under this configuration, and the fare table maps no rider type to it.
    const defaultCode = createDriverCard({ driverNumber: '4321' });
    const rider = await tap(defaultCode);
    expect(rider.driverCard).toBeUndefined();
    expect(rider.status).toBe('refused');
    expect(rider.promptId).toBe('invalid-card');
    expect(defaultCode.debits).toHaveLength(0);
    expect(store.lastSequence()).toBe(0);
  });
});
