import { driverIdSchema, maskCardNumber } from '@busfare/shared-protocol';
import type { PurseApplicationKind, PurseCardFacts } from './select-application.js';
import type { TapResult } from './tap-outcome.js';

/**
 * Card-type code (EF15 byte 28) of driver cards by default. Rider codes start at 1 (ordinary) and
 * code 5 is the riders' staff fare type, so driver cards need a code of their own. Public bus
 * reader firmware (the MZT family) numbers its control cards 1-13 with the driver card at 10, so
 * this project takes 10. A city with other codes sets `driverCards.typeCodes`.
 */
export const DEFAULT_DRIVER_CARD_TYPE_CODES: readonly number[] = Object.freeze([10]);

/**
 * Digits of the card number that form the driver number by default. Public bus reader firmware
 * copies a 4-byte driver card number into its sign-on record. Reading those bytes as BCD gives 8
 * digits, but that encoding is an assumption.
 */
export const DEFAULT_DRIVER_NUMBER_DIGITS = 8;

/** A driver card as the shift needs it, read from the EF15 that application selection returned. */
export interface DriverCard {
  driverId: string;
  asn: string;
  application: PurseApplicationKind;
}

/** Receiver of driver card taps, which opens and ends the shift (DriverCardSignOn on the driver screen). */
export interface DriverCardHandler {
  tapDriverCard(card: DriverCard): TapResult;
  /** Whether rider cards may pay now. False rejects them with "请签到" until a driver signs on. */
  acceptsRiderTaps(): boolean;
}

/** Driver card settings of the tap: the codes that mark a driver card and the receiver of its taps. */
export interface DriverCardPolicy {
  /**
   * EF15 card-type codes that mark a CPU driver card of a local issuer (any issuer while no fare
   * table is active). They take precedence over the fare table's `cardTypeByCode`.
   */
  typeCodes: readonly number[];
  /** Rightmost digits of the card number that form the driver number (1-16). */
  driverNumberDigits: number;
  /** Receiver of the terminal's driver card taps, or undefined on a terminal that keeps no driver shift. */
  handler: () => DriverCardHandler | undefined;
}

export type DriverCardReading = { valid: true; card: DriverCard } | { valid: false; promptId: 'driver-card-invalid' | 'card-expired'; reason: string };

/**
 * Takes the driver number from a driver card's number and checks the card's validity dates. The
 * driver number is the rightmost `digits` digits of the ASN without leading zeros, so a driver
 * who signs on by keypad types the same number. A card number that is not decimal, a driver
 * number of only zeros and dates that are not YYYYMMDD make the card invalid. Reasons carry the
 * card number masked, because they are logged.
 */
export function readDriverCard(facts: PurseCardFacts, application: PurseApplicationKind, digits: number, today: string): DriverCardReading {
  const masked = maskCardNumber(facts.asn);
  if (!/^\d{1,20}$/.test(facts.asn)) return { valid: false, promptId: 'driver-card-invalid', reason: `driver card number "${masked}" is not decimal` };
  const driverId = facts.asn.slice(-digits).replace(/^0+/, '');
  if (!driverIdSchema.safeParse(driverId).success) return { valid: false, promptId: 'driver-card-invalid', reason: `driver card ${masked} holds no driver number in its last ${digits} digits` };
  if (!isCardDate(facts.startDate) || !isCardDate(facts.expiryDate)) {
    return { valid: false, promptId: 'driver-card-invalid', reason: `driver card ${masked} has invalid validity dates "${facts.startDate}"-"${facts.expiryDate}"` };
  }
  if (today < facts.startDate || today > facts.expiryDate) {
    return { valid: false, promptId: 'card-expired', reason: `driver card ${masked} is valid from ${facts.startDate} to ${facts.expiryDate}, not on ${today}` };
  }
  return { valid: true, card: { driverId, asn: facts.asn, application } };
}

function isCardDate(value: string): boolean {
  return /^\d{8}$/.test(value);
}
