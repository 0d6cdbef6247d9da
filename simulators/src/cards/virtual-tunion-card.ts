import { createHash, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { AID, type CipherFamily, SW, TRANSACTION_TYPE, asnFactor, concatBytes, equalBytes, fromHex, parseCommandApdu, readU16be } from '@busfare/shared-protocol';
import { type ApduCard, SIMULATOR_SW, respond, statusOnly } from './apdu-card.js';
import { PHONE_HISTORICAL_BYTES, TUNION_CARD_HISTORICAL_BYTES, contactlessAtr } from './atr.js';
import { EPurseApplication, type PurchaseLedgerEntry, type PurseAnswer } from './epurse-application.js';
import { purseApplicationFci, ppseFci } from './fci-templates.js';
import { TUNION_APPLICATION_VERSION, type TUnionFiles, createTUnionFiles } from './tunion-card-files.js';

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

type Selection = 'master-file' | 'ppse' | 'purse';

/** Shortest DF name a partial SELECT may give: the 5-byte registered application provider id. */
const MIN_PARTIAL_NAME = 5;
const MASTER_FILE_ID = fromHex('3F00');
const TRANSIT_RECORD_SFI = 0x1e;
const PURSE_LOG_SFI = 0x18;

interface CachedRecord {
  sfi: number;
  recordId: number;
  record: Uint8Array;
}

/**
 * A T-Union CPU card or phone applet that processes the PBOC e-purse commands with real keys,
 * MACs and TACs. Phone media use a longer instance AID and accept partial selection.
 */
export class VirtualTUnionCard implements ApduCard {
  readonly atr: Uint8Array;
  readonly protocol = 'iso14443-4' as const;
  readonly uid: Uint8Array;
  readonly label: string;
  readonly asn: string;
  readonly issuerId: string;
  readonly medium: CardMediumKind;
  readonly cardTypeCode: number;
  /** DF name of the purse application. */
  readonly dfName: Uint8Array;
  private readonly files: TUnionFiles;
  private readonly purse: EPurseApplication;
  private readonly randomBytes: (length: number) => Uint8Array;
  private blocked: boolean | 'permanent';
  private selection: Selection = 'master-file';
  private cappCache: CachedRecord[] = [];

  constructor(options: VirtualTUnionCardOptions) {
    if (!/^\d{20}$/.test(options.asn)) throw new RangeError(`invalid ASN "${options.asn}": expected 20 decimal digits`);
    if (!/^[0-9A-Fa-f]{16}$/.test(options.issuerId)) throw new RangeError(`invalid issuer id "${options.issuerId}": expected 8 bytes as hex`);
    this.asn = options.asn;
    this.issuerId = options.issuerId.toUpperCase();
    this.medium = options.medium;
    this.cardTypeCode = options.cardTypeCode;
    this.blocked = options.blocked ?? false;
    this.dfName = options.medium === 'card' ? AID.tunionEp : (options.instanceAid ?? defaultInstanceAid(this.issuerId));
    this.atr = contactlessAtr(options.medium === 'card' ? TUNION_CARD_HISTORICAL_BYTES : PHONE_HISTORICAL_BYTES);
    this.uid = options.uid ?? defaultUid(options.asn, options.medium);
    this.label = options.label ?? `tunion-${options.medium} ${options.asn}`;
    this.files = createTUnionFiles({ ...options, issuerId: this.issuerId, depositYuan: options.depositYuan ?? 0 });
    this.randomBytes = options.randomBytes ?? ((length) => Uint8Array.from(cryptoRandomBytes(length)));
    this.purse = new EPurseApplication({ ...options, asn8: asnFactor(options.asn), randomBytes: this.randomBytes });
  }

  get balanceFen(): number {
    return this.purse.balanceFen;
  }

  get offlineCounter(): number {
    return this.purse.offlineCounter;
  }

  /** Every completed debit in order, so a bench can add up the card-side balance decreases. */
  get ledger(): readonly PurchaseLedgerEntry[] {
    return this.purse.ledger;
  }

  get isBlocked(): boolean {
    return this.blocked !== false;
  }

  /** Blocks the application, as APPLICATION BLOCK does on a blacklisted card. */
  block(permanently = false): void {
    this.blocked = permanently ? 'permanent' : true;
    this.selection = 'master-file';
  }

  process(command: Uint8Array): Uint8Array {
    try {
      return this.dispatch(command);
    } catch {
      // Every input is checked before use, so an exception here is a simulator bug. A card would return 6F00.
      return statusOnly(SIMULATOR_SW.UNKNOWN_ERROR);
    }
  }

  private dispatch(command: Uint8Array): Uint8Array {
    let apdu: ParsedApdu;
    try {
      apdu = parseCommandApdu(command);
    } catch {
      return statusOnly(SW.WRONG_LENGTH);
    }
    const { cla, ins } = apdu;
    const expectedClass = INSTRUCTION_CLASS.get(ins);
    if (cla !== 0x00 && cla !== 0x80) return statusOnly(SW.CLA_NOT_SUPPORTED);
    if (expectedClass === undefined) return statusOnly(SW.INS_NOT_SUPPORTED);
    if (expectedClass !== cla) return statusOnly(SW.CLA_NOT_SUPPORTED);
    // A purchase opened by INIT is closed by any command other than the ones that continue it.
    if (ins !== 0x54 && ins !== 0xdc) this.cancelPurchase();
    return this.route(apdu);
  }

  private route(apdu: ParsedApdu): Uint8Array {
    const { ins, p1, p2, data, le } = apdu;
    const withoutData = (run: () => Uint8Array) => (data.length === 0 ? run() : statusOnly(SW.WRONG_LENGTH));
    switch (ins) {
      case 0xa4:
        return this.select(p1, p2, data);
      case 0xb0:
        return withoutData(() => this.readBinary(p1, p2, le));
      case 0xb2:
        return withoutData(() => this.readRecord(p1, p2, le));
      case 0x84:
        return withoutData(() => this.getChallenge(p1, p2, le));
      case 0x5c:
        return this.getBalance(p1, p2, data, le);
      case 0x50:
        return this.initialize(p1, p2, data);
      case 0x54:
        return this.debit(p1, p2, data);
      case 0x5a:
        return this.transactionProof(p1, p2, data);
      default:
        return this.updateCappDataCache(p1, p2, data);
    }
  }

  private cancelPurchase(): void {
    this.purse.cancelPurchase();
    this.cappCache = [];
  }

  /** SELECT by DF name (P1 04) or by file id (P1 00). */
  private select(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (p1 === 0x00) {
      if (data.length === 0 || equalBytes(data, MASTER_FILE_ID)) {
        this.selection = 'master-file';
        return statusOnly(SW.OK);
      }
      return statusOnly(SW.FILE_NOT_FOUND);
    }
    if (p1 !== 0x04) return statusOnly(SW.WRONG_P1P2);
    if (p2 !== 0x00 && p2 !== 0x02 && p2 !== 0x0c) return statusOnly(SW.WRONG_P1P2);
    if (data.length === 0) return statusOnly(SW.WRONG_LENGTH);
    // Each DF name occurs once on this card, so "next occurrence" never finds another.
    if (p2 === 0x02) return statusOnly(SW.FILE_NOT_FOUND);
    const withFci = p2 === 0x00;

    if (equalBytes(data, AID.ppse)) {
      this.selection = 'ppse';
      return withFci ? respond(ppseFci([this.dfName]), SW.OK) : statusOnly(SW.OK);
    }
    if (!this.matchesPurseName(data)) return statusOnly(SW.FILE_NOT_FOUND);
    if (this.blocked !== false) {
      this.selection = 'master-file';
      return statusOnly(this.blocked === 'permanent' ? SW.APP_LOCKED_PERMANENTLY : SW.APP_INVALIDATED);
    }
    this.selection = 'purse';
    return withFci ? respond(purseApplicationFci(this.dfName, TUNION_APPLICATION_VERSION, this.files.ef15), SW.OK) : statusOnly(SW.OK);
  }

  private matchesPurseName(name: Uint8Array): boolean {
    if (equalBytes(name, this.dfName)) return true;
    return name.length >= MIN_PARTIAL_NAME && name.length < this.dfName.length && equalBytes(name, this.dfName.subarray(0, name.length));
  }

  /** READ BINARY with a short file id: EF15 and EF17. */
  private readBinary(p1: number, offset: number, le: number | undefined): Uint8Array {
    if ((p1 & 0x80) === 0) return statusOnly(SIMULATOR_SW.NO_CURRENT_EF);
    if ((p1 & 0x60) !== 0) return statusOnly(SW.WRONG_P1P2);
    if (this.selection !== 'purse') return statusOnly(SW.FILE_NOT_FOUND);
    const sfi = p1 & 0x1f;
    let file: Uint8Array;
    if (sfi === 0x15) file = this.files.ef15;
    else if (sfi === 0x17) file = this.files.ef17;
    else return statusOnly(SW.FILE_NOT_FOUND);
    if (offset >= file.length) return statusOnly(SIMULATOR_SW.WRONG_OFFSET);
    const available = file.length - offset;
    const wanted = le === undefined || le === 0 ? available : le;
    if (wanted > available) return wrongLe(available);
    return respond(file.subarray(offset, offset + wanted), SW.OK);
  }

  /** READ RECORD by number: EF18 and EF1E are cyclic (1 = newest), EF1A and EF19 by record id. */
  private readRecord(p1: number, p2: number, le: number | undefined): Uint8Array {
    if ((p2 & 0x07) !== 0x04 || p1 === 0) return statusOnly(SW.WRONG_P1P2);
    const sfi = p2 >>> 3;
    if (sfi === 0) return statusOnly(SIMULATOR_SW.NO_CURRENT_EF);
    if (this.selection !== 'purse') return statusOnly(SW.FILE_NOT_FOUND);
    let record: Uint8Array | undefined;
    if (sfi === PURSE_LOG_SFI) record = this.purse.log.read(p1);
    else if (sfi === TRANSIT_RECORD_SFI) record = this.files.ef1e.read(p1);
    else {
      const file = this.files.identified.get(sfi);
      if (!file) return statusOnly(SW.FILE_NOT_FOUND);
      record = file.read(p1);
    }
    if (!record) return statusOnly(SIMULATOR_SW.RECORD_NOT_FOUND);
    if (le !== undefined && le !== 0 && le !== record.length) return wrongLe(record.length);
    return respond(record, SW.OK);
  }

  /** GET BALANCE: P1 00 and 03 return the balance; 01 and 02 the overdraft in use, which is always 0 here. */
  private getBalance(p1: number, p2: number, data: Uint8Array, le: number | undefined): Uint8Array {
    if (p2 !== 0x02 || p1 > 0x03) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 0) return statusOnly(SW.WRONG_LENGTH);
    if (le !== undefined && le !== 0 && le !== 4) return wrongLe(4);
    if (this.selection !== 'purse') return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    const value = p1 === 0x00 || p1 === 0x03 ? this.purse.balanceFen : 0;
    return respond(Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff), SW.OK);
  }

  /** INITIALIZE FOR PURCHASE (P1 01) and FOR CAPP PURCHASE (P1 03). */
  private initialize(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if ((p1 !== 0x01 && p1 !== 0x03) || p2 !== 0x02) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 11) return statusOnly(SW.WRONG_LENGTH);
    if (this.selection !== 'purse') return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    return fromAnswer(this.purse.initForPurchase(p1, data));
  }

  /** DEBIT FOR (CAPP) PURCHASE. A composite purchase writes its cached records in the same step. */
  private debit(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (p1 !== 0x01 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 15) return statusOnly(SW.WRONG_LENGTH);
    if (this.selection !== 'purse') return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    const composite = this.purse.pendingTransactionType === TRANSACTION_TYPE.compositePurchase;
    // A CAPP purchase is accepted only after at least one UPDATE CAPP DATA CACHE.
    if (composite && this.cappCache.length === 0) {
      this.cancelPurchase();
      return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    }
    const cache = this.cappCache;
    this.cappCache = [];
    return fromAnswer(this.purse.debit(data, () => this.writeCachedRecords(cache)));
  }

  private writeCachedRecords(cache: readonly CachedRecord[]): void {
    for (const entry of cache) {
      if (entry.sfi === TRANSIT_RECORD_SFI) this.files.ef1e.append(entry.record);
      else this.files.identified.get(entry.sfi)?.write(entry.recordId, entry.record);
    }
  }

  /** GET TRANSACTION PROOF: MAC2 | TAC of the last debit. */
  private transactionProof(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (p1 !== 0x00 || (p2 !== TRANSACTION_TYPE.purchase && p2 !== TRANSACTION_TYPE.compositePurchase)) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 2) return statusOnly(SW.WRONG_LENGTH);
    if (this.selection !== 'purse') return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    return fromAnswer(this.purse.transactionProof(p2, readU16be(data, 0)));
  }

  /** UPDATE CAPP DATA CACHE: P1 record id (00 for the cyclic EF1E), P2 SFI << 3. */
  private updateCappDataCache(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if ((p2 & 0x07) !== 0) return statusOnly(SW.WRONG_P1P2);
    if (this.selection !== 'purse' || this.purse.pendingTransactionType !== TRANSACTION_TYPE.compositePurchase) {
      this.cancelPurchase();
      return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    }
    const sfi = p2 >>> 3;
    if (sfi === TRANSIT_RECORD_SFI) {
      if (p1 !== 0x00) return statusOnly(SW.WRONG_P1P2);
      if (data.length !== this.files.ef1e.recordLength) return statusOnly(SW.WRONG_LENGTH);
    } else {
      const file = this.files.identified.get(sfi);
      if (!file) return statusOnly(SW.FILE_NOT_FOUND);
      if (p1 === 0x00) return statusOnly(SW.WRONG_P1P2);
      if (data.length === 0 || data.length > file.maxRecordLength) return statusOnly(SW.WRONG_LENGTH);
    }
    this.cappCache.push({ sfi, recordId: p1, record: data.slice() });
    return statusOnly(SW.OK);
  }

  /** GET CHALLENGE: 4 or 8 random bytes. */
  private getChallenge(p1: number, p2: number, le: number | undefined): Uint8Array {
    if (p1 !== 0x00 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (le !== 4 && le !== 8) return statusOnly(SW.WRONG_LENGTH);
    return respond(this.randomBytes(le), SW.OK);
  }
}

type ParsedApdu = ReturnType<typeof parseCommandApdu>;

// TODO: APPLICATION BLOCK (84 1E) with its PSAM-computed MAC is not simulated yet; the bench
// blocks a card through VirtualTUnionCard.block().
/** Class byte each supported instruction expects: 00 for ISO commands, 80 for the e-purse ones. */
const INSTRUCTION_CLASS: ReadonlyMap<number, number> = new Map([
  [0xa4, 0x00],
  [0xb0, 0x00],
  [0xb2, 0x00],
  [0x84, 0x00],
  [0x5c, 0x80],
  [0x50, 0x80],
  [0x54, 0x80],
  [0x5a, 0x80],
  [0xdc, 0x80],
]);

function fromAnswer(result: PurseAnswer): Uint8Array {
  return respond(result.data, result.sw);
}

/** 6Cxx: wrong Le, the card offers xx bytes. */
function wrongLe(available: number): Uint8Array {
  return statusOnly(0x6c00 | (available & 0xff));
}

/** Instance AID of a phone applet: the T-Union prefix, 1000, the issuer's city code, 000001A1. */
export function defaultInstanceAid(issuerId: string): Uint8Array {
  return concatBytes(AID.tunionEp, fromHex(`1000${issuerId.slice(0, 4)}000001A1`));
}

/**
 * Derives a stable UID per card from its ASN. HCE phones present a random-looking 4-byte UID
 * that starts with 08, as Android does; cards and SIMs get a 7-byte UID.
 */
function defaultUid(asn: string, medium: CardMediumKind): Uint8Array {
  const digest = createHash('sha256').update(asn).digest();
  if (medium === 'hce') return Uint8Array.of(0x08, digest[0] ?? 0, digest[1] ?? 0, digest[2] ?? 0);
  return Uint8Array.from([0x04, ...digest.subarray(0, 6)]);
}
