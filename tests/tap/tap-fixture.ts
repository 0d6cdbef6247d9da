import {
  ApduSecureAccessModule,
  ManualClock,
  MemoryCardLockLog,
  MemoryTransactionStore,
  TapProcessor,
  type DriverCardPolicy,
  type TapOutcome,
  type TerminalRuntime,
  type RiderFeedbackMessage,
  type TransactionStore,
} from '@busfare/terminal';
import { defaultFareTable } from '@busfare/backoffice';
import type { FareTableBody, TransactionRecord } from '@busfare/shared-protocol';
import { ALL_BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, InProcessCardReader, PsamTransport, SoftwarePsam, type ApduCard } from '@busfare/simulators';
import pino from 'pino';

export const PSAM_TERMINAL_NUMBER = '000058100001';

/** A terminal's tap path wired to an in-process reader, a software PSAM and a memory outbox. */
export async function createTapFixture(
  options: { store?: TransactionStore; clock?: ManualClock; psamNumber?: string; fareTable?: FareTableBody; blacklist?: string[]; preferredApplication?: 'tunion' | 'mohurd'; route?: string; stopId?: string; driverCards?: DriverCardPolicy } = {},
) {
  const clock = options.clock ?? new ManualClock(new Date('2026-03-02T08:00:00+08:00'));
  const store = options.store ?? new MemoryTransactionStore();
  const reader = new InProcessCardReader();
  await reader.start();
  const psam = new SoftwarePsam({
    terminalNumber: options.psamNumber ?? PSAM_TERMINAL_NUMBER,
    issuers: ALL_BENCH_ISSUERS,
  });
  const sam = new ApduSecureAccessModule(new PsamTransport(psam));
  await sam.open();
  const shown: RiderFeedbackMessage[] = [];
  const fareTable = options.fareTable ?? defaultFareTable([BENCH_LOCAL_CITY_CODE]);
  const lockLog = new MemoryCardLockLog();
  const blacklist = new Set(options.blacklist ?? []);
  const processor = new TapProcessor({
    store,
    sam,
    fareTables: { activeFareTable: () => fareTable },
    trip: () => ({ vehicleId: 'V001', route: options.route ?? '1', direction: 0, ...(options.stopId === undefined ? {} : { stopId: options.stopId }) }),
    blacklist: { has: (asn8) => blacklist.has(asn8) },
    lockLog,
    preferredApplication: options.preferredApplication,
    driverCards: options.driverCards,
    clock,
    feedback: { show: (message) => shown.push(message) },
    logger: pino({ level: 'silent' }),
  });

  /** Presents a card, runs one tap, takes the card away. */
  async function tap(card: ApduCard, tear?: { apduIndex: number; phase: 'before-card' | 'after-card' }) {
    if (tear) reader.tearAt(tear.apduIndex, tear.phase);
    else reader.cancelTear();
    const session = reader.present(card);
    const outcome = await processor.process(session);
    reader.remove();
    clock.advance(60_000);
    return outcome;
  }

  /** The money record (purchase, in-doubt or resolution) with this sequence; throws for a lock record or none. */
  function moneyRecord(sequence: number): TransactionRecord {
    const record = store.get(sequence)?.record;
    if (record === undefined || record.kind === 'lock') throw new Error(`no money record with sequence ${sequence}`);
    return record;
  }

  return { clock, store, reader, psam, sam, processor, shown, fareTable, lockLog, tap, moneyRecord };
}

/**
 * Starts a runtime, which the caller stops with the returned `stop`, and returns `tap`: it
 * presents a card on the runtime's in-process reader, waits until the runtime has processed it,
 * takes the card away and returns the tap's outcome.
 */
export async function startRuntimeTaps(runtime: TerminalRuntime, reader: InProcessCardReader) {
  const outcomes: TapOutcome[] = [];
  runtime.on('tap', (outcome) => outcomes.push(outcome));
  await runtime.start();

  async function tap(card: ApduCard): Promise<TapOutcome> {
    reader.present(card);
    await new Promise((resolve) => setImmediate(resolve));
    await runtime.idle();
    reader.remove();
    return outcomes.at(-1)!;
  }
  return { tap, stop: () => runtime.stop() };
}
