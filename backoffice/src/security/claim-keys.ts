import type { RecordColumns } from '../store/record-columns.js';

/**
 * Claim keys are the evidence fields packed into bytes, so they are exact (no two pieces of
 * evidence share a key) and short:
 * - counter key, 14 bytes: 0x01, card number length, card number (10 bytes, hex digits padded
 *   with 0), card counter (2 bytes);
 * - TAC key, 33 bytes: 0x02, card number length, card number (10 bytes), PSAM terminal number
 *   (6), PSAM serial (4), card date and time (7 BCD bytes), TAC (4).
 * The card number comes first, so a card's claims sit next to each other in the B-tree and a
 * batch touches few pages.
 */
const COUNTER_KEY = 0x01;
const TAC_KEY = 0x02;
const ASN_BYTES = 10;
const COUNTER_KEY_BYTES = 2 + ASN_BYTES + 2;
const TAC_KEY_BYTES = 2 + ASN_BYTES + 6 + 4 + 7 + 4;
/** Bytes of a record's two claim keys together: the counter key, then the TAC key. */
export const CLAIM_KEYS_BYTES = COUNTER_KEY_BYTES + TAC_KEY_BYTES;

/**
 * Writes the counter key and then the TAC key of a record that carries a TAC into `target` at
 * `offset`, CLAIM_KEYS_BYTES in all. Raises a RangeError for evidence fields that cannot be packed.
 */
export function writeClaimKeys(record: RecordColumns, target: Buffer, offset: number): void {
  const asn = record.asn.toUpperCase();
  writeCounterKey(target, offset, asn, record.cardCounter);
  writeTacKey(target, offset + COUNTER_KEY_BYTES, asn, normalisePsam(record.psamTerminalNumber), record.terminalSerial, record.cardDateTime, record.tac ?? '');
}

export function counterKey(asn: string, cardCounter: number): Buffer {
  const key = Buffer.alloc(COUNTER_KEY_BYTES);
  writeCounterKey(key, 0, asn, cardCounter);
  return key;
}

export function tacKey(asn: string, psam: string, terminalSerial: number, cardDateTime: string, tac: string): Buffer {
  const key = Buffer.alloc(TAC_KEY_BYTES);
  writeTacKey(key, 0, asn, psam, terminalSerial, cardDateTime, tac);
  return key;
}

function writeCounterKey(target: Buffer, start: number, asn: string, cardCounter: number): void {
  target[start] = COUNTER_KEY;
  target.writeUInt16BE(cardCounter, writeAsn(target, start, asn));
}

function writeTacKey(target: Buffer, start: number, asn: string, psam: string, terminalSerial: number, cardDateTime: string, tac: string): void {
  target[start] = TAC_KEY;
  let offset = writeAsn(target, start, asn);
  offset = writeHex(target, offset, psam, 6, 'PSAM terminal number');
  offset = target.writeUInt32BE(terminalSerial, offset);
  offset = writeHex(target, offset, cardDateTime, 7, 'card date and time');
  writeHex(target, offset, tac, 4, 'TAC');
}

/** Writes the card number's length at start + 1 and its 8 to 20 hex digits after it, and returns the next offset. */
function writeAsn(key: Buffer, start: number, asn: string): number {
  if (asn.length < 8 || asn.length > ASN_BYTES * 2) throw new RangeError(`invalid card number length ${asn.length}`);
  key[start + 1] = asn.length;
  return writeHex(key, start + 2, asn.padEnd(ASN_BYTES * 2, '0'), ASN_BYTES, 'card number');
}

/** Writes exactly `bytes` bytes of hex text. Buffer stops at the first non-hex digit, so a short count means invalid text. */
function writeHex(key: Buffer, offset: number, text: string, bytes: number, field: string): number {
  if (text.length !== bytes * 2 || key.write(text, offset, bytes, 'hex') !== bytes) throw new RangeError(`invalid ${field} "${text}" in card evidence`);
  return offset + bytes;
}

/** Returns true for a record whose evidence is claimed: a purchase or debited resolution with a TAC. */
export function carriesClaims(record: RecordColumns): boolean {
  return record.tac !== null && (record.kind === 'purchase' || (record.kind === 'resolution' && record.outcome === 'debited'));
}

/**
 * Returns the record's claim keys as two buffers, from `record.claimKeys` when the check worker
 * packed them, else packed here.
 */
export function claimKeyPair(record: RecordColumns): [Buffer, Buffer] {
  let keys = record.claimKeys;
  if (keys === undefined) {
    keys = Buffer.allocUnsafe(CLAIM_KEYS_BYTES);
    writeClaimKeys(record, keys, 0);
  }
  return [keys.subarray(0, COUNTER_KEY_BYTES), keys.subarray(COUNTER_KEY_BYTES, CLAIM_KEYS_BYTES)];
}

/** Returns a PSAM terminal number in upper case, or raises a RangeError when it is not 12 hex digits. */
export function normalisePsam(psamTerminalNumber: string): string {
  const psam = psamTerminalNumber.toUpperCase();
  if (!/^[0-9A-F]{12}$/.test(psam)) throw new RangeError(`invalid PSAM terminal number "${psamTerminalNumber}": expected 6 bytes as 12 hex digits`);
  return psam;
}
