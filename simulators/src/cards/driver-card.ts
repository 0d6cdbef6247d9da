import { DEFAULT_DRIVER_CARD_TYPE_CODES, DEFAULT_DRIVER_NUMBER_DIGITS } from '@busfare/terminal';
import { BENCH_ISSUERS, type BenchIssuer } from '../keys/test-keys.js';
import { VirtualMohurdCard } from './virtual-mohurd-card.js';
import { VirtualTUnionCard } from './virtual-tunion-card.js';

/** Card-type code the bench writes into its driver cards: the terminal's default driver card code. */
export const BENCH_DRIVER_CARD_TYPE_CODE = DEFAULT_DRIVER_CARD_TYPE_CODES[0]!;

/**
 * Serial prefix of bench driver cards. Rider cards of a population count their serials up from 1,
 * so driver cards stay apart from them in any population under 9 × 10^11 cards.
 */
const DRIVER_SERIAL_PREFIX = '9';

export interface DriverCardOptions {
  /** Driver number, 1-8 decimal digits without a leading zero: the terminal reads it back from the card number. */
  driverNumber: string;
  /** 'tunion' (default) or 'mohurd'. */
  application?: 'tunion' | 'mohurd';
  /** Issuer of a T-Union driver card; default the local 3DES bench issuer. */
  issuer?: BenchIssuer;
  /** Default 20240101 to 20341231. */
  startDate?: string;
  expiryDate?: string;
  /** Card-type code in EF15 byte 28; default BENCH_DRIVER_CARD_TYPE_CODE. */
  cardTypeCode?: number;
  label?: string;
}

/**
 * Creates a driver's staff card (司机卡): a T-Union or MOHURD CPU card whose card-type code marks
 * it as a driver card and whose card number ends in the driver number. The purse is empty,
 * because terminals never debit a driver card.
 */
export function createDriverCard(options: DriverCardOptions): VirtualTUnionCard | VirtualMohurdCard {
  if (!/^[1-9]\d{0,7}$/.test(options.driverNumber)) {
    throw new RangeError(`invalid driver number "${options.driverNumber}": expected 1-${DEFAULT_DRIVER_NUMBER_DIGITS} decimal digits without a leading zero`);
  }
  const number = options.driverNumber.padStart(DEFAULT_DRIVER_NUMBER_DIGITS, '0');
  const common = {
    balanceFen: 0,
    cardTypeCode: options.cardTypeCode ?? BENCH_DRIVER_CARD_TYPE_CODE,
    startDate: options.startDate ?? '20240101',
    expiryDate: options.expiryDate ?? '20341231',
  };
  if (options.application === 'mohurd') {
    const issuer = BENCH_ISSUERS.mohurdCity;
    return new VirtualMohurdCard({
      ...common,
      // MOHURD serial: city code (4 digits) | 12 digits.
      asn: `${issuer.cityCode}${DRIVER_SERIAL_PREFIX}000${number}`,
      cityCode: issuer.cityCode,
      algorithm: issuer.algorithm,
      keyVersion: issuer.keyVersion,
      purchaseMasterKey: issuer.purchaseMasterKey,
      tacMasterKey: issuer.tacMasterKey,
      verifyMasterKey: issuer.verifyMasterKey!,
      appBlockMasterKey: issuer.appBlockMasterKey,
      label: options.label ?? `driver-${options.driverNumber} mohurd`,
    });
  }
  const issuer = options.issuer ?? BENCH_ISSUERS.cityDes;
  return new VirtualTUnionCard({
    ...common,
    // T-Union ASN as the bench population writes it: city code (4) | institution (4) | 12 digits.
    asn: `${issuer.cityCode}${issuer.issuerId.slice(4, 8)}${DRIVER_SERIAL_PREFIX}000${number}`,
    issuerId: issuer.issuerId,
    algorithm: issuer.algorithm,
    keyVersion: issuer.keyVersion,
    purchaseMasterKey: issuer.purchaseMasterKey,
    tacMasterKey: issuer.tacMasterKey,
    appBlockMasterKey: issuer.appBlockMasterKey,
    medium: 'card',
    label: options.label ?? `driver-${options.driverNumber} tunion`,
  });
}
