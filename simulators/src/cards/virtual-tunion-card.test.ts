import {
  AID,
  SW,
  TRANSACTION_TYPE,
  asnFactor,
  computeTac,
  diversifyKey,
  encodeTransitRecord,
  epurse,
  fromHex,
  parseFci,
  parsePurseLogRecord,
  parseTUnionEf15,
  parseTransitRecord,
  psam,
  splitResponse,
  toHex,
} from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { ALL_BENCH_ISSUERS, BENCH_ISSUERS, type BenchIssuer } from '../keys/test-keys.js';
import { SoftwarePsam } from '../psam/software-psam.js';
import { SeededRandom } from './seeded-random.js';
import { runPurchase } from './run-purchase.js';
import { type CardMediumKind, VirtualTUnionCard } from './virtual-tunion-card.js';

const TERMINAL_NUMBER = '000000581001';
const DATE_TIME = '20260105081500';

function makeCard(overrides: { issuer?: BenchIssuer; balanceFen?: number; medium?: CardMediumKind; blocked?: boolean | 'permanent' } = {}): VirtualTUnionCard {
  const issuer = overrides.issuer ?? BENCH_ISSUERS.cityDes;
  return new VirtualTUnionCard({
    asn: `${issuer.cityCode}0001000000001234`,
    issuerId: issuer.issuerId,
    balanceFen: overrides.balanceFen ?? 1000,
    cardTypeCode: 2,
    algorithm: issuer.algorithm,
    keyVersion: issuer.keyVersion,
    purchaseMasterKey: issuer.purchaseMasterKey,
    tacMasterKey: issuer.tacMasterKey,
    medium: overrides.medium ?? 'card',
    startDate: '20240101',
    expiryDate: '20341231',
    blocked: overrides.blocked,
  });
}

function makePsam(): SoftwarePsam {
  return new SoftwarePsam({ terminalNumber: TERMINAL_NUMBER, issuers: ALL_BENCH_ISSUERS, initialSerial: 0x00010001 });
}

function send(card: VirtualTUnionCard, hex: string) {
  return splitResponse(card.process(fromHex(hex)));
}

function selectPurse(card: VirtualTUnionCard) {
  return splitResponse(card.process(epurse.selectByName(AID.tunionEp)));
}

function initialize(card: VirtualTUnionCard, amountFen: number, mode: 0x01 | 0x03 = 0x01) {
  return splitResponse(card.process(epurse.initForPurchase({ mode, keyIndex: 1, amountFen, terminalNumber: fromHex(TERMINAL_NUMBER) })));
}

/** Computes MAC1 for the card's open purchase with the PSAM, as the terminal would. */
function mac1For(card: VirtualTUnionCard, samModule: SoftwarePsam, init: ReturnType<typeof epurse.parseInitForPurchase>, amountFen: number, transactionType: number) {
  samModule.process(epurse.selectByName(AID.tunionPsamDf));
  return psam.parseInitSamForPurchase(
    splitResponse(
      samModule.process(
        psam.initSamForPurchase({
          cardRandom: init.cardRandom,
          cardCounter: init.cardCounter,
          amountFen,
          transactionType,
          dateTime: DATE_TIME,
          keyVersion: init.keyVersion,
          algorithmId: init.algorithmId,
          asn8: asnFactor(card.asn),
          issuerFactor: fromHex(card.issuerId),
        }),
      ),
    ),
  );
}

describe('virtual T-Union card selection', () => {
  it('lists the purse AID in the PPSE FCI', () => {
    const card = makeCard();
    const answer = splitResponse(card.process(epurse.selectByName(AID.ppse)));
    expect(answer.sw).toBe(SW.OK);
    expect(parseFci(answer.data).directoryAids).toEqual([toHex(AID.tunionEp)]);
  });

  it('returns DF name, EF15 copy and version in the purse FCI', () => {
    const card = makeCard();
    const answer = selectPurse(card);
    expect(answer.sw).toBe(SW.OK);
    const fci = parseFci(answer.data);
    expect(fci.dfName).toBe(toHex(AID.tunionEp));
    expect(fci.applicationVersion).toBe(1);
    expect(fci.issuerDiscretionary).toHaveLength(30);
    const ef15 = parseTUnionEf15(fci.issuerDiscretionary!);
    expect(ef15.asn).toBe(card.asn);
    expect(ef15.issuerId).toBe(BENCH_ISSUERS.cityDes.issuerId);
    expect(ef15.cardTypeCode).toBe(2);
    expect(ef15.applicationType).toBe(2);
    expect(ef15.expiryDate).toBe('20341231');
  });

  it('omits the FCI when P2 is 0C', () => {
    const card = makeCard();
    const answer = send(card, `00A4040C08${toHex(AID.tunionEp)}`);
    expect(answer.sw).toBe(SW.OK);
    expect(answer.data).toHaveLength(0);
  });

  it('answers 6A82 for applications it lacks', () => {
    const card = makeCard();
    expect(splitResponse(card.process(epurse.selectByName(AID.mohurdEp))).sw).toBe(SW.FILE_NOT_FOUND);
    expect(splitResponse(card.process(epurse.selectByName(AID.tunionEc))).sw).toBe(SW.FILE_NOT_FOUND);
    expect(splitResponse(card.process(epurse.selectByName(AID.pse))).sw).toBe(SW.FILE_NOT_FOUND);
    expect(splitResponse(card.process(epurse.selectByName(AID.tunionEp, { next: true }))).sw).toBe(SW.FILE_NOT_FOUND);
    expect(send(card, '00A40000021001').sw).toBe(SW.FILE_NOT_FOUND);
  });

  it('selects the master file by 3F00', () => {
    const card = makeCard();
    selectPurse(card);
    expect(send(card, '00A40000023F00').sw).toBe(SW.OK);
    expect(splitResponse(card.process(epurse.getBalance())).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it('answers 6283 when blocked and 9303 when blocked for good', () => {
    expect(selectPurse(makeCard({ blocked: true })).sw).toBe(SW.APP_INVALIDATED);
    expect(selectPurse(makeCard({ blocked: 'permanent' })).sw).toBe(SW.APP_LOCKED_PERMANENTLY);
    const card = makeCard();
    card.block();
    expect(card.isBlocked).toBe(true);
    expect(selectPurse(card).sw).toBe(SW.APP_INVALIDATED);
    expect(splitResponse(card.process(epurse.getBalance())).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });
});

describe('virtual T-Union phone applets', () => {
  for (const medium of ['sim', 'hce'] as const) {
    it(`${medium} answers the 8-byte AID with its instance AID`, () => {
      const card = makeCard({ medium });
      expect(card.dfName.length).toBeGreaterThan(8);
      expect(toHex(card.dfName).startsWith('A000000632010105')).toBe(true);
      const answer = selectPurse(card);
      expect(answer.sw).toBe(SW.OK);
      expect(parseFci(answer.data).dfName).toBe(toHex(card.dfName));
      expect(parseFci(answer.data).issuerDiscretionary).toHaveLength(30);
    });

    it(`${medium} answers its full instance AID and lists it in the PPSE`, () => {
      const card = makeCard({ medium });
      expect(splitResponse(card.process(epurse.selectByName(card.dfName))).sw).toBe(SW.OK);
      const ppse = splitResponse(card.process(epurse.selectByName(AID.ppse)));
      expect(parseFci(ppse.data).directoryAids).toEqual([toHex(card.dfName)]);
    });
  }

  it('HCE phone pays end to end', () => {
    const card = makeCard({ medium: 'hce' });
    const result = runPurchase(card, makePsam(), { amountFen: 200, dateTime: DATE_TIME });
    expect(result.mac2Sw).toBe(SW.OK);
    expect(card.balanceFen).toBe(800);
    expect(card.uid[0]).toBe(0x08);
  });

  it('rejects a partial name shorter than the RID', () => {
    const card = makeCard({ medium: 'sim' });
    expect(send(card, '00A4040004A0000006').sw).toBe(SW.FILE_NOT_FOUND);
  });
});

describe('virtual T-Union card reads', () => {
  it('reads EF15 and EF17 by short file id', () => {
    const card = makeCard();
    selectPurse(card);
    const ef15 = send(card, '00B095001E');
    expect(ef15.sw).toBe(SW.OK);
    expect(parseTUnionEf15(ef15.data).asn).toBe(card.asn);
    const ef17 = send(card, '00B097003C');
    expect(ef17.sw).toBe(SW.OK);
    expect(toHex(ef17.data.subarray(0, 11))).toBe('00000156580058100001' + '02');
    expect(send(card, '00B0950000').data).toHaveLength(30);
    expect(send(card, '00B0951002').data).toEqual(ef15.data.subarray(16, 18));
  });

  it('answers 6Cxx, 6B00 and 6A82 for bad reads', () => {
    const card = makeCard();
    expect(send(card, '00B095001E').sw).toBe(SW.FILE_NOT_FOUND);
    selectPurse(card);
    expect(send(card, '00B0950020').sw).toBe(0x6c1e);
    expect(send(card, '00B0951E01').sw).toBe(0x6b00);
    expect(send(card, '00B0960001').sw).toBe(SW.FILE_NOT_FOUND);
    expect(send(card, '00B0000001').sw).toBe(0x6986);
    expect(send(card, '00B201C417').sw).toBe(0x6a83);
    expect(send(card, '00B201C017').sw).toBe(SW.WRONG_P1P2);
    expect(send(card, '00B200C417').sw).toBe(SW.WRONG_P1P2);
    expect(send(card, '00B201A417').sw).toBe(SW.FILE_NOT_FOUND);
  });

  it('returns the balance for P1 00 and 03', () => {
    const card = makeCard({ balanceFen: 0x1c37 });
    selectPurse(card);
    for (const p1 of [0x00, 0x03] as const) {
      const answer = splitResponse(card.process(epurse.getBalance(p1)));
      expect(answer.sw).toBe(SW.OK);
      expect(epurse.parseBalance(answer)).toBe(0x1c37);
    }
    expect(send(card, '805C000104').sw).toBe(SW.WRONG_P1P2);
    expect(send(card, '805C040204').sw).toBe(SW.WRONG_P1P2);
    expect(send(card, '805C000202').sw).toBe(0x6c04);
    expect(toHex(send(card, '805C010204').data)).toBe('00000000');
  });

  it('answers GET CHALLENGE with random bytes', () => {
    const card = makeCard();
    expect(send(card, '0084000004').data).toHaveLength(4);
    expect(send(card, '0084000008').data).toHaveLength(8);
    expect(send(card, '0084000010').sw).toBe(SW.WRONG_LENGTH);
  });
});

describe('virtual T-Union card purchase', () => {
  it('returns the 15-byte INIT answer', () => {
    const card = makeCard({ balanceFen: 1000 });
    selectPurse(card);
    const answer = initialize(card, 200);
    expect(answer.sw).toBe(SW.OK);
    expect(answer.data).toHaveLength(15);
    const init = epurse.parseInitForPurchase(answer);
    expect(init.balanceFen).toBe(1000);
    expect(init.cardCounter).toBe(0);
    expect(init.keyVersion).toBe(BENCH_ISSUERS.cityDes.keyVersion);
    expect(init.algorithmId).toBe(0x00);
  });

  it('answers 9401 when the balance is short', () => {
    const card = makeCard({ balanceFen: 199 });
    selectPurse(card);
    expect(initialize(card, 200).sw).toBe(SW.INSUFFICIENT_BALANCE);
    expect(initialize(card, 199).sw).toBe(SW.OK);
  });

  it('answers 9403 for another key index', () => {
    const card = makeCard();
    selectPurse(card);
    const answer = splitResponse(card.process(epurse.initForPurchase({ mode: 1, keyIndex: 2, amountFen: 1, terminalNumber: fromHex(TERMINAL_NUMBER) })));
    expect(answer.sw).toBe(0x9403);
  });

  it('debits with a TAC the clearing centre accepts', () => {
    const card = makeCard({ balanceFen: 1000 });
    const samModule = makePsam();
    const result = runPurchase(card, samModule, { amountFen: 200, dateTime: DATE_TIME });
    expect(result.debit).toBeDefined();
    expect(result.mac2Sw).toBe(SW.OK);
    expect(result.terminalSerial).toBe(0x00010001);

    const issuer = BENCH_ISSUERS.cityDes;
    const tacKey = diversifyKey('des', issuer.tacMasterKey, asnFactor(card.asn));
    const expectedTac = computeTac('des', tacKey, {
      amountFen: 200,
      transactionType: TRANSACTION_TYPE.purchase,
      terminalNumber: fromHex(TERMINAL_NUMBER),
      terminalSerial: result.terminalSerial,
      dateTime: fromHex(DATE_TIME),
    });
    expect(toHex(result.debit!.tac)).toBe(toHex(expectedTac));

    expect(card.balanceFen).toBe(800);
    expect(card.offlineCounter).toBe(1);
    expect(card.ledger).toHaveLength(1);
    expect(card.ledger[0]).toMatchObject({ counter: 0, amountFen: 200, balanceAfterFen: 800, tac: toHex(expectedTac), terminalSerial: 0x00010001, dateTime: DATE_TIME });
  });

  it('writes the purchase into EF18', () => {
    const card = makeCard({ balanceFen: 1000 });
    runPurchase(card, makePsam(), { amountFen: 150, dateTime: DATE_TIME });
    const answer = splitResponse(card.process(epurse.readRecord(0x18, 1, 23)));
    expect(answer.sw).toBe(SW.OK);
    const record = parsePurseLogRecord(answer.data);
    expect(record).toMatchObject({ serial: 1, amountFen: 150, transactionType: 0x06, terminalNumber: TERMINAL_NUMBER, dateTime: DATE_TIME });
    expect(splitResponse(card.process(epurse.readRecord(0x18, 2, 23))).sw).toBe(0x6a83);
  });

  it('answers 9302 to a wrong MAC1 and keeps the balance', () => {
    const card = makeCard({ balanceFen: 1000 });
    const result = runPurchase(card, makePsam(), { amountFen: 200, dateTime: DATE_TIME, tamperMac1: (mac1) => mac1.map((b) => b ^ 0x01) });
    expect(splitResponse(result.debitResponse).sw).toBe(SW.MAC_INVALID);
    expect(card.balanceFen).toBe(1000);
    expect(card.offlineCounter).toBe(0);
    expect(card.ledger).toHaveLength(0);
  });

  it('answers 6985 to DEBIT without INIT', () => {
    const card = makeCard();
    selectPurse(card);
    const debit = epurse.debitForPurchase({ terminalSerial: 1, dateTime: DATE_TIME, mac1: fromHex('00000000') });
    expect(splitResponse(card.process(debit)).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it('cancels an open purchase on any other command', () => {
    const card = makeCard();
    const samModule = makePsam();
    selectPurse(card);
    const init = epurse.parseInitForPurchase(initialize(card, 100));
    const sam = mac1For(card, samModule, init, 100, TRANSACTION_TYPE.purchase);
    card.process(epurse.getBalance());
    const debit = epurse.debitForPurchase({ terminalSerial: sam.terminalSerial, dateTime: DATE_TIME, mac1: sam.mac1 });
    expect(splitResponse(card.process(debit)).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect(card.balanceFen).toBe(1000);
  });

  it('rejects a DEBIT date that is not BCD', () => {
    const card = makeCard();
    selectPurse(card);
    initialize(card, 100);
    expect(send(card, '805401000F000000012026010A08150000000000').sw).toBe(0x6a80);
  });
});

describe('virtual T-Union card transaction proof', () => {
  it('returns MAC2 then TAC of the last debit', () => {
    const card = makeCard();
    const result = runPurchase(card, makePsam(), { amountFen: 200, dateTime: DATE_TIME });
    const answer = splitResponse(card.process(epurse.getTransactionProof(TRANSACTION_TYPE.purchase, result.init.cardCounter + 1)));
    expect(answer.sw).toBe(SW.OK);
    const proof = epurse.parseTransactionProof(answer);
    expect(toHex(proof.mac2)).toBe(toHex(result.debit!.mac2));
    expect(toHex(proof.tac)).toBe(toHex(result.debit!.tac));
    expect(toHex(answer.data)).toBe(toHex(result.debit!.mac2) + toHex(result.debit!.tac));
  });

  it('answers 6985 for a counter without a transaction', () => {
    const card = makeCard();
    selectPurse(card);
    expect(splitResponse(card.process(epurse.getTransactionProof(0x06, 1))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    runPurchase(card, makePsam(), { amountFen: 200, dateTime: DATE_TIME });
    expect(splitResponse(card.process(epurse.getTransactionProof(0x06, 0))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect(splitResponse(card.process(epurse.getTransactionProof(0x06, 2))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect(splitResponse(card.process(epurse.getTransactionProof(0x09, 1))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect(splitResponse(card.process(epurse.getTransactionProof(0x06, 1))).sw).toBe(SW.OK);
  });

  it('answers 6985 after a MAC1 failure', () => {
    const card = makeCard();
    runPurchase(card, makePsam(), { amountFen: 200, dateTime: DATE_TIME, tamperMac1: () => fromHex('DEADBEEF') });
    expect(splitResponse(card.process(epurse.getTransactionProof(0x06, 1))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });
});

describe('virtual T-Union SM4 card', () => {
  it('pays end to end with algorithm id 04', () => {
    const issuer = BENCH_ISSUERS.citySm4;
    const card = makeCard({ issuer, balanceFen: 500 });
    const result = runPurchase(card, makePsam(), { amountFen: 120, dateTime: DATE_TIME });
    expect(result.init.algorithmId).toBe(0x04);
    expect(result.mac2Sw).toBe(SW.OK);
    expect(card.balanceFen).toBe(380);
    const tacKey = diversifyKey('sm4', issuer.tacMasterKey, asnFactor(card.asn));
    const expectedTac = computeTac('sm4', tacKey, {
      amountFen: 120,
      transactionType: 0x06,
      terminalNumber: fromHex(TERMINAL_NUMBER),
      terminalSerial: result.terminalSerial,
      dateTime: fromHex(DATE_TIME),
    });
    expect(toHex(result.debit!.tac)).toBe(toHex(expectedTac));
  });

  it('out-of-town card pays through the PSAM', () => {
    const card = makeCard({ issuer: BENCH_ISSUERS.outOfTown });
    const result = runPurchase(card, makePsam(), { amountFen: 200, dateTime: DATE_TIME });
    expect(result.mac2Sw).toBe(SW.OK);
  });
});

describe('virtual T-Union composite purchase', () => {
  const transitRecord = encodeTransitRecord({
    recordType: 0x06,
    terminalNumber: TERMINAL_NUMBER,
    industryCode: 0x02,
    lineStation: '00000012000000',
    amountFen: 200,
    balanceAfterFen: 800,
    dateTime: DATE_TIME,
    acquirerCityCode: '5810',
    acquirerId: '58100001FFFFFFFF',
    maxIncompleteAmountFen: 0,
    maxJourneyMinutes: 0,
  });

  it('writes the cached EF1E record with the debit', () => {
    const card = makeCard();
    const samModule = makePsam();
    selectPurse(card);
    const init = epurse.parseInitForPurchase(initialize(card, 200, 0x03));
    const sam = mac1For(card, samModule, init, 200, TRANSACTION_TYPE.compositePurchase);
    expect(splitResponse(card.process(epurse.updateCappDataCache(0x1e, 0x00, transitRecord))).sw).toBe(SW.OK);
    expect(splitResponse(card.process(epurse.readRecord(0x1e, 1, 48))).sw).toBe(0x6a83);
    selectPurse(card);
    // SELECT cancelled the purchase, so start again.
    const again = epurse.parseInitForPurchase(initialize(card, 200, 0x03));
    const sam2 = mac1For(card, samModule, again, 200, TRANSACTION_TYPE.compositePurchase);
    expect(sam2.terminalSerial).toBe(sam.terminalSerial + 1);
    card.process(epurse.updateCappDataCache(0x1e, 0x00, transitRecord));
    const debit = splitResponse(card.process(epurse.debitForPurchase({ terminalSerial: sam2.terminalSerial, dateTime: DATE_TIME, mac1: sam2.mac1 })));
    expect(debit.sw).toBe(SW.OK);
    expect(card.ledger[0]?.transactionType).toBe(0x09);
    const stored = splitResponse(card.process(epurse.readRecord(0x1e, 1, 48)));
    expect(parseTransitRecord(stored.data).lineStation).toBe('00000012000000');
    expect(splitResponse(card.process(epurse.getTransactionProof(0x09, 1))).sw).toBe(SW.OK);
  });

  it('stores EF1A records by id', () => {
    const card = makeCard();
    const samModule = makePsam();
    selectPurse(card);
    const init = epurse.parseInitForPurchase(initialize(card, 0, 0x03));
    const sam = mac1For(card, samModule, init, 0, TRANSACTION_TYPE.compositePurchase);
    const record = new Uint8Array(128).fill(0x11);
    expect(splitResponse(card.process(epurse.updateCappDataCache(0x1a, 0x02, record))).sw).toBe(SW.OK);
    expect(splitResponse(card.process(epurse.debitForPurchase({ terminalSerial: sam.terminalSerial, dateTime: DATE_TIME, mac1: sam.mac1 }))).sw).toBe(SW.OK);
    expect(send(card, '00B202D480').data).toEqual(record);
  });

  it('refuses a composite debit without a cache update', () => {
    const card = makeCard();
    const samModule = makePsam();
    selectPurse(card);
    const init = epurse.parseInitForPurchase(initialize(card, 200, 0x03));
    const sam = mac1For(card, samModule, init, 200, TRANSACTION_TYPE.compositePurchase);
    expect(splitResponse(card.process(epurse.debitForPurchase({ terminalSerial: sam.terminalSerial, dateTime: DATE_TIME, mac1: sam.mac1 }))).sw).toBe(
      SW.CONDITIONS_NOT_SATISFIED,
    );
    expect(card.balanceFen).toBe(1000);
  });

  it('refuses a cache update outside a composite purchase', () => {
    const card = makeCard();
    selectPurse(card);
    expect(splitResponse(card.process(epurse.updateCappDataCache(0x1e, 0x00, transitRecord))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    initialize(card, 100, 0x01);
    expect(splitResponse(card.process(epurse.updateCappDataCache(0x1e, 0x00, transitRecord))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it('checks cache update lengths and parameters', () => {
    const card = makeCard();
    selectPurse(card);
    initialize(card, 100, 0x03);
    expect(splitResponse(card.process(epurse.updateCappDataCache(0x1e, 0x00, transitRecord.subarray(0, 47)))).sw).toBe(SW.WRONG_LENGTH);
    expect(splitResponse(card.process(epurse.updateCappDataCache(0x1e, 0x01, transitRecord))).sw).toBe(SW.WRONG_P1P2);
    expect(splitResponse(card.process(epurse.updateCappDataCache(0x1a, 0x00, transitRecord))).sw).toBe(SW.WRONG_P1P2);
    expect(splitResponse(card.process(epurse.updateCappDataCache(0x05, 0x01, transitRecord))).sw).toBe(SW.FILE_NOT_FOUND);
    expect(send(card, `80DC00F130${toHex(transitRecord)}`).sw).toBe(SW.WRONG_P1P2);
  });
});

describe('virtual T-Union card hostile input', () => {
  const cases: [string, string, number][] = [
    ['empty APDU', '', SW.WRONG_LENGTH],
    ['one byte', '00', SW.WRONG_LENGTH],
    ['three bytes', '00A404', SW.WRONG_LENGTH],
    ['Lc longer than data', '00A4040008A0000006', SW.WRONG_LENGTH],
    ['two bytes after data', '00A4040001A00000', SW.WRONG_LENGTH],
    ['unknown INS', '80FF000000', SW.INS_NOT_SUPPORTED],
    ['GET RESPONSE on a card', '00C0000008', SW.INS_NOT_SUPPORTED],
    ['unknown CLA', 'FFCA000000', SW.CLA_NOT_SUPPORTED],
    ['proprietary CLA on SELECT', '80A4040008A000000632010105', SW.CLA_NOT_SUPPORTED],
    ['ISO CLA on INIT', '0050010208', SW.CLA_NOT_SUPPORTED],
    ['INIT before SELECT', '805001020B01000000010000005810010F', SW.CONDITIONS_NOT_SATISFIED],
    ['GET BALANCE before SELECT', '805C000204', SW.CONDITIONS_NOT_SATISFIED],
    ['proof before SELECT', '805A0006020001' + '08', SW.CONDITIONS_NOT_SATISFIED],
    ['SELECT with empty name', '00A4040000', SW.WRONG_LENGTH],
    ['SELECT with bad P1', '00A4080002', SW.WRONG_P1P2],
    ['SELECT with bad P2', '00A40401' + '08A000000632010105', SW.WRONG_P1P2],
    ['READ BINARY with data', '00B095000100', SW.WRONG_LENGTH],
  ];
  for (const [name, hex, sw] of cases) {
    it(`answers ${sw.toString(16).toUpperCase()} to ${name}`, () => {
      expect(send(makeCard(), hex).sw).toBe(sw);
    });
  }

  const selectedCases: [string, string, number][] = [
    ['INIT with short data', '805001020A0100000001000000581001', SW.WRONG_LENGTH],
    ['INIT with bad P1', '805002020B01000000010000005810010F', SW.WRONG_P1P2],
    ['INIT with bad P2', '805001010B01000000010000005810010F', SW.WRONG_P1P2],
    ['DEBIT with short data', '805401000E0000000120260105081500000000', SW.WRONG_LENGTH],
    ['DEBIT with bad P1', '805402000F00000001202601050815000000000008', SW.WRONG_P1P2],
    ['proof with bad type', '805A000202000108', SW.WRONG_P1P2],
    ['proof with long data', '805A00060300010008', SW.WRONG_LENGTH],
    ['GET BALANCE with data', '805C00020100', SW.WRONG_LENGTH],
  ];
  for (const [name, hex, sw] of selectedCases) {
    it(`answers ${sw.toString(16).toUpperCase()} to ${name}`, () => {
      const card = makeCard();
      selectPurse(card);
      expect(send(card, hex).sw).toBe(sw);
    });
  }

  it('never throws on random APDUs', () => {
    const random = new SeededRandom(7);
    const card = makeCard();
    for (let i = 0; i < 3000; i += 1) {
      if (i % 50 === 0) selectPurse(card);
      const length = random.integer(0, 40);
      const command = random.bytes(length);
      // Steer half the inputs to the classes and instructions the card supports.
      if (length >= 2 && i % 2 === 0) {
        command[0] = random.next() < 0.5 ? 0x00 : 0x80;
        command[1] = [0xa4, 0xb0, 0xb2, 0x84, 0x5c, 0x50, 0x54, 0x5a, 0xdc][random.integer(0, 8)]!;
      }
      const response = card.process(command);
      expect(response.length).toBeGreaterThanOrEqual(2);
    }
    expect(card.balanceFen).toBe(1000);
  });
});
