import {
  type CardType,
  type FareCharge,
  type FareTableBody,
  type RecentTaps,
  type RememberedTap,
  type RiderPromptId,
  type RouteStopLookup,
  type SectionRoute,
  type TripContext,
  decideFare,
  formatLocalTime,
  isBoardingAfterTap,
} from '@busfare/shared-protocol';
import { successPrompt } from '../fare/flat-fare.js';
import type { PurseCardFacts } from './select-application.js';
import { routeCode } from './transit-record.js';

/**
 * An open boarding as the card itself records it: the last EF1E transit record of a CPU card, or
 * the boarding record of an M1 purse. Only a later tap that writes the card closes it.
 */
export interface CardBoarding {
  /** Route code of the record, 8 hex digits (see routeCode). */
  routeCode: string;
  direction: 0 | 1;
  /** Stop index on the route pattern; undefined when the boarding reader did not know it. */
  stopIndex?: number;
  boardedAt: Date;
  /** Amount debited by the boarding tap, in fen. */
  amountFen: number;
  /** Charge of a missing tap-off as the boarding reader wrote it, in fen. */
  missingTapOffFen: number;
}

export interface TapFareInput {
  fareTable: FareTableBody;
  card: PurseCardFacts;
  /** Local date YYYYMMDD. */
  today: string;
  now: Date;
  trip: TripContext;
  blacklisted: boolean;
  /**
   * Whether the card's boarding record was read for this tap (see readsCardBoarding). When it
   * was, `boarding` is the card's open boarding or absent, and the card overrules this terminal's
   * memory about which boarding is open.
   */
  cardBoardingRead?: boolean;
  /** The card's open boarding, read before the decision. */
  boarding?: CardBoarding;
  /** Stop index of the bus on its route pattern, used when the trip names no stop id. */
  stopIndex?: number;
  /** Purse balance when it was read before the decision (M1); CPU cards report it at INITIALIZE FOR PURCHASE. */
  balanceFen?: number;
  /** This terminal's memory of the card's recent taps (repeat-tap window, transfers, companions). */
  recentTaps?: RecentTaps;
  /** Stop order of routes whose tap-on/tap-off rules list no stops. */
  routeStops?: RouteStopLookup;
  /** Offset of local civil time from UTC, for time-of-day periods. */
  utcOffsetMinutes: number;
}

/** The transit record a composite purchase writes to the card with its debit. */
export interface TransitRecordPlan {
  /** Record type: a boarding opens a journey; an alighting or a single trip closes any open boarding. */
  journey: 'boarding' | 'alighting' | 'single';
  stopIndex?: number;
  direction: 0 | 1;
  /** Charge of a missing tap-off after this boarding, in fen; 0 on a record that closes. */
  maxIncompleteAmountFen: number;
  maxJourneyMinutes: number;
}

export type TapFareDecision =
  | {
      kind: 'charge';
      cardType: CardType;
      /** Undiscounted amount of the debit: the ride's list fare plus any missing tap-off charge. */
      listFareFen: number;
      amountFen: number;
      /** Balance the card must hold: amountFen, or at a boarding the longest journey plus any missing tap-off charge. */
      requiredBalanceFen: number;
      /** Composite purchase (P1 03, with a transit record) when the tap writes the card's journey; ordinary otherwise. */
      purchase: 'ordinary' | 'composite';
      journey: 'single' | 'boarding' | 'alighting';
      /** The record a composite purchase writes. */
      transitRecord?: TransitRecordPlan;
      /** Prompt that replaces the ordinary success prompt (a boarding asks the rider to tap off). */
      promptId?: RiderPromptId;
      /** What the terminal remembers of this tap once its record is durable. */
      remember?: RememberedTap;
    }
  | { kind: 'refuse'; cardType?: CardType; promptId: RiderPromptId; reason: string; blockCard?: boolean };

type Charge = Extract<TapFareDecision, { kind: 'charge' }>;

/** The tap-on/tap-off rules of the trip's route, when the fare table makes it one. */
export function sectionRouteOf(fareTable: FareTableBody, trip: TripContext): SectionRoute | undefined {
  return trip.route === undefined ? undefined : fareTable.sectionRoutes?.[trip.route];
}

/**
 * Returns whether a tap on this table reads the card's boarding record: on every route once the
 * table has a tap-on/tap-off route, because a missing tap-off is charged at the card's next tap
 * anywhere. Tables without such routes skip the read.
 */
export function readsCardBoarding(fareTable: FareTableBody, trip: TripContext): boolean {
  return trip.route !== undefined && Object.keys(fareTable.sectionRoutes ?? {}).length > 0;
}

/**
 * Decides the fare of a tap; the tap path calls nothing else for a fare. It checks the blacklist,
 * then prices the tap with the shared fare engine (`decideFare`), as the back office's dry-run
 * does, over this terminal's memory of the card merged with the boarding the card records.
 * Tap-on/tap-off taps, and taps that close a boarding left open, become composite purchases that
 * write the card's transit record.
 */
export function decideTapFare(input: TapFareInput): TapFareDecision {
  const { card, trip, fareTable } = input;
  if (input.blacklisted) return { kind: 'refuse', promptId: 'card-blacklisted', reason: 'card is on the blacklist', blockCard: true };
  const section = sectionRouteOf(fareTable, trip);
  const direction: 0 | 1 = trip.direction === 1 ? 1 : 0;
  const stops = directionStops(input, direction);
  const stopId = trip.stopId ?? (input.stopIndex === undefined ? undefined : stops?.[input.stopIndex]);
  const recentTaps = journeyHistory(input, stopId);

  const decision = decideFare({
    card: {
      asn: card.asn,
      typeCode: card.cardTypeCode,
      issuerId: card.issuerId,
      startDate: card.startDate,
      expiryDate: card.expiryDate,
      balanceFen: input.balanceFen ?? BALANCE_NOT_READ,
    },
    table: fareTable,
    trip: { vehicleId: trip.vehicleId, route: trip.route ?? '', direction: trip.direction as 0 | 1 | undefined, stopId, time: formatLocalTime(input.now, input.utcOffsetMinutes), tapKind: 'single' },
    recentTaps,
    routeStops: input.routeStops,
  });
  if (decision.kind === 'refuse') return { kind: 'refuse', cardType: decision.cardType, promptId: decision.promptId, reason: decision.reason, blockCard: decision.blockCard };

  const charge: Charge = {
    kind: 'charge',
    cardType: decision.cardType,
    listFareFen: decision.listFareFen + decision.missingTapOffFen,
    amountFen: decision.amountFen,
    requiredBalanceFen: decision.requiredBalanceFen,
    purchase: 'ordinary',
    journey: 'single',
    promptId: decision.promptId,
    remember: decision.remember,
  };
  if (section && decision.tapKind === 'off') return alightingCharge(charge, input, section, direction, lastJourneyTap(recentTaps), stopId, alightingIndex(input.stopIndex, stopId, stops));
  if (section) return boardingCharge(charge, decision, section, direction);
  if (input.cardBoardingRead && input.boarding) {
    // This tap charges or closes the card's boarding, so it overwrites the boarding record.
    const closing: Charge = { ...charge, purchase: 'composite', transitRecord: { journey: 'single', direction, maxIncompleteAmountFen: 0, maxJourneyMinutes: 0 } };
    return closing;
  }
  return charge;
}

function boardingCharge(charge: Charge, decision: FareCharge, section: SectionRoute, direction: 0 | 1): Charge {
  const transitRecord: TransitRecordPlan = {
    journey: 'boarding',
    stopIndex: decision.remember.stopIndex,
    direction,
    maxIncompleteAmountFen: decision.remember.missingTapOffFen ?? 0,
    maxJourneyMinutes: section.maxJourneyMinutes,
  };
  return { ...charge, purchase: 'composite', journey: 'boarding', transitRecord };
}

/**
 * Returns the alighting charge with its transit record. An alighting at the last stop of the
 * boarding's direction, after the driver confirmed the other direction there, closes the journey
 * at that terminus, so the record names the boarding's direction and the terminus's index on its
 * pattern. Any other alighting, including one that closes a boarding made at the terminus before
 * the switch, names the bus's direction and stop.
 */
function alightingCharge(charge: Charge, input: TapFareInput, section: SectionRoute, direction: 0 | 1, boarding: RememberedTap | undefined, stopId: string | undefined, stopIndex: number | undefined): Charge {
  let recordDirection = direction;
  let recordStopIndex = stopIndex;
  const boardedDirection = boarding?.direction ?? direction;
  const boardedStops = boardedDirection === direction ? undefined : directionStops(input, boardedDirection);
  if (boardedStops !== undefined && boardedStops.length > 0 && boardedStops[boardedStops.length - 1] === stopId) {
    recordDirection = boardedDirection;
    recordStopIndex = boardedStops.length - 1;
  }
  const transitRecord: TransitRecordPlan = { journey: 'alighting', stopIndex: recordStopIndex, direction: recordDirection, maxIncompleteAmountFen: 0, maxJourneyMinutes: section.maxJourneyMinutes };
  return { ...charge, purchase: 'composite', journey: 'alighting', transitRecord };
}

/** Returns the newest tap that is not a companion's: the boarding that an alighting closes. */
function lastJourneyTap(taps: readonly RememberedTap[]): RememberedTap | undefined {
  for (let index = taps.length - 1; index >= 0; index -= 1) if (taps[index]!.kind !== 'companion') return taps[index];
  return undefined;
}

/** Stop order of one direction of the trip's tap-on/tap-off route: the table's own list, else the routes parameter set. */
function directionStops(input: TapFareInput, direction: 0 | 1): readonly string[] | undefined {
  const route = input.trip.route;
  const section = sectionRouteOf(input.fareTable, input.trip);
  if (!section || route === undefined) return undefined;
  return section.stops?.[direction === 0 ? '0' : '1'] ?? input.routeStops?.stops(route, direction);
}

/**
 * Returns the index of the stop the engine priced, else the bus's own stop index. The bus's index
 * wins when it names that stop, because a loop pattern has its terminus at the start and the end.
 */
function alightingIndex(stopIndex: number | undefined, stopId: string | undefined, stops: readonly string[] | undefined): number | undefined {
  if (stopId === undefined || !stops || (stopIndex !== undefined && stops[stopIndex] === stopId)) return stopIndex;
  const index = stops.indexOf(stopId);
  return index < 0 ? stopIndex : index;
}

/**
 * Returns the taps the engine prices from. Without a card read they are the terminal's memory.
 * With one, the card decides which boarding is open. A remembered boarding that is no longer on
 * the card was closed by a tap elsewhere and counts as closed. The card's open boarding is the
 * last journey tap, because only a tap that writes the card closes it.
 */
function journeyHistory(input: TapFareInput, stopId: string | undefined): RememberedTap[] {
  const memory = input.recentTaps?.recent(input.card.asn) ?? [];
  if (!input.cardBoardingRead) return [...memory];
  const { boarding } = input;
  const fromCard = boarding && !isDatedAfterClock(boarding.boardedAt, input.now) ? boardingTap(input, boarding, stopId) : undefined;
  const remembered = fromCard ? memory.find((tap) => tap.kind === 'on' && sameBoarding(tap, fromCard)) : undefined;
  const others = memory.filter((tap) => tap !== remembered).map((tap) => (tap.kind === 'on' ? { ...tap, kind: 'off' as const } : tap));
  if (!fromCard) return others;
  return [...others, remembered ?? fromCard];
}

/**
 * Returns whether a remembered boarding is the one on the card. The card's time has whole seconds
 * and is taken when the purchase starts, a moment after the decision that the memory timestamps.
 */
function sameBoarding(tap: RememberedTap, fromCard: RememberedTap): boolean {
  return tap.route === fromCard.route && tap.stopIndex === fromCard.stopIndex && Math.abs(tap.atMs - fromCard.atMs) < SAME_BOARDING_TOLERANCE_MS;
}

/** Largest gap between the remembered and the recorded time of one boarding. */
const SAME_BOARDING_TOLERANCE_MS = 2_000;

/**
 * Converts the card's boarding into a remembered tap. The card names the PSAM that wrote it but
 * not the bus, and the front-door and rear-door readers of one bus have different PSAMs. So a
 * boarding with a known stop on the trip's route counts as made on this vehicle when it is in the
 * trip's direction. A boarding of the other direction counts too when the driver switched the
 * direction at the terminus between the two taps. That is while the bus is at the last stop of
 * the boarding's direction, or when the boarding was made at that stop during the layover. Any
 * other boarding counts as made on another vehicle, which charges it as a missing tap-off.
 * NOTE: the card cannot tell this bus from another one, so a rider who missed a tap-off and boards
 * another bus of the same route within maxJourneyMinutes is charged as alighting from the first
 * boarding: in the same direction anywhere, in the other direction at the terminus where the
 * boarding's direction ends, or anywhere in the other direction after a boarding at that
 * terminus. The dry-run has the vehicle of both taps, so there it charges the missing tap-off and
 * boards again.
 */
function boardingTap(input: TapFareInput, boarding: CardBoarding, stopId: string | undefined): RememberedTap {
  const { trip } = input;
  const onThisRoute = trip.route !== undefined && boarding.routeCode === routeCode(trip.route);
  const route = onThisRoute ? trip.route! : `route code ${boarding.routeCode}`;
  const boardedStops = onThisRoute ? directionStops(input, boarding.direction) : undefined;
  const sameDirection = boarding.direction === (trip.direction === 1 ? 1 : 0);
  const terminus = boardedStops === undefined || boardedStops.length === 0 ? undefined : boardedStops[boardedStops.length - 1];
  const acrossSwitch = terminus !== undefined && (terminus === stopId || (boarding.stopIndex !== undefined && boardedStops![boarding.stopIndex] === terminus));
  const onThisVehicle = onThisRoute && boarding.stopIndex !== undefined && (sameDirection || acrossSwitch);
  // Readers' clocks drift apart: a boarding dated a little after the tap counts as made at the
  // tap's time, as the engine takes it. journeyHistory has already left out one dated beyond the drift.
  const tap: RememberedTap = {
    atMs: Math.min(boarding.boardedAt.getTime(), input.now.getTime()),
    vehicleId: onThisVehicle ? trip.vehicleId : ANOTHER_VEHICLE,
    route,
    direction: boarding.direction,
    kind: 'on',
    amountFen: boarding.amountFen,
    // The card does not record its boarding's card type, and the engine never reads the type of an earlier tap.
    // NOTE: nor does the card record the transfer ordinal, so a transfer decided at a boarding on
    // another reader (the front door, when this is the rear door) is not priced at this tap-off.
    cardType: 'ordinary',
    transferOrdinal: 0,
    // The card's record is not signed, so a damaged or forged one cannot charge more than any journey on this table costs.
    missingTapOffFen: Math.min(boarding.missingTapOffFen, highestSectionFareFen(input.fareTable)),
  };
  if (boarding.stopIndex !== undefined) {
    tap.stopIndex = boarding.stopIndex;
    const boardedStopId = boardedStops?.[boarding.stopIndex];
    if (boardedStopId !== undefined) tap.stopId = boardedStopId;
  }
  return tap;
}

/** Returns the highest band fare of the table's tap-on/tap-off routes, in fen. */
function highestSectionFareFen(fareTable: FareTableBody): number {
  let highest = 0;
  for (const section of Object.values(fareTable.sectionRoutes ?? {})) for (const band of section.bands) highest = Math.max(highest, band.fareFen);
  return highest;
}

/** Prompts that the engine ranks above a low balance. */
const PROMPTS_BEFORE_LOW_BALANCE: ReadonlySet<RiderPromptId> = new Set(['missing-tap-off-charged', 'please-tap-off', 'pass-not-valid']);

/**
 * Chooses the prompt of an accepted tap once the balance after the debit is known, in the
 * engine's order. A missing tap-off charge, the request to tap off and a pass out of validity
 * come first, then a low balance, then the engine's other prompts.
 */
export function acceptedPromptId(decision: Charge, balanceAfterFen: number, fareTable: FareTableBody): RiderPromptId {
  if (decision.promptId !== undefined && PROMPTS_BEFORE_LOW_BALANCE.has(decision.promptId)) return decision.promptId;
  if (balanceAfterFen < fareTable.lowBalanceWarningFen) return 'low-balance';
  return decision.promptId ?? successPrompt(decision.cardType, balanceAfterFen, fareTable);
}

/**
 * Returns whether a card boarding is dated further after the terminal's clock than readers' clocks
 * drift apart (isBoardingAfterTap). Such a boarding is taken as no boarding on CPU and M1 cards
 * alike: the tap boards or pays afresh without a missing tap-off charge, and its own record
 * overwrites or closes it. A forged date gains a rider nothing: a CPU card's record needs the
 * purse keys, and erasing an M1 boarding costs the rider even less.
 */
export function isDatedAfterClock(boardedAt: Date, now: Date): boolean {
  return isBoardingAfterTap(boardedAt.getTime(), now.getTime());
}

/** Vehicle id of a boarding that the card shows was made on another vehicle. */
const ANOTHER_VEHICLE = '(another vehicle)';

/** Stands in for the balance the engine would check when it is not read before the decision; the purchase checks requiredBalanceFen instead. */
const BALANCE_NOT_READ = Number.MAX_SAFE_INTEGER;
