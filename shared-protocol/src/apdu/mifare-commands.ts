import { u32be } from '../bytes.js';
import { buildApdu } from './command.js';

/**
 * PC/SC pseudo-APDUs of ACS contactless readers (ACR122U family) for MIFARE Classic cards. Every
 * command has CLA FF, and the reader answers 90 00 on success and 63 00 on failure. Block numbers
 * are absolute (0-63 on a 1K card).
 */

/** Status word the reader returns when a MIFARE operation fails (authentication, read, write, value). */
export const MIFARE_OPERATION_FAILED = 0x6300;
/** Size of a MIFARE Classic block in bytes. */
export const MIFARE_BLOCK_SIZE = 16;
/** Size of a MIFARE Classic key in bytes. */
export const MIFARE_KEY_SIZE = 6;

export type MifareKeyType = 'A' | 'B';

/** Value operations of FF D7: store formats a value block; increment and decrement change it. */
export const VALUE_OPERATION = { store: 0x00, increment: 0x01, decrement: 0x02 } as const;
export type ValueOperation = keyof typeof VALUE_OPERATION;

function checkBlock(block: number): void {
  if (!Number.isInteger(block) || block < 0 || block > 0xff) throw new RangeError(`invalid block number ${block}: expected 0-255`);
}

/** GET DATA for the UID: FF CA 00 00 00. The reader returns the UID, least significant byte first. */
export function getUid(): Uint8Array {
  return buildApdu({ cla: 0xff, ins: 0xca, p1: 0x00, p2: 0x00, le: 0x00 });
}

/** LOAD AUTHENTICATION KEYS into a volatile reader key slot (0 or 1): FF 82 00 slot 06 key. */
export function loadKey(slot: number, key: Uint8Array): Uint8Array {
  if (slot !== 0 && slot !== 1) throw new RangeError(`invalid key slot ${slot}: expected 0 or 1`);
  if (key.length !== MIFARE_KEY_SIZE) throw new RangeError(`MIFARE key must be ${MIFARE_KEY_SIZE} bytes, got ${key.length}`);
  return buildApdu({ cla: 0xff, ins: 0x82, p1: 0x00, p2: slot, data: key });
}

/** GENERAL AUTHENTICATE (PC/SC 2.07): FF 86 00 00 05 01 00 block 60|61 slot. Authenticates the block's sector. */
export function authenticate(block: number, keyType: MifareKeyType, slot: number): Uint8Array {
  checkBlock(block);
  if (slot !== 0 && slot !== 1) throw new RangeError(`invalid key slot ${slot}: expected 0 or 1`);
  return buildApdu({ cla: 0xff, ins: 0x86, p1: 0x00, p2: 0x00, data: Uint8Array.of(0x01, 0x00, block, keyType === 'A' ? 0x60 : 0x61, slot) });
}

/** READ BINARY of one 16-byte block: FF B0 00 block 10. */
export function readBlock(block: number): Uint8Array {
  checkBlock(block);
  return buildApdu({ cla: 0xff, ins: 0xb0, p1: 0x00, p2: block, le: MIFARE_BLOCK_SIZE });
}

/** UPDATE BINARY of one whole block: FF D6 00 block 10 data(16). */
export function writeBlock(block: number, data: Uint8Array): Uint8Array {
  checkBlock(block);
  if (data.length !== MIFARE_BLOCK_SIZE) throw new RangeError(`a MIFARE Classic block is ${MIFARE_BLOCK_SIZE} bytes, got ${data.length}`);
  return buildApdu({ cla: 0xff, ins: 0xd6, p1: 0x00, p2: block, data });
}

/**
 * VALUE BLOCK OPERATION: FF D7 00 block 05 op value(4). The value travels big-endian here,
 * unlike the little-endian value inside the block; the reader transfers the result into the same block.
 */
export function valueOperation(block: number, operation: ValueOperation, value: number): Uint8Array {
  checkBlock(block);
  return buildApdu({ cla: 0xff, ins: 0xd7, p1: 0x00, p2: block, data: Uint8Array.of(VALUE_OPERATION[operation], ...u32be(value)) });
}

/** READ VALUE BLOCK: FF B1 00 block 04, which returns the 4-byte value big-endian. */
export function readValue(block: number): Uint8Array {
  checkBlock(block);
  return buildApdu({ cla: 0xff, ins: 0xb1, p1: 0x00, p2: block, le: 0x04 });
}

/** RESTORE VALUE BLOCK: FF D7 00 source 02 03 target copies a value block into another block of the same sector. */
export function restoreValue(source: number, target: number): Uint8Array {
  checkBlock(source);
  checkBlock(target);
  return buildApdu({ cla: 0xff, ins: 0xd7, p1: 0x00, p2: source, data: Uint8Array.of(0x03, target) });
}

/**
 * Encodes a value block: value (4, little-endian two's complement) | NOT value | value | address |
 * NOT address | address | NOT address.
 */
export function encodeValueBlock(value: number, address: number): Uint8Array {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`value ${value} does not fit a signed 32-bit value block`);
  checkBlock(address);
  const block = new Uint8Array(MIFARE_BLOCK_SIZE);
  const view = new DataView(block.buffer);
  view.setInt32(0, value, true);
  view.setInt32(4, ~value, true);
  view.setInt32(8, value, true);
  block[12] = address;
  block[13] = ~address & 0xff;
  block[14] = address;
  block[15] = ~address & 0xff;
  return block;
}

/** Decodes a value block; undefined when its three copies or its address bytes disagree. */
export function decodeValueBlock(block: Uint8Array): { value: number; address: number } | undefined {
  if (block.length !== MIFARE_BLOCK_SIZE) return undefined;
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const value = view.getInt32(0, true);
  if (view.getInt32(4, true) !== ~value || view.getInt32(8, true) !== value) return undefined;
  const address = block[12] ?? 0;
  if (block[13] !== (~address & 0xff) || block[14] !== address || block[15] !== (~address & 0xff)) return undefined;
  return { value, address };
}
