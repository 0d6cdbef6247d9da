import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { AID, SW, TRANSACTION_TYPE, equalBytes, fromHex, parseCommandApdu, readU16be } from '@busfare/shared-protocol';
import { type ApduCard, SIMULATOR_SW, respond, statusOnly } from './apdu-card.js';
import { purseApplicationFci, ppseFci } from './fci-templates.js';
import type { PurchaseLedgerEntry, PurseAnswer } from './epurse-application.js';
import type { PurseApplet } from './purse-applet.js';
import { applicationBlockMac } from '../keys/card-security.js';

export interface VirtualCpuCardOptions {
  applets: PurseApplet[];
  atr: Uint8Array;
  uid: Uint8Array;
  label: string;
  /** Whether the card answers the contactless directory (PPSE) with its applications. */
  ppse: boolean;
  /** DF names of parent applications that select without an FCI of their own (MOHURD …0700). */
  parentDfNames?: readonly Uint8Array[];
  /** Answer data as 61xx for GET RESPONSE, as the contact interface under T=0 does. */
  t0?: boolean;
  randomBytes?: (length: number) => Uint8Array;
}

type Selection = PurseApplet | 'master-file' | 'ppse' | 'parent';

/** Shortest DF name a partial SELECT may give: the 5-byte registered application provider id. */
const MIN_PARTIAL_NAME = 5;
const MASTER_FILE_ID = fromHex('3F00');

interface CachedRecord {
  sfi: number;
  recordId: number;
  record: Uint8Array;
}

/**
 * A contactless CPU card or phone applet with one or more PBOC e-purse applications (T-Union,
 * MOHURD, or both on a dual-application card). Each application has its own files, keys, balance
 * and counter; SELECT chooses which one the following commands reach.
 */
export class VirtualCpuCard implements ApduCard {
  readonly atr: Uint8Array;
  readonly protocol = 'iso14443-4' as const;
  readonly uid: Uint8Array;
  readonly label: string;
  readonly applets: readonly PurseApplet[];
  protected readonly randomBytes: (length: number) => Uint8Array;
  private readonly ppse: boolean;
  private readonly parentDfNames: readonly Uint8Array[];
  private readonly t0: boolean;
  private selection: Selection = 'master-file';
  private cappCache: CachedRecord[] = [];
  private challenge: Uint8Array | undefined;
  private pendingResponse: Uint8Array | undefined;

  constructor(options: VirtualCpuCardOptions) {
    if (options.applets.length === 0) throw new RangeError('a CPU card needs at least one application');
    this.applets = options.applets;
    this.atr = options.atr;
    this.uid = options.uid;
    this.label = options.label;
    this.ppse = options.ppse;
    this.parentDfNames = options.parentDfNames ?? [];
    this.t0 = options.t0 ?? false;
    this.randomBytes = options.randomBytes ?? ((length) => Uint8Array.from(cryptoRandomBytes(length)));
  }

  /** Sum of the balances of every purse on the card. */
  get balanceFen(): number {
    return this.applets.reduce((sum, applet) => sum + applet.purse.balanceFen, 0);
  }

  /** Every completed debit of every application, each with the ASN of its application. */
  get debits(): readonly (PurchaseLedgerEntry & { asn: string })[] {
    return this.applets.flatMap((applet) => applet.purse.ledger.map((entry) => ({ ...entry, asn: applet.asn })));
  }

  /** The application of the given kind, if the card has one. */
  applet(kind: PurseApplet['kind']): PurseApplet | undefined {
    return this.applets.find((applet) => applet.kind === kind);
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
    if (ins === 0xc0 && cla === 0x00 && this.t0) return this.getResponse(apdu);
    this.pendingResponse = undefined;
    const expectedClass = INSTRUCTION_CLASS.get(ins);
    if (cla !== 0x00 && cla !== 0x80 && cla !== 0x84) return statusOnly(SW.CLA_NOT_SUPPORTED);
    if (expectedClass === undefined) return statusOnly(SW.INS_NOT_SUPPORTED);
    if (expectedClass !== cla) return statusOnly(SW.CLA_NOT_SUPPORTED);
    // A purchase opened by INIT is closed by any command other than the ones that continue it.
    if (ins !== 0x54 && ins !== 0xdc) this.cancelPurchase();
    // A challenge is good for the one command that follows it.
    const challenge = this.challenge;
    this.challenge = undefined;
    return this.deliver(this.route(apdu, challenge));
  }

  private route(apdu: ParsedApdu, challenge: Uint8Array | undefined): Uint8Array {
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
      case 0x1e:
        return this.applicationBlock(p1, p2, data, challenge);
      case 0xca:
        return withoutData(() => this.getVerifyCode(p1, p2, le));
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

  private get current(): PurseApplet | undefined {
    return typeof this.selection === 'string' ? undefined : this.selection;
  }

  private cancelPurchase(): void {
    this.current?.purse.cancelPurchase();
    this.cappCache = [];
  }

  /** Under T=0 a response with data is announced as 61xx and fetched with GET RESPONSE. */
  private deliver(response: Uint8Array): Uint8Array {
    if (!this.t0 || response.length <= 2) return response;
    this.pendingResponse = response;
    return statusOnly(0x6100 | ((response.length - 2) & 0xff));
  }

  private getResponse(apdu: ParsedApdu): Uint8Array {
    const pending = this.pendingResponse;
    this.pendingResponse = undefined;
    if (apdu.p1 !== 0x00 || apdu.p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (!pending) return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    const available = pending.length - 2;
    if (apdu.le !== undefined && apdu.le !== 0 && apdu.le !== available) {
      this.pendingResponse = pending;
      return wrongLe(available);
    }
    return pending;
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
      if (!this.ppse) return statusOnly(SW.FILE_NOT_FOUND);
      this.selection = 'ppse';
      return withFci ? respond(ppseFci(this.applets.map((applet) => applet.dfName)), SW.OK) : statusOnly(SW.OK);
    }
    if (this.parentDfNames.some((name) => equalBytes(name, data))) {
      this.selection = 'parent';
      return withFci ? respond(Uint8Array.of(0x6f, data.length + 2, 0x84, data.length, ...data), SW.OK) : statusOnly(SW.OK);
    }
    const applet = this.applets.find((candidate) => matchesName(candidate.dfName, data));
    if (!applet) return statusOnly(SW.FILE_NOT_FOUND);
    if (applet.blocked !== false) {
      this.selection = 'master-file';
      return statusOnly(applet.blocked === 'permanent' ? SW.APP_LOCKED_PERMANENTLY : SW.APP_INVALIDATED);
    }
    this.selection = applet;
    const { dfName, applicationVersion, ef15 } = applet.options;
    return withFci ? respond(purseApplicationFci(dfName, applicationVersion, ef15), SW.OK) : statusOnly(SW.OK);
  }

  /** READ BINARY with a short file id. */
  private readBinary(p1: number, offset: number, le: number | undefined): Uint8Array {
    if ((p1 & 0x80) === 0) return statusOnly(SIMULATOR_SW.NO_CURRENT_EF);
    if ((p1 & 0x60) !== 0) return statusOnly(SW.WRONG_P1P2);
    const applet = this.current;
    if (!applet) return statusOnly(SW.FILE_NOT_FOUND);
    const file = applet.options.binaryFiles.get(p1 & 0x1f);
    if (!file) return statusOnly(SW.FILE_NOT_FOUND);
    if (offset >= file.length) return statusOnly(SIMULATOR_SW.WRONG_OFFSET);
    const available = file.length - offset;
    const wanted = le === undefined || le === 0 ? available : le;
    if (wanted > available) return wrongLe(available);
    return respond(file.subarray(offset, offset + wanted), SW.OK);
  }

  /** READ RECORD by number: cyclic files (1 = newest) and record files by record id. */
  private readRecord(p1: number, p2: number, le: number | undefined): Uint8Array {
    if ((p2 & 0x07) !== 0x04 || p1 === 0) return statusOnly(SW.WRONG_P1P2);
    const sfi = p2 >>> 3;
    if (sfi === 0) return statusOnly(SIMULATOR_SW.NO_CURRENT_EF);
    const applet = this.current;
    if (!applet) return statusOnly(SW.FILE_NOT_FOUND);
    let record: Uint8Array | undefined;
    if (sfi === applet.options.purseLogSfi) record = applet.purse.log.read(p1);
    else {
      const cyclic = applet.options.cyclicFiles.get(sfi);
      const identified = applet.options.identifiedFiles.get(sfi);
      if (cyclic) record = cyclic.read(p1);
      else if (identified) record = identified.read(p1);
      else return statusOnly(SW.FILE_NOT_FOUND);
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
    const applet = this.current;
    if (!applet) return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    const value = p1 === 0x00 || p1 === 0x03 ? applet.purse.balanceFen : 0;
    return respond(Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff), SW.OK);
  }

  /** MOHURD: GET the 9-byte security identification code (80 CA 00 00 09). */
  private getVerifyCode(p1: number, p2: number, le: number | undefined): Uint8Array {
    if (p1 !== 0x00 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    const code = this.current?.options.verifyCode;
    if (!this.current) return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    if (!code) return statusOnly(SW.FUNCTION_NOT_SUPPORTED);
    if (le !== undefined && le !== 0 && le !== code.length) return wrongLe(code.length);
    return respond(code, SW.OK);
  }

  /** INITIALIZE FOR PURCHASE (P1 01) and FOR CAPP PURCHASE (P1 03). */
  private initialize(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if ((p1 !== 0x01 && p1 !== 0x03) || p2 !== 0x02) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 11) return statusOnly(SW.WRONG_LENGTH);
    const applet = this.current;
    if (!applet) return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    return fromAnswer(applet.purse.initForPurchase(p1, data));
  }

  /** DEBIT FOR (CAPP) PURCHASE. A composite purchase writes its cached records in the same step. */
  private debit(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (p1 !== 0x01 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 15) return statusOnly(SW.WRONG_LENGTH);
    const applet = this.current;
    if (!applet) return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    const composite = applet.purse.pendingTransactionType === TRANSACTION_TYPE.compositePurchase;
    // A CAPP purchase is accepted only after at least one UPDATE CAPP DATA CACHE.
    if (composite && this.cappCache.length === 0) {
      this.cancelPurchase();
      return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    }
    const cache = this.cappCache;
    this.cappCache = [];
    return fromAnswer(applet.purse.debit(data, () => writeCachedRecords(applet, cache)));
  }

  /** GET TRANSACTION PROOF: MAC2 | TAC of the last debit. */
  private transactionProof(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (p1 !== 0x00 || (p2 !== TRANSACTION_TYPE.purchase && p2 !== TRANSACTION_TYPE.compositePurchase)) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 2) return statusOnly(SW.WRONG_LENGTH);
    const applet = this.current;
    if (!applet) return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    return fromAnswer(applet.purse.transactionProof(p2, readU16be(data, 0)));
  }

  /** UPDATE CAPP DATA CACHE: P1 record id (00 for a cyclic file), P2 SFI << 3. */
  private updateCappDataCache(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if ((p2 & 0x07) !== 0) return statusOnly(SW.WRONG_P1P2);
    const applet = this.current;
    if (!applet || applet.purse.pendingTransactionType !== TRANSACTION_TYPE.compositePurchase) {
      this.cancelPurchase();
      return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    }
    const sfi = p2 >>> 3;
    const cyclic = applet.options.cyclicFiles.get(sfi);
    const identified = applet.options.identifiedFiles.get(sfi);
    if (cyclic) {
      if (p1 !== 0x00) return statusOnly(SW.WRONG_P1P2);
      if (data.length !== cyclic.recordLength) return statusOnly(SW.WRONG_LENGTH);
    } else if (identified) {
      if (p1 === 0x00) return statusOnly(SW.WRONG_P1P2);
      if (data.length === 0 || data.length > identified.maxRecordLength) return statusOnly(SW.WRONG_LENGTH);
    } else return statusOnly(SW.FILE_NOT_FOUND);
    this.cappCache.push({ sfi, recordId: p1, record: data.slice() });
    return statusOnly(SW.OK);
  }

  /** GET CHALLENGE: 4 or 8 random bytes, kept for the command that follows. */
  private getChallenge(p1: number, p2: number, le: number | undefined): Uint8Array {
    if (p1 !== 0x00 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (le !== 4 && le !== 8) return statusOnly(SW.WRONG_LENGTH);
    const challenge = this.randomBytes(le);
    this.challenge = challenge.slice(0, 4);
    return respond(challenge, SW.OK);
  }

  /** APPLICATION BLOCK (84 1E 00 00 04 MAC): blocks the selected application when the MAC matches. */
  private applicationBlock(p1: number, p2: number, data: Uint8Array, challenge: Uint8Array | undefined): Uint8Array {
    if (p1 !== 0x00 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 4) return statusOnly(SW.WRONG_LENGTH);
    const applet = this.current;
    if (!applet) return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    const key = applet.options.blockKey;
    if (!key || !challenge) return statusOnly(SW.SECURITY_NOT_SATISFIED);
    if (!equalBytes(applicationBlockMac(key, challenge), data)) return statusOnly(SW.SECURITY_NOT_SATISFIED);
    applet.blocked = true;
    this.selection = 'master-file';
    return statusOnly(SW.OK);
  }
}

type ParsedApdu = ReturnType<typeof parseCommandApdu>;

/** Class byte each supported instruction expects: 00 for ISO commands, 80 for the e-purse ones, 84 with secure messaging. */
const INSTRUCTION_CLASS: ReadonlyMap<number, number> = new Map([
  [0xa4, 0x00],
  [0xb0, 0x00],
  [0xb2, 0x00],
  [0x84, 0x00],
  [0x1e, 0x84],
  [0xca, 0x80],
  [0x5c, 0x80],
  [0x50, 0x80],
  [0x54, 0x80],
  [0x5a, 0x80],
  [0xdc, 0x80],
]);

function matchesName(dfName: Uint8Array, name: Uint8Array): boolean {
  if (equalBytes(name, dfName)) return true;
  return name.length >= MIN_PARTIAL_NAME && name.length < dfName.length && equalBytes(name, dfName.subarray(0, name.length));
}

function writeCachedRecords(applet: PurseApplet, cache: readonly CachedRecord[]): void {
  for (const entry of cache) {
    const cyclic = applet.options.cyclicFiles.get(entry.sfi);
    if (cyclic) cyclic.append(entry.record);
    else applet.options.identifiedFiles.get(entry.sfi)?.write(entry.recordId, entry.record);
  }
}

function fromAnswer(result: PurseAnswer): Uint8Array {
  return respond(result.data, result.sw);
}

/** 6Cxx: wrong Le, the card offers xx bytes. */
function wrongLe(available: number): Uint8Array {
  return statusOnly(0x6c00 | (available & 0xff));
}
