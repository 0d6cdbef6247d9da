import { SW, parseTUnionEf15, parseFci, epurse, AID, splitResponse } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { ALL_BENCH_ISSUERS, BENCH_ISSUERS } from '../keys/test-keys.js';
import { SoftwarePsam } from '../psam/software-psam.js';
import { BENCH_CARD_TYPE_BY_CODE, BENCH_CARD_TYPE_CODES } from './card-types.js';
import { createCardPopulation } from './population.js';
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
});
