import { createHash, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { AID, type CipherFamily, asnFactor, concatBytes, fromHex } from '@busfare/shared-protocol';
import { applicationBlockKey } from '../keys/card-security.js';
import { PHONE_HISTORICAL_BYTES, TUNION_CARD_HISTORICAL_BYTES, contactlessAtr } from './atr.js';
import { EPurseApplication, type PurchaseLedgerEntry } from './epurse-application.js';
import { PurseApplet } from './purse-applet.js';
import { TUNION_APPLICATION_VERSION, createTUnionFiles } from './tunion-card-files.js';
import { VirtualCpuCard } from './virtual-cpu-card.js';

export type CardMediumKind = 'card' | 'sim' | 'hce';

export interface VirtualTUnionCardOptions {
  /** Application serial number, 20 decimal digits. */
  asn: string;
  /** Issuer id, 8 bytes as hex. */
  issuerId: string;
  balanceFen: number;
  /** EF15 byte 28. */
  cardTypeCode: number;
  algorithm: CipherFamily;
  purchaseMasterKey: Uint8Array;
  tacMasterKey: Uint8Array;
  /** Issuer's application-block master key; without it the card refuses APPLICATION BLOCK. */
  appBlockMasterKey?: Uint8Array;
  medium: CardMediumKind;
  /** YYYYMMDD. */
  startDate: string;
  /** YYYYMMDD. */
  expiryDate: string;
  /** SELECT of a blocked application returns 6283, of a permanently blocked one 9303. */
  blocked?: boolean | 'permanent';
  offlineCounter?: number;
  keyIndex?: number;
  keyVersion?: number;
  /** EF15 byte 29. Default 0. */
  depositYuan?: number;
  /** DF name of a phone applet. Default: the T-Union prefix, 1000, the issuer's city code, 000001A1. */
  instanceAid?: Uint8Array;
  uid?: Uint8Array;
  label?: string;
  randomBytes?: (length: number) => Uint8Array;
}

/**
 * A T-Union CPU card or phone applet that processes the PBOC e-purse commands with real keys,
 * MACs and TACs. Phone media use a longer instance AID and accept partial selection; cards and
 * phones answer the PPSE with their purse AID.
 */
export class VirtualTUnionCard extends VirtualCpuCard {
  readonly asn: string;
  readonly issuerId: string;
  readonly medium: CardMediumKind;
  readonly cardTypeCode: number;
  /** DF name of the purse application. */
  readonly dfName: Uint8Array;
  private readonly tunion: PurseApplet;

  constructor(options: VirtualTUnionCardOptions) {
    if (!/^\d{20}$/.test(options.asn)) throw new RangeError(`invalid ASN "${options.asn}": expected 20 decimal digits`);
    if (!/^[0-9A-Fa-f]{16}$/.test(options.issuerId)) throw new RangeError(`invalid issuer id "${options.issuerId}": expected 8 bytes as hex`);
    const randomBytes = options.randomBytes ?? ((length: number) => Uint8Array.from(cryptoRandomBytes(length)));
    const applet = createTUnionApplet({ ...options, randomBytes });
    super({
      applets: [applet],
      atr: contactlessAtr(options.medium === 'card' ? TUNION_CARD_HISTORICAL_BYTES : PHONE_HISTORICAL_BYTES),
      uid: options.uid ?? defaultUid(options.asn, options.medium),
      label: options.label ?? `tunion-${options.medium} ${options.asn}`,
      ppse: true,
      randomBytes,
    });
    this.tunion = applet;
    this.asn = options.asn;
    this.issuerId = options.issuerId.toUpperCase();
    this.medium = options.medium;
    this.cardTypeCode = options.cardTypeCode;
    this.dfName = applet.dfName;
  }

  get offlineCounter(): number {
    return this.tunion.purse.offlineCounter;
  }

  /** Every completed debit in order, so a bench can add up the card-side balance decreases. */
  get ledger(): readonly PurchaseLedgerEntry[] {
    return this.tunion.purse.ledger;
  }

  get isBlocked(): boolean {
    return this.tunion.blocked !== false;
  }

  /** Blocks the application, as APPLICATION BLOCK does on a blacklisted card. */
  block(permanently = false): void {
    this.tunion.blocked = permanently ? 'permanent' : true;
  }
}

/** Builds the T-Union purse application of a card, phone applet or dual-application card. */
export function createTUnionApplet(options: VirtualTUnionCardOptions & { randomBytes: (length: number) => Uint8Array }): PurseApplet {
  const issuerId = options.issuerId.toUpperCase();
  const asn8 = asnFactor(options.asn);
  const files = createTUnionFiles({ ...options, issuerId, depositYuan: options.depositYuan ?? 0 });
  return new PurseApplet({
    kind: 'tunion',
    dfName: options.medium === 'card' ? AID.tunionEp : (options.instanceAid ?? defaultInstanceAid(issuerId)),
    asn: options.asn,
    ef15: files.ef15,
    applicationVersion: TUNION_APPLICATION_VERSION,
    binaryFiles: new Map([
      [0x15, files.ef15],
      [0x17, files.ef17],
    ]),
    cyclicFiles: new Map([[0x1e, files.ef1e]]),
    identifiedFiles: files.identified,
    purseLogSfi: 0x18,
    purse: new EPurseApplication({ ...options, asn8 }),
    blockKey: options.appBlockMasterKey ? applicationBlockKey(options.appBlockMasterKey, asn8) : undefined,
    blocked: options.blocked,
  });
}

/** Instance AID of a phone applet: the T-Union prefix, 1000, the issuer's city code, 000001A1. */
export function defaultInstanceAid(issuerId: string): Uint8Array {
  return concatBytes(AID.tunionEp, fromHex(`1000${issuerId.slice(0, 4)}000001A1`));
}

/**
 * Derives a stable UID per card from its ASN. HCE phones present a random-looking 4-byte UID
 * that starts with 08, as Android does; cards and SIMs get a 7-byte UID.
 */
export function defaultUid(asn: string, medium: CardMediumKind): Uint8Array {
  const digest = createHash('sha256').update(asn).digest();
  if (medium === 'hce') return Uint8Array.of(0x08, digest[0] ?? 0, digest[1] ?? 0, digest[2] ?? 0);
  return Uint8Array.from([0x04, ...digest.subarray(0, 6)]);
}
