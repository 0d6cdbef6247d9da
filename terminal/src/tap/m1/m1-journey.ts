import { M1_LAYOUT, type M1Boarding, type TripContext } from '@busfare/shared-protocol';
import type { Logger } from 'pino';
import type { CardBoarding, TapFareDecision } from '../fare-decision.js';
import { routeCode } from '../transit-record.js';
import { readM1Boarding, stageM1Boarding } from './m1-boarding.js';
import type { M1CardIo } from './m1-card-io.js';
import type { M1DebitStage } from './m1-purchase.js';
import type { M1PurseState } from './m1-purse.js';

type Charge = Extract<TapFareDecision, { kind: 'charge' }>;

/** The card's open boarding: the record on the card and the boarding the fare decision takes. */
export interface TripBoarding {
  record: M1Boarding;
  boarding: CardBoarding;
}

/**
 * Reads the card's boarding record and returns it when it is an open boarding, on any route,
 * because a missing tap-off is charged at the card's next tap anywhere. A damaged record is logged
 * and treated as no boarding, so the tap boards afresh and overwrites it. The damage does not
 * touch the purse.
 */
export async function readTripBoarding(io: M1CardIo, purse: M1PurseState, now: Date, utcOffsetMinutes: number, log: { logger: Logger; asn: string }): Promise<TripBoarding | undefined> {
  const state = await readM1Boarding(io, purse, now, utcOffsetMinutes);
  if (state.kind === 'corrupt') log.logger.warn({ asn: log.asn, reason: state.reason }, 'M1 boarding record unreadable; the card boards afresh');
  if (state.kind !== 'open') return undefined;
  return { record: state.record, boarding: state.boarding };
}

/**
 * Returns the boarding-record write that the purchase runs before its commit, or undefined when
 * the tap is not a boarding. The longest-journey field takes what the engine prices a missing
 * tap-off at, so the next tap anywhere can charge it.
 */
export function boardingStage(io: M1CardIo, decision: Charge, trip: TripContext): M1DebitStage | undefined {
  const { route } = trip;
  const plan = decision.transitRecord;
  if (decision.journey !== 'boarding' || plan === undefined || route === undefined) return undefined;
  // FFFF marks an unknown stop, so an index the record cannot carry is stored as unknown.
  const stopIndex = plan.stopIndex;
  const storable = stopIndex !== undefined && Number.isInteger(stopIndex) && stopIndex >= 0 && stopIndex < 0xffff ? stopIndex : undefined;
  const draft = { routeCode: routeCode(route), direction: plan.direction, stopIndex: storable, boardingChargeFen: decision.amountFen, longestFareFen: plan.maxIncompleteAmountFen };
  // NOTE: a boarding that also pays a missing tap-off replaces the old record before its debit. Torn
  // before the process flag, the card keeps neither boarding, so that charge is lost (never taken twice).
  return { sector: M1_LAYOUT.boardingSector, write: (debit) => stageM1Boarding(io, draft, debit) };
}
