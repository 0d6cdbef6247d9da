import {
  ApduSecureAccessModule,
  ManualClock,
  MemoryTransactionStore,
  TapProcessor,
  type RiderFeedbackMessage,
  type TransactionStore,
} from '@busfare/terminal';
import { defaultFareTable } from '@busfare/backoffice';
import { ALL_BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, InProcessCardReader, PsamTransport, SoftwarePsam, type ApduCard } from '@busfare/simulators';
import pino from 'pino';

export const PSAM_TERMINAL_NUMBER = '000058100001';

/** A terminal's tap path wired to an in-process reader, a software PSAM and a memory outbox. */
export async function createTapFixture(options: { store?: TransactionStore; clock?: ManualClock; psamNumber?: string } = {}) {
  const clock = options.clock ?? new ManualClock(new Date('2026-03-02T08:00:00+08:00'));
  const store = options.store ?? new MemoryTransactionStore();
  const reader = new InProcessCardReader();
  await reader.start();
  const psam = new SoftwarePsam({
    terminalNumber: options.psamNumber ?? PSAM_TERMINAL_NUMBER,
    issuers: ALL_BENCH_ISSUERS.map((issuer) => ({ issuerId: issuer.issuerId, purchaseMasterKey: issuer.purchaseMasterKey })),
  });
  const sam = new ApduSecureAccessModule(new PsamTransport(psam));
  await sam.open();
  const shown: RiderFeedbackMessage[] = [];
  const fareTable = defaultFareTable([BENCH_LOCAL_CITY_CODE]);
  const processor = new TapProcessor({
    store,
    sam,
    fareTables: { activeFareTable: () => fareTable },
    trip: () => ({ vehicleId: 'V001', route: '1', direction: 0 }),
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

  return { clock, store, reader, psam, sam, processor, shown, fareTable, tap };
}
