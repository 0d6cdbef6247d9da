import { readU32be, u16be, u32be, bcdFromDigits, concatBytes } from '../bytes.js';
import { m1UidField } from '../crypto/m1-record-mac.js';
import { buildApdu } from './command.js';
import { type ResponseApdu, expectLength, expectOk } from './response.js';

/**
 * PSAM commands for MIFARE Classic purses. Real city PSAMs have their own M1 commands (Tianjin's
 * 80 FC, for one), and none is public in full, so these two are this project's own: the bench
 * PSAM implements them and the terminal's PSAM adapter sends them.
 */

/** Sectors one DERIVE M1 KEYS command may ask for. */
export const MAX_M1_KEY_SECTORS = 16;

/**
 * DERIVE M1 KEYS: 80 FC 00 00 Lc | UID field (8) | sector numbers | 00. The PSAM holds the sector
 * master key of the city's M1 cards and returns key A (6 bytes) of each sector in the order
 * asked, diversified for this UID. The UID is the only input because the issuance sector that
 * names the issuer is itself behind one of these keys.
 */
export function deriveM1Keys(uid: Uint8Array, sectors: readonly number[]): Uint8Array {
  if (sectors.length === 0 || sectors.length > MAX_M1_KEY_SECTORS) throw new RangeError(`ask for 1 to ${MAX_M1_KEY_SECTORS} sectors, got ${sectors.length}`);
  for (const sector of sectors) if (!Number.isInteger(sector) || sector < 0 || sector > 39) throw new RangeError(`invalid sector ${sector}: expected 0-39`);
  return buildApdu({ cla: 0x80, ins: 0xfc, p1: 0x00, p2: 0x00, data: concatBytes(m1UidField(uid), Uint8Array.from(sectors)), le: 0x00 });
}

export function parseM1Keys(response: ResponseApdu, sectors: number): Uint8Array[] {
  const data = expectLength('DERIVE M1 KEYS', expectOk('DERIVE M1 KEYS', response), sectors * 6);
  return Array.from({ length: sectors }, (_, index) => data.slice(index * 6, index * 6 + 6));
}

export interface M1RecordMacCommand {
  /** 8-byte issuer id, which selects the record master key. */
  issuerId: Uint8Array;
  asn8: Uint8Array;
  uid: Uint8Array;
  purseCounter: number;
  balanceBeforeFen: number;
  amountFen: number;
  transactionType: number;
  /** YYYYMMDDhhmmss. */
  dateTime: string;
  recordRandom: Uint8Array;
}

/** Data length of M1 RECORD MAC. */
export const M1_RECORD_MAC_DATA_LENGTH = 46;

/**
 * M1 RECORD MAC: 80 F8 00 00 2E | issuer id (8) | card number factor (8) | UID field (8) | purse
 * counter (2) | balance before (4) | amount (4) | type (1) | date-time (7) | record random (4) | 08.
 * The PSAM adds its terminal number and the next terminal transaction serial, and returns
 * serial (4) | MAC (4).
 */
export function m1RecordMac(command: M1RecordMacCommand): Uint8Array {
  if (command.issuerId.length !== 8 || command.asn8.length !== 8) throw new RangeError('issuer id and card number factor must be 8 bytes each');
  if (command.recordRandom.length !== 4) throw new RangeError(`record random must be 4 bytes, got ${command.recordRandom.length}`);
  const data = concatBytes(
    command.issuerId,
    command.asn8,
    m1UidField(command.uid),
    u16be(command.purseCounter),
    u32be(command.balanceBeforeFen),
    u32be(command.amountFen),
    Uint8Array.of(command.transactionType),
    bcdFromDigits(command.dateTime),
    command.recordRandom,
  );
  return buildApdu({ cla: 0x80, ins: 0xf8, p1: 0x00, p2: 0x00, data, le: 0x08 });
}

export function parseM1RecordMac(response: ResponseApdu): { terminalSerial: number; mac: Uint8Array } {
  const data = expectLength('M1 RECORD MAC', expectOk('M1 RECORD MAC', response), 8);
  return { terminalSerial: readU32be(data, 0), mac: data.slice(4, 8) };
}
