import { describe, expect, it } from 'vitest';
import type { RiderPromptId } from '../messages/catalogue.js';
import type { FareTableBody } from '../schemas/fare-table.js';
import { decideFare } from './decide-fare.js';
import { FareInputError, type CardFacts, type FareDecision, type RememberedTap, type RouteStopLookup, type TripFacts } from './fare-input.js';
import { testFareTable } from './fare-test-table.js';
import { MemoryRecentTaps } from './recent-taps.js';
import { routeStopLookupFromRoutes } from './route-stop-lookup.js';

const LOCAL = '3104000000000000';
const OUT_OF_TOWN = 'A000000000000000';

interface Step {
  /** Local time on the +08:00 offset, "2026-01-05T08:00". */
  at: string;
  trip?: Partial<TripFacts>;
  card?: Partial<CardFacts>;
  amountFen?: number;
  fareFen?: number;
  promptId: RiderPromptId;
}

interface Case {
  name: string;
  card: Partial<CardFacts>;
  steps: Step[];
  table?: FareTableBody;
  routeStops?: RouteStopLookup;
}

const ordinary: Partial<CardFacts> = { typeCode: 1, issuerId: LOCAL };
const student: Partial<CardFacts> = { typeCode: 2, issuerId: LOCAL };
const senior: Partial<CardFacts> = { typeCode: 3, issuerId: LOCAL };
const staff: Partial<CardFacts> = { typeCode: 5, issuerId: LOCAL };
const monthly: Partial<CardFacts> = { typeCode: 6, issuerId: LOCAL };
const monthlyWithPass: Partial<CardFacts> = { ...monthly, pass: { validFrom: '20260101', validUntil: '20260131' } };
const refused = (promptId: RiderPromptId, at = '2026-01-05T08:00', trip: Partial<TripFacts> = {}): Step => ({ at, trip, promptId });
const route = (routeId: string, extra: Partial<TripFacts> = {}): Partial<TripFacts> => ({ route: routeId, ...extra });
const tapOn = (stopId: string, extra: Partial<TripFacts> = {}): Partial<TripFacts> => ({ route: '30', stopId, tapKind: 'on', ...extra });
const tapOff = (stopId: string, extra: Partial<TripFacts> = {}): Partial<TripFacts> => ({ route: '30', stopId, tapKind: 'off', ...extra });

/** The test table with routes whose directions meet at a terminus in other ways. */
const TERMINUS_TABLE = testFareTable({
  sectionRoutes: {
    ...testFareTable().sectionRoutes,
    // Direction 1 leaves out C and serves E instead.
    '32': { bands: [{ maxStops: 3, fareFen: 100 }, { maxStops: 99, fareFen: 200 }], stops: { '0': ['A', 'B', 'C', 'D'], '1': ['D', 'E', 'B', 'A'] }, maxJourneyMinutes: 240, missingTapOffDiscount: false },
    // The terminus has another stop id in each direction.
    '33': { bands: [{ maxStops: 3, fareFen: 100 }, { maxStops: 99, fareFen: 200 }], stops: { '0': ['A', 'B', 'C', 'D1'], '1': ['D2', 'C', 'B', 'A'] }, maxJourneyMinutes: 240, missingTapOffDiscount: false },
    // A loop run both ways from A.
    L2: { bands: [{ maxStops: 2, fareFen: 100 }, { maxStops: 10, fareFen: 150 }], stops: { '0': ['A', 'B', 'C', 'D', 'A'], '1': ['A', 'D', 'C', 'B', 'A'] }, maxJourneyMinutes: 240, missingTapOffDiscount: false },
  },
});

const CASES: Case[] = [
  // Card type, permission and discount.
  { name: 'ordinary flat fare', card: ordinary, steps: [{ at: '2026-01-05T08:00', amountFen: 200, promptId: 'fare-paid' }] },
  { name: 'route-specific fare', card: ordinary, steps: [{ at: '2026-01-05T08:00', trip: route('8'), amountFen: 100, promptId: 'fare-paid' }] },
  { name: 'student half fare', card: student, steps: [{ at: '2026-01-05T08:00', amountFen: 100, promptId: 'card-type-student' }] },
  { name: 'disabled rides free', card: { typeCode: 4, issuerId: LOCAL }, steps: [{ at: '2026-01-05T08:00', amountFen: 0, promptId: 'card-type-disabled' }] },
  { name: 'out-of-town card full fare', card: { typeCode: 2, issuerId: OUT_OF_TOWN }, steps: [{ at: '2026-01-05T08:00', amountFen: 200, promptId: 'fare-paid' }] },
  { name: 'unknown type code', card: { typeCode: 9, issuerId: LOCAL }, steps: [refused('invalid-card')] },
  { name: 'expired card', card: { ...ordinary, expiryDate: '20251231' }, steps: [refused('card-expired')] },
  { name: 'card not yet valid', card: { ...ordinary, startDate: '20260201' }, steps: [refused('invalid-card')] },
  { name: 'blacklisted card', card: { ...ordinary, blacklisted: true }, steps: [refused('card-blacklisted')] },
  { name: 'staff on a listed route', card: staff, steps: [{ at: '2026-01-05T08:00', trip: route('2'), amountFen: 0, promptId: 'card-type-staff' }] },
  { name: 'staff on another route', card: staff, steps: [refused('card-not-allowed', '2026-01-05T08:00', route('8'))] },

  // Periods and day types.
  { name: 'senior at the morning peak', card: senior, steps: [{ at: '2026-01-05T08:59', amountFen: 100, promptId: 'card-type-senior' }] },
  { name: 'senior off-peak free', card: senior, steps: [{ at: '2026-01-05T09:00', amountFen: 0, promptId: 'card-type-senior' }] },
  { name: 'senior period ends exclusive', card: senior, steps: [{ at: '2026-01-05T16:00', amountFen: 100, promptId: 'card-type-senior' }] },
  { name: 'senior free on Saturday', card: senior, steps: [{ at: '2026-01-10T08:00', amountFen: 0, promptId: 'card-type-senior' }] },
  { name: 'senior free on a holiday', card: senior, steps: [{ at: '2026-10-01T08:00', amountFen: 0, promptId: 'card-type-senior' }] },
  { name: 'senior pays on a make-up workday', card: senior, steps: [{ at: '2026-10-10T08:00', amountFen: 100, promptId: 'card-type-senior' }] },
  { name: 'student barred before midnight', card: student, steps: [refused('card-not-allowed', '2026-01-05T23:30')] },
  { name: 'student barred after midnight', card: student, steps: [refused('card-not-allowed', '2026-01-06T04:59')] },
  { name: 'student allowed from 05:00', card: student, steps: [{ at: '2026-01-06T05:00', amountFen: 100, promptId: 'card-type-student' }] },
  { name: 'early bird discount', card: ordinary, steps: [{ at: '2026-01-05T05:30', amountFen: 100, promptId: 'fare-paid' }] },
  { name: 'no early bird at weekends', card: ordinary, steps: [{ at: '2026-01-10T05:30', amountFen: 200, promptId: 'fare-paid' }] },

  // Balance.
  { name: 'low balance warning', card: { ...ordinary, balanceFen: 600 }, steps: [{ at: '2026-01-05T08:00', amountFen: 200, promptId: 'low-balance' }] },
  { name: 'balance exactly at threshold', card: { ...ordinary, balanceFen: 700 }, steps: [{ at: '2026-01-05T08:00', amountFen: 200, promptId: 'fare-paid' }] },
  { name: 'insufficient balance', card: { ...ordinary, balanceFen: 199 }, steps: [refused('insufficient-balance')] },
  { name: 'free ride with empty purse', card: { ...senior, balanceFen: 0 }, steps: [{ at: '2026-01-05T10:00', amountFen: 0, promptId: 'low-balance' }] },

  // Repeat taps and companions.
  {
    name: 'senior in free period taps twice',
    card: senior,
    steps: [
      { at: '2026-01-05T10:00', amountFen: 0, promptId: 'card-type-senior' },
      refused('repeat-tap', '2026-01-05T10:19'),
      { at: '2026-01-05T10:20', amountFen: 0, promptId: 'card-type-senior' },
    ],
  },
  {
    name: 'student repeat within window',
    card: student,
    steps: [{ at: '2026-01-05T08:00', amountFen: 100, promptId: 'card-type-student' }, refused('repeat-tap', '2026-01-05T08:04')],
  },
  {
    name: 'student on another bus of the route',
    card: student,
    steps: [
      { at: '2026-01-05T08:00', amountFen: 100, promptId: 'card-type-student' },
      { at: '2026-01-05T08:04', trip: { vehicleId: 'V2' }, amountFen: 100, promptId: 'card-type-student' },
    ],
  },
  {
    name: 'ordinary pays for three companions',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', amountFen: 200, promptId: 'fare-paid' },
      { at: '2026-01-05T08:00:10' as string, amountFen: 200, promptId: 'companion' },
      { at: '2026-01-05T08:00:20', amountFen: 200, promptId: 'companion' },
      { at: '2026-01-05T08:00:30', amountFen: 200, promptId: 'companion' },
      refused('repeat-tap', '2026-01-05T08:00:40'),
    ],
  },
  {
    name: 'companion after window is a new ride',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', amountFen: 200, promptId: 'fare-paid' },
      { at: '2026-01-05T08:05', amountFen: 200, promptId: 'fare-paid' },
    ],
  },

  // Monthly pass.
  { name: 'monthly pass within validity', card: monthlyWithPass, steps: [{ at: '2026-01-05T08:00', amountFen: 0, promptId: 'card-type-monthly' }] },
  { name: 'monthly pass outside validity', card: monthlyWithPass, steps: [{ at: '2026-02-02T08:00', amountFen: 200, promptId: 'pass-not-valid' }] },
  {
    name: 'monthly pass outside validity refused',
    card: monthlyWithPass,
    table: testFareTable({ cardTypes: { ...testFareTable().cardTypes, monthly: { allowed: true, ratePercent: 100, pass: true, passFallback: 'refuse' } } }),
    steps: [refused('card-not-allowed', '2026-02-02T08:00')],
  },
  { name: 'monthly without pass data', card: monthly, steps: [{ at: '2026-01-05T08:00', amountFen: 200, promptId: 'card-type-monthly' }] },
  {
    name: 'monthly second tap paid from purse',
    card: monthlyWithPass,
    steps: [
      { at: '2026-01-05T08:00', amountFen: 0, promptId: 'card-type-monthly' },
      { at: '2026-01-05T08:00:15', amountFen: 200, promptId: 'companion' },
      refused('repeat-tap', '2026-01-05T08:00:30'),
    ],
  },

  // Transfers.
  {
    name: 'ordinary transfer chain',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: route('1'), amountFen: 200, promptId: 'fare-paid' },
      { at: '2026-01-05T08:30', trip: route('2', { vehicleId: 'V2' }), amountFen: 100, promptId: 'transfer' },
      { at: '2026-01-05T09:00', trip: route('8', { vehicleId: 'V3' }), amountFen: 0, promptId: 'transfer' },
      { at: '2026-01-05T09:10', trip: route('1', { vehicleId: 'V4' }), amountFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'transfer window expired',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: route('1'), amountFen: 200, promptId: 'fare-paid' },
      { at: '2026-01-05T09:00:01', trip: route('2', { vehicleId: 'V2' }), amountFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'same route is no transfer',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: route('1'), amountFen: 200, promptId: 'fare-paid' },
      { at: '2026-01-05T08:30', trip: route('1', { vehicleId: 'V2' }), amountFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'out-of-town card gets no transfer',
    card: { typeCode: 1, issuerId: OUT_OF_TOWN },
    steps: [
      { at: '2026-01-05T08:00', trip: route('1'), amountFen: 200, promptId: 'fare-paid' },
      { at: '2026-01-05T08:30', trip: route('2', { vehicleId: 'V2' }), amountFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'student transfer half of half',
    card: student,
    steps: [
      { at: '2026-01-05T08:00', trip: route('1'), amountFen: 100, promptId: 'card-type-student' },
      { at: '2026-01-05T08:30', trip: route('2', { vehicleId: 'V2' }), amountFen: 50, promptId: 'transfer' },
    ],
  },

  // Tap-on/tap-off routes.
  {
    name: 'short section journey',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S1'), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:10', trip: tapOff('S3'), amountFen: 100, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'long section journey',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S1'), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:40', trip: tapOff('S12'), amountFen: 300, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'section journey in direction 1',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S12', { direction: 1 }), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:20', trip: tapOff('S6', { direction: 1 }), amountFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'tap-off at the terminus after the direction switch',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S2'), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:40', trip: tapOff('S12', { direction: 1 }), amountFen: 300, promptId: 'fare-paid' },
      refused('repeat-tap', '2026-01-05T08:40:05', { route: '30', stopId: 'S12', direction: 1 }),
    ],
  },
  {
    name: 'single reader alights at the terminus after the switch',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: { route: '30', stopId: 'S9' }, amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:30', trip: { route: '30', stopId: 'S12', direction: 1 }, amountFen: 100, promptId: 'fare-paid' },
      { at: '2026-01-05T08:45', trip: { route: '30', stopId: 'S12', direction: 1 }, amountFen: 0, promptId: 'please-tap-off' },
    ],
  },
  {
    name: 'switched direction away from the terminus',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S2'), amountFen: 0, promptId: 'please-tap-off' },
      refused('tap-on-first', '2026-01-05T08:40', tapOff('S11', { direction: 1 })),
      { at: '2026-01-05T08:41', trip: { route: '30', stopId: 'S11', direction: 1 }, amountFen: 300, fareFen: 0, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'terminus tap-off on another bus',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S2'), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:40', trip: { route: '30', stopId: 'S12', direction: 1, vehicleId: 'V2' }, amountFen: 300, fareFen: 0, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'terminus tap-off past the time limit',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S2'), amountFen: 0, promptId: 'please-tap-off' },
      refused('tap-on-first', '2026-01-05T11:01', tapOff('S12', { direction: 1 })),
    ],
  },

  // Boarding at the terminus before the driver confirms the new direction.
  {
    name: 'boarding at the terminus before the switch',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S12'), amountFen: 0, promptId: 'please-tap-off' },
      // S12 to S8 in direction 1 is 4 stops, the second band.
      { at: '2026-01-05T08:20', trip: tapOff('S8', { direction: 1 }), amountFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'single reader across the switch at the terminus',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: { route: '30', stopId: 'S12' }, amountFen: 0, promptId: 'please-tap-off' },
      refused('repeat-tap', '2026-01-05T08:04:59', { route: '30', stopId: 'S12', direction: 1 }),
      { at: '2026-01-05T08:30', trip: { route: '30', stopId: 'S1', direction: 1 }, amountFen: 300, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'front door again after the switch past the window',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S12'), amountFen: 0, promptId: 'please-tap-off' },
      // The bus has not left the terminus, so the boarding stays open and is not charged as missed.
      refused('repeat-tap', '2026-01-05T08:09', tapOn('S12', { direction: 1 })),
      { at: '2026-01-05T08:30', trip: tapOff('S8', { direction: 1 }), amountFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'front door again at the boarding stop',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S4'), amountFen: 0, promptId: 'please-tap-off' },
      refused('repeat-tap', '2026-01-05T08:06', tapOn('S4')),
      { at: '2026-01-05T08:20', trip: tapOff('S6'), amountFen: 100, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'front door at a loop terminus after a lap',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: { route: 'L1', stopId: 'A', tapKind: 'on' }, amountFen: 0, promptId: 'please-tap-off' },
      // A whole loop from A was travelled, so the boarding is charged as missed and the card boards again.
      { at: '2026-01-05T08:40', trip: { route: 'L1', stopId: 'A', tapKind: 'on' }, amountFen: 150, fareFen: 0, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'front door again after the switch within the window',
    card: ordinary,
    steps: [{ at: '2026-01-05T08:00', trip: tapOn('S12'), amountFen: 0, promptId: 'please-tap-off' }, refused('repeat-tap', '2026-01-05T08:03', tapOn('S12', { direction: 1 }))],
  },
  {
    name: 'terminus tap after the switch past the window',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: { route: '30', stopId: 'S12' }, amountFen: 0, promptId: 'please-tap-off' },
      // Past the repeat-tap window a tap at the boarding stop is a journey of no stops, the first band, as at any stop.
      { at: '2026-01-05T08:05', trip: { route: '30', stopId: 'S12', direction: 1 }, amountFen: 100, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'terminus boarding needs the new direction longest fare',
    card: { ...ordinary, balanceFen: 299 },
    steps: [refused('insufficient-balance', '2026-01-05T08:00', tapOn('S12'))],
  },
  {
    name: 'missing tap-off after a terminus boarding',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S12'), amountFen: 0, promptId: 'please-tap-off' },
      // The longest journey from S12 is the whole of direction 1, 11 stops.
      { at: '2026-01-06T08:00', trip: route('1'), amountFen: 500, fareFen: 200, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'terminus boarding alighting off the new direction',
    card: ordinary,
    table: TERMINUS_TABLE,
    steps: [
      { at: '2026-01-05T08:00', trip: { route: '32', stopId: 'D', tapKind: 'on' }, amountFen: 0, promptId: 'please-tap-off' },
      refused('stop-unknown', '2026-01-05T08:10', { route: '32', stopId: 'C', direction: 1, tapKind: 'off' }),
      refused('stop-unknown', '2026-01-05T08:11', { route: '32', stopId: 'C', direction: 1 }),
      // D to A in direction 1 (D, E, B, A) is 3 stops.
      { at: '2026-01-05T08:20', trip: { route: '32', stopId: 'A', direction: 1, tapKind: 'off' }, amountFen: 100, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'terminus with another stop id in the new direction',
    card: ordinary,
    table: TERMINUS_TABLE,
    steps: [
      { at: '2026-01-05T08:00', trip: { route: '33', stopId: 'D1', tapKind: 'on' }, amountFen: 0, promptId: 'please-tap-off' },
      // Priced from D2, the first stop of direction 1: D2, C, B, A is 3 stops.
      { at: '2026-01-05T08:20', trip: { route: '33', stopId: 'A', direction: 1, tapKind: 'off' }, amountFen: 100, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'terminus boarding tapped off on another bus',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S12'), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:20', trip: { route: '30', stopId: 'S8', direction: 1, vehicleId: 'V2' }, amountFen: 300, fareFen: 0, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'terminus boarding back in its direction after two switches',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S12'), amountFen: 0, promptId: 'please-tap-off' },
      // Direction 1 to S1, then direction 0 again: S12 to S1 is 11 stops either way.
      { at: '2026-01-05T08:45', trip: tapOff('S1'), amountFen: 300, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'terminus alighting after the driver switched back',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S2'), amountFen: 0, promptId: 'please-tap-off' },
      // The driver confirmed direction 1 at S12 and went back to direction 0 there.
      { at: '2026-01-05T08:40', trip: tapOff('S12'), amountFen: 300, promptId: 'fare-paid' },
      refused('repeat-tap', '2026-01-05T08:40:30', tapOff('S12', { direction: 1 })),
    ],
  },
  {
    name: 'loop terminus boarding before the switch',
    card: ordinary,
    table: TERMINUS_TABLE,
    steps: [
      { at: '2026-01-05T08:00', trip: { route: 'L2', stopId: 'A', tapKind: 'on' }, amountFen: 0, promptId: 'please-tap-off' },
      refused('repeat-tap', '2026-01-05T08:04', { route: 'L2', stopId: 'A', direction: 1 }),
      // A, D, C in direction 1 is 2 stops.
      { at: '2026-01-05T08:10', trip: { route: 'L2', stopId: 'C', direction: 1 }, amountFen: 100, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'loop terminus tapped again after the switch past the window',
    card: ordinary,
    table: TERMINUS_TABLE,
    steps: [
      { at: '2026-01-05T08:00', trip: { route: 'L2', stopId: 'A', tapKind: 'on' }, amountFen: 0, promptId: 'please-tap-off' },
      // As within one direction, a tap at a loop's terminus past the window closes a whole loop.
      { at: '2026-01-05T08:10', trip: { route: 'L2', stopId: 'A', direction: 1 }, amountFen: 150, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'terminus boarding with the clock moved back within the drift',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S12'), amountFen: 0, promptId: 'please-tap-off' },
      // Readers' clocks drift apart, so the boarding counts as made at the tap's time.
      refused('repeat-tap', '2026-01-05T07:51', { route: '30', stopId: 'S12', direction: 1 }),
      { at: '2026-01-05T07:50', trip: tapOff('S8', { direction: 1 }), amountFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'terminus boarding with the clock moved back beyond the drift',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S12'), amountFen: 0, promptId: 'please-tap-off' },
      refused('tap-on-first', '2026-01-05T07:49:59', tapOff('S8', { direction: 1 })),
      // The boarding's time cannot be trusted: the tap boards afresh without a missing tap-off charge.
      { at: '2026-01-05T07:49:59', trip: { route: '30', stopId: 'S8', direction: 1 }, amountFen: 0, promptId: 'please-tap-off' },
    ],
  },
  {
    name: 'terminus boarding at the journey limit',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S12'), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T11:00:00', trip: tapOff('S8', { direction: 1 }), amountFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'terminus boarding a second past the journey limit',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S12'), amountFen: 0, promptId: 'please-tap-off' },
      refused('tap-on-first', '2026-01-05T11:00:01', tapOff('S8', { direction: 1 })),
      { at: '2026-01-05T11:00:02', trip: { route: '30', stopId: 'S8', direction: 1 }, amountFen: 300, fareFen: 0, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'transfer onto a terminus boarding',
    card: student,
    steps: [
      { at: '2026-01-05T08:00', trip: route('1'), amountFen: 100, promptId: 'card-type-student' },
      { at: '2026-01-05T08:20', trip: tapOn('S12', { vehicleId: 'V2' }), amountFen: 0, promptId: 'please-tap-off' },
      // S12 to S8 is 200 fen, 100 at the student rate, 50 after the first transfer step.
      { at: '2026-01-05T08:40', trip: tapOff('S8', { direction: 1, vehicleId: 'V2' }), amountFen: 50, promptId: 'transfer' },
    ],
  },
  {
    name: 'single reader boards then alights',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: { route: '30', stopId: 'S2' }, amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:20', trip: { route: '30', stopId: 'S6' }, amountFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'single reader double tap at boarding',
    card: ordinary,
    steps: [{ at: '2026-01-05T08:00', trip: { route: '30', stopId: 'S2' }, amountFen: 0, promptId: 'please-tap-off' }, refused('repeat-tap', '2026-01-05T08:00:05', { route: '30', stopId: 'S2' })],
  },
  {
    name: 'second boarding tap refused',
    card: ordinary,
    steps: [{ at: '2026-01-05T08:00', trip: tapOn('S2'), amountFen: 0, promptId: 'please-tap-off' }, refused('repeat-tap', '2026-01-05T08:01', tapOn('S2'))],
  },
  {
    name: 'second tap-off refused',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S1'), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:10', trip: tapOff('S3'), amountFen: 100, promptId: 'fare-paid' },
      refused('repeat-tap', '2026-01-05T08:10:05', tapOff('S3')),
    ],
  },
  { name: 'tap-off without boarding', card: ordinary, steps: [refused('tap-on-first', '2026-01-05T08:00', tapOff('S3'))] },
  { name: 'tap-off on a flat route', card: ordinary, steps: [refused('tap-off-not-needed', '2026-01-05T08:00', route('1', { tapKind: 'off' }))] },
  { name: 'boarding needs longest fare', card: { ...ordinary, balanceFen: 299 }, steps: [refused('insufficient-balance', '2026-01-05T08:00', tapOn('S1'))] },
  { name: 'boarding at unknown stop', card: ordinary, steps: [refused('stop-unknown', '2026-01-05T08:00', tapOn('X9'))] },
  { name: 'boarding without a stop', card: ordinary, steps: [refused('stop-unknown', '2026-01-05T08:00', { route: '30', tapKind: 'on' })] },
  {
    name: 'missing tap-off charged next tap',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S4'), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-06T08:00', trip: route('1'), amountFen: 400, fareFen: 200, promptId: 'missing-tap-off-charged' },
      { at: '2026-01-06T18:00', trip: route('1'), amountFen: 200, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'student missing tap-off undiscounted',
    card: student,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S4'), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-06T08:00', trip: route('1'), amountFen: 300, fareFen: 100, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'journey past its time limit',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S1'), amountFen: 0, promptId: 'please-tap-off' },
      refused('tap-on-first', '2026-01-05T11:01', tapOff('S5')),
      { at: '2026-01-05T11:02', trip: { route: '30', stopId: 'S5' }, amountFen: 300, fareFen: 0, promptId: 'missing-tap-off-charged' },
    ],
  },
  {
    name: 'boarding on another bus closes the old one',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S1'), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:30', trip: tapOn('S5', { vehicleId: 'V2' }), amountFen: 300, promptId: 'missing-tap-off-charged' },
      { at: '2026-01-05T08:40', trip: tapOff('S7', { vehicleId: 'V2' }), amountFen: 100, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'student transfers onto tap-off route',
    card: student,
    steps: [
      { at: '2026-01-05T08:00', trip: route('1'), amountFen: 100, promptId: 'card-type-student' },
      { at: '2026-01-05T08:20', trip: tapOn('S2', { vehicleId: 'V2' }), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:50', trip: tapOff('S9', { vehicleId: 'V2' }), amountFen: 50, promptId: 'transfer' },
    ],
  },
  {
    name: 'transfer from tap-off route',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: tapOn('S1'), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:10', trip: tapOff('S3'), amountFen: 100, promptId: 'fare-paid' },
      { at: '2026-01-05T08:40', trip: route('1', { vehicleId: 'V2' }), amountFen: 100, promptId: 'transfer' },
    ],
  },
  {
    name: 'whole loop from the terminus',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: { route: 'L1', stopId: 'A', tapKind: 'on' }, amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:40', trip: { route: 'L1', stopId: 'A', tapKind: 'off' }, amountFen: 150, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'repeat tap at a loop terminus',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: { route: 'L1', stopId: 'A', tapKind: 'on' }, amountFen: 0, promptId: 'please-tap-off' },
      refused('repeat-tap', '2026-01-05T08:00:30', { route: 'L1', stopId: 'A', tapKind: 'off' }),
    ],
  },
  {
    name: 'loop route past the terminus',
    card: ordinary,
    steps: [
      { at: '2026-01-05T08:00', trip: { route: 'L1', stopId: 'C', tapKind: 'on' }, amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:10', trip: { route: 'L1', stopId: 'A', tapKind: 'off' }, amountFen: 100, promptId: 'fare-paid' },
    ],
  },
  {
    name: 'section stops from route data',
    card: ordinary,
    routeStops: routeStopLookupFromRoutes({
      stops: ['P1', 'P2', 'P3', 'P4', 'P5'].map((id) => ({ id, name: id, lat: 31, lon: 121 })),
      routes: [{ id: 'R40', shortName: '40', longName: 'Forty', patterns: [{ direction: 0, stops: ['P1', 'P2', 'P3', 'P4', 'P5'], loop: false }] }],
    }),
    steps: [
      { at: '2026-01-05T08:00', trip: { route: 'R40', stopId: 'P1', tapKind: 'on' }, amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T08:10', trip: { route: 'R40', stopId: 'P5', tapKind: 'off' }, amountFen: 200, promptId: 'fare-paid' },
    ],
  },
  { name: 'section route without stop data', card: ordinary, steps: [refused('stop-unknown', '2026-01-05T08:00', { route: 'R40', stopId: 'P1', tapKind: 'on' })] },
  {
    name: 'senior free period at tap-off',
    card: senior,
    steps: [
      { at: '2026-01-05T08:50', trip: tapOn('S1'), amountFen: 0, promptId: 'please-tap-off' },
      { at: '2026-01-05T09:10', trip: tapOff('S12'), amountFen: 0, promptId: 'card-type-senior' },
    ],
  },
];

function runCase(testCase: Case): void {
  const table = testCase.table ?? testFareTable();
  const recent = new MemoryRecentTaps();
  let balanceFen = testCase.card.balanceFen ?? 10_000;
  testCase.steps.forEach((step, index) => {
    const card: CardFacts = { asn: '0001', ...testCase.card, ...step.card, balanceFen };
    const trip: TripFacts = { vehicleId: 'V1', route: '1', direction: 0, ...step.trip, time: `${step.at.length === 16 ? `${step.at}:00` : step.at}+08:00` };
    const decision: FareDecision = decideFare({ card, table, trip, recentTaps: recent.recent(card.asn), routeStops: testCase.routeStops });
    const label = `step ${index + 1} (${step.at}): ${decision.reason}`;
    expect(decision.promptId, label).toBe(step.promptId);
    if (step.amountFen === undefined && step.fareFen === undefined) {
      expect(decision.kind, label).toBe('refuse');
      return;
    }
    expect(decision.kind, label).toBe('charge');
    if (decision.kind !== 'charge') return;
    if (step.amountFen !== undefined) expect(decision.amountFen, label).toBe(step.amountFen);
    if (step.fareFen !== undefined) expect(decision.fareFen, label).toBe(step.fareFen);
    expect(decision.balanceAfterFen, label).toBe(balanceFen - decision.amountFen);
    balanceFen = decision.balanceAfterFen;
    recent.remember(card.asn, decision.remember);
  });
}

describe('decideFare', () => {
  it.each(CASES.map((testCase) => [testCase.name, testCase] as const))('%s', (_name, testCase) => {
    runCase(testCase);
  });

  it('gives the prompt in both languages', () => {
    const decision = decideFare({ card: { asn: '1', ...student, balanceFen: 1000 }, table: testFareTable(), trip: { vehicleId: 'V1', route: '1', time: '2026-01-05T08:00:00+08:00' }, recentTaps: [] });
    expect(decision.prompt).toEqual({ id: 'card-type-student', zh: '学生卡', en: 'Student card', voice: 'v11-student', beep: 'concession' });
  });

  it('asks to block a blacklisted card', () => {
    const decision = decideFare({ card: { asn: '1', ...ordinary, balanceFen: 1000, blacklisted: true }, table: testFareTable(), trip: { vehicleId: 'V1', route: '1', time: '2026-01-05T08:00:00+08:00' }, recentTaps: [] });
    expect(decision.kind).toBe('refuse');
    expect(decision.kind === 'refuse' ? decision.blockCard : undefined).toBe(true);
  });

  it('remembers a boarding with its stop', () => {
    const decision = decideFare({ card: { asn: '1', ...ordinary, balanceFen: 1000 }, table: testFareTable(), trip: { vehicleId: 'V1', route: '30', direction: 0, stopId: 'S4', tapKind: 'on', time: '2026-01-05T08:00:00+08:00' }, recentTaps: [] });
    expect(decision.kind).toBe('charge');
    expect(decision.kind === 'charge' ? decision.remember : undefined).toEqual({
      atMs: Date.parse('2026-01-05T08:00:00+08:00'),
      vehicleId: 'V1',
      route: '30',
      direction: 0,
      stopId: 'S4',
      kind: 'on',
      amountFen: 0,
      cardType: 'ordinary',
      transferOrdinal: 0,
      stopIndex: 3,
      missingTapOffFen: 200,
    });
  });

  it('rejects a time without offset', () => {
    expect(() => decideFare({ card: { asn: '1', ...ordinary, balanceFen: 1000 }, table: testFareTable(), trip: { vehicleId: 'V1', route: '1', time: '2026-01-05T08:00:00' }, recentTaps: [] })).toThrow(FareInputError);
  });

  it.each([
    ['up', 1, 98],
    ['down', 1, 97],
    ['nearest', 1, 98],
    ['up', 10, 100],
    ['down', 10, 90],
  ] as const)('rounds %s to %i fen', (mode, unitFen, expected) => {
    const base = testFareTable();
    const table = testFareTable({ flatFareFen: 150, rounding: { mode, unitFen }, cardTypes: { ...base.cardTypes, student: { allowed: true, ratePercent: 65 } } });
    const decision = decideFare({ card: { asn: '1', ...student, balanceFen: 1000 }, table, trip: { vehicleId: 'V1', route: '1', time: '2026-01-05T08:00:00+08:00' }, recentTaps: [] });
    expect(decision.kind).toBe('charge');
    expect(decision.kind === 'charge' ? decision.amountFen : undefined).toBe(expected);
  });
});

describe('decideFare across the direction switch', () => {
  const table = testFareTable();
  const boarding = (overrides: Partial<RememberedTap> = {}): RememberedTap => ({
    atMs: Date.parse('2026-01-05T08:00:00+08:00'),
    vehicleId: 'V1',
    route: '30',
    direction: 0,
    stopId: 'S12',
    kind: 'on',
    amountFen: 0,
    cardType: 'ordinary',
    transferOrdinal: 0,
    stopIndex: 11,
    missingTapOffFen: 300,
    ...overrides,
  });
  const tapAt = (stopId: string, direction: 0 | 1, open: RememberedTap, tapKind: TripFacts['tapKind'] = 'single'): FareDecision =>
    decideFare({ card: { asn: '1', ...ordinary, balanceFen: 1000 }, table, trip: { vehicleId: 'V1', route: '30', direction, stopId, tapKind, time: '2026-01-05T08:20:00+08:00' }, recentTaps: [open] });

  it('explains a terminus boarding', () => {
    const decision = tapAt('S8', 1, boarding());

    expect(decision).toMatchObject({ kind: 'charge', tapKind: 'off', amountFen: 200 });
    expect(decision.reason).toContain('4 stops from S12 to S8, boarding at the terminus of direction 0, before the switch to direction 1');
  });

  it('explains a terminus alighting', () => {
    const decision = tapAt('S12', 1, boarding({ stopId: 'S2', stopIndex: 1 }));

    expect(decision.reason).toContain('10 stops from S2 to S12, alighting at the terminus of direction 0, before the switch to direction 1');
  });

  it.each([
    ['beyond the stop list', 12],
    ['negative', -1],
    ['fractional', 10.5],
  ])('charges a stop index %s', (_name, stopIndex) => {
    const open = boarding({ stopIndex, stopId: undefined });

    expect(tapAt('S8', 1, open)).toMatchObject({ kind: 'charge', tapKind: 'on', missingTapOffFen: 300, promptId: 'missing-tap-off-charged' });
    expect(tapAt('S8', 0, open)).toMatchObject({ kind: 'charge', tapKind: 'on', missingTapOffFen: 300, promptId: 'missing-tap-off-charged' });
    expect(tapAt('S8', 1, open, 'off')).toMatchObject({ kind: 'refuse', promptId: 'tap-on-first' });
  });

  it('charges a boarding without stop index', () => {
    const open = boarding({ stopIndex: undefined, stopId: undefined });

    expect(tapAt('S8', 1, open)).toMatchObject({ kind: 'charge', tapKind: 'on', promptId: 'missing-tap-off-charged' });
  });

  it('charges an old-direction mid-route boarding', () => {
    const open = boarding({ stopId: 'S11', stopIndex: 10 });

    expect(tapAt('S8', 1, open)).toMatchObject({ kind: 'charge', tapKind: 'on', promptId: 'missing-tap-off-charged' });
  });
});

describe('MemoryRecentTaps', () => {
  const tap = (atMs: number) => ({ atMs, vehicleId: 'V1', route: '1', kind: 'single' as const, amountFen: 200, cardType: 'ordinary' as const, transferOrdinal: 0 });

  it('keeps the newest taps per card', () => {
    const recent = new MemoryRecentTaps({ maxTapsPerCard: 3 });
    for (let index = 1; index <= 5; index += 1) recent.remember('A', tap(index));
    expect(recent.recent('A').map((entry) => entry.atMs)).toEqual([3, 4, 5]);
  });

  it('evicts the least recently tapped card', () => {
    const recent = new MemoryRecentTaps({ maxCards: 2 });
    recent.remember('A', tap(1));
    recent.remember('B', tap(2));
    recent.remember('A', tap(3));
    recent.remember('C', tap(4));
    expect(recent.size).toBe(2);
    expect(recent.recent('B')).toEqual([]);
    expect(recent.recent('A')).toHaveLength(2);
  });

  it('rejects a zero bound', () => {
    expect(() => new MemoryRecentTaps({ maxCards: 0 })).toThrow(RangeError);
  });
});
