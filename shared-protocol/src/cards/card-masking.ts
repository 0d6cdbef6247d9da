/** Digits kept in the clear at each end of a masked card number. */
const KEPT_PREFIX = 6;
const KEPT_SUFFIX = 4;

/**
 * Masks a card number (ASN or UID) for logs, rejection reasons and the viewer role: the first six
 * and last four characters stay, every other one becomes `*`. Numbers of ten characters or fewer
 * keep only their last four.
 */
export function maskCardNumber(cardNumber: string): string {
  if (cardNumber.length <= KEPT_PREFIX + KEPT_SUFFIX) {
    return '*'.repeat(Math.max(0, cardNumber.length - KEPT_SUFFIX)) + cardNumber.slice(-KEPT_SUFFIX);
  }
  return cardNumber.slice(0, KEPT_PREFIX) + '*'.repeat(cardNumber.length - KEPT_PREFIX - KEPT_SUFFIX) + cardNumber.slice(-KEPT_SUFFIX);
}

/**
 * pino `redact` options that mask card numbers wherever the terminal, the back office and the
 * simulators log them: an `asn` field at the top level or up to two objects deep.
 */
export const CARD_NUMBER_LOG_REDACTION = {
  paths: ['asn', '*.asn', '*.*.asn', 'lostAsn', 'replacementAsn', '*.lostAsn', '*.replacementAsn'],
  censor: (value: unknown) => (typeof value === 'string' ? maskCardNumber(value) : value),
};
