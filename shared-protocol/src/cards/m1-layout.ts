import { bcdFromDigits, bcdToDigits, fromHex, readU16be, readU24be, readU32be, toHex, u16be, u24be, u32be } from '../bytes.js';
import { MIFARE_BLOCK_SIZE } from '../apdu/mifare-commands.js';

/**
 * The bench's MIFARE Classic 1K purse layout. It follows the pattern of Chinese city M1 cards (an
 * issuance sector with the enable flag, a purse with primary and backup value blocks, a process
 * flag written before and after each debit, and cyclic record sectors), but the byte positions are
 * this project's own, because each city defines its own and none is public in full.
 *
 * - Sector 1, block 4: issuance (city, institution, card number, card type, enable flag, validity).
 * - Sector 2, block 8: purse information (counter, process flag and the debit in progress).
 * - Sector 2, blocks 9 and 10: the purse as primary and backup value blocks.
 * - Sectors 3-5, blocks 12-14, 16-18, 20-22: nine cyclic purchase records.
 * - Sector 6, blocks 24 and 25: the boarding record of tap-on/tap-off routes (m1-boarding.ts);
 *   block 26 is reserved.
 */
export const M1_LAYOUT = {
  issuanceSector: 1,
  issuanceBlock: 4,
  purseSector: 2,
  purseInfoBlock: 8,
  primaryValueBlock: 9,
  backupValueBlock: 10,
  recordSectors: [3, 4, 5],
  recordSlots: 9,
  boardingSector: 6,
  boardingBlocks: [24, 25],
} as const;

/** Enable flag of the issuance block. */
export const M1_ENABLE_FLAG = { notEnabled: 0x01, normal: 0x02, stopped: 0x03, blacklisted: 0x04 } as const;

/** Process flag of the purse information block. */
export const M1_PROCESS_FLAG = { idle: 0x00, debitInProgress: 0x01 } as const;

/** Transaction type of a purchase record (the PBOC purchase code). */
export const M1_PURCHASE_RECORD_TYPE = 0x06;

export interface M1Issuance {
  /** City code, 2 bytes as 4 hex digits. */
  cityCode: string;
  /** Issuing institution, 2 bytes as 4 hex digits. */
  institution: string;
  /** Card serial within the institution, 8 decimal digits. */
  cardSerial: string;
  cardTypeCode: number;
  enableFlag: number;
  /** YYYYMMDD. */
  startDate: string;
  /** YYYYMMDD. */
  expiryDate: string;
}

/** The card number records carry: city code | institution | serial, 16 digits. */
export function m1CardNumber(issuance: M1Issuance): string {
  return `${issuance.cityCode}${issuance.institution}${issuance.cardSerial}`.toUpperCase();
}

/** The issuer id records carry: city code | institution | FFFFFFFF, as T-Union EF15 issuer ids read. */
export function m1IssuerId(issuance: Pick<M1Issuance, 'cityCode' | 'institution'>): string {
  return `${issuance.cityCode}${issuance.institution}FFFFFFFF`.toUpperCase();
}

/** Block 4: city (2) | institution (2) | serial (4, BCD) | type (1) | enable flag (1) | start YYMMDD (3, BCD) | expiry YYMMDD (3, BCD). */
export function encodeM1Issuance(issuance: M1Issuance): Uint8Array {
  const block = new Uint8Array(MIFARE_BLOCK_SIZE);
  block.set(fromHex(issuance.cityCode.padStart(4, '0')).slice(-2), 0);
  block.set(fromHex(issuance.institution.padStart(4, '0')).slice(-2), 2);
  block.set(bcdFromDigits(issuance.cardSerial.padStart(8, '0')), 4);
  block[8] = issuance.cardTypeCode;
  block[9] = issuance.enableFlag;
  block.set(bcdFromDigits(issuance.startDate.slice(2)), 10);
  block.set(bcdFromDigits(issuance.expiryDate.slice(2)), 13);
  return block;
}

export function parseM1Issuance(block: Uint8Array): M1Issuance {
  if (block.length !== MIFARE_BLOCK_SIZE) throw new RangeError(`M1 issuance block must be ${MIFARE_BLOCK_SIZE} bytes, got ${block.length}`);
  const cardSerial = bcdToDigits(block.subarray(4, 8));
  if (!/^\d{8}$/.test(cardSerial)) throw new RangeError(`M1 card serial "${cardSerial}" is not 8 BCD digits`);
  return {
    cityCode: toHex(block.subarray(0, 2)),
    institution: toHex(block.subarray(2, 4)),
    cardSerial,
    cardTypeCode: block[8] ?? 0,
    enableFlag: block[9] ?? 0,
    startDate: `20${bcdToDigits(block.subarray(10, 13))}`,
    expiryDate: `20${bcdToDigits(block.subarray(13, 16))}`,
  };
}

/**
 * Block 8, the purse information: completed-debit counter (2) | process flag (1) | pending amount
 * (3) | balance before the pending debit (4) | pending PSAM terminal serial (4) | rightmost 2
 * bytes of the pending PSAM terminal number (2). The pending fields stay as the last debit left
 * them once the flag is back to idle; they let any terminal finish a torn debit.
 */
export interface M1PurseInfo {
  counter: number;
  processFlag: number;
  pendingAmountFen: number;
  pendingBalanceBeforeFen: number;
  pendingTerminalSerial: number;
  /** Rightmost 2 bytes of the PSAM terminal number, 4 hex digits. */
  pendingTerminalTail: string;
}

export function encodeM1PurseInfo(info: M1PurseInfo): Uint8Array {
  const block = new Uint8Array(MIFARE_BLOCK_SIZE);
  block.set(u16be(info.counter), 0);
  block[2] = info.processFlag;
  block.set(u24be(info.pendingAmountFen), 3);
  block.set(u32be(info.pendingBalanceBeforeFen), 6);
  block.set(u32be(info.pendingTerminalSerial), 10);
  block.set(fromHex(info.pendingTerminalTail), 14);
  return block;
}

export function parseM1PurseInfo(block: Uint8Array): M1PurseInfo {
  if (block.length !== MIFARE_BLOCK_SIZE) throw new RangeError(`M1 purse information block must be ${MIFARE_BLOCK_SIZE} bytes, got ${block.length}`);
  return {
    counter: readU16be(block, 0),
    processFlag: block[2] ?? 0,
    pendingAmountFen: readU24be(block, 3),
    pendingBalanceBeforeFen: readU32be(block, 6),
    pendingTerminalSerial: readU32be(block, 10),
    pendingTerminalTail: toHex(block.subarray(14, 16)),
  };
}

/**
 * A purchase record: type (1) | counter after the debit (2) | amount (3) | balance after (4) | PSAM
 * terminal serial (4) | rightmost 2 bytes of the PSAM terminal number (2).
 */
export interface M1PurchaseRecord {
  counterAfter: number;
  amountFen: number;
  balanceAfterFen: number;
  terminalSerial: number;
  terminalTail: string;
}

export function encodeM1Record(record: M1PurchaseRecord): Uint8Array {
  const block = new Uint8Array(MIFARE_BLOCK_SIZE);
  block[0] = M1_PURCHASE_RECORD_TYPE;
  block.set(u16be(record.counterAfter), 1);
  block.set(u24be(record.amountFen), 3);
  block.set(u32be(record.balanceAfterFen), 6);
  block.set(u32be(record.terminalSerial), 10);
  block.set(fromHex(record.terminalTail), 14);
  return block;
}

/** Decodes a record block; undefined for an empty slot (type other than purchase). */
export function parseM1Record(block: Uint8Array): M1PurchaseRecord | undefined {
  if (block.length !== MIFARE_BLOCK_SIZE || block[0] !== M1_PURCHASE_RECORD_TYPE) return undefined;
  return {
    counterAfter: readU16be(block, 1),
    amountFen: readU24be(block, 3),
    balanceAfterFen: readU32be(block, 6),
    terminalSerial: readU32be(block, 10),
    terminalTail: toHex(block.subarray(14, 16)),
  };
}

/** The record of the debit that raises the counter to `counterAfter`, so a retried write lands on the same block. */
export function m1RecordBlock(counterAfter: number): number {
  const slot = (counterAfter - 1 + M1_LAYOUT.recordSlots) % M1_LAYOUT.recordSlots;
  const sector = M1_LAYOUT.recordSectors[Math.floor(slot / 3)]!;
  return sector * 4 + (slot % 3);
}

/** Sector of an absolute block number on a 1K card. */
export function m1SectorOf(block: number): number {
  return Math.floor(block / 4);
}

/** The rightmost 2 bytes of a 6-byte PSAM terminal number (hex), as M1 blocks keep it. */
export function m1TerminalTail(terminalNumberHex: string): string {
  return terminalNumberHex.toUpperCase().slice(-4);
}
