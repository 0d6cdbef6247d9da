import { AID, SW, asnFactor, computeMac1, computeMac2, diversifyKey, epurse, fromHex, psam, purchaseSessionKey, splitResponse, toHex } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { ALL_BENCH_ISSUERS, BENCH_ISSUERS } from '../keys/test-keys.js';
import { PsamTransport } from './psam-transport.js';
import { SoftwarePsam } from './software-psam.js';

const TERMINAL_NUMBER = '000000581001';
const ASN = '58100001000000001234';

function makePsam(options: { t0?: boolean; initialSerial?: number } = {}): SoftwarePsam {
  return new SoftwarePsam({ terminalNumber: TERMINAL_NUMBER, keyIndex: 1, issuers: ALL_BENCH_ISSUERS, ...options });
}

function send(samModule: SoftwarePsam, command: Uint8Array | string) {
  return splitResponse(samModule.process(typeof command === 'string' ? fromHex(command) : command));
}

function initCommand(overrides: Partial<psam.InitSamForPurchaseCommand> = {}): Uint8Array {
  return psam.initSamForPurchase({
    cardRandom: fromHex('11223344'),
    cardCounter: 5,
    amountFen: 200,
    transactionType: 0x06,
    dateTime: '20260105081500',
    keyVersion: 1,
    algorithmId: 0x00,
    asn8: asnFactor(ASN),
    issuerFactor: fromHex(BENCH_ISSUERS.cityDes.issuerId),
    ...overrides,
  });
}

describe('software PSAM files', () => {
  it('selects the T-Union DF by AID, 8011 and 1001', () => {
    const samModule = makePsam();
    const byName = send(samModule, epurse.selectByName(AID.tunionPsamDf));
    expect(byName.sw).toBe(SW.OK);
    expect(toHex(byName.data)).toContain(toHex(AID.tunionPsamDf));
    expect(send(samModule, epurse.selectByFileId(fromHex('8011'))).sw).toBe(SW.OK);
    expect(send(samModule, epurse.selectByFileId(fromHex('1001'))).sw).toBe(SW.OK);
    expect(send(samModule, epurse.selectByFileId(fromHex('3F00'))).sw).toBe(SW.OK);
    expect(send(samModule, epurse.selectByFileId(fromHex('2001'))).sw).toBe(SW.FILE_NOT_FOUND);
    expect(send(samModule, epurse.selectByName(AID.tunionEp)).sw).toBe(SW.FILE_NOT_FOUND);
  });

  it('returns the terminal number from EF16', () => {
    const answer = send(makePsam(), psam.readPsamTerminalNumber());
    expect(answer.sw).toBe(SW.OK);
    expect(toHex(answer.data)).toBe(TERMINAL_NUMBER);
  });

  it('returns the key index from DF EF17', () => {
    const samModule = makePsam();
    expect(send(samModule, psam.readPsamKeyIndex()).sw).toBe(SW.FILE_NOT_FOUND);
    send(samModule, epurse.selectByName(AID.tunionPsamDf));
    const answer = send(samModule, psam.readPsamKeyIndex());
    expect(answer.sw).toBe(SW.OK);
    expect(toHex(answer.data)).toBe('01');
    expect(send(samModule, '00B0970019').data).toHaveLength(25);
  });
});

describe('software PSAM purchase', () => {
  it('computes MAC1 with the card key and advances the serial', () => {
    const samModule = makePsam({ initialSerial: 0x1234 });
    send(samModule, epurse.selectByName(AID.tunionPsamDf));
    const first = psam.parseInitSamForPurchase(send(samModule, initCommand()));
    expect(first.terminalSerial).toBe(0x1234);

    const purchaseKey = diversifyKey('des', BENCH_ISSUERS.cityDes.purchaseMasterKey, asnFactor(ASN));
    const sessionKey = purchaseSessionKey('des', purchaseKey, { cardRandom: fromHex('11223344'), cardCounter: 5, terminalSerial: 0x1234 });
    const expected = computeMac1('des', sessionKey, { amountFen: 200, transactionType: 0x06, terminalNumber: fromHex(TERMINAL_NUMBER), dateTime: fromHex('20260105081500') });
    expect(toHex(first.mac1)).toBe(toHex(expected));

    expect(send(samModule, psam.creditSamForPurchase(computeMac2('des', sessionKey, 200))).sw).toBe(SW.OK);
    expect(send(samModule, psam.creditSamForPurchase(fromHex('00000000'))).sw).toBe(SW.MAC_INVALID);

    const second = psam.parseInitSamForPurchase(send(samModule, initCommand()));
    expect(second.terminalSerial).toBe(0x1235);
    expect(samModule.nextSerial).toBe(0x1236);
  });

  it('uses SM4 for algorithm id 04', () => {
    const samModule = makePsam();
    send(samModule, epurse.selectByFileId(fromHex('8011')));
    const issuer = BENCH_ISSUERS.citySm4;
    const answer = psam.parseInitSamForPurchase(send(samModule, initCommand({ algorithmId: 0x04, issuerFactor: fromHex(issuer.issuerId) })));
    const purchaseKey = diversifyKey('sm4', issuer.purchaseMasterKey, asnFactor(ASN));
    const sessionKey = purchaseSessionKey('sm4', purchaseKey, { cardRandom: fromHex('11223344'), cardCounter: 5, terminalSerial: answer.terminalSerial });
    const expected = computeMac1('sm4', sessionKey, { amountFen: 200, transactionType: 0x06, terminalNumber: fromHex(TERMINAL_NUMBER), dateTime: fromHex('20260105081500') });
    expect(toHex(answer.mac1)).toBe(toHex(expected));
    expect(send(samModule, psam.creditSamForPurchase(computeMac2('sm4', sessionKey, 200))).sw).toBe(SW.OK);
  });

  it('answers 9403 for an unknown issuer', () => {
    const samModule = makePsam();
    send(samModule, epurse.selectByName(AID.tunionPsamDf));
    expect(send(samModule, initCommand({ issuerFactor: fromHex('9999000100000000') })).sw).toBe(0x9403);
    expect(samModule.nextSerial).toBe(1);
  });

  it('answers 6A80 for an unknown algorithm id', () => {
    const samModule = makePsam();
    send(samModule, epurse.selectByName(AID.tunionPsamDf));
    expect(send(samModule, initCommand({ algorithmId: 0x07 })).sw).toBe(0x6a80);
  });

  it('answers 6985 to 8070 before the DF is selected', () => {
    expect(send(makePsam(), initCommand()).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it('answers 6985 to 8072 without a purchase', () => {
    const samModule = makePsam();
    send(samModule, epurse.selectByName(AID.tunionPsamDf));
    expect(send(samModule, psam.creditSamForPurchase(fromHex('01020304'))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });
});

describe('software PSAM hostile input', () => {
  const cases: [string, string, number][] = [
    ['empty APDU', '', SW.WRONG_LENGTH],
    ['three bytes', '807000', SW.WRONG_LENGTH],
    ['Lc mismatch', '8070000024112233', SW.WRONG_LENGTH],
    ['short 8070', `807000001C${'00'.repeat(28)}08`, SW.WRONG_LENGTH],
    ['8070 with bad P1', `8070010024${'00'.repeat(36)}08`, SW.WRONG_P1P2],
    ['long 8072', '807200000501020304FF', SW.WRONG_LENGTH],
    ['unknown INS', '8012000000', SW.INS_NOT_SUPPORTED],
    ['unknown CLA', 'A0A4000002', SW.CLA_NOT_SUPPORTED],
    ['ISO CLA on 8070', `0070000024${'00'.repeat(36)}`, SW.CLA_NOT_SUPPORTED],
    ['proprietary CLA on READ BINARY', '80B0960006', SW.CLA_NOT_SUPPORTED],
    ['READ BINARY past the end', '00B0960007', 0x6c06],
    ['READ BINARY at a bad offset', '00B0960601', 0x6b00],
    ['READ BINARY of an unknown file', '00B0990001', SW.FILE_NOT_FOUND],
    ['SELECT with bad P1', '00A4080002', SW.WRONG_P1P2],
    ['GET RESPONSE without a pending answer', '00C0000008', SW.CONDITIONS_NOT_SATISFIED],
  ];
  for (const [name, hex, sw] of cases) {
    it(`answers ${sw.toString(16).toUpperCase()} to ${name}`, () => {
      const samModule = makePsam();
      send(samModule, epurse.selectByName(AID.tunionPsamDf));
      expect(send(samModule, hex).sw).toBe(sw);
    });
  }
});

describe('software PSAM under T=0', () => {
  it('announces data with 61xx and returns it on GET RESPONSE', () => {
    const samModule = makePsam({ t0: true });
    expect(send(samModule, epurse.selectByName(AID.tunionPsamDf)).sw & 0xff00).toBe(0x6100);
    const announced = send(samModule, initCommand());
    expect(announced.sw).toBe(0x6108);
    expect(announced.data).toHaveLength(0);
    const fetched = send(samModule, epurse.getResponse(8));
    expect(fetched.sw).toBe(SW.OK);
    expect(psam.parseInitSamForPurchase(fetched).terminalSerial).toBe(1);
    expect(send(samModule, epurse.getResponse(8)).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it('splits a GET RESPONSE shorter than the answer', () => {
    const samModule = makePsam({ t0: true });
    expect(send(samModule, psam.readPsamTerminalNumber()).sw).toBe(0x6106);
    const head = send(samModule, epurse.getResponse(4));
    expect(head.sw).toBe(0x6102);
    expect(toHex(head.data)).toBe(TERMINAL_NUMBER.slice(0, 8));
    const tail = send(samModule, epurse.getResponse(2));
    expect(tail.sw).toBe(SW.OK);
    expect(toHex(tail.data)).toBe(TERMINAL_NUMBER.slice(8));
  });

  it('answers 6Cxx to a GET RESPONSE longer than the answer', () => {
    const samModule = makePsam({ t0: true });
    send(samModule, psam.readPsamTerminalNumber());
    expect(send(samModule, epurse.getResponse(9)).sw).toBe(0x6c06);
  });

  it('drops a pending answer on the next command', () => {
    const samModule = makePsam({ t0: true });
    send(samModule, psam.readPsamTerminalNumber());
    send(samModule, epurse.selectByFileId(fromHex('8011')));
    expect(send(samModule, epurse.getResponse(6)).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it('returns status-only answers directly', () => {
    const samModule = makePsam({ t0: true });
    expect(send(samModule, psam.creditSamForPurchase(fromHex('01020304'))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });
});

describe('PSAM transport', () => {
  it('returns answers in the order sent', async () => {
    const transport = new PsamTransport(makePsam(), { latencyMs: 1 });
    const answers = await Promise.all([
      transport.transmit(epurse.selectByName(AID.tunionPsamDf)),
      transport.transmit(psam.readPsamKeyIndex()),
      transport.transmit(psam.readPsamTerminalNumber()),
    ]);
    expect(answers.map((answer) => splitResponse(answer).sw)).toEqual([SW.OK, SW.OK, SW.OK]);
    expect(toHex(splitResponse(answers[2]!).data)).toBe(TERMINAL_NUMBER);
  });
});
