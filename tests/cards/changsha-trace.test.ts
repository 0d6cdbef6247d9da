import { describe, expect, it } from 'vitest';
import { defaultFareTable } from '@busfare/backoffice';
import { type FareTableBody, fareTableBodySchema, fromHex, toHex } from '@busfare/shared-protocol';
import { ManualClock, MemoryTransactionStore, type SecureAccessModule, TapProcessor } from '@busfare/terminal';
import { type ApduCard, InProcessCardReader } from '@busfare/simulators';
import pino from 'pino';

/*
 * A contact-interface log of a MOHURD composite purchase on the Changsha metro applet
 * (ConardLKL/ChangSha on GitHub, doc/华大智宝/t7_purchase.py), replayed against the terminal's
 * MOHURD flow. The scripted card below returns the logged responses. The log's MAC1, TAC and
 * MAC2 come from the applet's own key derivation, so the fake PSAM accepts the logged values
 * instead of computing them.
 */
const LOG = {
  atr: '3B9F95803FC6A08031E073FE211357C2051B86986019D1',
  selectParent: '00A4040009A00000000386980700',
  selectPurse: '00A4040009A00000000386980701',
  fciLength: 0x34,
  fci: '6F328409A00000000386980701A5259F0801019F0C1E073141000000000001010000410000008999998520150605203808080000',
  getBalance: '805C000204',
  balance: '00001C37',
  getVerifyCode: '80CA000009',
  verifyCode: '8588D32B7688D32B76',
  /** INIT FOR CAPP PURCHASE: P1 03, key index 01, amount 00001C37 (the whole balance), terminal 000000000001. */
  init: '805003020B0100001C37000000000001',
  initResponse: '00001C37000000000001009AC87503',
  /** UPDATE CAPP DATA CACHE of EF17 record 02, 48 bytes. */
  cacheUpdateHeader: '80DC02B830',
  /** DEBIT: terminal serial 00000001, 2011-09-19 20:48:12, MAC1 303D735D. */
  debit: '805401000F0000000120110919204812303D735D',
  tac: '44A8E04A',
  mac2: '350AC480',
  terminalNumber: '000000000001',
  mac1: '303D735D',
} as const;

/** READ RECORD of the MOHURD transit record file EF17 (SFI 0x17), record 02, 48 bytes: the record the log's cache update writes. */
const READ_TRANSIT_RECORD = '00B202BC30';

function withoutLe(hex: string): string {
  return hex.startsWith('00A40400') && hex.length === 10 + Number.parseInt(hex.slice(8, 10), 16) * 2 + 2 ? hex.slice(0, -2) : hex;
}

/**
 * A MOHURD card that returns the log's responses to the log's commands the way a card on the
 * contact interface (T=0) does, with 61xx and then the data on GET RESPONSE. It records every command.
 */
class ChangshaTraceCard implements ApduCard {
  readonly atr = fromHex(LOG.atr);
  readonly protocol = 'iso14443-4' as const;
  readonly uid = fromHex('88D32B76');
  readonly label = 'Changsha MOHURD trace card';
  readonly commands: string[] = [];
  private pendingResponse: string | undefined;
  /** EF17 record 02 as the last UPDATE CAPP DATA CACHE wrote it; all zero until then. */
  private transitRecord = '00'.repeat(0x30);

  process(command: Uint8Array): Uint8Array {
    const hex = toHex(command).toUpperCase();
    this.commands.push(hex);
    return fromHex(this.answer(hex));
  }

  private answer(hex: string): string {
    if (hex.startsWith('00C00000')) {
      const data = this.pendingResponse;
      this.pendingResponse = undefined;
      return data === undefined ? '6985' : `${data}9000`;
    }
    // The terminal adds Le 00 to SELECT (case 4, as contactless readers send it); the log has none.
    if (withoutLe(hex) === LOG.selectParent) return '9000';
    if (withoutLe(hex) === LOG.selectPurse) return this.chain(LOG.fci);
    if (hex === LOG.getBalance) return `${LOG.balance}9000`;
    if (hex === LOG.getVerifyCode) return `${LOG.verifyCode}9000`;
    if (hex === READ_TRANSIT_RECORD) return `${this.transitRecord}9000`;
    if (hex.startsWith('80500302')) return this.chain(LOG.initResponse);
    if (hex.startsWith(LOG.cacheUpdateHeader) && hex.length === LOG.cacheUpdateHeader.length + 0x30 * 2) {
      this.transitRecord = hex.slice(LOG.cacheUpdateHeader.length);
      return '9000';
    }
    if (hex.startsWith('805401000F')) return this.chain(`${LOG.tac}${LOG.mac2}`);
    // PPSE, the T-Union AID and anything else: file or application not found.
    return '6A82';
  }

  /** Returns 61xx, as the log's card does under T=0, and keeps the data for GET RESPONSE. */
  private chain(data: string): string {
    this.pendingResponse = data;
    return `61${(data.length / 2).toString(16).padStart(2, '0').toUpperCase()}`;
  }
}

/** Builds a PSAM that uses the log's terminal number and MAC1 and accepts the log's MAC2 and verify code. */
function tracePsam(): SecureAccessModule & { initCommands: unknown[] } {
  const initCommands: unknown[] = [];
  return {
    initCommands,
    terminalNumber: fromHex(LOG.terminalNumber),
    keyIndex: 0x01,
    async open() {},
    async useApplication() {
      return 0x01;
    },
    async verifyMohurdCode(code) {
      return toHex(code).toUpperCase() === LOG.verifyCode;
    },
    async initForPurchase(command) {
      initCommands.push(command);
      return { terminalSerial: 1, mac1: fromHex(LOG.mac1) };
    },
    async verifyMac2(mac2) {
      return toHex(mac2).toUpperCase() === LOG.mac2;
    },
  };
}

/**
 * Builds the bench fare table for the card's city (4100). Card type code 0 (the logged card's EF15
 * byte 28) is an ordinary card, and route 9 is charged by sections, so the terminal runs a
 * composite purchase.
 */
function sectionTable(): FareTableBody {
  const table = defaultFareTable(['4100']);
  return fareTableBodySchema.parse({
    ...table,
    cardTypeByCode: { ...table.cardTypeByCode, '0': 'ordinary' },
    sectionRoutes: { '9': { bands: [{ maxStops: 5, fareFen: 100 }, { maxStops: 60, fareFen: 300 }], stops: { '0': Array.from({ length: 20 }, (_, index) => `S${index}`) }, maxJourneyMinutes: 240 } },
  });
}

const PPSE_SELECT = '00A404000E325041592E5359532E444446303100';
const BOARDING_STOP = 3;
const ALIGHTING_STOP = 10;
/** Route 9's fare from stop 3 to stop 10: seven stops fall in the band of up to 60 stops. */
const FARE_FEN = 300;

/**
 * Boards at stop 3 with the scripted card, then alights at stop 10 ten minutes later; the
 * alighting is the charged composite purchase that the log shows.
 */
async function replay() {
  const clock = new ManualClock(new Date('2026-03-02T08:00:00+08:00'));
  const reader = new InProcessCardReader();
  await reader.start();
  const sam = tracePsam();
  const store = new MemoryTransactionStore();
  const fareTable = sectionTable();
  let stop = BOARDING_STOP;
  const processor = new TapProcessor({
    store,
    sam,
    fareTables: { activeFareTable: () => fareTable },
    trip: () => ({ vehicleId: 'V001', route: '9', direction: 0 }),
    preferredApplication: 'mohurd',
    clock,
    feedback: { show: () => undefined },
    logger: pino({ level: 'silent' }),
    stopIndex: () => stop,
  });
  const card = new ChangshaTraceCard();
  const tap = async () => {
    const session = reader.present(card);
    const outcome = await processor.process(session);
    reader.remove();
    return outcome;
  };

  const boarding = await tap();
  const boardingCommands = card.commands.splice(0);
  clock.advance(10 * 60_000);
  stop = ALIGHTING_STOP;
  const alighting = await tap();
  await reader.stop();
  return { card, sam, store, boarding, boardingCommands, alighting, alightingCommands: card.commands, alightedAt: clock.now() };
}

describe('Changsha MOHURD purchase trace', () => {
  it('boards with a composite purchase of nothing', async () => {
    const { boarding, boardingCommands } = await replay();

    expect(boarding.status).toBe('accepted');
    expect(boarding.amountFen).toBe(0);
    expect(boardingCommands.filter((command) => command.startsWith(LOG.cacheUpdateHeader))).toHaveLength(1);
  });

  it('sends the logged commands where the design agrees', async () => {
    const { alighting, alightingCommands: ours, alightedAt } = await replay();
    expect(alighting.status).toBe('accepted');
    expect(alighting.amountFen).toBe(FARE_FEN);

    // Differences from the log, each on purpose:
    // - PPSE comes first, because most cards in the field are T-Union or dual cards that list
    //   their purses there; the log's tool selected the Changsha applet directly.
    // - No SELECT of the parent DF …0700: the purse ADF …0701 is selected by its full AID.
    // - The transit record (EF17 record 02) is read before the purchase, because a section fare
    //   depends on where the rider boarded; the log's tool wrote the record without reading it.
    // - No GET BALANCE before or after: INITIALIZE FOR CAPP PURCHASE returns the balance, and the
    //   balance after is that balance minus the fare.
    // - Case 4 commands carry Le (00 on SELECT, 0F on INITIALIZE, 08 on DEBIT), as contactless
    //   readers send them; the log's contact tool sent them as case 3 and fetched with GET RESPONSE.
    const expected = [
      PPSE_SELECT,
      `${LOG.selectPurse}00`,
      '00C0000034',
      READ_TRANSIT_RECORD,
      LOG.getVerifyCode,
      // The amount is the fare, not the whole balance that the log's tool spent.
      `${LOG.init.slice(0, 12)}${FARE_FEN.toString(16).padStart(8, '0').toUpperCase()}${LOG.terminalNumber}0F`,
      '00C000000F',
      expect.stringMatching(new RegExp(`^${LOG.cacheUpdateHeader}[0-9A-F]{96}$`)),
      // Terminal serial and MAC1 from the PSAM as logged; the date and time are the terminal's clock.
      `${LOG.debit.slice(0, 18)}${formatLocal(alightedAt)}${LOG.mac1}08`,
      '00C0000008',
    ];
    expect(ours).toEqual(expected);
  });

  it('agrees with the log on every command both send unchanged', async () => {
    const { alightingCommands: ours } = await replay();
    const unchanged = [LOG.getVerifyCode, '00C0000034', '00C000000F', '00C0000008'];

    for (const command of unchanged) expect(ours, command).toContain(command);
    expect(ours.find((command) => command.startsWith('8050'))?.slice(0, 12)).toBe(LOG.init.slice(0, 12));
    expect(ours.find((command) => command.startsWith('8050'))?.slice(20, 32)).toBe(LOG.init.slice(20, 32));
    expect(ours.find((command) => command.startsWith('8054'))?.slice(0, 18)).toBe(LOG.debit.slice(0, 18));
    expect(ours.find((command) => command.startsWith('8054'))?.slice(32, 40)).toBe(LOG.debit.slice(32, 40));
  });

  it('stores the logged TAC with the PSAM check of MAC2', async () => {
    const { store, sam, alighting } = await replay();
    const record = store.get(alighting.sequence!)?.record;
    if (record?.kind === 'lock') throw new Error('expected a purchase record, got a lock record');
    const psamInit = sam.initCommands.at(-1) as { cardRandom: Uint8Array; amountFen: number; transactionType: number; issuerFactor: Uint8Array };

    expect(toHex(psamInit.cardRandom).toUpperCase()).toBe('9AC87503');
    expect(psamInit.amountFen).toBe(FARE_FEN);
    expect(psamInit.transactionType).toBe(0x09);
    expect(toHex(psamInit.issuerFactor).toUpperCase()).toBe('4100FF0000000000');
    expect(record?.kind).toBe('purchase');
    expect(record?.card).toMatchObject({ application: 'mohurd', asn: '4100000089999985', issuerId: '4100FF0000000000' });
    expect(record?.debit).toMatchObject({
      transactionType: 0x09,
      amountFen: FARE_FEN,
      balanceBeforeFen: 0x1c37,
      balanceAfterFen: 0x1c37 - FARE_FEN,
      cardCounter: 0,
      cardRandom: '9AC87503',
      keyVersion: 0x01,
      algorithmId: 0x00,
      psamTerminalNumber: LOG.terminalNumber,
      terminalSerial: 1,
      tac: LOG.tac,
      mac2Verified: true,
    });
  });

  it('refuses the card when the PSAM rejects its verify code', async () => {
    const card = new ChangshaTraceCard();
    const reader = new InProcessCardReader();
    await reader.start();
    const sam = { ...tracePsam(), verifyMohurdCode: async () => false };
    const processor = new TapProcessor({
      store: new MemoryTransactionStore(),
      sam,
      fareTables: { activeFareTable: () => sectionTable() },
      trip: () => ({ vehicleId: 'V001', route: '9', direction: 0 }),
      preferredApplication: 'mohurd',
      clock: new ManualClock(new Date('2026-03-02T08:00:00+08:00')),
      feedback: { show: () => undefined },
      logger: pino({ level: 'silent' }),
      stopIndex: () => BOARDING_STOP,
    });
    const outcome = await processor.process(reader.present(card));
    reader.remove();
    await reader.stop();

    expect(outcome.status).toBe('refused');
    expect(outcome.reason).toMatch(/security identification code/);
    expect(card.commands.some((command) => command.startsWith('8054'))).toBe(false);
  });
});

/** YYYYMMDDhhmmss in UTC+8, as the terminal sends the date and time to the card. */
function formatLocal(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().replace(/[-T:]/g, '').slice(0, 14);
}
