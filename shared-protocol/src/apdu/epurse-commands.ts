import { bcdFromDigits, readU16be, readU24be, readU32be, u32be } from '../bytes.js';
import { buildApdu } from './command.js';
import { type ResponseApdu, expectLength, expectOk } from './response.js';

/**
 * Command builders and response parsers for the PBOC e-purse on T-Union and MOHURD cards and
 * phone applets. Byte layouts follow the public reader implementations collected for this project.
 */

export const TRANSACTION_TYPE = { load: 0x02, purchase: 0x06, compositePurchase: 0x09 } as const;

export function selectByName(aid: Uint8Array, options: { next?: boolean } = {}): Uint8Array {
  return buildApdu({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: options.next ? 0x02 : 0x00, data: aid, le: 0x00 });
}

export function selectByFileId(fid: Uint8Array): Uint8Array {
  return buildApdu({ cla: 0x00, ins: 0xa4, p1: 0x00, p2: 0x00, data: fid, le: 0x00 });
}

/** READ BINARY with a short file identifier: 00 B0 (80|SFI) offset Le. */
export function readBinary(sfi: number, offset: number, length: number): Uint8Array {
  if (sfi < 1 || sfi > 0x1f) throw new RangeError(`SFI must be 1..31, got ${sfi}`);
  return buildApdu({ cla: 0x00, ins: 0xb0, p1: 0x80 | sfi, p2: offset, le: length });
}

/** READ RECORD by number with a short file identifier: 00 B2 record (SFI<<3|04) Le. */
export function readRecord(sfi: number, record: number, length: number): Uint8Array {
  if (sfi < 1 || sfi > 0x1f) throw new RangeError(`SFI must be 1..31, got ${sfi}`);
  return buildApdu({ cla: 0x00, ins: 0xb2, p1: record, p2: (sfi << 3) | 0x04, le: length });
}

/**
 * GET BALANCE of the e-purse. P1=03 asks T-Union cards for the balance without the overdraft;
 * P1=00 includes it.
 */
export function getBalance(p1: 0x00 | 0x03 = 0x00): Uint8Array {
  return buildApdu({ cla: 0x80, ins: 0x5c, p1, p2: 0x02, le: 0x04 });
}

export function parseBalance(response: ResponseApdu): number {
  const data = expectLength('GET BALANCE', expectOk('GET BALANCE', response), 4);
  // The top bit flags a negative (overdrawn) balance on some cards; it never belongs to the amount.
  return readU32be(data, 0) & 0x7fffffff;
}

export interface InitForPurchaseCommand {
  /** 0x01 ordinary purchase, 0x03 composite (CAPP) purchase. */
  mode: 0x01 | 0x03;
  keyIndex: number;
  amountFen: number;
  terminalNumber: Uint8Array;
}

/** INITIALIZE FOR PURCHASE / FOR CAPP PURCHASE: 80 50 P1 02 0B keyIndex amount terminalNo 0F. */
export function initForPurchase(command: InitForPurchaseCommand): Uint8Array {
  if (command.terminalNumber.length !== 6) throw new RangeError('terminal number must be 6 bytes');
  const data = new Uint8Array(11);
  data[0] = command.keyIndex;
  data.set(u32be(command.amountFen), 1);
  data.set(command.terminalNumber, 5);
  return buildApdu({ cla: 0x80, ins: 0x50, p1: command.mode, p2: 0x02, data, le: 0x0f });
}

export interface InitForPurchaseResult {
  balanceFen: number;
  /** Offline transaction counter before this purchase. */
  cardCounter: number;
  overdraftLimitFen: number;
  keyVersion: number;
  algorithmId: number;
  cardRandom: Uint8Array;
}

export function parseInitForPurchase(response: ResponseApdu): InitForPurchaseResult {
  const data = expectLength('INITIALIZE FOR PURCHASE', expectOk('INITIALIZE FOR PURCHASE', response), 15);
  return {
    balanceFen: readU32be(data, 0),
    cardCounter: readU16be(data, 4),
    overdraftLimitFen: readU24be(data, 6),
    keyVersion: data[9] ?? 0,
    algorithmId: data[10] ?? 0,
    cardRandom: data.slice(11, 15),
  };
}

export function encodeInitForPurchaseResult(result: InitForPurchaseResult): Uint8Array {
  const data = new Uint8Array(15);
  data.set(u32be(result.balanceFen), 0);
  data[4] = result.cardCounter >>> 8;
  data[5] = result.cardCounter & 0xff;
  data[6] = result.overdraftLimitFen >>> 16;
  data[7] = (result.overdraftLimitFen >>> 8) & 0xff;
  data[8] = result.overdraftLimitFen & 0xff;
  data[9] = result.keyVersion;
  data[10] = result.algorithmId;
  data.set(result.cardRandom, 11);
  return data;
}

export interface DebitForPurchaseCommand {
  terminalSerial: number;
  /** YYYYMMDDhhmmss, the same value the PSAM used for MAC1. */
  dateTime: string;
  mac1: Uint8Array;
}

/** DEBIT FOR PURCHASE / FOR CAPP PURCHASE: 80 54 01 00 0F serial(4) date(4) time(3) MAC1(4) 08. */
export function debitForPurchase(command: DebitForPurchaseCommand): Uint8Array {
  if (command.mac1.length !== 4) throw new RangeError('MAC1 must be 4 bytes');
  const data = new Uint8Array(15);
  data.set(u32be(command.terminalSerial), 0);
  data.set(bcdFromDigits(command.dateTime), 4);
  data.set(command.mac1, 11);
  return buildApdu({ cla: 0x80, ins: 0x54, p1: 0x01, p2: 0x00, data, le: 0x08 });
}

/** DEBIT answers TAC first, then MAC2. */
export function parseDebitForPurchase(response: ResponseApdu): { tac: Uint8Array; mac2: Uint8Array } {
  const data = expectLength('DEBIT FOR PURCHASE', expectOk('DEBIT FOR PURCHASE', response), 8);
  return { tac: data.slice(0, 4), mac2: data.slice(4, 8) };
}

/** GET TRANSACTION PROOF: 80 5A 00 type 02 counter(2) 08, with the INIT counter plus one. */
export function getTransactionProof(transactionType: number, counter: number): Uint8Array {
  return buildApdu({ cla: 0x80, ins: 0x5a, p1: 0x00, p2: transactionType, data: Uint8Array.of(counter >>> 8, counter & 0xff), le: 0x08 });
}

/** GET TRANSACTION PROOF answers MAC2 first, then TAC: the reverse of DEBIT. */
export function parseTransactionProof(response: ResponseApdu): { mac2: Uint8Array; tac: Uint8Array } {
  const data = expectLength('GET TRANSACTION PROOF', expectOk('GET TRANSACTION PROOF', response), 8);
  return { mac2: data.slice(0, 4), tac: data.slice(4, 8) };
}

/** UPDATE CAPP DATA CACHE: 80 DC recordId (SFI<<3) Lc record. */
export function updateCappDataCache(sfi: number, recordId: number, record: Uint8Array): Uint8Array {
  return buildApdu({ cla: 0x80, ins: 0xdc, p1: recordId, p2: sfi << 3, data: record });
}

/** GET RESPONSE for a T=0 61xx answer. */
export function getResponse(length: number): Uint8Array {
  return buildApdu({ cla: 0x00, ins: 0xc0, p1: 0x00, p2: 0x00, le: length });
}

/** GET CHALLENGE, used before APPLICATION BLOCK. */
export function getChallenge(length = 4): Uint8Array {
  return buildApdu({ cla: 0x00, ins: 0x84, p1: 0x00, p2: 0x00, le: length });
}

/** MOHURD: read the 9-byte card security identification code (80 CA 00 00 09). */
export function getMohurdVerifyCode(): Uint8Array {
  return buildApdu({ cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x00, le: 0x09 });
}

/** APPLICATION BLOCK with secure messaging: 84 1E 00 00 04 MAC (the MAC comes from the PSAM's 80FA). */
export function applicationBlock(mac: Uint8Array): Uint8Array {
  if (mac.length !== 4) throw new RangeError(`APPLICATION BLOCK MAC must be 4 bytes, got ${mac.length}`);
  return buildApdu({ cla: 0x84, ins: 0x1e, p1: 0x00, p2: 0x00, data: mac });
}
