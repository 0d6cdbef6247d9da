import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKeyStore, SqliteCloneFlagStore, TacVerifier } from '@busfare/backoffice';
import { M1_LAYOUT, TRANSACTION_TYPE, encodeM1Boarding, fareTableBodySchema, fromHex, type FareTableBody, type M1Boarding, type TransactionRecord } from '@busfare/shared-protocol';
import {
  ALL_BENCH_ISSUERS,
  BENCH_LOCAL_CITY_CODE,
  InProcessCardReader,
  PsamTransport,
  SoftwarePsam,
  backofficeM1KeyRow,
  createSweepCard,
  sectionFareTable,
  type ApduCard,
  type VirtualM1Card,
} from '@busfare/simulators';
import { ApduSecureAccessModule, ManualClock, SqliteTransactionStore, TapProcessor, type TapOutcome } from '@busfare/terminal';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { makeM1Card } from './cards.js';

const [FIRST_BLOCK, SECOND_BLOCK] = M1_LAYOUT.boardingBlocks;
const PSAM_NUMBER = '000058100001';
const dirs: string[] = [];
const stores: SqliteTransactionStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Creates a terminal on tap-on/tap-off route 9 whose current stop index the test sets, with a SQLite outbox in a temporary folder. */
async function createSectionTerminal(options: { fareTable?: FareTableBody; psamNumber?: string; store?: SqliteTransactionStore; clock?: ManualClock } = {}) {
  let dir: string | undefined;
  if (!options.store) {
    dir = mkdtempSync(join(tmpdir(), 'busfare-m1-boarding-'));
    dirs.push(dir);
  }
  const store = options.store ?? SqliteTransactionStore.open(join(dir!, 'transactions.db'), { logger: pino({ level: 'silent' }) });
  if (!options.store) stores.push(store);
  const clock = options.clock ?? new ManualClock(new Date('2026-03-02T08:00:00+08:00'));
  const reader = new InProcessCardReader();
  await reader.start();
  const sam = new ApduSecureAccessModule(new PsamTransport(new SoftwarePsam({ terminalNumber: options.psamNumber ?? PSAM_NUMBER, issuers: ALL_BENCH_ISSUERS })));
  await sam.open();
  const fareTable = options.fareTable ?? sectionFareTable();
  const where = { stopIndex: 0 as number | undefined, route: '9' };
  const processor = new TapProcessor({
    store,
    sam,
    fareTables: { activeFareTable: () => fareTable },
    trip: () => ({ vehicleId: 'V009', route: where.route, direction: 0 }),
    clock,
    feedback: { show: () => undefined },
    logger: pino({ level: 'silent' }),
    stopIndex: () => where.stopIndex,
  });

  /** Presents a card at the given stop index, runs one tap, takes the card away and moves the clock on. */
  async function tap(card: ApduCard, stopIndex: number | undefined, tear?: { apduIndex: number; phase: 'before-card' | 'after-card' }, advanceMs = 60_000): Promise<TapOutcome> {
    where.stopIndex = stopIndex;
    if (tear) reader.tearAt(tear.apduIndex, tear.phase);
    else reader.cancelTear();
    const session = reader.present(card);
    const outcome = await processor.process(session);
    reader.remove();
    clock.advance(advanceMs);
    return outcome;
  }

  function record(sequence: number): TransactionRecord {
    const stored = store.get(sequence)?.record;
    if (!stored || stored.kind === 'lock') throw new Error(`no money record with sequence ${sequence}`);
    return stored;
  }

  return { store, clock, where, tap, record };
}

function verifier(): TacVerifier {
  const row = backofficeM1KeyRow();
  return new TacVerifier({ keys: new MemoryKeyStore([{ issuerId: row.issuerId, algorithm: 'des', tacMasterKey: fromHex(row.tacMasterKeyHex), test: true }]), localIssuerPrefixes: [BENCH_LOCAL_CITY_CODE] });
}

function boardingOf(card: VirtualM1Card): M1Boarding {
  const read = card.boardingRecord;
  if (read.kind !== 'boarding') throw new Error(`expected a boarding record, found ${read.kind}`);
  return read.boarding;
}

/** Card APDUs of a clean tap of this journey, counted on a fresh card. */
async function cleanTapApdus(journey: 'boarding' | 'alighting'): Promise<number> {
  const terminal = await createSectionTerminal();
  const card = makeM1Card();
  const boarding = await terminal.tap(card, 2);
  if (journey === 'boarding') return boarding.cardApdus;
  return (await terminal.tap(card, 5)).cardApdus;
}

describe('M1 tap-on/tap-off', () => {
  it('boards with a zero-amount record and charges the distance at tap-off', async () => {
    const terminal = await createSectionTerminal();
    const card = makeM1Card();

    const boarding = await terminal.tap(card, 2);
    expect(boarding.status).toBe('accepted');
    expect(boarding.promptId).toBe('please-tap-off');
    expect(boarding.amountFen).toBe(0);
    expect(card.balanceFen).toBe(1000);
    expect(card.hasOpenBoarding).toBe(true);
    expect(boardingOf(card)).toMatchObject({ routeCode: '00000009', direction: 0, stopIndex: 2, boardingCounter: 1, terminalTail: '0001', boardingChargeFen: 0, longestFareFen: 300, open: true });

    const alighting = await terminal.tap(card, 5);
    expect(alighting.status).toBe('accepted');
    expect(alighting.amountFen).toBe(100);
    expect(card.balanceFen).toBe(900);
    expect(card.debits).toEqual([{ asn: card.asn, counter: 1, amountFen: 100 }]);
    expect(card.hasOpenBoarding).toBe(false);
    // The raised purse counter closes the boarding; the record stays as the boarding wrote it.
    expect(card.purseInfo.counter).toBe(2);
    expect(boardingOf(card)).toMatchObject({ boardingCounter: 1, open: true });

    const records = [boarding, alighting].map((outcome) => terminal.record(outcome.sequence!));
    expect(records.map((entry) => entry.debit.transactionType)).toEqual([TRANSACTION_TYPE.compositePurchase, TRANSACTION_TYPE.compositePurchase]);
    expect(records.map((entry) => entry.debit.amountFen)).toEqual([0, 100]);
    for (const entry of records) expect(verifier().verify(entry)).toEqual({ outcome: 'verified' });
    const alightingRecord = records[1]!;
    for (const transactionType of [TRANSACTION_TYPE.purchase, TRANSACTION_TYPE.load]) {
      const retyped = { ...alightingRecord, debit: { ...alightingRecord.debit, transactionType } } as TransactionRecord;
      expect(verifier().verify(retyped).outcome, `type ${transactionType}`).toBe('failed');
    }
  });

  it('raises no clone flag over a boarding and its alighting', async () => {
    const terminal = await createSectionTerminal();
    const card = makeM1Card();
    const taps = [await terminal.tap(card, 2), await terminal.tap(card, 4)];
    const dir = mkdtempSync(join(tmpdir(), 'busfare-m1-clone-'));
    dirs.push(dir);
    const clones = SqliteCloneFlagStore.open(join(dir, 'clearing.db'));

    const flags = taps.flatMap((outcome) => clones.observe('T-SECTION', terminal.record(outcome.sequence!), '2026-03-02T08:05:00Z'));

    expect(flags).toEqual([]);
    clones.close();
  });

  it('charges the longer band for a longer journey', async () => {
    const terminal = await createSectionTerminal();
    const card = makeM1Card();
    await terminal.tap(card, 1);

    const alighting = await terminal.tap(card, 12);

    expect(alighting.amountFen).toBe(300);
    expect(card.balanceFen).toBe(700);
  });

  it('refuses a boarding below the longest fare', async () => {
    const terminal = await createSectionTerminal();
    const card = makeM1Card({ balanceFen: 250 });

    const outcome = await terminal.tap(card, 2);

    expect(outcome.status).toBe('refused');
    expect(outcome.promptId).toBe('insufficient-balance');
    expect(card.boardingRecord.kind).toBe('empty');
    expect(terminal.store.lastSequence()).toBe(0);
  });

  it('charges a missed tap-off as CPU cards do', async () => {
    const terminal = await createSectionTerminal();
    const m1 = makeM1Card();
    const cpu = createSweepCard('tunion-cpu', 9_101);
    const outcomes: Record<'m1' | 'cpu', TapOutcome[]> = { m1: [], cpu: [] };
    for (const [name, card] of [['m1', m1], ['cpu', cpu]] as const) {
      outcomes[name].push(await terminal.tap(card, 2));
      // Past the route's 240-minute journey limit the boarding is a missing tap-off.
      terminal.clock.advance(241 * 60_000);
      outcomes[name].push(await terminal.tap(card, 8));
    }

    const summary = (list: TapOutcome[]) => list.map((outcome) => ({ status: outcome.status, promptId: outcome.promptId, amountFen: outcome.amountFen }));
    expect(summary(outcomes.m1)).toEqual(summary(outcomes.cpu));
    // The longest journey from stop 2 (27 stops) pays the last band; the tap boards again at stop 8.
    expect(summary(outcomes.m1)[1]).toEqual({ status: 'accepted', promptId: 'missing-tap-off-charged', amountFen: 300 });
    expect(m1.balanceFen).toBe(700);
    expect(boardingOf(m1)).toMatchObject({ stopIndex: 8, boardingCounter: 2, open: true });
  });

  it('refuses a repeated boarding tap inside the repeat window', async () => {
    const fareTable = fareTableBodySchema.parse({ ...sectionFareTable(), repeatTapWindowSeconds: 120 });
    const terminal = await createSectionTerminal({ fareTable });
    const card = makeM1Card();
    await terminal.tap(card, 4, undefined, 30_000);

    const again = await terminal.tap(card, 4);

    expect(again.status).toBe('refused');
    expect(again.promptId).toBe('repeat-tap');
    expect(card.debits).toHaveLength(0);
    expect(card.hasOpenBoarding).toBe(true);
    expect(boardingOf(card).boardingCounter).toBe(1);
    const alighting = await terminal.tap(card, 7);
    expect(alighting.amountFen).toBe(100);
    expect(card.hasOpenBoarding).toBe(false);
  });

  it('charges the first band for a re-tap outside the repeat window', async () => {
    const fareTable = fareTableBodySchema.parse({ ...sectionFareTable(), repeatTapWindowSeconds: 20 });
    const terminal = await createSectionTerminal({ fareTable });
    const card = makeM1Card();
    await terminal.tap(card, 4, undefined, 30_000);

    const again = await terminal.tap(card, 4);

    expect(again.status).toBe('accepted');
    expect(again.amountFen).toBe(100);
  });

  it('keeps one boarding when its counter write is torn', async () => {
    const fareTable = fareTableBodySchema.parse({ ...sectionFareTable(), repeatTapWindowSeconds: 120 });
    // A zero-amount boarding has no process flag: the information block write that raises the counter commits it.
    const counterWrite = await findApdu(async (apduIndex) => {
      const probe = await createSectionTerminal();
      const probeCard = makeM1Card();
      await probe.tap(probeCard, 2, { apduIndex, phase: 'after-card' });
      return probeCard.purseInfo.counter === 1;
    });
    const terminal = await createSectionTerminal({ fareTable });
    const card = makeM1Card();

    const torn = await terminal.tap(card, 2, { apduIndex: counterWrite, phase: 'after-card' }, 5_000);
    expect(torn.status).toBe('in-doubt');
    expect(torn.promptId).toBe('tap-again');
    expect(card.purseInfo.processFlag).toBe(0);
    // The counter was raised, so the boarding counts and the re-tap settles its record.
    const again = await terminal.tap(card, 2);

    expect(again.status).toBe('recovered');
    expect(again.promptId).toBe('trip-recovered');
    expect(card.hasOpenBoarding).toBe(true);
    expect(card.debits).toHaveLength(0);
    expect(terminal.store.listOpenInDoubt()).toHaveLength(0);
    const alighting = await terminal.tap(card, 5);
    expect(alighting.amountFen).toBe(100);
    expect(card.balanceFen).toBe(900);
  });

  it('boards afresh when the counter write of a boarding never reached the card', async () => {
    const counterWrite = await findApdu(async (apduIndex) => {
      const probe = await createSectionTerminal();
      const probeCard = makeM1Card();
      await probe.tap(probeCard, 2, { apduIndex, phase: 'after-card' });
      return probeCard.purseInfo.counter === 1;
    });
    const terminal = await createSectionTerminal();
    const card = makeM1Card();

    const torn = await terminal.tap(card, 2, { apduIndex: counterWrite, phase: 'before-card' }, 5_000);
    expect(torn.status).toBe('in-doubt');
    expect(card.purseInfo.counter).toBe(0);
    expect(card.hasOpenBoarding).toBe(false);

    const again = await terminal.tap(card, 3);

    expect(again.status).toBe('accepted');
    expect(again.promptId).toBe('please-tap-off');
    expect(boardingOf(card)).toMatchObject({ stopIndex: 3, boardingCounter: 1 });
    expect(terminal.store.listOpenInDoubt()).toHaveLength(0);
  });

  it('closes the boarding with any later debit', async () => {
    const terminal = await createSectionTerminal();
    const card = makeM1Card();
    await terminal.tap(card, 2);
    terminal.where.route = '1';
    const flat = await terminal.tap(card, undefined);
    // The flat fare plus the missing tap-off from stop 2, the last band.
    expect(flat.amountFen).toBe(500);
    expect(flat.promptId).toBe('missing-tap-off-charged');
    expect(card.hasOpenBoarding).toBe(false);
    terminal.where.route = '9';

    const next = await terminal.tap(card, 6);

    expect(next.promptId).toBe('please-tap-off');
    expect(next.amountFen).toBe(0);
    expect(card.debits).toHaveLength(1);
  });

  it('closes the boarding when the last write of the alighting is torn', async () => {
    const terminal = await createSectionTerminal();
    const card = makeM1Card();
    await terminal.tap(card, 2);
    const apdus = await cleanTapApdus('alighting');

    // The information block write that raises the counter is the last APDU of an alighting.
    const alighting = await terminal.tap(card, 5, { apduIndex: apdus - 1, phase: 'before-card' });
    expect(alighting.status).toBe('accepted');
    expect(card.purseInfo.processFlag).toBe(1);
    expect(card.hasOpenBoarding).toBe(false);

    const next = await terminal.tap(card, 9);

    expect(next.promptId).toBe('please-tap-off');
    expect(card.debits).toHaveLength(1);
    expect(card.purseInfo.counter).toBe(3);
  });
});

describe('M1 boarding torn at each APDU', () => {
  for (const journey of ['boarding', 'alighting'] as const) {
    it(`takes every torn ${journey} once`, async () => {
      const apdus = await cleanTapApdus(journey);
      expect(apdus).toBeGreaterThan(12);
      const terminal = await createSectionTerminal();
      for (let apduIndex = 0; apduIndex < apdus; apduIndex += 1) {
        for (const phase of ['before-card', 'after-card'] as const) {
          for (const followUp of ['same-card', 'other-card'] as const) {
            const label = `${journey} torn at APDU ${apduIndex} ${phase}, then ${followUp}`;
            const card = makeM1Card();
            const other = makeM1Card();
            if (journey === 'alighting') await terminal.tap(card, 2);

            let last = await terminal.tap(card, journey === 'boarding' ? 2 : 3, { apduIndex, phase }, 5_000);
            if (followUp === 'other-card') await terminal.tap(other, 3, undefined, 5_000);
            for (let retry = 0; retry < 3 && (last.promptId === 'tap-again' || last.promptId === 'card-read-error'); retry += 1) {
              last = await terminal.tap(card, journey === 'boarding' ? 2 : 3, undefined, 5_000);
            }

            expect(terminal.store.listOpenInDoubt(), label).toHaveLength(0);
            const charged = card.debits.reduce((sum, debit) => sum + debit.amountFen, 0);
            if (journey === 'alighting') {
              expect(card.debits, label).toHaveLength(1);
              expect(charged, label).toBe(100);
              expect(card.hasOpenBoarding, label).toBe(false);
            } else {
              // A boarding the retry found already taken alights there, at the first band.
              expect(card.debits.length, label).toBeLessThanOrEqual(1);
              // Either boarded and charged nothing, or alighted at the first band with the boarding closed.
              expect(charged, label).toBe(card.hasOpenBoarding ? 0 : 100);
            }
            expect(card.balanceFen, label).toBe(1000 - charged);
            const recorded = terminal.store
              .readReady(0, Number.MAX_SAFE_INTEGER)
              .filter((entry) => entry.card.asn === card.asn && (entry.kind === 'purchase' || (entry.kind === 'resolution' && entry.outcome === 'debited')));
            expect(recorded.reduce((sum, entry) => sum + (entry.kind === 'lock' ? 0 : entry.debit.amountFen), 0), label).toBe(charged);
          }
        }
      }
    });
  }
});

describe('M1 boarding that charges a missing tap-off, torn at each APDU', () => {
  it('takes the charge at most once and leaves the card boarded', async () => {
    const probe = await createSectionTerminal();
    const probeCard = makeM1Card();
    await probe.tap(probeCard, 2);
    probe.clock.advance(241 * 60_000);
    const clean = await probe.tap(probeCard, 8);
    expect(clean.amountFen).toBe(300);
    const terminal = await createSectionTerminal();
    for (let apduIndex = 0; apduIndex < clean.cardApdus; apduIndex += 1) {
      for (const phase of ['before-card', 'after-card'] as const) {
        const label = `torn at APDU ${apduIndex} ${phase}`;
        const card = makeM1Card();
        await terminal.tap(card, 2);
        // Past the route's 240-minute journey limit the open boarding is a missing tap-off.
        terminal.clock.advance(241 * 60_000);

        let last = await terminal.tap(card, 8, { apduIndex, phase }, 5_000);
        for (let retry = 0; retry < 3 && (last.promptId === 'tap-again' || last.promptId === 'card-read-error'); retry += 1) {
          last = await terminal.tap(card, 8, undefined, 5_000);
        }

        expect(terminal.store.listOpenInDoubt(), label).toHaveLength(0);
        const charged = card.debits.reduce((sum, debit) => sum + debit.amountFen, 0);
        // Torn before its process flag, the boarding that charges loses both the charge and the old boarding.
        expect([0, 300], label).toContain(charged);
        expect(card.balanceFen, label).toBe(1000 - charged);
        expect(card.hasOpenBoarding, label).toBe(true);
        const recorded = terminal.store
          .readReady(0, Number.MAX_SAFE_INTEGER)
          .filter((entry) => entry.card.asn === card.asn && (entry.kind === 'purchase' || (entry.kind === 'resolution' && entry.outcome === 'debited')));
        expect(recorded.reduce((sum, entry) => sum + (entry.kind === 'lock' ? 0 : entry.debit.amountFen), 0), label).toBe(charged);
      }
    }
  });
});

describe('M1 boarding record damage', () => {
  it('boards afresh over a garbled block', async () => {
    const terminal = await createSectionTerminal();
    const card = makeM1Card();
    await terminal.tap(card, 2);
    card.setBlock(SECOND_BLOCK, new Uint8Array(16).fill(0x5a));
    expect(card.boardingRecord.kind).toBe('corrupt');

    const outcome = await terminal.tap(card, 6);

    expect(outcome.status).toBe('accepted');
    expect(outcome.promptId).toBe('please-tap-off');
    expect(card.balanceFen).toBe(1000);
    expect(boardingOf(card)).toMatchObject({ stopIndex: 6, open: true });
    expect(card.hasOpenBoarding).toBe(true);
  });

  it('boards afresh when the two blocks come from different writes', async () => {
    const terminal = await createSectionTerminal();
    const card = makeM1Card();
    await terminal.tap(card, 2);
    const older = card.block(FIRST_BLOCK);
    await terminal.tap(card, 4);
    await terminal.tap(card, 6);
    card.setBlock(FIRST_BLOCK, older);

    const outcome = await terminal.tap(card, 7);

    expect(outcome.promptId).toBe('please-tap-off');
    expect(card.debits).toHaveLength(1);
  });

  it('reports a boarding sector under another key', async () => {
    const terminal = await createSectionTerminal();
    const card = makeM1Card();
    const trailer = card.block(M1_LAYOUT.boardingSector * 4 + 3);
    card.setBlock(M1_LAYOUT.boardingSector * 4 + 3, Uint8Array.from([...new Uint8Array(6).fill(0xff), ...trailer.subarray(6)]));

    const outcome = await terminal.tap(card, 2);

    expect(outcome.status).toBe('failed');
    expect(outcome.promptId).toBe('card-read-error');
    expect(outcome.reason).toContain('SECTOR 6');
    expect(card.balanceFen).toBe(1000);
    expect(terminal.store.lastSequence()).toBe(0);
  });

  it('ignores a record whose debit the purse never took', async () => {
    const terminal = await createSectionTerminal();
    const card = makeM1Card();
    const forged = encodeM1Boarding({ routeCode: '00000009', direction: 0, stopIndex: 10, boardedAt: '20260302075900', boardingCounter: 1, terminalSerial: 77, terminalTail: '0001', boardingChargeFen: 0, longestFareFen: 300, open: true });
    card.setBlock(FIRST_BLOCK, forged[0]);
    card.setBlock(SECOND_BLOCK, forged[1]);

    const outcome = await terminal.tap(card, 11);

    expect(outcome.promptId).toBe('please-tap-off');
    expect(outcome.amountFen).toBe(0);
    expect(boardingOf(card)).toMatchObject({ stopIndex: 11, boardingCounter: 1 });
  });

  it('ignores a boarding time after the terminal clock', async () => {
    const terminal = await createSectionTerminal();
    const card = makeM1Card();
    await terminal.tap(card, 2);
    const record = boardingOf(card);
    const forged = encodeM1Boarding({ ...record, boardedAt: '20260303080000' });
    card.setBlock(FIRST_BLOCK, forged[0]);
    card.setBlock(SECOND_BLOCK, forged[1]);

    const outcome = await terminal.tap(card, 9);

    expect(outcome.promptId).toBe('please-tap-off');
    expect(card.debits).toHaveLength(0);
  });

  it('reads a record whose debit was rolled back since', async () => {
    const terminal = await createSectionTerminal();
    const card = makeM1Card();
    await terminal.tap(card, 2);
    // Torn at the process flag of the alighting, after the card wrote it: the next tap rolls that debit back.
    const flagWrite = await findApdu(async (apduIndex) => {
      const probe = await createSectionTerminal();
      const probeCard = makeM1Card();
      await probe.tap(probeCard, 2);
      await probe.tap(probeCard, 5, { apduIndex, phase: 'after-card' });
      return probeCard.purseInfo.processFlag === 1 && probeCard.debits.length === 0;
    });
    await terminal.tap(card, 5, { apduIndex: flagWrite, phase: 'after-card' });
    expect(card.purseInfo.processFlag).toBe(1);

    const alighting = await terminal.tap(card, 6);

    expect(alighting.amountFen).toBe(100);
    expect(card.debits).toHaveLength(1);
    expect(card.hasOpenBoarding).toBe(false);
  });
});

/** Returns the first APDU index for which `torn` holds. */
async function findApdu(torn: (apduIndex: number) => Promise<boolean>): Promise<number> {
  for (let apduIndex = 0; apduIndex < 40; apduIndex += 1) if (await torn(apduIndex)) return apduIndex;
  throw new Error('no APDU index matched');
}
