import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKeyStore, TacVerifier, defaultFareTable } from '@busfare/backoffice';
import { type FareTableBody, type TransactionRecord, fareTableBodySchema, fromHex } from '@busfare/shared-protocol';
import {
  ApduSecureAccessModule,
  ManualClock,
  SqliteTransactionStore,
  TapProcessor,
  type Logger,
  type TapOutcome,
} from '@busfare/terminal';
import { SeededRandom } from '../cards/seeded-random.js';
import { VirtualM1Card } from '../cards/virtual-m1-card.js';
import { ALL_BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, backofficeTacKeyTable } from '../keys/test-keys.js';
import { backofficeM1KeyRow } from '../psam/m1-keys.js';
import { PsamTransport } from '../psam/psam-transport.js';
import { SoftwarePsam } from '../psam/software-psam.js';
import { InProcessCardReader, type TearPhase } from '../reader/in-process-reader.js';
import { type BenchReport, type CardDebit, type ClearedRecordKey, computeLedgerReport } from './bench-report.js';
import { SWEEP_CARD_BALANCE_FEN, SWEEP_CARD_KINDS, type SweepCard, type SweepCardKind, createSweepCard, initialBalanceOf, preferredApplicationOf } from './tearing-cards.js';

export const SWEEP_TERMINAL_ID = 'T-SWEEP';
/** The tap-on/tap-off route of the composite rounds. */
const SECTION_ROUTE = '9';

/** What the rider does after the torn tap. */
export type FollowUp = 'same-card' | 'other-card' | 'torn-again';
const FOLLOW_UPS: readonly FollowUp[] = ['same-card', 'other-card', 'torn-again'];

export interface TearingSweepOptions {
  /**
   * Rounds over every card kind, APDU and phase. Odd rounds use the tap-on/tap-off route, where
   * both the boarding and the alighting tap are torn at every APDU.
   */
  rounds: number;
  kinds?: readonly SweepCardKind[];
  seed?: number;
  logger: Logger;
  /** Folder for the terminal's SQLite outbox (default: a temporary folder, removed afterwards). */
  dataDir?: string;
  onProgress?: (line: string) => void;
}

export interface TearingReport extends BenchReport {
  tornTaps: number;
  recoveredByProof: number;
  doubleDebits: number;
  unrecordedDebits: number;
  /** Scenarios whose torn card ended without paying for the ride (or, on a boarding, without an open boarding). */
  unpaidRides: number;
  /** Scenarios whose M1 card paid a fare but still has an open boarding, which a later tap would charge again. */
  boardingsLeftOpen: number;
  scenarios: number;
  mode: 'in-process';
}

/** A terminal's tap path with an in-process reader, a software PSAM and a SQLite outbox. */
interface SweepTerminal {
  reader: InProcessCardReader;
  store: SqliteTransactionStore;
  clock: ManualClock;
  processors: Record<'tunion' | 'mohurd', TapProcessor>;
}

/** Stop ids of route 9 in direction 0, S0 to S29; terminals find the stop by its index on this list. */
export const SECTION_ROUTE_STOPS: readonly string[] = Array.from({ length: 30 }, (_, index) => `S${index}`);

/** Fare table of the composite rounds: the bench table with route 9 as a tap-on/tap-off route. */
export function sectionFareTable(): FareTableBody {
  const table = defaultFareTable([BENCH_LOCAL_CITY_CODE]);
  return fareTableBodySchema.parse({
    ...table,
    sectionRoutes: { [SECTION_ROUTE]: { bands: [{ maxStops: 5, fareFen: 100 }, { maxStops: 60, fareFen: 300 }], stops: { '0': [...SECTION_ROUTE_STOPS] }, maxJourneyMinutes: 240 } },
  });
}

async function createTerminal(dataDir: string, logger: Logger, route: () => string): Promise<SweepTerminal> {
  const clock = new ManualClock(new Date('2026-03-02T08:00:00+08:00'));
  const reader = new InProcessCardReader({ name: 'sweep reader' });
  const store = SqliteTransactionStore.open(join(dataDir, 'sweep-transactions.db'), { logger });
  const psam = new SoftwarePsam({ terminalNumber: '000058109901', issuers: ALL_BENCH_ISSUERS });
  const sam = new ApduSecureAccessModule(new PsamTransport(psam));
  const flat = defaultFareTable([BENCH_LOCAL_CITY_CODE]);
  const section = sectionFareTable();
  const processor = (preferredApplication: 'tunion' | 'mohurd') =>
    new TapProcessor({
      store,
      sam,
      fareTables: { activeFareTable: () => (route() === SECTION_ROUTE ? section : flat) },
      trip: () => ({ vehicleId: 'V-SWEEP', route: route(), direction: 0 }),
      clock,
      feedback: { show: () => undefined },
      logger,
      preferredApplication,
      stopIndex: () => Math.floor(clock.now().getTime() / 60_000) % 20,
    });
  await sam.open();
  return { reader, store, clock, processors: { tunion: processor('tunion'), mohurd: processor('mohurd') } };
}

/**
 * Tears the card away at every APDU of the purchase, before and after the card processed it, for
 * every card kind, then lets the rider tap again with the same card, tap another card first, or
 * be torn a second time at a random APDU of the retry and then tap again. Accounting follows the
 * bench report: the terminal's records stand for the back office's cleared records (each TAC is
 * checked with the back office's verifier), against each virtual card's own debits.
 */
export async function runTearingSweep(options: TearingSweepOptions): Promise<TearingReport> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'busfare-tearing-'));
  const removeDir = options.dataDir === undefined;
  let route = '1';
  // Torn taps are the point of the sweep, so their per-tap warnings stay out of the log.
  const terminal = await createTerminal(dataDir, options.logger.child({}, { level: 'error' }), () => route);
  await terminal.reader.start();
  const random = new SeededRandom(options.seed ?? 2026);
  const kinds = options.kinds ?? SWEEP_CARD_KINDS;
  const taps: { terminalId: string; outcome: TapOutcome }[] = [];
  const cards: SweepCard[] = [];
  let serial = 0;
  let tornTaps = 0;
  let doubleDebits = 0;
  let unpaidRides = 0;
  let boardingsLeftOpen = 0;
  let scenarios = 0;

  const tap = async (card: SweepCard, kind: SweepCardKind, tear?: { apduIndex: number; phase: TearPhase }) => {
    const { reader, clock } = terminal;
    if (tear) reader.tearAt(tear.apduIndex, tear.phase);
    else reader.cancelTear();
    const session = reader.present(card);
    const outcome = await terminal.processors[preferredApplicationOf(kind)].process(session);
    const torn = reader.currentSession !== session;
    reader.remove();
    clock.advance(60_000);
    taps.push({ terminalId: SWEEP_TERMINAL_ID, outcome });
    return { outcome, torn };
  };
  const fresh = (kind: SweepCardKind) => {
    serial += 1;
    const card = createSweepCard(kind, serial);
    cards.push(card);
    return card;
  };

  try {
    for (let round = 0; round < options.rounds; round += 1) {
      route = round % 2 === 1 ? SECTION_ROUTE : '1';
      for (const kind of kinds) {
        // Clean taps of a fresh card show how many card APDUs this kind's purchase takes: the
        // boarding and the alighting on the tap-on/tap-off route, the one purchase elsewhere.
        const probe = fresh(kind);
        const boardingApdus = route === SECTION_ROUTE ? (await tap(probe, kind)).outcome.cardApdus : 0;
        const apdus = Math.max(boardingApdus, (await tap(probe, kind)).outcome.cardApdus);
        const journeys = route === SECTION_ROUTE ? (['boarding', 'alighting'] as const) : (['single'] as const);
        for (const journey of journeys) {
          for (let apduIndex = 0; apduIndex < apdus; apduIndex += 1) {
            // The card tapped in between, fresh for each APDU so that its balance never runs out.
            const other = fresh(kind);
            for (const phase of ['before-card', 'after-card'] as const) {
              for (const followUp of FOLLOW_UPS) {
                const card = fresh(kind);
                if (journey === 'alighting') await tap(card, kind);
                const before = card.debits.length;
                let last = await tap(card, kind, { apduIndex, phase });
                if (last.torn) tornTaps += 1;
                if (followUp === 'other-card') await tap(other, kind);
                if (followUp === 'torn-again' && asksAgain(last.outcome)) {
                  const again = { apduIndex: random.integer(0, apdus - 1), phase: random.next() < 0.5 ? ('before-card' as const) : ('after-card' as const) };
                  last = await tap(card, kind, again);
                  if (last.torn) tornTaps += 1;
                }
                // The rider taps again only when the reader prompts for it, as a rider at the door does.
                for (let retry = 0; retry < 3 && asksAgain(last.outcome); retry += 1) last = await tap(card, kind);
                const verdict = judgeScenario(card, journey, card.debits.length - before);
                doubleDebits += verdict.doubleDebits;
                if (verdict.unpaid) unpaidRides += 1;
                if (verdict.boardingLeftOpen) boardingsLeftOpen += 1;
                scenarios += 1;
              }
            }
          }
        }
      }
      options.onProgress?.(`round ${round + 1}/${options.rounds}: ${tornTaps} torn taps, ${doubleDebits} double debits`);
    }
    // The last taps leave no record open; any that is still open would count as inDoubtOpen.
    return buildTearingReport({ taps, cards, store: terminal.store, tornTaps, doubleDebits, unpaidRides, boardingsLeftOpen, scenarios });
  } finally {
    await terminal.reader.stop();
    terminal.store.close();
    if (removeDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

interface ScenarioVerdict {
  doubleDebits: number;
  unpaid: boolean;
  boardingLeftOpen: boolean;
}

/**
 * Judges one scenario from the card's own debits. A CPU card books every purchase, a zero-amount
 * boarding included, so one debit is the right count. An M1 purse books only value decrements, so
 * its boarding counts by the open boarding record. A boarding scenario ends boarded without a
 * debit. It may instead end with one debit and the boarding closed, when the retry found the torn
 * boarding already taken and so alighted. An alighting scenario ends with one debit and the
 * boarding closed.
 */
function judgeScenario(card: SweepCard, journey: 'single' | 'boarding' | 'alighting', debits: number): ScenarioVerdict {
  const doubleDebits = Math.max(0, debits - 1);
  if (!(card instanceof VirtualM1Card) || journey === 'single') return { doubleDebits, unpaid: debits === 0, boardingLeftOpen: false };
  const open = card.hasOpenBoarding;
  if (journey === 'boarding') return { doubleDebits, unpaid: debits === 0 && !open, boardingLeftOpen: debits > 0 && open };
  return { doubleDebits, unpaid: debits === 0, boardingLeftOpen: open };
}

function asksAgain(outcome: TapOutcome): boolean {
  return outcome.promptId === 'tap-again' || outcome.promptId === 'card-read-error';
}

interface ReportInputs {
  taps: { terminalId: string; outcome: TapOutcome }[];
  cards: SweepCard[];
  store: SqliteTransactionStore;
  tornTaps: number;
  doubleDebits: number;
  unpaidRides: number;
  boardingsLeftOpen: number;
  scenarios: number;
}

function buildTearingReport(inputs: ReportInputs): TearingReport {
  const verifier = new TacVerifier({
    keys: new MemoryKeyStore([...backofficeTacKeyTable(), backofficeM1KeyRow()].map((row) => ({ issuerId: row.issuerId, algorithm: row.algorithm, tacMasterKey: fromHex(row.tacMasterKeyHex), test: true }))),
    localIssuerPrefixes: [BENCH_LOCAL_CITY_CODE],
  });
  const records = inputs.store.readReady(0, Number.MAX_SAFE_INTEGER);
  const cleared: ClearedRecordKey[] = [];
  let rejected = 0;
  const clear = (record: TransactionRecord) => {
    const check = verifier.verify(record);
    if (check.outcome === 'failed') {
      rejected += 1;
      return;
    }
    cleared.push({ terminalId: SWEEP_TERMINAL_ID, sequence: record.sequence, asn: record.card.asn, cardCounter: record.debit.cardCounter, amountFen: record.debit.amountFen });
  };
  for (const record of records) {
    if (record.kind === 'purchase') clear(record);
    if (record.kind === 'resolution' && record.outcome === 'debited') clear(record);
  }
  const cardDebits: CardDebit[] = inputs.cards.flatMap((card) => card.debits.map((debit) => ({ asn: debit.asn, counter: debit.counter, amountFen: debit.amountFen })));
  const clearedKeys = new Set(cleared.map((record) => `${record.asn}#${record.cardCounter}`));
  const unrecordedDebits = cardDebits.filter((debit) => !clearedKeys.has(`${debit.asn}#${debit.counter}`)).length;
  const base = computeLedgerReport({
    taps: inputs.taps,
    cleared,
    cardDebits,
    cardBalanceDecreaseFen: inputs.cards.reduce((sum, card) => sum + initialBalanceOf(card, SWEEP_CARD_BALANCE_FEN) - card.balanceFen, 0),
    recordsRejectedAtIngest: rejected,
    inDoubtOpen: inputs.store.listOpenInDoubt().length,
  });
  return {
    ...base,
    tornTaps: inputs.tornTaps,
    recoveredByProof: inputs.taps.filter((tap) => tap.outcome.status === 'recovered').length,
    doubleDebits: inputs.doubleDebits + (base.duplicates as number),
    unrecordedDebits,
    unpaidRides: inputs.unpaidRides,
    boardingsLeftOpen: inputs.boardingsLeftOpen,
    scenarios: inputs.scenarios,
    mode: 'in-process',
  };
}
