import type { CardType, CardTypeRule, FareTableBody, DayType } from '../schemas/fare-table.js';
import type { RiderPromptId } from '../messages/catalogue.js';
import { cardTypeOfCode } from './card-type-code.js';
import type { CardFacts } from './fare-input.js';
import type { LocalTime } from './local-time.js';
import { dayTypeOf, inClockRange } from './local-time.js';

export type PolicyRefusal = { promptId: RiderPromptId; reason: string; cardType?: CardType; blockCard?: boolean };

/** A card type's rule with the period that applies now folded in. */
export interface EffectiveRule {
  cardType: CardType;
  rule: CardTypeRule;
  ratePercent: number;
  /** The period that set the rate, when one did. */
  periodName?: string;
}

/** Resolves the card type: named by the caller, else by issuer (out-of-town) and type code. */
export function resolveCardType(card: CardFacts, table: FareTableBody): CardType | PolicyRefusal {
  if (card.cardType) return card.cardType;
  const issuerId = card.issuerId ?? '';
  const local = table.localIssuerPrefixes.some((prefix) => issuerId.startsWith(prefix));
  if (!local) return 'tunion-out-of-town';
  const cardType = card.typeCode === undefined ? undefined : cardTypeOfCode(table.cardTypeByCode, card.typeCode);
  return cardType ?? { promptId: 'invalid-card', reason: `unknown card type code ${card.typeCode ?? '(none)'}` };
}

function isSetDate(date: string | undefined): date is string {
  return date !== undefined && /^\d{8}$/.test(date) && date !== '00000000';
}

/** Checks the blacklist and the card's own validity dates against the local date. */
export function checkCard(card: CardFacts, cardType: CardType, today: string): PolicyRefusal | undefined {
  if (card.blacklisted) return { cardType, promptId: 'card-blacklisted', reason: 'card is on the blacklist', blockCard: true };
  if (isSetDate(card.startDate) && today < card.startDate) return { cardType, promptId: 'invalid-card', reason: `card not valid before ${card.startDate}` };
  if (isSetDate(card.expiryDate) && today > card.expiryDate) return { cardType, promptId: 'card-expired', reason: `card expired on ${card.expiryDate}` };
  return undefined;
}

/** Applies the card type's permission, route list and the first matching period. */
export function effectiveRule(cardType: CardType, table: FareTableBody, route: string, local: LocalTime, dayTypeOverride?: DayType): EffectiveRule | PolicyRefusal {
  const rule = table.cardTypes[cardType];
  if (!rule || !rule.allowed) return { cardType, promptId: 'card-not-allowed', reason: `card type ${cardType} may not ride` };
  if (rule.routes && !rule.routes.includes(route)) return { cardType, promptId: 'card-not-allowed', reason: `card type ${cardType} may not ride route ${route}` };

  const dayType = dayTypeOverride ?? dayTypeOf(local, table);
  const period = table.periods?.find((candidate) => candidate.cardTypes.includes(cardType) && candidate.dayTypes.includes(dayType) && inClockRange(local.minuteOfDay, candidate.from, candidate.to));
  if (!period) return { cardType, rule, ratePercent: rule.ratePercent };
  if (period.allowed === false) return { cardType, promptId: 'card-not-allowed', reason: `card type ${cardType} may not ride during period "${period.name}"` };
  return { cardType, rule, ratePercent: period.ratePercent ?? rule.ratePercent, periodName: period.name };
}

/** Applies a percentage to a fare with the table's rounding (default: up to the fen). */
export function applyRate(fen: number, ratePercent: number, table: FareTableBody): number {
  const exact = (fen * ratePercent) / 100;
  const unit = table.rounding?.unitFen ?? 1;
  const units = exact / unit;
  // Cancel binary floating-point noise (e.g. 0.57 * 100) before rounding to whole units.
  const cleaned = Math.round(units * 1e6) / 1e6;
  switch (table.rounding?.mode ?? 'up') {
    case 'up':
      return Math.ceil(cleaned) * unit;
    case 'down':
      return Math.floor(cleaned) * unit;
    case 'nearest':
      return Math.floor(cleaned + 0.5) * unit;
  }
}
