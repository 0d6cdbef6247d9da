import type { FareTableBody } from '../schemas/fare-table.js';

/**
 * Returns the city a reader acquires a transaction in, as written into a card's transit record.
 * That is the fare table's `acquirerCityCode`, else the first 4 hex digits of its first local
 * issuer prefix: on T-Union and MOHURD issuer ids those digits are the city code. A shorter
 * prefix names no city, so the card's own city code is used instead.
 */
export function acquirerCityCode(table: FareTableBody, cardIssuerId: string): string {
  if (table.acquirerCityCode !== undefined) return table.acquirerCityCode;
  const prefix = table.localIssuerPrefixes[0]!;
  return prefix.length >= 4 ? prefix.slice(0, 4) : cardIssuerId.slice(0, 4).toUpperCase();
}
