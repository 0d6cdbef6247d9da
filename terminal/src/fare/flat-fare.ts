import { type CardType, type FareTableBody, type RiderPromptId, cardTypeOfCode, cardTypePrompt } from '@busfare/shared-protocol';

export interface FlatFareInput {
  fareTable: FareTableBody;
  cardTypeCode: number;
  issuerId: string;
  /** YYYYMMDD from the card. */
  startDate: string;
  expiryDate: string;
  /** Today's local date, YYYYMMDD. */
  today: string;
  route?: string;
}

export type FareDecision =
  | { kind: 'charge'; cardType: CardType; listFareFen: number; amountFen: number }
  | { kind: 'refuse'; cardType?: CardType; promptId: RiderPromptId; reason: string };

/**
 * Decides a flat fare: the route's list fare times the card type's rate, rounded up to the fen
 * (charge = ceil(list × rate / 100), as public reader code computes it). Cards from issuers outside
 * the local prefixes ride as out-of-town T-Union cards, without local concessions.
 */
export function decideFlatFare(input: FlatFareInput): FareDecision {
  const { fareTable } = input;
  const local = fareTable.localIssuerPrefixes.some((prefix) => input.issuerId.startsWith(prefix));
  const cardType: CardType | undefined = local ? cardTypeOfCode(fareTable.cardTypeByCode, input.cardTypeCode) : 'tunion-out-of-town';
  if (!cardType) return { kind: 'refuse', promptId: 'invalid-card', reason: `unknown card type code ${input.cardTypeCode}` };

  if (/^\d{8}$/.test(input.startDate) && input.startDate !== '00000000' && input.today < input.startDate) {
    return { kind: 'refuse', cardType, promptId: 'invalid-card', reason: `card not valid before ${input.startDate}` };
  }
  if (/^\d{8}$/.test(input.expiryDate) && input.expiryDate !== '00000000' && input.today > input.expiryDate) {
    return { kind: 'refuse', cardType, promptId: 'card-expired', reason: `card expired on ${input.expiryDate}` };
  }

  const rule = fareTable.cardTypes[cardType];
  if (!rule || !rule.allowed) return { kind: 'refuse', cardType, promptId: 'card-not-allowed', reason: `card type ${cardType} may not ride` };

  const listFareFen = (input.route !== undefined ? fareTable.routeFareFen[input.route] : undefined) ?? fareTable.flatFareFen;
  const amountFen = Math.ceil((listFareFen * rule.ratePercent) / 100);
  return { kind: 'charge', cardType, listFareFen, amountFen };
}

/** The prompt for a successful tap: the card type for concession cards, a top-up warning when low. */
export function successPrompt(cardType: CardType, balanceAfterFen: number, fareTable: FareTableBody): RiderPromptId {
  if (balanceAfterFen < fareTable.lowBalanceWarningFen) return 'low-balance';
  return cardTypePrompt(cardType);
}
