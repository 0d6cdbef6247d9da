import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultFareTable } from '@busfare/backoffice';
import { type FareTableBody, fareTableBodySchema } from '@busfare/shared-protocol';
import { ALL_BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, InProcessCardReader, PsamTransport, SoftwarePsam, type ApduCard } from '@busfare/simulators';
import { ApduSecureAccessModule, ManualClock, SqliteTransactionStore, TapProcessor, type TapOutcome } from '@busfare/terminal';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { makeCard, makeM1Card } from './cards.js';

const STOPS = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9', 'S10', 'S11', 'S12'];
const CARD_KINDS = ['tunion-cpu', 'm1'] as const;
type CardKind = (typeof CARD_KINDS)[number];

const dirs: string[] = [];
const stores: SqliteTransactionStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Bench fare table with tap-on/tap-off route 30 both ways (S1 to S12 and back) and a 120 s repeat-tap window. */
function terminusTable(): FareTableBody {
  return fareTableBodySchema.parse({
    ...defaultFareTable([BENCH_LOCAL_CITY_CODE]),
    repeatTapWindowSeconds: 120,
    sectionRoutes: {
      '30': {
        bands: [
          { maxStops: 3, fareFen: 100 },
          { maxStops: 8, fareFen: 200 },
          { maxStops: 99, fareFen: 300 },
        ],
        stops: { '0': STOPS, '1': [...STOPS].reverse() },
        maxJourneyMinutes: 180,
      },
    },
  });
}

/** Creates a reader of bus V1 on route 30 with its own PSAM and SQLite outbox, at a stop the test sets per tap. */
async function createTerminal(options: { clock?: ManualClock; psamNumber?: string; logLines?: string[] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'busfare-terminus-'));
  dirs.push(dir);
  const store = SqliteTransactionStore.open(join(dir, 'transactions.db'), { logger: pino({ level: 'silent' }) });
  stores.push(store);
  const clock = options.clock ?? new ManualClock(new Date('2026-03-02T08:00:00+08:00'));
  const reader = new InProcessCardReader();
  await reader.start();
  const sam = new ApduSecureAccessModule(new PsamTransport(new SoftwarePsam({ terminalNumber: options.psamNumber ?? '000058100011', issuers: ALL_BENCH_ISSUERS })));
  await sam.open();
  const fareTable = terminusTable();
  const where: { route: string; direction: 0 | 1; stopId: string } = { route: '30', direction: 0, stopId: 'S1' };
  const processor = new TapProcessor({
    store,
    sam,
    fareTables: { activeFareTable: () => fareTable },
    trip: () => ({ vehicleId: 'V1', route: where.route, direction: where.direction, stopId: where.stopId }),
    clock,
    feedback: { show: () => undefined },
    logger: options.logLines ? pino({ level: 'warn' }, { write: (line: string) => options.logLines!.push(line) }) : pino({ level: 'silent' }),
  });

  /** Moves the bus, presents the card for one tap (torn at an APDU when asked), takes it away and moves the clock on. */
  async function tap(card: ApduCard, at: { direction: 0 | 1; stopId: string; route?: string }, tear?: { apduIndex: number; phase: 'before-card' | 'after-card' }, advanceMs = 5_000): Promise<TapOutcome> {
    Object.assign(where, { route: '30', ...at });
    if (tear) reader.tearAt(tear.apduIndex, tear.phase);
    else reader.cancelTear();
    const outcome = await processor.process(reader.present(card));
    reader.remove();
    clock.advance(advanceMs);
    return outcome;
  }

  return { store, clock, tap };
}

function makeCardOf(kind: CardKind): ApduCard & { balanceFen: number } {
  return kind === 'm1' ? makeM1Card() : makeCard();
}

/** The bus at S12, the last stop of direction 0, after the driver confirmed direction 1. */
const AT_TERMINUS = { direction: 1, stopId: 'S12' } as const;

describe('tap-off at the terminus after the direction switch', () => {
  for (const kind of CARD_KINDS) {
    it(`charges the journey to the terminus (${kind})`, async () => {
      const terminal = await createTerminal();
      const card = makeCardOf(kind);

      const boarding = await terminal.tap(card, { direction: 0, stopId: 'S2' }, undefined, 40 * 60_000);
      const alighting = await terminal.tap(card, AT_TERMINUS, undefined, 10_000);
      const repeat = await terminal.tap(card, AT_TERMINUS, undefined, 10 * 60_000);
      const next = await terminal.tap(card, AT_TERMINUS);

      expect(boarding.promptId).toBe('please-tap-off');
      expect(alighting).toMatchObject({ status: 'accepted', promptId: 'fare-paid', amountFen: 300 });
      expect(repeat.promptId).toBe('repeat-tap');
      // The alighting closed the boarding, so a later tap boards afresh without a missing tap-off charge.
      expect(next).toMatchObject({ status: 'accepted', promptId: 'please-tap-off', amountFen: 0 });
      expect(card.balanceFen).toBe(700);
    });

    it(`closes a boarding of the other door (${kind})`, async () => {
      const clock = new ManualClock(new Date('2026-03-02T08:00:00+08:00'));
      const front = await createTerminal({ clock, psamNumber: '000058100011' });
      const rear = await createTerminal({ clock, psamNumber: '000058100012' });
      const card = makeCardOf(kind);

      await front.tap(card, { direction: 0, stopId: 'S9' }, undefined, 20 * 60_000);
      const alighting = await rear.tap(card, AT_TERMINUS);

      expect(alighting).toMatchObject({ status: 'accepted', amountFen: 100 });
      expect(card.balanceFen).toBe(900);
    });

    it(`charges a missing tap-off one stop past the terminus (${kind})`, async () => {
      const terminal = await createTerminal();
      const card = makeCardOf(kind);

      await terminal.tap(card, { direction: 0, stopId: 'S2' }, undefined, 45 * 60_000);
      const outcome = await terminal.tap(card, { direction: 1, stopId: 'S11' });

      expect(outcome).toMatchObject({ status: 'accepted', promptId: 'missing-tap-off-charged', amountFen: 300 });
    });
  }
});

/** The bus at S12 during the layover, before the driver confirms direction 1. */
const BEFORE_SWITCH = { direction: 0, stopId: 'S12' } as const;

describe('boarding at the terminus before the direction switch', () => {
  for (const kind of CARD_KINDS) {
    it(`charges the journey in the new direction (${kind})`, async () => {
      const terminal = await createTerminal();
      const card = makeCardOf(kind);

      const boarding = await terminal.tap(card, BEFORE_SWITCH, undefined, 8 * 60_000);
      const alighting = await terminal.tap(card, { direction: 1, stopId: 'S8' }, undefined, 10 * 60_000);
      const next = await terminal.tap(card, { direction: 1, stopId: 'S8' });

      expect(boarding).toMatchObject({ status: 'accepted', promptId: 'please-tap-off', amountFen: 0 });
      // S12 to S8 in direction 1 is 4 stops, the second band.
      expect(alighting).toMatchObject({ status: 'accepted', promptId: 'fare-paid', amountFen: 200 });
      expect(next).toMatchObject({ status: 'accepted', promptId: 'please-tap-off', amountFen: 0 });
      expect(card.balanceFen).toBe(800);
    });

    it(`refuses a repeat tap after the switch (${kind})`, async () => {
      const terminal = await createTerminal();
      const card = makeCardOf(kind);

      await terminal.tap(card, BEFORE_SWITCH, undefined, 60_000);
      const repeat = await terminal.tap(card, AT_TERMINUS, undefined, 20 * 60_000);
      const alighting = await terminal.tap(card, { direction: 1, stopId: 'S2' });

      expect(repeat.promptId).toBe('repeat-tap');
      // S12 to S2 in direction 1 is 10 stops, the last band.
      expect(alighting).toMatchObject({ status: 'accepted', amountFen: 300 });
      expect(card.balanceFen).toBe(700);
    });

    it(`closes a terminus boarding at the other door (${kind})`, async () => {
      const clock = new ManualClock(new Date('2026-03-02T08:00:00+08:00'));
      const front = await createTerminal({ clock, psamNumber: '000058100011' });
      const rear = await createTerminal({ clock, psamNumber: '000058100012' });
      const card = makeCardOf(kind);

      await front.tap(card, BEFORE_SWITCH, undefined, 30 * 60_000);
      const alighting = await rear.tap(card, { direction: 1, stopId: 'S10' });

      expect(alighting).toMatchObject({ status: 'accepted', amountFen: 100 });
      expect(card.balanceFen).toBe(900);
    });

    it(`needs the longest fare of the new direction to board there (${kind})`, async () => {
      const terminal = await createTerminal();
      const card = kind === 'm1' ? makeM1Card({ balanceFen: 250 }) : makeCard({ balanceFen: 250 });

      const boarding = await terminal.tap(card, BEFORE_SWITCH);

      expect(boarding.promptId).toBe('insufficient-balance');
      expect(card.balanceFen).toBe(250);
    });
  }
});

type Stop = { direction: 0 | 1; stopId: string };

/**
 * Boards a fresh card at `boardAt`, tears its tap-off at `alightAt` at each APDU and phase in turn,
 * retries a tap that ends in tap-again or card-read-error, and checks the journey was charged exactly once.
 */
async function checkTornTapOffs(kind: CardKind, boardAt: Stop, alightAt: Stop, balanceAfterFen: number): Promise<void> {
  const probe = await createTerminal();
  const probeCard = makeCardOf(kind);
  await probe.tap(probeCard, boardAt, undefined, 20 * 60_000);
  const apdus = (await probe.tap(probeCard, alightAt)).cardApdus;
  expect(apdus).toBeGreaterThan(3);

  const terminal = await createTerminal();
  for (let apduIndex = 0; apduIndex < apdus; apduIndex += 1) {
    for (const phase of ['before-card', 'after-card'] as const) {
      const label = `${kind} torn at APDU ${apduIndex} ${phase}`;
      const card = makeCardOf(kind);
      await terminal.tap(card, boardAt, undefined, 20 * 60_000);

      let last = await terminal.tap(card, alightAt, { apduIndex, phase });
      for (let retry = 0; retry < 3 && (last.promptId === 'tap-again' || last.promptId === 'card-read-error'); retry += 1) {
        last = await terminal.tap(card, alightAt);
      }
      // Ten minutes on, past the repeat-tap window, the card boards afresh when its journey was closed.
      terminal.clock.advance(10 * 60_000);
      const next = await terminal.tap(card, alightAt);

      expect(terminal.store.listOpenInDoubt(), label).toHaveLength(0);
      expect(card.balanceFen, label).toBe(balanceAfterFen);
      expect(next, label).toMatchObject({ status: 'accepted', promptId: 'please-tap-off', amountFen: 0 });
    }
  }
}

describe('terminus tap-offs torn at each APDU', () => {
  for (const kind of CARD_KINDS) {
    it(`takes every torn terminus tap-off once (${kind})`, async () => {
      // S2 to the terminus S12 is 10 stops, the last band.
      await checkTornTapOffs(kind, { direction: 0, stopId: 'S2' }, AT_TERMINUS, 700);
    });

    it(`takes every torn tap-off after a terminus boarding once (${kind})`, async () => {
      // S12 to S8 in direction 1 is 4 stops, the second band.
      await checkTornTapOffs(kind, BEFORE_SWITCH, { direction: 1, stopId: 'S8' }, 800);
    });
  }
});

describe('boarding dated after the terminal clock', () => {
  for (const kind of CARD_KINDS) {
    it(`boards afresh without a charge (${kind})`, async () => {
      // The boarding reader's clock runs an hour ahead of this terminal's.
      const ahead = await createTerminal({ clock: new ManualClock(new Date('2026-03-02T09:00:00+08:00')), psamNumber: '000058100021' });
      const logLines: string[] = [];
      const terminal = await createTerminal({ psamNumber: '000058100022', logLines });
      const card = makeCardOf(kind);

      await ahead.tap(card, { direction: 0, stopId: 'S2' });
      const outcome = await terminal.tap(card, { direction: 0, stopId: 'S6' });

      expect(outcome).toMatchObject({ status: 'accepted', promptId: 'please-tap-off', amountFen: 0 });
      expect(card.balanceFen).toBe(1000);
      expect(logLines.join('\n')).toMatch(kind === 'm1' ? /M1 boarding record unreadable/ : /card boarding dated after the terminal's clock/);
    });

    it(`pays a flat fare without a missing tap-off (${kind})`, async () => {
      const ahead = await createTerminal({ clock: new ManualClock(new Date('2026-03-02T09:00:00+08:00')), psamNumber: '000058100021' });
      const terminal = await createTerminal({ psamNumber: '000058100022' });
      const card = makeCardOf(kind);

      await ahead.tap(card, { direction: 0, stopId: 'S2' });
      const flat = await terminal.tap(card, { direction: 0, stopId: 'S6', route: '1' }, undefined, 2 * 60 * 60_000);
      // Two hours later the boarding is no longer in the future, but the flat-fare tap has closed it.
      const later = await terminal.tap(card, { direction: 0, stopId: 'S6' });

      expect(flat).toMatchObject({ status: 'accepted', promptId: 'fare-paid', amountFen: 200 });
      expect(later).toMatchObject({ status: 'accepted', promptId: 'please-tap-off', amountFen: 0 });
      expect(card.balanceFen).toBe(800);
    });

    it(`alights a boarding within the clock drift (${kind})`, async () => {
      const ahead = await createTerminal({ clock: new ManualClock(new Date('2026-03-02T08:09:00+08:00')), psamNumber: '000058100021' });
      const terminal = await createTerminal({ psamNumber: '000058100022' });
      const card = makeCardOf(kind);

      await ahead.tap(card, { direction: 0, stopId: 'S2' });
      const outcome = await terminal.tap(card, { direction: 0, stopId: 'S6' });

      expect(outcome).toMatchObject({ status: 'accepted', amountFen: 200 });
    });
  }
});
