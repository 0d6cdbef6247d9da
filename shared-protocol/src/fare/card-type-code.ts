import type { CardType } from '../schemas/fare-table.js';

/**
 * Returns the card type of a card-type code byte. A table key is the byte in decimal, and a key
 * written with leading zeros ("03") names the same byte, as tables signed before keys were checked
 * may contain.
 */
export function cardTypeOfCode(cardTypeByCode: Readonly<Record<string, CardType>>, code: number): CardType | undefined {
  const exact = cardTypeByCode[String(code)];
  if (exact !== undefined) return exact;
  for (const [key, cardType] of Object.entries(cardTypeByCode)) {
    if (Number(key) === code) return cardType;
  }
  return undefined;
}
