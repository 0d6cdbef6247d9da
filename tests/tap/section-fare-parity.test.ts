import { defaultFareTable } from '@busfare/backoffice';
import { type FareTableBody, fareTableBodySchema } from '@busfare/shared-protocol';
import { ALL_BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, InProcessCardReader, PsamTransport, SoftwarePsam, type ApduCard } from '@busfare/simulators';
import { ApduSecureAccessModule, ManualClock, MemoryTransactionStore, TapProcessor, type TapOutcome } from '@busfare/terminal';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { dryRunTaps } from '../../backoffice/src/params/dry-run.js';
import { makeCard, makeM1Card } from './cards.js';

const ROUTE_30_STOPS = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9', 'S10', 'S11', 'S12'];
const ROUTE_31_STOPS = ['T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'T8', 'T9', 'T10'];
const BANDS = [
  { maxStops: 3, fareFen: 100 },
  { maxStops: 8, fareFen: 200 },
  { maxStops: 99, fareFen: 300 },
];

/** Half fare on the first transfer within an hour, for the scenarios that ask for it. */
const TRANSFER = { windowMinutes: 60, maxTransfers: 1, cardTypes: ['ordinary', 'student'], steps: [{ ratePercent: 50 }] };

/** Builds the bench fare table with tap-on/tap-off routes 30 and 31 and a 120 s repeat-tap window. Route 1 stays flat (200 fen). */
function parityTable(missingTapOffDiscount = false, transfer = false): FareTableBody {
  return fareTableBodySchema.parse({
    ...defaultFareTable([BENCH_LOCAL_CITY_CODE]),
    repeatTapWindowSeconds: 120,
    ...(transfer ? { transfer: TRANSFER } : {}),
    sectionRoutes: {
      '30': { bands: BANDS, stops: { '0': ROUTE_30_STOPS, '1': [...ROUTE_30_STOPS].reverse() }, maxJourneyMinutes: 180, missingTapOffDiscount },
      '31': { bands: BANDS, stops: { '0': ROUTE_31_STOPS }, maxJourneyMinutes: 180, missingTapOffDiscount },
    },
  });
}

/** Readers of the test: the front and rear door of bus V1, and buses V2 and V3, each with its own PSAM and memory. */
const READERS = {
  'V1-front': { vehicleId: 'V1', psam: '000058100011' },
  'V1-rear': { vehicleId: 'V1', psam: '000058100012' },
  V2: { vehicleId: 'V2', psam: '000058100021' },
  V3: { vehicleId: 'V3', psam: '000058100031' },
} as const;
type ReaderName = keyof typeof READERS;

interface Tap {
  /** Local time in UTC+8, ISO 8601 with its offset. */
  time: string;
  reader: ReaderName;
  route: string;
  direction?: 0 | 1;
  /** Stop id; absent when the bus does not know its stop. */
  stop?: string;
}

interface Scenario {
  name: string;
  cardType: 'ordinary' | 'student';
  balanceFen: number;
  missingTapOffDiscount?: boolean;
  /** Whether the table gives the TRANSFER discount. */
  transfer?: boolean;
  taps: Tap[];
  /** fareFen and promptId of each tap, as the documented policy sets them. */
  expected: { fareFen: number; promptId: string }[];
}

const CARD_TYPE_CODE = { ordinary: 1, student: 2 } as const;

const SCENARIOS: Scenario[] = [
  {
    name: 'tap-on then tap-off pays the band',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S2' },
      { time: '2026-03-02T08:20:00+08:00', reader: 'V1-front', route: '30', stop: 'S6' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'rear-door reader closes the boarding',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S2' },
      { time: '2026-03-02T08:15:00+08:00', reader: 'V1-rear', route: '30', stop: 'S4' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 100, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'missed tap-off is charged next day on another route',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S2' },
      { time: '2026-03-03T08:00:00+08:00', reader: 'V2', route: '31', stop: 'T3' },
      { time: '2026-03-03T08:10:00+08:00', reader: 'V2', route: '31', stop: 'T5' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      // The journey from S2 to the last stop is 10 stops, in the last band. The tap also boards at T3.
      { fareFen: 300, promptId: 'missing-tap-off-charged' },
      { fareFen: 100, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'missed tap-off is charged at a flat-fare tap',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S2' },
      { time: '2026-03-02T09:00:00+08:00', reader: 'V3', route: '1' },
      { time: '2026-03-02T10:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S3' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 500, promptId: 'missing-tap-off-charged' },
      // The flat-fare tap closed the boarding on the card, so this tap boards again.
      { fareFen: 0, promptId: 'please-tap-off' },
    ],
  },
  {
    name: 'missed tap-off without the card discount',
    cardType: 'student',
    balanceFen: 1000,
    missingTapOffDiscount: false,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S2' },
      { time: '2026-03-03T08:00:00+08:00', reader: 'V2', route: '31', stop: 'T3' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 300, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'missed tap-off with the card discount',
    cardType: 'student',
    balanceFen: 1000,
    missingTapOffDiscount: true,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S2' },
      { time: '2026-03-03T08:00:00+08:00', reader: 'V2', route: '31', stop: 'T3' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 150, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'boarding left past maxJourneyMinutes',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S9' },
      { time: '2026-03-02T11:01:00+08:00', reader: 'V1-front', route: '30', stop: 'S10' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      // From S9 the longest journey is 3 stops, the first band.
      { fareFen: 100, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'repeat tap at the boarding stop',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S4' },
      { time: '2026-03-02T08:00:30+08:00', reader: 'V1-front', route: '30', stop: 'S4' },
      { time: '2026-03-02T08:00:40+08:00', reader: 'V1-rear', route: '30', stop: 'S4' },
      { time: '2026-03-02T08:10:00+08:00', reader: 'V1-rear', route: '30', stop: 'S7' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 0, promptId: 'repeat-tap' },
      { fareFen: 0, promptId: 'repeat-tap' },
      { fareFen: 100, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'student card pays its rate',
    cardType: 'student',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S1' },
      { time: '2026-03-02T08:30:00+08:00', reader: 'V1-front', route: '30', stop: 'S10' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 150, promptId: 'card-type-student' },
    ],
  },
  {
    name: 'balance below the longest journey',
    cardType: 'ordinary',
    balanceFen: 250,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S1' },
      { time: '2026-03-02T08:05:00+08:00', reader: 'V1-front', route: '30', stop: 'S10' },
      { time: '2026-03-02T08:15:00+08:00', reader: 'V1-front', route: '30', stop: 'S12' },
    ],
    expected: [
      { fareFen: 0, promptId: 'insufficient-balance' },
      // From S10 the longest journey is 2 stops (100 fen), which the balance covers.
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 100, promptId: 'low-balance' },
    ],
  },
  {
    name: 'unknown stop is refused',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'X99' },
      { time: '2026-03-02T08:05:00+08:00', reader: 'V1-front', route: '30' },
      { time: '2026-03-02T08:10:00+08:00', reader: 'V1-front', route: '30', stop: 'S3' },
    ],
    expected: [
      { fareFen: 0, promptId: 'stop-unknown' },
      { fareFen: 0, promptId: 'stop-unknown' },
      { fareFen: 0, promptId: 'please-tap-off' },
    ],
  },
  {
    name: 'tap-off at the terminus after the direction switch',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S2' },
      { time: '2026-03-02T08:40:00+08:00', reader: 'V1-front', route: '30', direction: 1, stop: 'S12' },
      { time: '2026-03-02T08:40:30+08:00', reader: 'V1-front', route: '30', direction: 1, stop: 'S12' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      // S2 to the terminus S12 is 10 stops, the last band.
      { fareFen: 300, promptId: 'fare-paid' },
      { fareFen: 0, promptId: 'repeat-tap' },
    ],
  },
  {
    name: 'rear door closes at the terminus after the switch',
    cardType: 'student',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S9' },
      { time: '2026-03-02T08:30:00+08:00', reader: 'V1-rear', route: '30', direction: 1, stop: 'S12' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      // S9 to S12 is 3 stops, the first band at the student rate.
      { fareFen: 50, promptId: 'card-type-student' },
    ],
  },
  {
    name: 'switched direction past the terminus',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S2' },
      { time: '2026-03-02T08:45:00+08:00', reader: 'V1-rear', route: '30', direction: 1, stop: 'S11' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 300, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'boarding at the terminus before the switch',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S12' },
      { time: '2026-03-02T08:20:00+08:00', reader: 'V1-front', route: '30', direction: 1, stop: 'S8' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      // S12 to S8 in direction 1 is 4 stops, the second band.
      { fareFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'repeat tap across the switch at the terminus',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S12' },
      { time: '2026-03-02T08:01:30+08:00', reader: 'V1-front', route: '30', direction: 1, stop: 'S12' },
      { time: '2026-03-02T08:01:40+08:00', reader: 'V1-rear', route: '30', direction: 1, stop: 'S12' },
      { time: '2026-03-02T08:30:00+08:00', reader: 'V1-rear', route: '30', direction: 1, stop: 'S5' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 0, promptId: 'repeat-tap' },
      { fareFen: 0, promptId: 'repeat-tap' },
      // S12 to S5 in direction 1 is 7 stops, the second band.
      { fareFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'terminus tap across the switch past the window',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S12' },
      { time: '2026-03-02T08:05:00+08:00', reader: 'V1-front', route: '30', direction: 1, stop: 'S12' },
      { time: '2026-03-02T08:20:00+08:00', reader: 'V1-front', route: '30', direction: 1, stop: 'S8' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      // A journey of no stops pays the first band and closes the boarding.
      { fareFen: 100, promptId: 'fare-paid' },
      { fareFen: 0, promptId: 'please-tap-off' },
    ],
  },
  {
    name: 'terminus boarding back in its direction after two switches',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S12' },
      // Direction 1 to S1, where the driver confirmed direction 0 again.
      { time: '2026-03-02T08:50:00+08:00', reader: 'V1-rear', route: '30', stop: 'S1' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 300, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'terminus boarding tapped on another bus',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S12' },
      // Another route's bus: the card names the route, so the terminal charges the missing tap-off too.
      { time: '2026-03-02T08:20:00+08:00', reader: 'V2', route: '31', stop: 'T3' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 300, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'terminus boarding needs the longest fare of the new direction',
    cardType: 'ordinary',
    balanceFen: 250,
    taps: [{ time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S12' }],
    expected: [{ fareFen: 0, promptId: 'insufficient-balance' }],
  },
  {
    name: 'terminus boarding a second past the journey limit',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S12' },
      { time: '2026-03-02T11:00:01+08:00', reader: 'V1-front', route: '30', direction: 1, stop: 'S8' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      // The longest journey from S12 is the whole of direction 1.
      { fareFen: 300, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'terminus boarding with the clock moved back',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S12' },
      { time: '2026-03-02T07:55:00+08:00', reader: 'V1-rear', route: '30', direction: 1, stop: 'S8' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'terminus boarding dated beyond the clock drift',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', stop: 'S12' },
      { time: '2026-03-02T07:49:00+08:00', reader: 'V1-rear', route: '30', direction: 1, stop: 'S8' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 0, promptId: 'please-tap-off' },
    ],
  },
  {
    name: 'transfer onto a terminus boarding',
    cardType: 'student',
    balanceFen: 1000,
    transfer: true,
    // The first ride is on the same reader, because a terminal learns of a transfer from its own
    // memory of the card: the card does not record the transfer ordinal.
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '1' },
      { time: '2026-03-02T08:20:00+08:00', reader: 'V1-front', route: '30', stop: 'S12' },
      { time: '2026-03-02T08:40:00+08:00', reader: 'V1-front', route: '30', direction: 1, stop: 'S8' },
    ],
    expected: [
      { fareFen: 100, promptId: 'card-type-student' },
      { fareFen: 0, promptId: 'please-tap-off' },
      // S12 to S8 is 200 fen, 100 at the student rate, 50 on the first transfer.
      { fareFen: 50, promptId: 'transfer' },
    ],
  },
  {
    name: 'direction 1 counts stops its own way',
    cardType: 'ordinary',
    balanceFen: 1000,
    taps: [
      { time: '2026-03-02T08:00:00+08:00', reader: 'V1-front', route: '30', direction: 1, stop: 'S12' },
      { time: '2026-03-02T08:20:00+08:00', reader: 'V1-front', route: '30', direction: 1, stop: 'S8' },
    ],
    expected: [
      { fareFen: 0, promptId: 'please-tap-off' },
      { fareFen: 200, promptId: 'fare-paid' },
    ],
  },
];

/** Readers sharing one clock, each with its own PSAM, outbox and memory of recent taps, on a trip the test sets per tap. */
async function createReaders(fareTable: FareTableBody) {
  const clock = new ManualClock(new Date('2026-03-02T08:00:00+08:00'));
  const where: { route: string; direction: 0 | 1; stopId?: string } = { route: '30', direction: 0 };
  const terminals = new Map<ReaderName, { reader: InProcessCardReader; processor: TapProcessor }>();
  for (const [name, setup] of Object.entries(READERS) as [ReaderName, (typeof READERS)[ReaderName]][]) {
    const reader = new InProcessCardReader();
    await reader.start();
    const sam = new ApduSecureAccessModule(new PsamTransport(new SoftwarePsam({ terminalNumber: setup.psam, issuers: ALL_BENCH_ISSUERS })));
    await sam.open();
    const processor = new TapProcessor({
      store: new MemoryTransactionStore(),
      sam,
      fareTables: { activeFareTable: () => fareTable },
      trip: () => ({ vehicleId: setup.vehicleId, route: where.route, direction: where.direction, stopId: where.stopId }),
      clock,
      feedback: { show: () => undefined },
      logger: pino({ level: 'silent' }),
    });
    terminals.set(name, { reader, processor });
  }

  async function tap(card: ApduCard, step: Tap): Promise<TapOutcome> {
    clock.setWall(new Date(step.time));
    where.route = step.route;
    where.direction = step.direction ?? 0;
    where.stopId = step.stop;
    const terminal = terminals.get(step.reader)!;
    const outcome = await terminal.processor.process(terminal.reader.present(card));
    terminal.reader.remove();
    return outcome;
  }

  return { tap };
}

/** Runs the taps through the back office's dry-run and returns fareFen and promptId of each. */
function dryRun(scenario: Scenario, fareTable: FareTableBody): { fareFen: number; promptId: string }[] {
  const rows = scenario.taps.map((step, index) =>
    [step.time, READERS[step.reader].vehicleId, '3104000000000001', scenario.cardType, index === 0 ? scenario.balanceFen : '', step.route, step.direction ?? 0, step.stop ?? '', 'single'].join(','),
  );
  const csv = ['time,vehicle,cardNumber,cardType,balanceFen,route,direction,stop,tapKind', ...rows].join('\n');
  const output = dryRunTaps(fareTable, csv).trim().split('\n').slice(1);
  // The first nine columns and fareFen, balanceAfterFen and promptId never contain commas; the reason comes last.
  return output.map((line) => {
    const fields = line.split(',');
    return { fareFen: Number(fields[9]), promptId: fields[11]! };
  });
}

describe('section fares at the terminal and in the dry-run', () => {
  for (const scenario of SCENARIOS) {
    for (const cardKind of ['tunion-cpu', 'm1'] as const) {
      it(`${scenario.name} (${cardKind})`, async () => {
        const fareTable = parityTable(scenario.missingTapOffDiscount, scenario.transfer);
        const readers = await createReaders(fareTable);
        const options = { balanceFen: scenario.balanceFen, cardTypeCode: CARD_TYPE_CODE[scenario.cardType] };
        const card = cardKind === 'm1' ? makeM1Card(options) : makeCard(options);

        const terminal: { fareFen: number; promptId: string }[] = [];
        for (const step of scenario.taps) {
          const outcome = await readers.tap(card, step);
          terminal.push({ fareFen: outcome.status === 'accepted' ? (outcome.amountFen ?? 0) : 0, promptId: outcome.promptId });
        }
        const dryRunFares = dryRun(scenario, fareTable);

        expect(dryRunFares, 'dry-run').toEqual(scenario.expected);
        expect(terminal, 'terminal').toEqual(dryRunFares);
        const charged = terminal.reduce((sum, entry) => sum + entry.fareFen, 0);
        expect(card.balanceFen, 'card balance').toBe(scenario.balanceFen - charged);
      });
    }
  }
});
