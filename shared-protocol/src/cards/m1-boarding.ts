import { MIFARE_BLOCK_SIZE } from '../apdu/mifare-commands.js';
import { bcdFromDigits, bcdToDigits, fromHex, readU16be, readU24be, readU32be, toHex, u16be, u24be, u32be } from '../bytes.js';
import type { M1PurchaseRecord, M1PurseInfo } from './m1-layout.js';

/**
 * The boarding record of a tap-on/tap-off route on an M1 purse, in blocks 24 and 25 (sector 6).
 * The layout is this project's own. A boarding is a zero-amount debit, and the record names that
 * debit by the purse counter it leaves behind, its PSAM terminal serial and its terminal number
 * tail. The record counts only while the purse still shows that debit as its last one, so:
 *
 * - the terminal writes the record before the write that raises the purse counter, and a tap torn
 *   before that write leaves a record that names a counter the purse never reached;
 * - any later debit (the alighting, or a purchase elsewhere) raises the counter and so closes the
 *   boarding. Terminals no longer write the closed state byte; a 02 that older ones wrote still
 *   reads as closed;
 * - a CRC-16 over both blocks catches a write torn between them and a garbled block.
 *
 * Block 24: type B1 (1) | direction (1) | purse counter after the boarding debit (2) | PSAM
 * terminal serial (4) | rightmost 2 bytes of the PSAM terminal number (2) | route code (4) |
 * boarding stop index (2, FFFF unknown).
 * Block 25: boarding date-time YYYYMMDDhhmmss (7, BCD, local time) | fare charged at boarding (3)
 * | missing tap-off charge, the longest journey from the boarding stop (3) | state (1: 01 open, 02 closed) |
 * CRC-16/CCITT-FALSE over bytes 0-29 (2).
 *
 * NOTE: the sector key is the only protection of the route, stop and time fields on the card, and
 * Crypto-1 keys can be recovered, so a copied or edited card can claim another boarding stop.
 */
export interface M1Boarding {
  /** Route code, 8 hex digits: the route id as BCD when it has up to 8 digits, else a 32-bit hash. */
  routeCode: string;
  direction: number;
  /** Boarding stop index on the route pattern; undefined when the reader did not know it. */
  stopIndex?: number;
  /** Local date-time YYYYMMDDhhmmss. */
  boardedAt: string;
  /** Purse counter after the boarding debit. */
  boardingCounter: number;
  /** PSAM terminal serial of the boarding debit. */
  terminalSerial: number;
  /** Rightmost 2 bytes of the boarding PSAM's terminal number, 4 hex digits. */
  terminalTail: string;
  boardingChargeFen: number;
  longestFareFen: number;
  open: boolean;
}

export const M1_BOARDING_RECORD_TYPE = 0xb1;
export const M1_BOARDING_STATE = { open: 0x01, closed: 0x02 } as const;
const UNKNOWN_STOP = 0xffff;

/** A boarding record as read from the card: never written, damaged, or readable. */
export type M1BoardingRead = { kind: 'empty' } | { kind: 'corrupt'; reason: string } | { kind: 'boarding'; boarding: M1Boarding };

/** Encodes the record as the contents of its two blocks, in order. */
export function encodeM1Boarding(boarding: M1Boarding): [Uint8Array, Uint8Array] {
  if (!/^[0-9A-Fa-f]{8}$/.test(boarding.routeCode)) throw new RangeError(`route code must be 8 hex digits, got "${boarding.routeCode}"`);
  if (boarding.direction !== 0 && boarding.direction !== 1) throw new RangeError(`direction must be 0 or 1, got ${boarding.direction}`);
  const stop = boarding.stopIndex ?? UNKNOWN_STOP;
  // FFFF itself is the unknown-stop marker, so a known stop index stops one short of it.
  if (boarding.stopIndex !== undefined && (!Number.isInteger(stop) || stop < 0 || stop >= UNKNOWN_STOP)) throw new RangeError(`stop index must be 0-65534, got ${boarding.stopIndex}`);
  const bytes = new Uint8Array(2 * MIFARE_BLOCK_SIZE);
  bytes[0] = M1_BOARDING_RECORD_TYPE;
  bytes[1] = boarding.direction;
  bytes.set(u16be(boarding.boardingCounter), 2);
  bytes.set(u32be(boarding.terminalSerial), 4);
  bytes.set(fromHex(boarding.terminalTail.padStart(4, '0')).slice(-2), 8);
  bytes.set(fromHex(boarding.routeCode), 10);
  bytes.set(u16be(stop), 14);
  bytes.set(bcdFromDigits(boarding.boardedAt), 16);
  bytes.set(u24be(boarding.boardingChargeFen), 23);
  bytes.set(u24be(boarding.longestFareFen), 26);
  bytes[29] = boarding.open ? M1_BOARDING_STATE.open : M1_BOARDING_STATE.closed;
  bytes.set(u16be(crc16(bytes.subarray(0, 30))), 30);
  return [bytes.slice(0, MIFARE_BLOCK_SIZE), bytes.slice(MIFARE_BLOCK_SIZE)];
}

/** Decodes blocks 24 and 25. Two all-zero blocks are a record never written. */
export function parseM1Boarding(first: Uint8Array, second: Uint8Array): M1BoardingRead {
  if (first.length !== MIFARE_BLOCK_SIZE || second.length !== MIFARE_BLOCK_SIZE) return { kind: 'corrupt', reason: `boarding blocks must be ${MIFARE_BLOCK_SIZE} bytes each` };
  const bytes = new Uint8Array(2 * MIFARE_BLOCK_SIZE);
  bytes.set(first, 0);
  bytes.set(second, MIFARE_BLOCK_SIZE);
  if (bytes.every((byte) => byte === 0)) return { kind: 'empty' };
  if (bytes[0] !== M1_BOARDING_RECORD_TYPE) return { kind: 'corrupt', reason: `boarding record type ${toHex(bytes.subarray(0, 1))}, expected B1` };
  const crc = crc16(bytes.subarray(0, 30));
  if (crc !== readU16be(bytes, 30)) return { kind: 'corrupt', reason: `boarding record CRC ${toHex(bytes.subarray(30, 32))} does not match its contents (${toHex(u16be(crc))})` };
  const direction = bytes[1]!;
  const state = bytes[29]!;
  const boardedAt = bcdToDigits(bytes.subarray(16, 23));
  if (direction > 1) return { kind: 'corrupt', reason: `boarding direction ${direction}, expected 0 or 1` };
  if (state !== M1_BOARDING_STATE.open && state !== M1_BOARDING_STATE.closed) return { kind: 'corrupt', reason: `boarding state ${state}, expected 1 or 2` };
  if (!/^\d{14}$/.test(boardedAt)) return { kind: 'corrupt', reason: `boarding date-time "${boardedAt}" is not 14 BCD digits` };
  const stop = readU16be(bytes, 14);
  const boarding: M1Boarding = {
    routeCode: toHex(bytes.subarray(10, 14)),
    direction,
    boardedAt,
    boardingCounter: readU16be(bytes, 2),
    terminalSerial: readU32be(bytes, 4),
    terminalTail: toHex(bytes.subarray(8, 10)),
    boardingChargeFen: readU24be(bytes, 23),
    longestFareFen: readU24be(bytes, 26),
    open: state === M1_BOARDING_STATE.open,
  };
  if (stop !== UNKNOWN_STOP) boarding.stopIndex = stop;
  return { kind: 'boarding', boarding };
}

/** Returns whether a debit, named by its counter after, serial and terminal tail, is the record's boarding debit. */
function namesBoardingDebit(boarding: M1Boarding, debit: { counterAfter: number; terminalSerial: number; terminalTail: string }): boolean {
  return debit.counterAfter === boarding.boardingCounter && debit.terminalSerial === boarding.terminalSerial && debit.terminalTail.toUpperCase() === boarding.terminalTail.toUpperCase();
}

/**
 * Classifies a boarding record against the purse sector, after any torn debit was finished.
 * - open: the state is open and the record's debit is the purse's last one.
 * - closed: the state is closed, or a later debit raised the counter.
 * - not-committed: the purse never took the record's debit.
 * - check-record: the counter matches but the information block names another attempt (a debit
 *   rolled back since), so the purchase record at the boarding counter decides (classifyM1BoardingBySlot).
 */
export function classifyM1Boarding(boarding: M1Boarding, info: M1PurseInfo): 'open' | 'closed' | 'not-committed' | 'check-record' {
  if (info.counter !== boarding.boardingCounter) {
    // The counter moves by one per debit, so a record one step ahead names a debit that never happened.
    return ((boarding.boardingCounter - info.counter) & 0xffff) === 1 ? 'not-committed' : 'closed';
  }
  if (!boarding.open) return 'closed';
  const lastDebit = { counterAfter: info.counter, terminalSerial: info.pendingTerminalSerial, terminalTail: info.pendingTerminalTail };
  return namesBoardingDebit(boarding, lastDebit) ? 'open' : 'check-record';
}

/** Decides a `check-record` classification from the purchase record in the slot of the boarding counter. */
export function classifyM1BoardingBySlot(boarding: M1Boarding, record: M1PurchaseRecord | undefined): 'open' | 'not-committed' {
  return record && namesBoardingDebit(boarding, record) ? 'open' : 'not-committed';
}

/** CRC-16/CCITT-FALSE (polynomial 1021, initial value FFFF), so two zero blocks never pass. */
function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}
