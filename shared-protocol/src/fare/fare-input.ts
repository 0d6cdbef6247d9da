import type { CardType, DayType, FareTableBody } from '../schemas/fare-table.js';
import type { RiderPromptId } from '../messages/catalogue.js';

/** Card data the terminal has read, as the fare engine needs it. */
export interface CardFacts {
  /** Application serial number as hex; recent taps are kept per card under this key. */
  asn: string;
  /** Card-type code (EF15 byte 28 on T-Union cards), mapped through the table's cardTypeByCode. */
  typeCode?: number;
  /** Issuer id (EF15 bytes 0-7) as upper-case hex; cards outside the local prefixes are out-of-town T-Union cards. */
  issuerId?: string;
  /** Card type already known (the dry-run names it); takes precedence over typeCode and issuerId. */
  cardType?: CardType;
  /** Validity from the card, YYYYMMDD; "00000000" or absent means no limit. */
  startDate?: string;
  expiryDate?: string;
  /** Purse balance before this tap, in fen. */
  balanceFen: number;
  /** Validity of the period pass on pass cards (monthly), YYYYMMDD inclusive; absent when not read. */
  pass?: { validFrom: string; validUntil: string };
  /** Whether the card is on the active blacklist. */
  blacklisted?: boolean;
}

/** Kind of tap a door reader takes: a single flat-fare tap, a boarding or an alighting. */
export type TapKind = 'single' | 'on' | 'off';

/** Position and service of the bus when the card is tapped. */
export interface TripFacts {
  vehicleId: string;
  route: string;
  direction?: 0 | 1;
  /** Stop id of the route data, from the GPS stop matcher or set by the driver. */
  stopId?: string;
  /** Local time of the tap as ISO 8601 with its UTC offset, e.g. 2026-01-05T08:00:00+08:00. */
  time: string;
  /** Overrides the day type that the fare table's calendar gives the date. */
  dayType?: DayType;
  /**
   * The reader's role. Front-door readers send "on" and rear-door readers "off"; a single reader
   * sends "single", which on a tap-on/tap-off route boards when no boarding is open on this
   * vehicle and alights otherwise. Defaults to "single".
   */
  tapKind?: TapKind;
}

/** Stop order of route patterns, from the routes parameter set or the fare table itself. */
export interface RouteStopLookup {
  stops(route: string, direction: 0 | 1): readonly string[] | undefined;
}

/** One accepted tap of a card, kept so that later taps can see it. */
export interface RememberedTap {
  atMs: number;
  vehicleId: string;
  route: string;
  direction?: 0 | 1;
  stopId?: string;
  /** "on" is an open boarding until a later non-companion tap of the card. */
  kind: 'single' | 'on' | 'off' | 'companion';
  amountFen: number;
  cardType: CardType;
  /** 0 for the first leg of a journey, n for its n-th transfer. */
  transferOrdinal: number;
  /** For a boarding: the stop's index on the route pattern. */
  stopIndex?: number;
  /** For a boarding: what a missing tap-off costs, in fen. */
  missingTapOffFen?: number;
}

export interface FareInput {
  card: CardFacts;
  table: FareTableBody;
  trip: TripFacts;
  /** This card's remembered taps, oldest first (RecentTaps.recent). */
  recentTaps: readonly RememberedTap[];
  routeStops?: RouteStopLookup;
}

/** The rider prompt of a decision, in both languages, with the voice file and beep. */
export interface FarePrompt {
  id: RiderPromptId;
  zh: string;
  en: string;
  voice: string;
  beep: string;
}

export interface FareCharge {
  kind: 'charge';
  cardType: CardType;
  /** Kind of tap the reader took. */
  tapKind: 'single' | 'on' | 'off' | 'companion';
  /** Undiscounted fare of this ride in fen (0 for a boarding). */
  listFareFen: number;
  /** Cost of this ride after discounts, in fen. */
  fareFen: number;
  /** Charge for an earlier boarding that was never closed by a tap-off, in fen. */
  missingTapOffFen: number;
  /** The debit: fareFen + missingTapOffFen. May be 0 (free rides, boardings, valid passes). */
  amountFen: number;
  balanceAfterFen: number;
  /** Balance the card must hold for this tap: amountFen, or at a boarding the longest journey from the stop plus missingTapOffFen. */
  requiredBalanceFen: number;
  transferOrdinal: number;
  promptId: RiderPromptId;
  prompt: FarePrompt;
  /** Explanation of the fare, for logs and the dry-run. */
  reason: string;
  /** Entry to store in RecentTaps once the debit is durable. */
  remember: RememberedTap;
}

export interface FareRefusal {
  kind: 'refuse';
  cardType?: CardType;
  promptId: RiderPromptId;
  prompt: FarePrompt;
  reason: string;
  /** The card is blacklisted: block its application on the card. */
  blockCard?: boolean;
}

export type FareDecision = FareCharge | FareRefusal;

/** Raised for input the caller should never pass, such as a time without a UTC offset. */
export class FareInputError extends Error {}
