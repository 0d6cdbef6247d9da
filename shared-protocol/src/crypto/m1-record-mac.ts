import { bcdFromDigits, concatBytes, u16be, u32be } from '../bytes.js';
import { pbocMac } from './cipher.js';

/**
 * The MAC a PSAM puts on each MIFARE Classic purchase record. An M1 card computes no TAC, so this
 * MAC is the record's only evidence for clearing: it binds the card (UID and card number), the
 * purse counter, the balance before, the amount, the PSAM terminal number and serial, the date
 * and a random of the terminal. The key is the issuer's record master key diversified with the
 * rightmost 8 bytes of the card number, as PBOC card keys are. The input layout is this project's
 * own; the bench PSAM and the back office share this function so that they cannot drift apart.
 */
export interface M1RecordMacInput {
  /** Rightmost 8 bytes of the card number (the diversification factor). */
  asn8: Uint8Array;
  /** UID of 4 or 7 bytes, as the reader reports it. */
  uid: Uint8Array;
  /** Purse counter before the debit. */
  purseCounter: number;
  balanceBeforeFen: number;
  amountFen: number;
  transactionType: number;
  /** PSAM terminal number, 6 bytes. */
  terminalNumber: Uint8Array;
  terminalSerial: number;
  /** YYYYMMDDhhmmss. */
  dateTime: string;
  /** 4-byte random the terminal drew for this record. */
  recordRandom: Uint8Array;
}

/** UID field of the MAC input: length (1) then the UID padded with zero bytes to 7. */
export function m1UidField(uid: Uint8Array): Uint8Array {
  if (uid.length !== 4 && uid.length !== 7) throw new RangeError(`MIFARE Classic UID must be 4 or 7 bytes, got ${uid.length}`);
  const field = new Uint8Array(8);
  field[0] = uid.length;
  field.set(uid, 1);
  return field;
}

export function m1RecordMacData(input: M1RecordMacInput): Uint8Array {
  if (input.asn8.length !== 8) throw new RangeError(`card number factor must be 8 bytes, got ${input.asn8.length}`);
  if (input.terminalNumber.length !== 6) throw new RangeError(`terminal number must be 6 bytes, got ${input.terminalNumber.length}`);
  if (input.recordRandom.length !== 4) throw new RangeError(`record random must be 4 bytes, got ${input.recordRandom.length}`);
  return concatBytes(
    input.asn8,
    m1UidField(input.uid),
    u16be(input.purseCounter),
    u32be(input.balanceBeforeFen),
    u32be(input.amountFen),
    Uint8Array.of(input.transactionType),
    input.terminalNumber,
    u32be(input.terminalSerial),
    bcdFromDigits(input.dateTime),
    input.recordRandom,
  );
}

/** Computes the 4-byte record MAC under the card's 16-byte record key (2-key 3DES, PBOC MAC padding). */
export function computeM1RecordMac(cardRecordKey: Uint8Array, input: M1RecordMacInput): Uint8Array {
  if (cardRecordKey.length !== 16) throw new RangeError(`M1 record key must be 16 bytes, got ${cardRecordKey.length}`);
  return pbocMac('des', cardRecordKey, m1RecordMacData(input));
}

