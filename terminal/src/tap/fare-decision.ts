import { type CardType, type FareTableBody, type RecentTaps, type RememberedTap, type RiderPromptId, type SectionRoute, type TripContext, decideFare, formatLocalTime } from '@busfare/shared-protocol';
import { decideFlatFare } from '../fare/flat-fare.js';
import type { PurseCardFacts } from './select-application.js';

/** A boarding the card itself records (its last transit record), for tap-on/tap-off routes. */
export interface CardBoarding {
  route: string;
  /** Stop index on the route pattern, when the boarding reader knew it. */
  stopIndex?: number;
  boardedAt: Date;
}

export interface TapFareInput {
  fareTable: FareTableBody;
  card: PurseCardFacts;
  /** Local date YYYYMMDD. */
  today: string;
  now: Date;
  trip: TripContext;
  blacklisted: boolean;
  /** The card's open boarding on a tap-on/tap-off route, read before the decision. */
  boarding?: CardBoarding;
  /** Stop index of the bus on its route pattern, when known. */
  stopIndex?: number;
  /** This terminal's memory of the card's recent taps (repeat-tap window, transfers, companions). */
  recentTaps?: RecentTaps;
  /** Offset of local civil time from UTC, for time-of-day periods. */
  utcOffsetMinutes: number;
}

export type TapFareDecision =
  | {
      kind: 'charge';
      cardType: CardType;
      listFareFen: number;
      amountFen: number;
      /** Composite purchase (P1 03, with a transit record) on tap-on/tap-off routes; ordinary otherwise. */
      purchase: 'ordinary' | 'composite';
      journey: 'single' | 'boarding' | 'alighting';
      /** Prompt that replaces the ordinary success prompt (a boarding asks the rider to tap off). */
      promptId?: RiderPromptId;
      /** What the terminal remembers of this tap once its record is durable. */
      remember?: RememberedTap;
    }
  | { kind: 'refuse'; cardType?: CardType; promptId: RiderPromptId; reason: string; blockCard?: boolean };

/** The tap-on/tap-off rules of the trip's route, when the fare table makes it one. */
export function sectionRouteOf(fareTable: FareTableBody, trip: TripContext): SectionRoute | undefined {
  return trip.route === undefined ? undefined : fareTable.sectionRoutes?.[trip.route];
}

/**
 * The one place the tap asks for a fare. It checks the blacklist, then takes the flat-fare
 * decision; on a tap-on/tap-off route a card without an open boarding boards for 0 fen (the
 * balance must cover the longest journey) and a card with one alights and pays the band of the
 * stops travelled, or the longest band when the stops are not known. Pass cards pay with the
 * ordinary purchase. A full fare engine replaces this function as a whole.
 */
export function decideTapFare(input: TapFareInput): TapFareDecision {
  const { fareTable, card } = input;
  if (input.blacklisted) return { kind: 'refuse', promptId: 'card-blacklisted', reason: 'card is on the blacklist', blockCard: true };
  if (!sectionRouteOf(fareTable, input.trip)) return decideFlatRouteFare(input);
  const flat = decideFlatFare({
    fareTable,
    cardTypeCode: card.cardTypeCode,
    issuerId: card.issuerId,
    startDate: card.startDate,
    expiryDate: card.expiryDate,
    today: input.today,
    route: input.trip.route,
  });
  if (flat.kind === 'refuse') return flat;

  const section = sectionRouteOf(fareTable, input.trip);
  const pass = flat.cardType === 'monthly' || fareTable.cardTypes[flat.cardType]?.pass === true;
  if (!section || pass) return { ...flat, purchase: 'ordinary' as const, journey: 'single' as const };

  const rate = fareTable.cardTypes[flat.cardType]?.ratePercent ?? 100;
  const longest = section.bands[section.bands.length - 1]!.fareFen;
  const boarding = input.boarding;
  const open = boarding && boarding.route === input.trip.route && input.now.getTime() - boarding.boardedAt.getTime() <= section.maxJourneyMinutes * 60_000;
  if (!open) {
    return { kind: 'charge', cardType: flat.cardType, listFareFen: longest, amountFen: 0, purchase: 'composite' as const, journey: 'boarding' as const, promptId: 'please-tap-off' as const };
  }
  const stops = boarding.stopIndex !== undefined && input.stopIndex !== undefined ? Math.abs(input.stopIndex - boarding.stopIndex) : undefined;
  const band = stops === undefined ? undefined : section.bands.find((entry) => stops <= entry.maxStops);
  const listFareFen = band?.fareFen ?? longest;
  return { kind: 'charge', cardType: flat.cardType, listFareFen, amountFen: Math.ceil((listFareFen * rate) / 100), purchase: 'composite' as const, journey: 'alighting' as const };
}

/**
 * Flat-fare routes go through the fare engine: card-type permission and rates, time-of-day
 * periods, the repeat-tap window, companions and transfers. The balance is not read before the
 * decision: INITIALIZE FOR PURCHASE reports it and refuses an amount above it (9401), which saves a
 * GET BALANCE round trip, and the low-balance prompt is chosen after the debit from that balance.
 */
function decideFlatRouteFare(input: TapFareInput): TapFareDecision {
  const { card, trip } = input;
  const decision = decideFare({
    card: {
      asn: card.asn,
      typeCode: card.cardTypeCode,
      issuerId: card.issuerId,
      startDate: card.startDate,
      expiryDate: card.expiryDate,
      balanceFen: BALANCE_NOT_READ,
    },
    table: input.fareTable,
    trip: { vehicleId: trip.vehicleId, route: trip.route ?? '', direction: trip.direction as 0 | 1 | undefined, stopId: trip.stopId, time: formatLocalTime(input.now, input.utcOffsetMinutes), tapKind: 'single' },
    recentTaps: input.recentTaps?.recent(card.asn) ?? [],
  });
  if (decision.kind === 'refuse') return { kind: 'refuse', cardType: decision.cardType, promptId: decision.promptId, reason: decision.reason, blockCard: decision.blockCard };
  return {
    kind: 'charge',
    cardType: decision.cardType,
    listFareFen: decision.listFareFen,
    amountFen: decision.amountFen,
    purchase: 'ordinary',
    journey: 'single',
    promptId: decision.promptId,
    remember: decision.remember,
  };
}

/** Stands in for the balance the engine would check; the card's own INIT check applies instead. */
const BALANCE_NOT_READ = Number.MAX_SAFE_INTEGER;
