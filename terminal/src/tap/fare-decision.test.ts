import { type FareTableBody, MemoryRecentTaps, type RememberedTap, fareTableBodySchema } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { type CardBoarding, type TapFareDecision, type TapFareInput, acceptedPromptId, decideTapFare, readsCardBoarding } from './fare-decision.js';
import { routeCode } from './transit-record.js';

const STOPS = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9', 'S10'];
const TABLE: FareTableBody = fareTableBodySchema.parse({
  currency: 'CNY',
  flatFareFen: 200,
  cardTypes: { ordinary: { allowed: true, ratePercent: 100 }, student: { allowed: true, ratePercent: 50 } },
  cardTypeByCode: { '1': 'ordinary', '2': 'student' },
  localIssuerPrefixes: ['5810'],
  lowBalanceWarningFen: 500,
  transfer: { windowMinutes: 60, maxTransfers: 1, cardTypes: ['ordinary'], steps: [{ ratePercent: 50 }] },
  sectionRoutes: {
    '30': { bands: [{ maxStops: 3, fareFen: 100 }, { maxStops: 99, fareFen: 300 }], stops: { '0': STOPS } },
    '31': { bands: [{ maxStops: 3, fareFen: 100 }, { maxStops: 99, fareFen: 300 }] },
  },
});
const NOW = new Date('2026-03-02T09:00:00+08:00');
const BOARDED_AT = new Date('2026-03-02T08:40:00+08:00');

function input(overrides: Partial<TapFareInput> = {}): TapFareInput {
  return {
    fareTable: TABLE,
    card: { asn: '58100000000000000001', issuerId: '5810000000000000', issuerFactor: '5810000000000000', cardTypeCode: 1, startDate: '20240101', expiryDate: '20301231' },
    today: '20260302',
    now: NOW,
    trip: { vehicleId: 'V1', route: '30', direction: 0, stopId: 'S6' },
    blacklisted: false,
    cardBoardingRead: true,
    utcOffsetMinutes: 480,
    ...overrides,
  };
}

function cardBoarding(overrides: Partial<CardBoarding> = {}): CardBoarding {
  return { routeCode: routeCode('30'), direction: 0, stopIndex: 1, boardedAt: BOARDED_AT, amountFen: 0, missingTapOffFen: 300, ...overrides };
}

function charged(decision: TapFareDecision): Extract<TapFareDecision, { kind: 'charge' }> {
  if (decision.kind !== 'charge') throw new Error(`expected a charge, got a refusal: ${decision.reason}`);
  return decision;
}

/** Builds a boarding this terminal remembers, at BOARDED_AT from stop S2. */
function rememberedBoarding(overrides: Partial<RememberedTap> = {}): RememberedTap {
  return { atMs: BOARDED_AT.getTime() + 250, vehicleId: 'V1', route: '30', direction: 0, stopId: 'S2', kind: 'on', amountFen: 0, cardType: 'ordinary', transferOrdinal: 0, stopIndex: 1, missingTapOffFen: 300, ...overrides };
}

describe('decideTapFare with the card boarding', () => {
  it('alights a card boarding of this route and direction', () => {
    const decision = charged(decideTapFare(input({ boarding: cardBoarding() })));

    expect(decision).toMatchObject({ journey: 'alighting', purchase: 'composite', amountFen: 300, listFareFen: 300 });
    expect(decision.transitRecord).toEqual({ journey: 'alighting', stopIndex: 5, direction: 0, maxIncompleteAmountFen: 0, maxJourneyMinutes: 240 });
  });

  it('charges a boarding of another route as a missing tap-off', () => {
    const decision = charged(decideTapFare(input({ boarding: cardBoarding({ routeCode: routeCode('31'), missingTapOffFen: 250 }) })));

    expect(decision).toMatchObject({ journey: 'boarding', amountFen: 250, listFareFen: 250, promptId: 'missing-tap-off-charged' });
    // The new boarding at S6 needs the longest journey from there (4 stops, 300 fen) besides the charge.
    expect(decision.requiredBalanceFen).toBe(550);
    expect(decision.transitRecord).toEqual({ journey: 'boarding', stopIndex: 5, direction: 0, maxIncompleteAmountFen: 300, maxJourneyMinutes: 240 });
  });

  it('caps a missing tap-off charge the card records at the highest fare', () => {
    const decision = charged(decideTapFare(input({ boarding: cardBoarding({ routeCode: routeCode('31'), missingTapOffFen: 0xffffff }) })));

    expect(decision).toMatchObject({ journey: 'boarding', amountFen: 300, promptId: 'missing-tap-off-charged' });
  });

  it('charges an off-route stop index', () => {
    const decision = charged(decideTapFare(input({ boarding: cardBoarding({ stopIndex: 0xfffe, missingTapOffFen: 250 }) })));

    expect(decision).toMatchObject({ journey: 'boarding', amountFen: 250, promptId: 'missing-tap-off-charged' });
  });

  it('writes the terminus of a loop as the end of the lap', () => {
    const loop = fareTableBodySchema.parse({ ...TABLE, sectionRoutes: { '40': { bands: [{ maxStops: 99, fareFen: 200 }], stops: { '0': ['L1', 'L2', 'L3', 'L1'] } } } });
    const boarding = cardBoarding({ routeCode: routeCode('40'), stopIndex: 1 });
    const decision = charged(decideTapFare(input({ fareTable: loop, trip: { vehicleId: 'V1', route: '40', direction: 0, stopId: 'L1' }, stopIndex: 3, boarding })));

    expect(decision.journey).toBe('alighting');
    expect(decision.transitRecord?.stopIndex).toBe(3);
  });

  it('charges a boarding of the other direction as a missing tap-off', () => {
    const decision = charged(decideTapFare(input({ boarding: cardBoarding({ direction: 1 }) })));

    expect(decision).toMatchObject({ journey: 'boarding', amountFen: 300, promptId: 'missing-tap-off-charged' });
  });

  it('charges a boarding without a stop index as a missing tap-off', () => {
    const decision = charged(decideTapFare(input({ boarding: cardBoarding({ stopIndex: undefined, missingTapOffFen: 120 }) })));

    expect(decision).toMatchObject({ journey: 'boarding', amountFen: 120, promptId: 'missing-tap-off-charged' });
  });

  it('alights a boarding written by a reader whose clock runs ahead', () => {
    const ahead = new Date(NOW.getTime() + 90_000);
    const decision = charged(decideTapFare(input({ boarding: cardBoarding({ boardedAt: ahead }) })));

    expect(decision).toMatchObject({ journey: 'alighting', amountFen: 300 });
  });

  it('boards afresh over a boarding far in the future', () => {
    const ahead = new Date(NOW.getTime() + 11 * 60_000);
    const decision = charged(decideTapFare(input({ boarding: cardBoarding({ boardedAt: ahead }) })));

    expect(decision).toMatchObject({ journey: 'boarding', purchase: 'composite', amountFen: 0, promptId: 'please-tap-off' });
  });

  it('closes a boarding far in the future without a charge', () => {
    const ahead = new Date(NOW.getTime() + 11 * 60_000);
    const decision = charged(decideTapFare(input({ trip: { vehicleId: 'V1', route: '1', direction: 0 }, boarding: cardBoarding({ boardedAt: ahead }) })));

    expect(decision).toMatchObject({ journey: 'single', purchase: 'composite', amountFen: 200, promptId: 'fare-paid' });
    expect(decision.transitRecord).toEqual({ journey: 'single', direction: 0, maxIncompleteAmountFen: 0, maxJourneyMinutes: 0 });
  });

  it('alights a boarding exactly at the clock drift limit', () => {
    const ahead = new Date(NOW.getTime() + 10 * 60_000);
    const decision = charged(decideTapFare(input({ boarding: cardBoarding({ boardedAt: ahead }) })));

    expect(decision).toMatchObject({ journey: 'alighting', amountFen: 300 });
  });

  it('treats a remembered boarding the card no longer holds as closed', () => {
    const recentTaps = new MemoryRecentTaps();
    recentTaps.remember('58100000000000000001', rememberedBoarding());

    const decision = charged(decideTapFare(input({ recentTaps })));

    expect(decision).toMatchObject({ journey: 'boarding', amountFen: 0, promptId: 'please-tap-off' });
  });

  it('keeps the remembered transfer of the boarding the card holds', () => {
    const recentTaps = new MemoryRecentTaps();
    recentTaps.remember('58100000000000000001', rememberedBoarding({ transferOrdinal: 1 }));

    const decision = charged(decideTapFare(input({ recentTaps, boarding: cardBoarding() })));

    expect(decision).toMatchObject({ journey: 'alighting', amountFen: 150, promptId: 'transfer' });
  });

  it('matches a remembered boarding a second off the card time', () => {
    const recentTaps = new MemoryRecentTaps();
    recentTaps.remember('58100000000000000001', rememberedBoarding({ atMs: BOARDED_AT.getTime() - 900, transferOrdinal: 1 }));

    const decision = charged(decideTapFare(input({ recentTaps, boarding: cardBoarding() })));

    expect(decision).toMatchObject({ journey: 'alighting', amountFen: 150 });
  });

  it('uses the terminal memory alone when the card was not read', () => {
    const recentTaps = new MemoryRecentTaps();
    recentTaps.remember('58100000000000000001', rememberedBoarding());

    const decision = charged(decideTapFare(input({ recentTaps, cardBoardingRead: false })));

    expect(decision).toMatchObject({ journey: 'alighting', amountFen: 300 });
  });
});

describe('decideTapFare at the terminus after a direction switch', () => {
  const BOTH_WAYS: FareTableBody = fareTableBodySchema.parse({
    ...TABLE,
    sectionRoutes: { '30': { bands: [{ maxStops: 3, fareFen: 100 }, { maxStops: 99, fareFen: 300 }], stops: { '0': STOPS, '1': [...STOPS].reverse() } } },
  });
  /** The bus at S10, the last stop of direction 0, after the driver confirmed direction 1. */
  const AT_TERMINUS = { vehicleId: 'V1', route: '30', direction: 1 as const, stopId: 'S10' };

  it('alights a card boarding of the old direction', () => {
    const decision = charged(decideTapFare(input({ fareTable: BOTH_WAYS, trip: AT_TERMINUS, boarding: cardBoarding() })));

    // S2 to S10 is 8 stops, the second band.
    expect(decision).toMatchObject({ journey: 'alighting', purchase: 'composite', amountFen: 300, promptId: 'fare-paid' });
    expect(decision.transitRecord).toEqual({ journey: 'alighting', stopIndex: 9, direction: 0, maxIncompleteAmountFen: 0, maxJourneyMinutes: 240 });
  });

  it('alights at the first stop index of the new direction', () => {
    const trip = { vehicleId: 'V1', route: '30', direction: 1 as const };
    const decision = charged(decideTapFare(input({ fareTable: BOTH_WAYS, trip, stopIndex: 0, boarding: cardBoarding({ stopIndex: 7 }) })));

    // S8 to S10 is 2 stops, the first band.
    expect(decision).toMatchObject({ journey: 'alighting', amountFen: 100 });
    expect(decision.transitRecord).toMatchObject({ stopIndex: 9, direction: 0 });
  });

  it('alights a remembered boarding without a card read', () => {
    const recentTaps = new MemoryRecentTaps();
    recentTaps.remember('58100000000000000001', rememberedBoarding());

    const decision = charged(decideTapFare(input({ fareTable: BOTH_WAYS, trip: AT_TERMINUS, recentTaps, cardBoardingRead: false })));

    expect(decision).toMatchObject({ journey: 'alighting', amountFen: 300 });
  });

  it('charges the old direction past the terminus', () => {
    const trip = { ...AT_TERMINUS, stopId: 'S9' };
    const decision = charged(decideTapFare(input({ fareTable: BOTH_WAYS, trip, boarding: cardBoarding() })));

    expect(decision).toMatchObject({ journey: 'boarding', amountFen: 300, promptId: 'missing-tap-off-charged' });
  });

  it('charges the old direction after the journey limit', () => {
    const boardedAt = new Date(NOW.getTime() - 241 * 60_000);
    const decision = charged(decideTapFare(input({ fareTable: BOTH_WAYS, trip: AT_TERMINUS, boarding: cardBoarding({ boardedAt }) })));

    expect(decision).toMatchObject({ journey: 'boarding', amountFen: 300, promptId: 'missing-tap-off-charged' });
  });

  it('alights a card boarding made at the terminus before the switch', () => {
    const trip = { ...AT_TERMINUS, stopId: 'S8' };
    const decision = charged(decideTapFare(input({ fareTable: BOTH_WAYS, trip, boarding: cardBoarding({ stopIndex: 9 }) })));

    // S10 to S8 in direction 1 is 2 stops, the first band; the record names the bus's direction and stop.
    expect(decision).toMatchObject({ journey: 'alighting', purchase: 'composite', amountFen: 100, promptId: 'fare-paid' });
    expect(decision.transitRecord).toEqual({ journey: 'alighting', stopIndex: 2, direction: 1, maxIncompleteAmountFen: 0, maxJourneyMinutes: 240 });
  });

  it('alights a terminus boarding by stop index', () => {
    const trip = { vehicleId: 'V1', route: '30', direction: 1 as const };
    const decision = charged(decideTapFare(input({ fareTable: BOTH_WAYS, trip, stopIndex: 6, boarding: cardBoarding({ stopIndex: 9 }) })));

    // Stop index 6 of direction 1 is S4: 6 stops from S10, the second band.
    expect(decision).toMatchObject({ journey: 'alighting', amountFen: 300 });
    expect(decision.transitRecord).toMatchObject({ stopIndex: 6, direction: 1 });
  });

  it('refuses a terminus repeat tap', () => {
    const table = fareTableBodySchema.parse({ ...BOTH_WAYS, repeatTapWindowSeconds: 120 });
    const boarding = cardBoarding({ stopIndex: 9, boardedAt: new Date(NOW.getTime() - 119_000) });
    const decision = decideTapFare(input({ fareTable: table, trip: AT_TERMINUS, boarding }));

    expect(decision).toMatchObject({ kind: 'refuse', promptId: 'repeat-tap' });
  });

  it('boards at the terminus for both directions', () => {
    const trip = { vehicleId: 'V1', route: '30', direction: 0 as const, stopId: 'S10' };
    const decision = charged(decideTapFare(input({ fareTable: BOTH_WAYS, trip })));

    expect(decision).toMatchObject({ journey: 'boarding', requiredBalanceFen: 300 });
    expect(decision.transitRecord).toMatchObject({ stopIndex: 9, direction: 0, maxIncompleteAmountFen: 300 });
  });

  it('charges an off-route terminus boarding', () => {
    const trip = { ...AT_TERMINUS, stopId: 'S8' };
    const decision = charged(decideTapFare(input({ fareTable: BOTH_WAYS, trip, boarding: cardBoarding({ stopIndex: 10, missingTapOffFen: 120 }) })));

    expect(decision).toMatchObject({ journey: 'boarding', amountFen: 120, promptId: 'missing-tap-off-charged' });
  });

  it('alights a terminus boarding of another bus', () => {
    // The card cannot name the bus, so this differs from the dry-run, which charges a missing tap-off.
    const trip = { ...AT_TERMINUS, vehicleId: 'V2', stopId: 'S8' };
    const decision = charged(decideTapFare(input({ fareTable: BOTH_WAYS, trip, boarding: cardBoarding({ stopIndex: 9 }) })));

    expect(decision).toMatchObject({ journey: 'alighting', amountFen: 100 });
  });

  it('alights a terminus boarding dated ahead', () => {
    const trip = { ...AT_TERMINUS, stopId: 'S8' };
    const boarding = cardBoarding({ stopIndex: 9, boardedAt: new Date(NOW.getTime() + 5 * 60_000) });
    const decision = charged(decideTapFare(input({ fareTable: BOTH_WAYS, trip, boarding })));

    expect(decision).toMatchObject({ journey: 'alighting', amountFen: 100 });
  });

  it('charges the new direction at its own terminus', () => {
    // A boarding of direction 1 ends at S1, not at S10.
    const trip = { ...AT_TERMINUS, direction: 0 as const };
    const decision = charged(decideTapFare(input({ fareTable: BOTH_WAYS, trip, boarding: cardBoarding({ direction: 1, stopIndex: 2 }) })));

    expect(decision).toMatchObject({ journey: 'boarding', amountFen: 300, promptId: 'missing-tap-off-charged' });
  });
});

describe('decideTapFare positions', () => {
  it('takes the stop from the stop index', () => {
    const decision = charged(decideTapFare(input({ trip: { vehicleId: 'V1', route: '30', direction: 0 }, stopIndex: 7 })));

    expect(decision.transitRecord?.stopIndex).toBe(7);
    // From S8 the longest journey is 2 stops.
    expect(decision.requiredBalanceFen).toBe(100);
  });

  it('refuses a stop index beyond the route', () => {
    const decision = decideTapFare(input({ trip: { vehicleId: 'V1', route: '30', direction: 0 }, stopIndex: 40 }));

    expect(decision).toMatchObject({ kind: 'refuse', promptId: 'stop-unknown' });
  });

  it('takes the stop order from the route data', () => {
    const routeStops = { stops: (route: string, direction: 0 | 1) => (route === '31' && direction === 0 ? ['T1', 'T2', 'T3'] : undefined) };

    const decision = charged(decideTapFare(input({ trip: { vehicleId: 'V1', route: '31', direction: 0, stopId: 'T2' }, routeStops })));

    expect(decision).toMatchObject({ journey: 'boarding', transitRecord: { stopIndex: 1 } });
  });

  it('refuses a route without any stop order', () => {
    const decision = decideTapFare(input({ trip: { vehicleId: 'V1', route: '31', direction: 0, stopId: 'T2' } }));

    expect(decision).toMatchObject({ kind: 'refuse', promptId: 'stop-unknown' });
  });

  it('refuses a blacklisted card', () => {
    expect(decideTapFare(input({ blacklisted: true }))).toMatchObject({ kind: 'refuse', promptId: 'card-blacklisted', blockCard: true });
  });

  it('refuses an M1 balance below the longest journey', () => {
    const decision = decideTapFare(input({ balanceFen: 299 }));

    expect(decision).toMatchObject({ kind: 'refuse', promptId: 'insufficient-balance' });
  });
});

describe('decideTapFare on flat routes', () => {
  it('closes a card boarding with a single-trip record', () => {
    const decision = charged(decideTapFare(input({ trip: { vehicleId: 'V1', route: '1', direction: 0 }, boarding: cardBoarding() })));

    expect(decision).toMatchObject({ journey: 'single', purchase: 'composite', amountFen: 500, listFareFen: 500, promptId: 'missing-tap-off-charged' });
    expect(decision.transitRecord).toEqual({ journey: 'single', direction: 0, maxIncompleteAmountFen: 0, maxJourneyMinutes: 0 });
  });

  it('pays the ordinary purchase without a card boarding', () => {
    const decision = charged(decideTapFare(input({ trip: { vehicleId: 'V1', route: '1', direction: 0 } })));

    expect(decision).toMatchObject({ journey: 'single', purchase: 'ordinary', amountFen: 200 });
    expect(decision.transitRecord).toBeUndefined();
  });
});

describe('readsCardBoarding', () => {
  it('reads on every route of a table with tap-on/tap-off routes', () => {
    expect(readsCardBoarding(TABLE, { vehicleId: 'V1', route: '1' })).toBe(true);
    expect(readsCardBoarding(TABLE, { vehicleId: 'V1', route: '30' })).toBe(true);
  });

  it('skips the read on flat tables and without a route', () => {
    const { sectionRoutes: _unused, ...flat } = TABLE;
    expect(readsCardBoarding(flat as FareTableBody, { vehicleId: 'V1', route: '1' })).toBe(false);
    expect(readsCardBoarding(TABLE, { vehicleId: 'V1' })).toBe(false);
  });
});

describe('acceptedPromptId', () => {
  const charge = charged(decideTapFare(input({ trip: { vehicleId: 'V1', route: '1', direction: 0 }, cardBoardingRead: false })));

  it('puts a low balance before the card type prompt', () => {
    expect(acceptedPromptId(charge, 100, TABLE)).toBe('low-balance');
    expect(acceptedPromptId(charge, 900, TABLE)).toBe('fare-paid');
  });

  it('keeps a missing tap-off charge before a low balance', () => {
    expect(acceptedPromptId({ ...charge, promptId: 'missing-tap-off-charged' }, 100, TABLE)).toBe('missing-tap-off-charged');
    expect(acceptedPromptId({ ...charge, promptId: 'please-tap-off' }, 100, TABLE)).toBe('please-tap-off');
  });
});
