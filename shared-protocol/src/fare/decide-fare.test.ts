import { describe, expect, it } from 'vitest';
import type { RiderPromptId } from '../messages/catalogue.js';
import type { FareTableBody } from '../schemas/fare-table.js';
import { decideFare } from './decide-fare.js';
import { FareInputError, type CardFacts, type FareDecision, type RouteStopLookup, type TripFacts } from './fare-input.js';
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
