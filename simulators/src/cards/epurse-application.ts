import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import {
  ALGORITHM_ID,
  type CipherFamily,
  EF18_RECORD_LENGTH,
  SW,
  TRANSACTION_TYPE,
  computeMac1,
  computeMac2,
  computeTac,
  concatBytes,
  diversifyKey,
  encodePurseLogRecord,
  epurse,
  equalBytes,
  purchaseSessionKey,
  readU32be,
  toHex,
} from '@busfare/shared-protocol';
import { SIMULATOR_SW } from './apdu-card.js';
import { CyclicRecordFile } from './record-files.js';

/** One completed debit, as the card itself recorded it. */
export interface PurchaseLedgerEntry {
  /** Offline counter that INITIALIZE FOR PURCHASE returned. GET TRANSACTION PROOF names counter + 1. */
  counter: number;
  /** 0x06 purchase, 0x09 composite purchase. */
  transactionType: number;
  amountFen: number;
  balanceAfterFen: number;
  /** PSAM terminal number, hex. */
  terminalNumber: string;
  terminalSerial: number;
  /** YYYYMMDDhhmmss as sent in DEBIT. */
  dateTime: string;
  tac: string;
  mac2: string;
}

export interface EPurseOptions {
  algorithm: CipherFamily;
  /** Rightmost 8 bytes of the application serial number, the key diversification factor. */
  asn8: Uint8Array;
  purchaseMasterKey: Uint8Array;
  tacMasterKey: Uint8Array;
  balanceFen: number;
  offlineCounter?: number;
  /** Purchase key index the card holds; INIT with another index gets 9403. Default 1. */
  keyIndex?: number;
  /** Purchase key version reported in the INIT response. Default 1. */
  keyVersion?: number;
  overdraftLimitFen?: number;
  /** Number of EF18 records the cyclic log keeps. Default 10. */
  logCapacity?: number;
  /** Source of the card's pseudo-random numbers. Default: node:crypto. */
  randomBytes?: (length: number) => Uint8Array;
}

/** A status word and the response data that goes with it. */
export interface PurseAnswer {
  sw: number;
  data: Uint8Array;
}

interface PendingPurchase {
  transactionType: number;
  amountFen: number;
  terminalNumber: Uint8Array;
  cardRandom: Uint8Array;
  counter: number;
}

interface TransactionProof {
  transactionType: number;
  /** Counter value after the debit, which is what GET TRANSACTION PROOF names. */
  counter: number;
  mac2: Uint8Array;
  tac: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const BCD_DATE_TIME = /^\d{14}$/;

function answer(sw: number, data: Uint8Array = EMPTY): PurseAnswer {
  return { sw, data };
}

/**
 * The PBOC e-purse state machine that T-Union and MOHURD applications share: balance, offline
 * counter, diversified keys, the EF18 purse log and the proof of the last transaction. Each
 * method runs to completion synchronously, so a debit updates balance, counter, log and proof
 * together or not at all.
 */
export class EPurseApplication {
  readonly log: CyclicRecordFile;
  readonly algorithm: CipherFamily;
  private balance: number;
  private counter: number;
  private readonly keyIndex: number;
  private readonly keyVersion: number;
  private readonly overdraftLimitFen: number;
  private readonly purchaseKey: Uint8Array;
  private readonly tacKey: Uint8Array;
  private readonly randomBytes: (length: number) => Uint8Array;
  private pending: PendingPurchase | undefined;
  private lastProof: TransactionProof | undefined;
  private readonly entries: PurchaseLedgerEntry[] = [];

  constructor(options: EPurseOptions) {
    if (!Number.isInteger(options.balanceFen) || options.balanceFen < 0 || options.balanceFen > 0x7fffffff) {
      throw new RangeError(`invalid balance ${options.balanceFen} fen: expected an integer from 0 to 2147483647`);
    }
    this.algorithm = options.algorithm;
    this.balance = options.balanceFen;
    this.counter = options.offlineCounter ?? 0;
    this.keyIndex = options.keyIndex ?? 0x01;
    this.keyVersion = options.keyVersion ?? 0x01;
    this.overdraftLimitFen = options.overdraftLimitFen ?? 0;
    this.randomBytes = options.randomBytes ?? ((length) => Uint8Array.from(cryptoRandomBytes(length)));
    this.log = new CyclicRecordFile(EF18_RECORD_LENGTH, options.logCapacity ?? 10);
    // Diversified once: a real card stores only its own keys, never the issuer master keys.
    this.purchaseKey = diversifyKey(options.algorithm, options.purchaseMasterKey, options.asn8);
    this.tacKey = diversifyKey(options.algorithm, options.tacMasterKey, options.asn8);
  }

  get balanceFen(): number {
    return this.balance;
  }

  get offlineCounter(): number {
    return this.counter;
  }

  get ledger(): readonly PurchaseLedgerEntry[] {
    return this.entries;
  }

  /** Transaction type of the purchase that INIT opened and DEBIT has not closed, if any. */
  get pendingTransactionType(): number | undefined {
    return this.pending?.transactionType;
  }

  cancelPurchase(): void {
    this.pending = undefined;
  }

  /** INITIALIZE FOR PURCHASE (P1 01) or FOR CAPP PURCHASE (P1 03); `data` is keyIndex | amount | terminal number. */
  initForPurchase(mode: 0x01 | 0x03, data: Uint8Array): PurseAnswer {
    this.pending = undefined;
    const keyIndex = data[0] ?? 0;
    const amountFen = readU32be(data, 1);
    if (keyIndex !== this.keyIndex) return answer(SIMULATOR_SW.KEY_NOT_SUPPORTED);
    if (amountFen > this.balance + this.overdraftLimitFen) return answer(SW.INSUFFICIENT_BALANCE);
    // The counter is 2 bytes; a card whose counter is used up takes no more purchases.
    if (this.counter >= 0xffff) return answer(SW.CONDITIONS_NOT_SATISFIED);

    const cardRandom = this.randomBytes(4);
    this.pending = {
      transactionType: mode === 0x03 ? TRANSACTION_TYPE.compositePurchase : TRANSACTION_TYPE.purchase,
      amountFen,
      terminalNumber: data.slice(5, 11),
      cardRandom,
      counter: this.counter,
    };
    const response = epurse.encodeInitForPurchaseResult({
      balanceFen: this.balance,
      cardCounter: this.counter,
      overdraftLimitFen: this.overdraftLimitFen,
      keyVersion: this.keyVersion,
      algorithmId: ALGORITHM_ID[this.algorithm],
      cardRandom,
    });
    return answer(SW.OK, response);
  }

  /**
   * DEBIT FOR (CAPP) PURCHASE; `data` is terminal serial | date | time | MAC1. On success the
   * response is TAC | MAC2 and `commit` runs inside the same step (the composite cache write).
   */
  debit(data: Uint8Array, commit: () => void = () => {}): PurseAnswer {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return answer(SW.CONDITIONS_NOT_SATISFIED);

    const terminalSerial = readU32be(data, 0);
    const dateTimeBytes = data.slice(4, 11);
    const dateTime = toHex(dateTimeBytes);
    const mac1 = data.subarray(11, 15);
    if (!BCD_DATE_TIME.test(dateTime)) return answer(SIMULATOR_SW.WRONG_DATA);

    const macInput = { amountFen: pending.amountFen, transactionType: pending.transactionType, terminalNumber: pending.terminalNumber, dateTime: dateTimeBytes };
    const sessionKey = purchaseSessionKey(this.algorithm, this.purchaseKey, { cardRandom: pending.cardRandom, cardCounter: pending.counter, terminalSerial });
    if (!equalBytes(computeMac1(this.algorithm, sessionKey, macInput), mac1)) return answer(SW.MAC_INVALID);

    const mac2 = computeMac2(this.algorithm, sessionKey, pending.amountFen);
    const tac = computeTac(this.algorithm, this.tacKey, { ...macInput, terminalSerial });
    commit();
    // NOTE: a zero-amount composite purchase (boarding record only) also advances the counter and
    // writes a log record here. The one public applet that shows the case leaves both unchanged.
    this.balance -= pending.amountFen;
    this.counter = pending.counter + 1;
    this.log.append(
      encodePurseLogRecord({
        serial: this.counter,
        overdraftLimitFen: this.overdraftLimitFen,
        amountFen: pending.amountFen,
        transactionType: pending.transactionType,
        terminalNumber: toHex(pending.terminalNumber),
        dateTime,
      }),
    );
    this.lastProof = { transactionType: pending.transactionType, counter: this.counter, mac2, tac };
    this.entries.push({
      counter: pending.counter,
      transactionType: pending.transactionType,
      amountFen: pending.amountFen,
      balanceAfterFen: this.balance,
      terminalNumber: toHex(pending.terminalNumber),
      terminalSerial,
      dateTime,
      tac: toHex(tac),
      mac2: toHex(mac2),
    });
    return answer(SW.OK, concatBytes(tac, mac2));
  }

  /**
   * GET TRANSACTION PROOF for the transaction whose post-debit counter is `counter`. The card
   * keeps the proof of its last debit only, so any other counter or type gets 6985.
   */
  transactionProof(transactionType: number, counter: number): PurseAnswer {
    const proof = this.lastProof;
    if (!proof || proof.counter !== counter || proof.transactionType !== transactionType) return answer(SW.CONDITIONS_NOT_SATISFIED);
    return answer(SW.OK, concatBytes(proof.mac2, proof.tac));
  }
}
