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
