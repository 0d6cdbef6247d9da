/**
 * T-Union issuer ids begin with the issuer's city code (2 bytes, 4 hex digits), so the partner
 * city of an out-of-town card is the first 4 hex digits of its issuer id.
 */
export function partnerCityOf(issuerId: string): string {
  return issuerId.slice(0, 4).toUpperCase();
}

/** Whether an issuer id belongs to one of the city's own issuers. */
export function isLocalIssuer(issuerId: string, localIssuerPrefixes: readonly string[]): boolean {
  const upper = issuerId.toUpperCase();
  return localIssuerPrefixes.some((prefix) => upper.startsWith(prefix.toUpperCase()));
}
