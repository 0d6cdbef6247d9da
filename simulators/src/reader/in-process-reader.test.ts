import { AID, SW, TRANSACTION_TYPE, asnFactor, epurse, fromHex, psam, splitResponse } from '@busfare/shared-protocol';
import { CardIoError, type CardSession } from '@busfare/terminal';
import { describe, expect, it } from 'vitest';
import { VirtualTUnionCard } from '../cards/virtual-tunion-card.js';
import { ALL_BENCH_ISSUERS, BENCH_ISSUERS } from '../keys/test-keys.js';
import { PsamTransport } from '../psam/psam-transport.js';
import { SoftwarePsam } from '../psam/software-psam.js';
import { InProcessCardReader, type TearPhase } from './in-process-reader.js';

const TERMINAL_NUMBER = '000000581001';
const DATE_TIME = '20260105081500';

function makeCard(balanceFen = 1000): VirtualTUnionCard {
  const issuer = BENCH_ISSUERS.cityDes;
  return new VirtualTUnionCard({
    asn: '58100001000000000042',
    issuerId: issuer.issuerId,
    balanceFen,
    cardTypeCode: 1,
    algorithm: issuer.algorithm,
    purchaseMasterKey: issuer.purchaseMasterKey,
    tacMasterKey: issuer.tacMasterKey,
    medium: 'card',
    startDate: '20240101',
    expiryDate: '20341231',
  });
}

async function startedReader(apduLatencyMs = 0): Promise<InProcessCardReader> {
  const reader = new InProcessCardReader({ apduLatencyMs });
  await reader.start();
  return reader;
}

async function rx(session: CardSession, command: Uint8Array) {
  return splitResponse(await session.transmit(command));
}

/**
 * Runs a purchase over the reader in the terminal's order: SELECT (APDU 0), INIT (1), DEBIT (2),
 * with the PSAM behind a transport. Resolves with the DEBIT response or rejects with the card error.
 */
async function purchaseOverReader(session: CardSession, card: VirtualTUnionCard, samTransport: PsamTransport, amountFen: number) {
  await rx(session, epurse.selectByName(AID.tunionEp));
  const init = epurse.parseInitForPurchase(await rx(session, epurse.initForPurchase({ mode: 1, keyIndex: 1, amountFen, terminalNumber: fromHex(TERMINAL_NUMBER) })));
  await samTransport.transmit(epurse.selectByName(AID.tunionPsamDf));
  const sam = psam.parseInitSamForPurchase(
    splitResponse(
      await samTransport.transmit(
        psam.initSamForPurchase({
          cardRandom: init.cardRandom,
          cardCounter: init.cardCounter,
          amountFen,
          transactionType: TRANSACTION_TYPE.purchase,
          dateTime: DATE_TIME,
          keyVersion: init.keyVersion,
          algorithmId: init.algorithmId,
          asn8: asnFactor(card.asn),
          issuerFactor: fromHex(card.issuerId),
        }),
      ),
    ),
  );
  const debit = await rx(session, epurse.debitForPurchase({ terminalSerial: sam.terminalSerial, dateTime: DATE_TIME, mac1: sam.mac1 }));
  return { init, debit };
}

function makePsamTransport(): PsamTransport {
  return new PsamTransport(new SoftwarePsam({ terminalNumber: TERMINAL_NUMBER, issuers: ALL_BENCH_ISSUERS }));
}

describe('in-process reader', () => {
  it('emits card and removed with the same session', async () => {
    const reader = await startedReader();
    const seen: string[] = [];
    reader.on('card', (session) => seen.push(`card ${session.id}`));
    reader.on('removed', (session) => seen.push(`removed ${session.id}`));
    const card = makeCard();
    const session = reader.present(card);
    expect(session.atr).toEqual(card.atr);
    expect(session.protocol).toBe('iso14443-4');
    expect(session.uid).toEqual(card.uid);
    reader.remove();
    reader.present(card);
    expect(seen).toEqual(['card 1', 'removed 1', 'card 2']);
  });

  it('removes the old card when a new one is presented', async () => {
    const reader = await startedReader();
    const first = reader.present(makeCard());
    reader.present(makeCard());
    await expect(first.transmit(epurse.selectByName(AID.tunionEp))).rejects.toBeInstanceOf(CardIoError);
  });

  it('exchanges APDUs with the card', async () => {
    const reader = await startedReader(1);
    const session = reader.present(makeCard(1234));
    expect((await rx(session, epurse.selectByName(AID.tunionEp))).sw).toBe(SW.OK);
    expect(epurse.parseBalance(await rx(session, epurse.getBalance(0x03)))).toBe(1234);
    expect(session.apduCount).toBe(2);
  });

  it('rejects transmit after removal with CardIoError', async () => {
    const reader = await startedReader();
    const session = reader.present(makeCard());
    reader.remove();
    const error = await session.transmit(epurse.selectByName(AID.tunionEp)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CardIoError);
    expect((error as CardIoError).reason).toBe('removed');
  });

  it('rejects an APDU in flight when the card leaves', async () => {
    const reader = await startedReader(20);
    const session = reader.present(makeCard());
    const pending = session.transmit(epurse.selectByName(AID.tunionEp));
    reader.remove();
    await expect(pending).rejects.toBeInstanceOf(CardIoError);
  });

  it('refuses a card before start', () => {
    const reader = new InProcessCardReader();
    expect(() => reader.present(makeCard())).toThrow(/not started/);
  });

  it('reports health on start and stop', async () => {
    const reader = new InProcessCardReader();
    const health: string[] = [];
    reader.on('health', (state) => health.push(state));
    await reader.start();
    await reader.stop();
    expect(health).toEqual(['ok', 'down']);
  });

  it('rejects a negative tear index', async () => {
    const reader = await startedReader();
    expect(() => reader.tearAt(-1, 'before-card')).toThrow(RangeError);
  });
});

describe('in-process reader tearing', () => {
  const DEBIT_APDU_INDEX = 2;

  async function tornPurchase(phase: TearPhase) {
    const reader = await startedReader();
    const card = makeCard(1000);
    const samTransport = makePsamTransport();
    reader.tearAt(DEBIT_APDU_INDEX, phase);
    const removed: number[] = [];
    reader.on('removed', (session) => removed.push(session.id));
    const session = reader.present(card);
    const outcome = await purchaseOverReader(session, card, samTransport, 200).catch((caught: unknown) => caught);
    return { reader, card, session, outcome, removed };
  }

  it('leaves the balance when torn before the card', async () => {
    const { card, outcome, removed, reader } = await tornPurchase('before-card');
    expect(outcome).toBeInstanceOf(CardIoError);
    expect(removed).toEqual([1]);
    expect(card.balanceFen).toBe(1000);
    expect(card.ledger).toHaveLength(0);
    const again = reader.present(card);
    await rx(again, epurse.selectByName(AID.tunionEp));
    expect((await rx(again, epurse.getTransactionProof(0x06, 1))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it('debits the card when torn after the card', async () => {
    const { card, outcome, reader } = await tornPurchase('after-card');
    expect(outcome).toBeInstanceOf(CardIoError);
    expect(card.balanceFen).toBe(800);
    expect(card.ledger).toHaveLength(1);
    const again = reader.present(card);
    await rx(again, epurse.selectByName(AID.tunionEp));
    const proof = await rx(again, epurse.getTransactionProof(0x06, 1));
    expect(proof.sw).toBe(SW.OK);
    expect(epurse.parseTransactionProof(proof).tac).toEqual(fromHex(card.ledger[0]!.tac));
  });

  it('tears the current session at a later APDU', async () => {
    const reader = await startedReader();
    const session = reader.present(makeCard());
    await rx(session, epurse.selectByName(AID.tunionEp));
    reader.tearAt(1, 'before-card');
    await expect(session.transmit(epurse.getBalance())).rejects.toBeInstanceOf(CardIoError);
    expect(reader.currentSession).toBeUndefined();
  });

  it('forgets a tear whose session ended', async () => {
    const reader = await startedReader();
    reader.present(makeCard());
    reader.tearAt(5, 'before-card');
    reader.remove();
    const next = reader.present(makeCard());
    for (let i = 0; i < 7; i += 1) expect((await rx(next, epurse.selectByName(AID.tunionEp))).sw).toBe(SW.OK);
  });

  it('cancels a planned tear', async () => {
    const reader = await startedReader();
    reader.tearAt(0, 'before-card');
    reader.cancelTear();
    const session = reader.present(makeCard());
    expect((await rx(session, epurse.selectByName(AID.tunionEp))).sw).toBe(SW.OK);
  });
});
