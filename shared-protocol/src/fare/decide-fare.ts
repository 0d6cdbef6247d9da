import type { CardType, FareTableBody, SectionRoute } from '../schemas/fare-table.js';
import type { RiderPromptId } from '../messages/catalogue.js';
import { applyRate, checkCard, effectiveRule, resolveCardType, type EffectiveRule, type PolicyRefusal } from './card-policy.js';
import type { FareCharge, FareDecision, FareInput, FareRefusal, RememberedTap } from './fare-input.js';
import { isBoardingAfterTap } from './clock-drift.js';
import { cardTypePrompt, farePrompt } from './fare-prompt.js';
import { parseLocalTime, type LocalTime } from './local-time.js';
import { bandFare, boardingIndex, longestJourneyStops, sectionRouteOf, sectionStops, stopsTravelled } from './section-fare.js';
import { applyTransfer, transferOrdinal } from './transfer.js';

/** The facts this tap needs from the card's remembered taps. */
interface TapHistory {
  /** The newest tap that was not a companion tap. */
  lastJourney?: RememberedTap;
  /** lastJourney when it is a boarding that no tap-off has closed yet. */
  openBoarding?: RememberedTap;
  /** Companion taps since lastJourney. */
  companions: number;
}

type PassState = 'none' | 'valid' | 'not-valid';

interface Context {
  input: FareInput;
  table: FareTableBody;
  local: LocalTime;
  cardType: CardType;
  rule: EffectiveRule;
  pass: PassState;
  history: TapHistory;
}

/**
 * Decides the fare of one tap from the card, the active fare table, the trip and the card's
 * recent taps, with no I/O and no clock of its own. Checks run in this order: card type,
 * blacklist, validity dates, permission (type, route, period), pass validity, repeat tap or
 * companion, then the flat or tap-on/tap-off price with transfer discounts, any missing tap-off
 * charge, and the balance. A charge carries the tap to remember once the debit is durable.
 * Throws FareInputError when the trip time is not ISO 8601 with an offset.
 */
export function decideFare(input: FareInput): FareDecision {
  const { card, table, trip } = input;
  const local = parseLocalTime(trip.time);
  const today = local.date.replaceAll('-', '');

  const resolved = resolveCardType(card, table);
  if (typeof resolved !== 'string') return refuse(resolved);
  const cardType = resolved;

  const cardProblem = checkCard(card, cardType, today);
  if (cardProblem) return refuse(cardProblem);

  const rule = effectiveRule(cardType, table, trip.route, local, trip.dayType);
  if ('promptId' in rule) return refuse(rule);

  const pass = passState(card.pass, rule, today);
  if (pass === 'not-valid' && rule.rule.passFallback === 'refuse') {
    return refuse({ cardType, promptId: 'card-not-allowed', reason: `pass not valid on ${today} (valid ${card.pass!.validFrom}-${card.pass!.validUntil})` });
  }

  const context: Context = { input, table, local, cardType, rule, pass, history: readHistory(input.recentTaps, local.epochMs) };
  const section = sectionRouteOf(table, trip.route);
  const tapKind = trip.tapKind ?? 'single';
  if (section) return decideSection(context, section);
  if (tapKind === 'off') return refuse({ cardType, promptId: 'tap-off-not-needed', reason: `route ${trip.route} charges a flat fare at boarding, so no tap-off is needed` });
  return decideFlat(context);
}

/**
 * Reads the card's taps as of this tap's time. Readers' clocks drift apart, so a boarding dated
 * after the tap by up to MAX_BOARDING_CLOCK_AHEAD_MS counts as made at the tap's time, and one
 * dated later is no open boarding, as the terminal takes the card's own boarding record.
 */
function readHistory(taps: readonly RememberedTap[], nowMs: number): TapHistory {
  let companions = 0;
  for (let index = taps.length - 1; index >= 0; index -= 1) {
    const tap = taps[index]!;
    if (tap.kind === 'companion') {
      companions += 1;
      continue;
    }
    if (tap.kind !== 'on' || tap.atMs <= nowMs) return { lastJourney: tap, openBoarding: tap.kind === 'on' ? tap : undefined, companions };
    if (isBoardingAfterTap(tap.atMs, nowMs)) return { lastJourney: tap, companions };
    const boarding = { ...tap, atMs: nowMs };
    return { lastJourney: boarding, openBoarding: boarding, companions };
  }
  return { companions };
}

function passState(pass: FareInput['card']['pass'], rule: EffectiveRule, today: string): PassState {
  if (!rule.rule.pass || !pass) return 'none';
  return today >= pass.validFrom && today <= pass.validUntil ? 'valid' : 'not-valid';
}

/** Returns the rate the ride is charged at; a valid pass makes the ride itself free. */
function ridingRate(context: Context): number {
  return context.pass === 'valid' ? 0 : context.rule.ratePercent;
}

function repeatWindowMs(context: Context): number {
  return (context.rule.rule.repeatTapWindowSeconds ?? context.table.repeatTapWindowSeconds ?? 0) * 1000;
}

/** Returns whether the card's last journey tap was on this vehicle within the repeat-tap window. */
function withinRepeatWindow(context: Context): boolean {
  const window = repeatWindowMs(context);
  const last = context.history.lastJourney;
  if (window === 0 || !last || last.vehicleId !== context.input.trip.vehicleId) return false;
  const elapsed = context.local.epochMs - last.atMs;
  // NOTE: a tap that appears older than the last one (the clock moved back) is not a repeat tap.
  return elapsed >= 0 && elapsed < window;
}

function repeatRefusal(context: Context): PolicyRefusal {
  return { cardType: context.cardType, promptId: 'repeat-tap', reason: `card already tapped on vehicle ${context.input.trip.vehicleId} within ${repeatWindowMs(context) / 1000} s` };
}

function decideFlat(context: Context): FareDecision {
  const { input, table, cardType, history } = context;
  const { trip, card } = input;
  const listFareFen = table.routeFareFen[trip.route] ?? table.flatFareFen;
  const missingTapOffFen = history.openBoarding?.missingTapOffFen ?? 0;
  const reasons: string[] = [];
  if (history.openBoarding) reasons.push(missingTapOffReason(history.openBoarding, missingTapOffFen));

  if (withinRepeatWindow(context)) {
    const allowed = context.rule.rule.companionsAllowed ?? 0;
    if (history.companions >= allowed) return refuse(repeatRefusal(context));
    const companionRate = context.rule.rule.companionRatePercent ?? 100;
    const fareFen = applyRate(listFareFen, companionRate, table);
    reasons.push(`companion ${history.companions + 1} of ${allowed}: ${companionRate}% of ${listFareFen} fen`);
    return charge(context, { tapKind: 'companion', listFareFen, fareFen, missingTapOffFen, transferOrdinal: history.lastJourney?.transferOrdinal ?? 0, reasons });
  }

  const previous = history.openBoarding ? undefined : history.lastJourney;
  const ordinal = transferOrdinal(table, cardType, trip.route, context.local.epochMs, previous);
  const rated = applyRate(listFareFen, ridingRate(context), table);
  const fareFen = applyTransfer(table, ordinal, rated, (fen, rate) => applyRate(fen, rate, table));
  reasons.push(rateReason(context, listFareFen, trip.route));
  if (ordinal > 0) reasons.push(`transfer ${ordinal}: ${rated} fen reduced to ${fareFen} fen`);
  if (card.balanceFen < fareFen + missingTapOffFen) return refuse(insufficient(context, fareFen + missingTapOffFen));
  return charge(context, { tapKind: 'single', listFareFen, fareFen, missingTapOffFen, transferOrdinal: ordinal, reasons });
}

function decideSection(context: Context, section: SectionRoute): FareDecision {
  const { input, table, cardType, history, local } = context;
  const { trip, card } = input;
  const direction = trip.direction ?? 0;
  const stops = sectionStops(section, trip.route, direction, input.routeStops);
  if (!stops) return refuse({ cardType, promptId: 'stop-unknown', reason: `no stop list for tap-on/tap-off route ${trip.route} direction ${direction}` });
  if (trip.stopId === undefined) return refuse({ cardType, promptId: 'stop-unknown', reason: `the current stop of vehicle ${trip.vehicleId} is not known` });

  const open = history.openBoarding;
  // The stop order and boarding index the open boarding's journey is priced on, when this tap closes it.
  const journey = open === undefined ? undefined : closingJourney(context, section, open, direction, stops);
  const requested = trip.tapKind ?? 'single';
  // A single reader on a tap-on/tap-off route alights a card with an open boarding and boards any other.
  let tapKind = requested;
  if (requested === 'single') tapKind = journey ? 'off' : 'on';

  if (tapKind === 'off') {
    if (!journey || !open) {
      if (withinRepeatWindow(context)) return refuse(repeatRefusal(context));
      return refuse({ cardType, promptId: 'tap-on-first', reason: `no open boarding of this card on vehicle ${trip.vehicleId} route ${trip.route}` });
    }
    const boardedStopId = journey.stops[journey.fromIndex]!;
    if (trip.stopId === boardedStopId && withinRepeatWindow(context)) return refuse(repeatRefusal(context));
    const travelled = stopsTravelled(journey.stops, journey.fromIndex, trip.stopId);
    if (travelled < 0) return refuse({ cardType, promptId: 'stop-unknown', reason: `stop ${trip.stopId} is not on route ${trip.route} direction ${direction}` });
    if (travelled === 0 && withinRepeatWindow(context)) return refuse(repeatRefusal(context));

    const listFareFen = bandFare(section, travelled);
    const rated = applyRate(listFareFen, ridingRate(context), table);
    const fareFen = applyTransfer(table, open.transferOrdinal, rated, (fen, rate) => applyRate(fen, rate, table));
    const travelledReason = `${travelled} stops from ${boardedStopId} to ${trip.stopId}`;
    const reasons = [journey.acrossSwitch ? `${travelledReason}, ${journey.acrossSwitch}` : travelledReason, rateReason(context, listFareFen, trip.route)];
    if (open.transferOrdinal > 0) reasons.push(`transfer ${open.transferOrdinal}: ${rated} fen reduced to ${fareFen} fen`);
    if (card.balanceFen < fareFen) return refuse(insufficient(context, fareFen));
    return charge(context, { tapKind: 'off', listFareFen, fareFen, missingTapOffFen: 0, transferOrdinal: open.transferOrdinal, reasons });
  }

  if (withinRepeatWindow(context)) return refuse(repeatRefusal(context));
  // A boarding tap while this vehicle's open boarding has travelled no stop (the layover at the
  // terminus outlasts the repeat-tap window) keeps that boarding rather than charging it as missed.
  if (journey && stopsTravelled(journey.stops, journey.fromIndex, trip.stopId) === 0) {
    return refuse({ cardType, promptId: 'repeat-tap', reason: `card already boarded at ${trip.stopId} on vehicle ${trip.vehicleId} and has travelled no stop since` });
  }
  const boardedAt = boardingIndex(stops, trip.stopId);
  if (boardedAt < 0) return refuse({ cardType, promptId: 'stop-unknown', reason: `stop ${trip.stopId} is not on route ${trip.route} direction ${direction}` });

  const missingTapOffFen = open?.missingTapOffFen ?? 0;
  const reasons: string[] = [];
  if (open) reasons.push(missingTapOffReason(open, missingTapOffFen));

  const longestList = bandFare(section, longestStopsFrom(context, section, direction, stops, boardedAt));
  const longestRated = applyRate(longestList, ridingRate(context), table);
  const required = longestRated + missingTapOffFen;
  if (card.balanceFen < required) return refuse(insufficient(context, required, 'the longest journey from this stop'));

  const previous = open ? undefined : history.lastJourney;
  const ordinal = transferOrdinal(table, cardType, trip.route, local.epochMs, previous);
  const boardingMissingFen = section.missingTapOffDiscount ? longestRated : longestList;
  reasons.push(`boarded at ${trip.stopId}; a missing tap-off costs ${boardingMissingFen} fen`);
  if (ordinal > 0) reasons.push(`transfer ${ordinal} priced at tap-off`);
  return charge(context, {
    tapKind: 'on',
    listFareFen: 0,
    fareFen: 0,
    missingTapOffFen,
    transferOrdinal: ordinal,
    reasons,
    boarding: { stopIndex: boardedAt, missingTapOffFen: boardingMissingFen },
    requiredBalanceFen: required,
  });
}

/** The stops an open boarding's journey is priced on, and the boarding's index among them. */
interface ClosingJourney {
  stops: readonly string[];
  fromIndex: number;
  /** Reason text of a journey across the direction switch at the terminus. Absent within one direction. */
  acrossSwitch?: string;
}

/**
 * Returns the journey of the open boarding when this tap closes it as an alighting, else
 * undefined. The tap must be on the boarding's vehicle and route within maxJourneyMinutes of it,
 * and the boarding's stop index must be on its direction's stop list. In the boarding's direction
 * the journey runs on that direction's stops. The driver confirms the new direction at the
 * terminus, the last stop of the old one, so two journeys cross the switch:
 * - a rider who alights at the terminus taps off after the switch: the journey runs on the old
 *   direction's stops to its last stop;
 * - a rider who boards at the terminus during the layover taps on before the switch: the journey
 *   runs on the new direction's stops from the same stop id. When the terminus has another id in
 *   the new direction, it runs from the new direction's first stop, where the bus begins.
 * A tap in the other direction anywhere else leaves the boarding open. readHistory has already
 * dated a boarding from a reader whose clock runs ahead at the tap's time.
 */
function closingJourney(context: Context, section: SectionRoute, open: RememberedTap, direction: 0 | 1, stops: readonly string[]): ClosingJourney | undefined {
  const { trip, routeStops } = context.input;
  if (open.route !== trip.route || open.vehicleId !== trip.vehicleId) return undefined;
  const elapsedMs = context.local.epochMs - open.atMs;
  if (elapsedMs < 0 || elapsedMs > section.maxJourneyMinutes * 60_000) return undefined;
  const boardedDirection = open.direction ?? 0;
  const boardedStops = boardedDirection === direction ? stops : sectionStops(section, trip.route, boardedDirection, routeStops);
  const fromIndex = open.stopIndex;
  // A boarding index off the stop list (a damaged card record) names no stop to price from.
  if (!boardedStops || fromIndex === undefined || !Number.isInteger(fromIndex) || fromIndex < 0 || fromIndex >= boardedStops.length) return undefined;
  if (boardedDirection === direction) return { stops, fromIndex };
  const terminus = boardedStops[boardedStops.length - 1]!;
  const switched = `the terminus of direction ${boardedDirection}, before the switch to direction ${direction}`;
  if (trip.stopId === terminus) return { stops: boardedStops, fromIndex, acrossSwitch: `alighting at ${switched}` };
  if (boardedStops[fromIndex] !== terminus || stops.length === 0) return undefined;
  return { stops, fromIndex: firstIndexOfTerminus(stops, terminus), acrossSwitch: `boarding at ${switched}` };
}

/** Index of the old direction's terminus on the new direction's stops: the same stop id, else the first stop. */
function firstIndexOfTerminus(stops: readonly string[], terminus: string): number {
  return Math.max(0, stops.indexOf(terminus));
}

/**
 * Returns the stops of the longest journey from a boarding. A rider who boards at the last stop of
 * a direction rides the other direction, as closingJourney prices it, so the longer of the two
 * journeys from that stop counts. A loop's terminus is also its first stop.
 */
function longestStopsFrom(context: Context, section: SectionRoute, direction: 0 | 1, stops: readonly string[], boardedAt: number): number {
  const longest = longestJourneyStops(stops, boardedAt);
  const terminus = stops[stops.length - 1];
  if (stops[boardedAt] !== terminus) return longest;
  const otherStops = sectionStops(section, context.input.trip.route, direction === 0 ? 1 : 0, context.input.routeStops);
  if (!otherStops || otherStops.length === 0) return longest;
  return Math.max(longest, longestJourneyStops(otherStops, firstIndexOfTerminus(otherStops, terminus!)));
}

interface ChargeParts {
  tapKind: FareCharge['tapKind'];
  listFareFen: number;
  fareFen: number;
  missingTapOffFen: number;
  transferOrdinal: number;
  reasons: string[];
  boarding?: { stopIndex: number; missingTapOffFen: number };
  /** Balance needed beyond the debit itself (a boarding needs the longest journey); default the debit. */
  requiredBalanceFen?: number;
}

function charge(context: Context, parts: ChargeParts): FareCharge {
  const { input, cardType } = context;
  const amountFen = parts.fareFen + parts.missingTapOffFen;
  const balanceAfterFen = input.card.balanceFen - amountFen;
  const promptId = successPromptId(context, parts, balanceAfterFen);
  const remember: RememberedTap = {
    atMs: context.local.epochMs,
    vehicleId: input.trip.vehicleId,
    route: input.trip.route,
    kind: parts.tapKind,
    amountFen,
    cardType,
    transferOrdinal: parts.transferOrdinal,
  };
  if (input.trip.direction !== undefined) remember.direction = input.trip.direction;
  if (input.trip.stopId !== undefined) remember.stopId = input.trip.stopId;
  if (parts.boarding) {
    remember.stopIndex = parts.boarding.stopIndex;
    remember.missingTapOffFen = parts.boarding.missingTapOffFen;
  }
  return {
    kind: 'charge',
    cardType,
    tapKind: parts.tapKind,
    listFareFen: parts.listFareFen,
    fareFen: parts.fareFen,
    missingTapOffFen: parts.missingTapOffFen,
    amountFen,
    balanceAfterFen,
    requiredBalanceFen: parts.requiredBalanceFen ?? amountFen,
    transferOrdinal: parts.transferOrdinal,
    promptId,
    prompt: farePrompt(promptId),
    reason: parts.reasons.join('; '),
    remember,
  };
}

/**
 * The one prompt of an accepted tap, most urgent first: a missing tap-off charge, the request to
 * tap off, a pass that no longer covers the ride, a low balance, a companion, a transfer, then
 * the card type (so the driver can check a concession card) or "fare paid".
 */
function successPromptId(context: Context, parts: ChargeParts, balanceAfterFen: number): RiderPromptId {
  if (parts.missingTapOffFen > 0) return 'missing-tap-off-charged';
  if (parts.tapKind === 'on') return 'please-tap-off';
  if (context.pass === 'not-valid') return 'pass-not-valid';
  if (balanceAfterFen < context.table.lowBalanceWarningFen) return 'low-balance';
  if (parts.tapKind === 'companion') return 'companion';
  if (parts.transferOrdinal > 0) return 'transfer';
  return cardTypePrompt(context.cardType);
}

function rateReason(context: Context, listFareFen: number, route: string): string {
  if (context.pass === 'valid') return `${context.cardType} pass valid: ride free (list ${listFareFen} fen on route ${route})`;
  const period = context.rule.periodName ? ` in period "${context.rule.periodName}"` : '';
  const pass = context.pass === 'not-valid' ? ' (pass not valid, paid from the purse)' : '';
  return `${context.cardType} ${ridingRate(context)}% of ${listFareFen} fen on route ${route}${period}${pass}`;
}

function missingTapOffReason(open: RememberedTap, fen: number): string {
  return `missing tap-off after boarding at ${open.stopId ?? 'an unknown stop'} on route ${open.route}: ${fen} fen`;
}

function insufficient(context: Context, neededFen: number, what = 'the fare'): PolicyRefusal {
  return { cardType: context.cardType, promptId: 'insufficient-balance', reason: `balance ${context.input.card.balanceFen} fen does not cover ${what} (${neededFen} fen)` };
}

function refuse(refusal: PolicyRefusal): FareRefusal {
  const decision: FareRefusal = { kind: 'refuse', promptId: refusal.promptId, prompt: farePrompt(refusal.promptId), reason: refusal.reason };
  if (refusal.cardType) decision.cardType = refusal.cardType;
  if (refusal.blockCard) decision.blockCard = true;
  return decision;
}
