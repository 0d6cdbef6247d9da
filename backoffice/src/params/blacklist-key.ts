/**
 * Returns the blacklist key of a card: the right-most 8 bytes of its ASN as 16 upper-case hex
 * digits, the key terminals look a card up by. It accepts the full 10-byte ASN as the console
 * pages show it (20 digits) or the 16-digit key itself, in either case. Anything else returns
 * undefined, because a shorter number may be the suffix of several cards.
 */
export function blacklistKeyOf(text: string): string | undefined {
  const digits = text.trim().toUpperCase();
  if (!/^(?:[0-9A-F]{16}|[0-9A-F]{20})$/.test(digits)) return undefined;
  return digits.slice(-16);
}
