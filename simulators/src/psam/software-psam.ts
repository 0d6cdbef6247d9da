import {
  AID,
  type CipherFamily,
  MOHURD_PSAM_DF_FID,
  SW,
  UnsupportedAlgorithmError,
  cipherFamilyOf,
  computeMac1,
  computeMac2,
  concatBytes,
  diversifyKey,
  encodeTlv,
  equalBytes,
  fromHex,
  parseCommandApdu,
  psam,
  purchaseSessionKey,
  readU16be,
  readU32be,
  toHex,
  u32be,
} from '@busfare/shared-protocol';
import { type ApduProcessor, SIMULATOR_SW, respond, statusOnly } from '../cards/apdu-card.js';
import { applicationBlockKey, applicationBlockMac, checkMohurdVerifyCode } from '../keys/card-security.js';
import { BENCH_M1_ISSUER, type M1IssuerKeys } from './m1-keys.js';
import { deriveM1Keys, m1RecordMac } from './m1-psam.js';

/** Key entry of one issuer in the PSAM: its diversification factor and purchase master key. */
export interface PsamIssuerKey {
  /** Second diversification factor as the terminal sends it in 8070: the T-Union issuer id. */
  readonly issuerId: string;
  readonly purchaseMasterKey: Uint8Array;
  /** DF that holds the issuer's keys: the T-Union DF (default) or the MOHURD DF 1001. */
  readonly application?: 'tunion' | 'mohurd';
  /** Master key of the application-block key, for 801A/80FA. */
  readonly appBlockMasterKey?: Uint8Array;
  /** MOHURD: key that checks the cards' 9-byte security identification codes (80CA). */
  readonly verifyMasterKey?: Uint8Array;
}

export interface SoftwarePsamOptions {
  /** 6-byte terminal number (MF EF16), hex. */
  terminalNumber: string;
  /** Purchase key index in the first byte of DF EF17. Default 1. */
  keyIndex?: number;
  issuers: readonly PsamIssuerKey[];
  /** First terminal transaction serial to hand out. Default 1. */
  initialSerial?: number;
  /** Return 61xx and keep the data for GET RESPONSE, as a contact PSAM under T=0 does. */
  t0?: boolean;
  /** Keys of the city's MIFARE Classic purses (80 FC, 80 F8). Default: the bench M1 issuer; null for none. */
  m1Issuer?: M1IssuerKeys | null;
}

type PsamSelection = 'master-file' | 'tunion-df' | 'mohurd-df';

interface PurchaseSession {
  family: CipherFamily;
  sessionKey: Uint8Array;
  amountFen: number;
}

const TUNION_PSAM_DF_FID = fromHex('8011');
const MASTER_FILE_ID = fromHex('3F00');
const INIT_SAM_DATA_LENGTH = 0x24;
/** Length of MF EF15, the PSAM serial number, which the bench derives from the terminal number. */
const PSAM_SERIAL_LENGTH = 10;

/**
 * A software PSAM with TEST keys: it selects the T-Union (or MOHURD) DF, returns its terminal
 * number and key index, computes MAC1 (INIT SAM FOR PURCHASE, 8070) and checks MAC2 (CREDIT SAM
 * FOR PURCHASE, 8072) with 3DES or SM4, as the card's algorithm id selects. For MIFARE Classic
 * purses it derives sector keys (80 FC) and MACs purchase records (80 F8) in any DF.
 */
export class SoftwarePsam implements ApduProcessor {
  readonly terminalNumber: Uint8Array;
  readonly keyIndex: number;
  private readonly issuers: ReadonlyMap<string, PsamIssuerKey>;
  private readonly t0: boolean;
  private serial: number;
  private selection: PsamSelection = 'master-file';
  private session: PurchaseSession | undefined;
  private pendingResponse: Uint8Array | undefined;
  private blockKey: Uint8Array | undefined;
  private readonly m1Issuer: M1IssuerKeys | undefined;

  constructor(options: SoftwarePsamOptions) {
    this.terminalNumber = fromHex(options.terminalNumber);
    if (this.terminalNumber.length !== 6) throw new RangeError(`invalid terminal number "${options.terminalNumber}": expected 6 bytes as hex`);
    this.keyIndex = options.keyIndex ?? 0x01;
    this.issuers = new Map(options.issuers.map((issuer) => [issuer.issuerId.toUpperCase(), issuer]));
    this.serial = options.initialSerial ?? 1;
    this.t0 = options.t0 ?? false;
    this.m1Issuer = options.m1Issuer === null ? undefined : (options.m1Issuer ?? BENCH_M1_ISSUER);
  }

  /** Serial the next INIT SAM FOR PURCHASE returns. */
  get nextSerial(): number {
    return this.serial;
  }

  process(command: Uint8Array): Uint8Array {
    let response: Uint8Array;
    try {
      response = this.dispatch(command);
    } catch {
      // Inputs are checked before use, so an exception here is a simulator bug. A PSAM would return 6F00.
      response = statusOnly(SIMULATOR_SW.UNKNOWN_ERROR);
    }
    return response;
  }

  private dispatch(command: Uint8Array): Uint8Array {
    let apdu: ReturnType<typeof parseCommandApdu>;
    try {
      apdu = parseCommandApdu(command);
    } catch {
      return statusOnly(SW.WRONG_LENGTH);
    }
    const { cla, ins, p1, p2, data, le } = apdu;
    if (cla !== 0x00 && cla !== 0x80) return statusOnly(SW.CLA_NOT_SUPPORTED);
    if (ins === 0xc0 && cla === 0x00) return this.getResponse(p1, p2, data, le);
    this.pendingResponse = undefined;
    switch (ins) {
      case 0xa4:
        return cla === 0x00 ? this.deliver(this.select(p1, p2, data)) : statusOnly(SW.CLA_NOT_SUPPORTED);
      case 0xb0:
        return cla === 0x00 ? this.deliver(this.readBinary(p1, p2, data, le)) : statusOnly(SW.CLA_NOT_SUPPORTED);
      case 0x70:
        return cla === 0x80 ? this.deliver(this.initForPurchase(p1, p2, data)) : statusOnly(SW.CLA_NOT_SUPPORTED);
      case 0x72:
        return cla === 0x80 ? this.creditForPurchase(p1, p2, data) : statusOnly(SW.CLA_NOT_SUPPORTED);
      case 0xca:
        return cla === 0x80 ? this.verifyMohurdCode(p1, p2, data) : statusOnly(SW.CLA_NOT_SUPPORTED);
      case 0x1a:
        return cla === 0x80 ? this.deliverBlockKey(p1, p2, data) : statusOnly(SW.CLA_NOT_SUPPORTED);
      case 0xfa:
        return cla === 0x80 ? this.deliver(this.blockMac(p1, p2, data)) : statusOnly(SW.CLA_NOT_SUPPORTED);
      case 0xfc:
        return cla === 0x80 ? this.deliver(deriveM1Keys(this.m1Issuer, p1, p2, data)) : statusOnly(SW.CLA_NOT_SUPPORTED);
      case 0xf8:
        return cla === 0x80 ? this.deliver(m1RecordMac(this.m1Issuer, { terminalNumber: this.terminalNumber, takeSerial: () => this.takeSerial() }, p1, p2, data)) : statusOnly(SW.CLA_NOT_SUPPORTED);
      default:
        return statusOnly(SW.INS_NOT_SUPPORTED);
    }
  }

  /** Under T=0 a response with data is announced as 61xx and fetched with GET RESPONSE. */
  private deliver(response: Uint8Array): Uint8Array {
    const dataLength = response.length - 2;
    if (!this.t0 || dataLength <= 0) return response;
    this.pendingResponse = response;
    return statusOnly(0x6100 | (dataLength & 0xff));
  }

  private getResponse(p1: number, p2: number, data: Uint8Array, le: number | undefined): Uint8Array {
    const pending = this.pendingResponse;
    if (p1 !== 0x00 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 0) return statusOnly(SW.WRONG_LENGTH);
    if (!pending) return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    const available = pending.length - 2;
    const wanted = le === undefined || le === 0 ? available : le;
    if (wanted > available) return statusOnly(0x6c00 | (available & 0xff));
    if (wanted === available) {
      this.pendingResponse = undefined;
      return pending;
    }
    // Return what was asked for and keep the rest for the next GET RESPONSE.
    const rest = pending.subarray(wanted);
    this.pendingResponse = rest;
    return respond(pending.subarray(0, wanted), 0x6100 | ((rest.length - 2) & 0xff));
  }

  private select(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (p2 !== 0x00 && p2 !== 0x0c) return statusOnly(SW.WRONG_P1P2);
    let target: PsamSelection | undefined;
    if (p1 === 0x04) target = equalBytes(data, AID.tunionPsamDf) ? 'tunion-df' : undefined;
    else if (p1 === 0x00) {
      if (data.length === 0 || equalBytes(data, MASTER_FILE_ID)) target = 'master-file';
      else if (equalBytes(data, TUNION_PSAM_DF_FID)) target = 'tunion-df';
      else if (equalBytes(data, MOHURD_PSAM_DF_FID)) target = 'mohurd-df';
    } else return statusOnly(SW.WRONG_P1P2);
    if (!target) return statusOnly(SW.FILE_NOT_FOUND);
    this.selection = target;
    this.session = undefined;
    // Only a selection by DF name returns an FCI (6F with the DF name in 84).
    if (p2 === 0x0c || p1 === 0x00) return statusOnly(SW.OK);
    return respond(encodeTlv(0x6f, encodeTlv(0x84, AID.tunionPsamDf)), SW.OK);
  }

  /** READ BINARY by short file id: MF EF15 (serial) and EF16 (terminal number), DF EF17 (key index …). */
  private readBinary(p1: number, offset: number, data: Uint8Array, le: number | undefined): Uint8Array {
    if (data.length !== 0) return statusOnly(SW.WRONG_LENGTH);
    if ((p1 & 0x80) === 0) return statusOnly(SIMULATOR_SW.NO_CURRENT_EF);
    const file = this.binaryFile(p1 & 0x1f);
    if (!file) return statusOnly(SW.FILE_NOT_FOUND);
    if (offset >= file.length) return statusOnly(SIMULATOR_SW.WRONG_OFFSET);
    const available = file.length - offset;
    const wanted = le === undefined || le === 0 ? available : le;
    if (wanted > available) return statusOnly(0x6c00 | (available & 0xff));
    return respond(file.subarray(offset, offset + wanted), SW.OK);
  }

  private binaryFile(sfi: number): Uint8Array | undefined {
    if (sfi === 0x15) return concatBytes(new Uint8Array(PSAM_SERIAL_LENGTH - 6), this.terminalNumber);
    if (sfi === 0x16) return this.terminalNumber;
    if (sfi === 0x17 && this.selection !== 'master-file') {
      // key index (1) | issuer id (8) | receiver id (8) | start date (4) | end date (4)
      return concatBytes(Uint8Array.of(this.keyIndex), new Uint8Array(16), fromHex('20240101'), fromHex('20991231'));
    }
    return undefined;
  }

  /** INIT SAM FOR PURCHASE: derive the card's purchase key and session key, return serial | MAC1. */
  private initForPurchase(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (p1 !== 0x00 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== INIT_SAM_DATA_LENGTH) return statusOnly(SW.WRONG_LENGTH);
    if (this.selection === 'master-file') return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    this.session = undefined;

    let family: CipherFamily;
    try {
      family = cipherFamilyOf(data[19] ?? 0);
    } catch (error) {
      if (error instanceof UnsupportedAlgorithmError) return statusOnly(SIMULATOR_SW.WRONG_DATA);
      throw error;
    }
    const issuer = this.issuerInSelectedDf(toHex(data.subarray(28, 36)));
    if (!issuer) return statusOnly(SIMULATOR_SW.KEY_NOT_SUPPORTED);

    const purchaseKey = diversifyKey(family, issuer.purchaseMasterKey, data.slice(20, 28));
    const terminalSerial = this.takeSerial();
    const sessionKey = purchaseSessionKey(family, purchaseKey, { cardRandom: data.slice(0, 4), cardCounter: readU16be(data, 4), terminalSerial });
    const amountFen = readU32be(data, 6);
    const mac1 = computeMac1(family, sessionKey, { amountFen, transactionType: data[10] ?? 0, terminalNumber: this.terminalNumber, dateTime: data.slice(11, 18) });
    this.session = { family, sessionKey, amountFen };
    return respond(concatBytes(u32be(terminalSerial), mac1), SW.OK);
  }

  /**
   * CREDIT SAM FOR PURCHASE: 9000 when MAC2 matches the last purchase, 9302 when not. The session
   * stays open until the next 8070 or SELECT, so a MAC2 fetched later with GET TRANSACTION PROOF
   * can still be checked as long as no other purchase has started.
   */
  private creditForPurchase(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (p1 !== 0x00 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 4) return statusOnly(SW.WRONG_LENGTH);
    const session = this.session;
    if (!session) return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    const expected = computeMac2(session.family, session.sessionKey, session.amountFen);
    return statusOnly(equalBytes(expected, data) ? SW.OK : SW.MAC_INVALID);
  }

  /** Hands out the next terminal transaction serial; purchases of every card kind share one sequence. */
  private takeSerial(): number {
    const serial = this.serial;
    this.serial = (this.serial + 1) >>> 0;
    return serial;
  }

  /** The issuer's keys, when they live in the selected DF (T-Union keys in the T-Union DF, MOHURD keys in 1001). */
  private issuerInSelectedDf(factor: string): PsamIssuerKey | undefined {
    const issuer = this.issuers.get(factor);
    if (!issuer) return undefined;
    const application = issuer.application ?? 'tunion';
    if (this.selection === 'mohurd-df') return application === 'mohurd' ? issuer : undefined;
    return application === 'tunion' ? issuer : undefined;
  }

  /** MOHURD 80CA: 9000 when the card's 9-byte security identification code is genuine, 6988 when not. */
  private verifyMohurdCode(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (p1 !== 0x00 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 9) return statusOnly(SW.WRONG_LENGTH);
    if (this.selection !== 'mohurd-df') return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    const keyOfCity = (cityCode: string) => [...this.issuers.values()].find((issuer) => issuer.application === 'mohurd' && issuer.issuerId.startsWith(cityCode))?.verifyMasterKey;
    return statusOnly(checkMohurdVerifyCode(keyOfCity, data) ? SW.OK : 0x6988);
  }

  /** DELIVERY KEY 801A 45 02: diversify the issuer's application-block key for the card ASN8. */
  private deliverBlockKey(p1: number, p2: number, data: Uint8Array): Uint8Array {
    this.blockKey = undefined;
    if (p1 !== 0x45 || p2 !== 0x02) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 16) return statusOnly(SW.WRONG_LENGTH);
    if (this.selection === 'master-file') return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    const issuer = this.issuerInSelectedDf(toHex(data.subarray(8, 16)));
    if (!issuer?.appBlockMasterKey) return statusOnly(SIMULATOR_SW.KEY_NOT_SUPPORTED);
    this.blockKey = applicationBlockKey(issuer.appBlockMasterKey, data.slice(0, 8));
    return statusOnly(SW.OK);
  }

  /** 80FA 05 00: MAC of the APPLICATION BLOCK command under the delivered key, IV = challenge | 00000000. */
  private blockMac(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (p1 !== 0x05 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 16) return statusOnly(SW.WRONG_LENGTH);
    const key = this.blockKey;
    this.blockKey = undefined;
    if (!key) return statusOnly(SW.CONDITIONS_NOT_SATISFIED);
    if (!equalBytes(data.subarray(8, 16), psam.APPLICATION_BLOCK_MAC_INPUT)) return statusOnly(SIMULATOR_SW.WRONG_DATA);
    return respond(applicationBlockMac(key, data.slice(0, 4)), SW.OK);
  }
}
