import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import {
  AID,
  type CipherFamily,
  MOHURD_APPLICATION_ENABLED,
  MOHURD_SFI,
  MOHURD_TRANSIT_RECORD_ID,
  asnFactor,
  encodeMohurdEf15,
  fromHex,
  mohurdIssuerFactor,
} from '@busfare/shared-protocol';
import { applicationBlockKey, mohurdVerifyCode } from '../keys/card-security.js';
import { TUNION_CARD_HISTORICAL_BYTES, contactlessAtr } from './atr.js';
import { EPurseApplication, type PurchaseLedgerEntry } from './epurse-application.js';
import { PurseApplet } from './purse-applet.js';
import { IdentifiedRecordFile } from './record-files.js';
import { VirtualCpuCard } from './virtual-cpu-card.js';
import { defaultUid } from './virtual-tunion-card.js';

/** MOHURD parent application DF name (…07 00), above the purse ADF (…07 01). */
export const MOHURD_PARENT_DF_NAME = fromHex('A00000000386980700');
/** Application version in EF15 and 9F08 of the bench's MOHURD cards. */
const MOHURD_APPLICATION_VERSION = 0x01;
/** Industry code of public transport in MOHURD EF15. */
const MOHURD_TRANSPORT_INDUSTRY = '0001';
/** Size of the MOHURD EF17 composite-purchase records (the Changsha applet's record 02 takes 48 bytes). */
const EF17_MAX_RECORD = 0x40;

export interface VirtualMohurdCardOptions {
  /** Application serial number, 16 decimal digits (8 bytes BCD). */
  asn: string;
  /** City code, 2 bytes as hex, e.g. "5810". */
  cityCode: string;
  /** Issuer code, 2 bytes as hex. Default 0001. */
  issuerCode?: string;
  balanceFen: number;
  /** EF15 byte 28 (see parseMohurdEf15). */
  cardTypeCode: number;
  algorithm: CipherFamily;
  purchaseMasterKey: Uint8Array;
  tacMasterKey: Uint8Array;
  /** City key that MACs the 9-byte security identification code. */
  verifyMasterKey: Uint8Array;
  appBlockMasterKey?: Uint8Array;
  startDate: string;
  expiryDate: string;
  blocked?: boolean | 'permanent';
  offlineCounter?: number;
  keyIndex?: number;
  keyVersion?: number;
  /** Answer through the contact interface under T=0 (61xx, GET RESPONSE). */
  t0?: boolean;
  uid?: Uint8Array;
  label?: string;
  randomBytes?: (length: number) => Uint8Array;
}

/** Builds the MOHURD purse application (ADF A0 00 00 00 03 86 98 07 01). */
export function createMohurdApplet(options: VirtualMohurdCardOptions & { randomBytes: (length: number) => Uint8Array }): PurseApplet {
  if (!/^\d{16}$/.test(options.asn)) throw new RangeError(`invalid MOHURD ASN "${options.asn}": expected 16 decimal digits`);
  if (!/^[0-9A-Fa-f]{4}$/.test(options.cityCode)) throw new RangeError(`invalid city code "${options.cityCode}": expected 2 bytes as hex`);
  const cityCode = options.cityCode.toUpperCase();
  const ef15 = encodeMohurdEf15({
    issuerCode: options.issuerCode ?? '0001',
    cityCode,
    industryCode: MOHURD_TRANSPORT_INDUSTRY,
    enableFlag: MOHURD_APPLICATION_ENABLED,
    applicationVersion: MOHURD_APPLICATION_VERSION,
    interopFlag: cityCode,
    asn: options.asn,
    startDate: options.startDate,
    expiryDate: options.expiryDate,
    cardTypeCode: options.cardTypeCode,
  });
  const asn8 = asnFactor(options.asn);
  return new PurseApplet({
    kind: 'mohurd',
    dfName: AID.mohurdEp,
    asn: options.asn,
    ef15,
    applicationVersion: MOHURD_APPLICATION_VERSION,
    binaryFiles: new Map([[MOHURD_SFI.ef15, ef15]]),
    cyclicFiles: new Map(),
    identifiedFiles: new Map([[MOHURD_SFI.ef17, new IdentifiedRecordFile(EF17_MAX_RECORD)]]),
    purseLogSfi: MOHURD_SFI.ef18,
    purse: new EPurseApplication({ ...options, asn8 }),
    verifyCode: mohurdVerifyCode(options.verifyMasterKey, cityCode, options.asn),
    blockKey: options.appBlockMasterKey ? applicationBlockKey(options.appBlockMasterKey, asn8) : undefined,
    blocked: options.blocked,
  });
}

/**
 * A MOHURD "city union" CPU card. It has no contactless directory, so PPSE gets 6A82 and readers
 * fall through to the purse AID; the FCI carries EF15 in 9F0C, and 80 CA 00 00 09 returns the
 * security identification code that the PSAM checks before a purchase. The record the bus writes
 * in a composite purchase is EF17 record 02.
 */
export class VirtualMohurdCard extends VirtualCpuCard {
  readonly asn: string;
  /** The issuer id its records carry: city code followed by FF 00 00 00 00 00. */
  readonly issuerId: string;
  readonly mohurd: PurseApplet;

  constructor(options: VirtualMohurdCardOptions) {
    const randomBytes = options.randomBytes ?? ((length: number) => Uint8Array.from(cryptoRandomBytes(length)));
    const applet = createMohurdApplet({ ...options, randomBytes });
    super({
      applets: [applet],
      atr: contactlessAtr(TUNION_CARD_HISTORICAL_BYTES),
      uid: options.uid ?? defaultUid(options.asn, 'card'),
      label: options.label ?? `mohurd-card ${options.asn}`,
      ppse: false,
      parentDfNames: [MOHURD_PARENT_DF_NAME],
      t0: options.t0,
      randomBytes,
    });
    this.mohurd = applet;
    this.asn = options.asn;
    this.issuerId = mohurdIssuerFactor(options.cityCode);
  }

  get offlineCounter(): number {
    return this.mohurd.purse.offlineCounter;
  }

  get ledger(): readonly PurchaseLedgerEntry[] {
    return this.mohurd.purse.ledger;
  }

  get isBlocked(): boolean {
    return this.mohurd.blocked !== false;
  }
}
