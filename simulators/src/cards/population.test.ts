import { SW, parseTUnionEf15, parseFci, epurse, AID, splitResponse } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { ALL_BENCH_ISSUERS, BENCH_ISSUERS } from '../keys/test-keys.js';
import { SoftwarePsam } from '../psam/software-psam.js';
import { BENCH_CARD_TYPE_BY_CODE, BENCH_CARD_TYPE_CODES } from './card-types.js';
import { cardDebitsOf, cardNumbersOf, createCardPopulation } from './population.js';
import { VirtualDualCard } from './virtual-dual-card.js';
import { VirtualM1Card } from './virtual-m1-card.js';
import { VirtualMohurdCard } from './virtual-mohurd-card.js';
import { runPurchase } from './run-purchase.js';

describe('card population', () => {
  it('gives the same cards for the same seed', () => {
    const first = createCardPopulation({ count: 200, seed: 42 });
    const second = createCardPopulation({ count: 200, seed: 42 });
    expect(first.map(({ card }) => [card.asn, card.balanceFen, card.label])).toEqual(second.map(({ card }) => [card.asn, card.balanceFen, card.label]));
  });

  it('gives different balances for another seed', () => {
    const first = createCardPopulation({ count: 50, seed: 1 }).map(({ card }) => card.balanceFen);
    const second = createCardPopulation({ count: 50, seed: 2 }).map(({ card }) => card.balanceFen);
    expect(first).not.toEqual(second);
  });

  it('gives every card its own ASN', () => {
    const cards = createCardPopulation({ count: 500, seed: 3 });
    expect(new Set(cards.map(({ card }) => card.asn)).size).toBe(500);
  });

  it('covers every kind even in a small population', () => {
    const cards = createCardPopulation({ count: 13, seed: 4 });
    const profiles = cards.map(({ profile }) => profile);
    for (const cardType of Object.keys(BENCH_CARD_TYPE_CODES)) expect(profiles.some((p) => p.cardType === cardType)).toBe(true);
    expect(profiles.some((p) => p.medium === 'sim')).toBe(true);
    expect(profiles.some((p) => p.medium === 'hce')).toBe(true);
    expect(profiles.some((p) => p.issuer === BENCH_ISSUERS.citySm4)).toBe(true);
    expect(profiles.some((p) => p.issuer === BENCH_ISSUERS.outOfTown)).toBe(true);
    expect(profiles.some((p) => p.lowBalance)).toBe(true);
    expect(profiles.some((p) => p.expired)).toBe(true);
  });

  it('is mostly local ordinary cards', () => {
    const cards = createCardPopulation({ count: 2000, seed: 5, coverEveryKind: false });
    const ordinaryLocal = cards.filter(({ profile }) => profile.cardType === 'ordinary' && profile.issuer.local).length;
    expect(ordinaryLocal / cards.length).toBeGreaterThan(0.5);
    const phones = cards.filter(({ profile }) => profile.medium !== 'card').length;
    expect(phones).toBeGreaterThan(100);
    expect(phones).toBeLessThan(400);
  });

  it('writes the card type and issuer into EF15', () => {
    for (const { card, profile } of createCardPopulation({ count: 13, seed: 6 })) {
      const fci = parseFci(splitResponse(card.process(epurse.selectByName(AID.tunionEp))).data);
      const ef15 = parseTUnionEf15(fci.issuerDiscretionary!);
      expect(ef15.cardTypeCode).toBe(BENCH_CARD_TYPE_CODES[profile.cardType]);
      expect(BENCH_CARD_TYPE_BY_CODE[String(ef15.cardTypeCode)]).toBe(profile.cardType);
      expect(ef15.issuerId).toBe(profile.issuer.issuerId);
      expect(ef15.asn).toBe(card.asn);
      if (profile.expired) expect(ef15.expiryDate < '20260101').toBe(true);
    }
  });

  it('gives cards that pay through the bench PSAM', () => {
    const samModule = new SoftwarePsam({ terminalNumber: '000000581001', issuers: ALL_BENCH_ISSUERS });
    for (const { card, profile } of createCardPopulation({ count: 13, seed: 7 })) {
      if (card.balanceFen < 1) continue;
      const result = runPurchase(card, samModule, { amountFen: 1, dateTime: '20260105081500' });
      expect(result.mac2Sw, card.label).toBe(SW.OK);
      expect(card.ledger, profile.medium).toHaveLength(1);
    }
  });

  it('rejects a negative count', () => {
    expect(() => createCardPopulation({ count: -1, seed: 1 })).toThrow(RangeError);
  });

  it('rejects a negative card mix share', () => {
    expect(() => createCardPopulation({ count: 10, seed: 1, mix: { mohurdShare: -0.1, dualShare: 0, m1Share: 0 } })).toThrow(RangeError);
  });

  it('rejects card mix shares above one in total', () => {
    expect(() => createCardPopulation({ count: 10, seed: 1, mix: { mohurdShare: 0.5, dualShare: 0.3, m1Share: 0.3 } })).toThrow(/add up to/);
  });

  it('adds MOHURD, dual and M1 cards with a mix', () => {
    const mix = { mohurdShare: 0.05, dualShare: 0.05, m1Share: 0.05 };
    const cards = createCardPopulation({ count: 400, seed: 9, mix });
    const again = createCardPopulation({ count: 400, seed: 9, mix });

    expect(cards.map(({ card }) => [cardNumbersOf(card), card.balanceFen])).toEqual(again.map(({ card }) => [cardNumbersOf(card), card.balanceFen]));
    expect(cards.filter(({ card }) => card instanceof VirtualMohurdCard).length).toBeGreaterThan(5);
    expect(cards.filter(({ card }) => card instanceof VirtualDualCard).length).toBeGreaterThan(5);
    expect(cards.filter(({ card }) => card instanceof VirtualM1Card).length).toBeGreaterThan(5);
    const numbers = cards.flatMap(({ card }) => cardNumbersOf(card));
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it('keeps T-Union cards unchanged without a mix', () => {
    const plain = createCardPopulation({ count: 50, seed: 12 });

    expect(plain.every(({ profile }) => profile.kind === 'tunion')).toBe(true);
  });

  it('lists the debits of a dual card under each purse', () => {
    const samModule = new SoftwarePsam({ terminalNumber: '000000581001', issuers: ALL_BENCH_ISSUERS });
    const dual = createCardPopulation({ count: 20, seed: 3, mix: { mohurdShare: 0, dualShare: 1, m1Share: 0 } }).find(({ card }) => card instanceof VirtualDualCard && card.balanceFen > 0);
    expect(dual).toBeDefined();
    const result = runPurchase(dual!.card as VirtualDualCard, samModule, { amountFen: 1, dateTime: '20260105081500' });

    expect(result.mac2Sw).toBe(SW.OK);
    expect(cardDebitsOf(dual!.card)).toHaveLength(1);
    expect(cardNumbersOf(dual!.card)).toContain(cardDebitsOf(dual!.card)[0]!.asn);
  });
});
