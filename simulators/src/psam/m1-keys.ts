import { diversifyKey, encryptEcb, fromHex, m1IssuerId, toHex } from '@busfare/shared-protocol';
import type { BackofficeTacKey } from '../keys/test-keys.js';

/**
 * TEST keys of the bench city's MIFARE Classic (M1) purses. They are made-up values for
 * simulation only: no operator uses them, and real M1 master keys must never be put into this
 * repository.
 */
export interface M1IssuerKeys {
  /** 8-byte issuer id as records carry it: city code | institution | FFFFFFFF. */
  readonly issuerId: string;
  readonly cityCode: string;
  readonly institution: string;
  /** 16-byte TEST key from which each card's sector keys are diversified by UID and sector. */
  readonly sectorMasterKey: Uint8Array;
  /** 16-byte TEST key from which each card's record MAC key is diversified by card number. */
  readonly recordMasterKey: Uint8Array;
}

export const BENCH_M1_ISSUER: M1IssuerKeys = Object.freeze({
  issuerId: m1IssuerId({ cityCode: '5810', institution: '0003' }),
  cityCode: '5810',
  institution: '0003',
  sectorMasterKey: fromHex('7E57C0DE000000E1A5A5A5A55A5A5A5A'),
  recordMasterKey: fromHex('7E57C0DE000000E2C3C3C3C33C3C3C3C'),
});

/**
 * Key A of one sector of one card: the leftmost 6 bytes of 3DES-ECB under the sector master key
 * of the UID (padded with zero bytes to 7) followed by the sector number.
 */
export function m1SectorKey(sectorMasterKey: Uint8Array, uid: Uint8Array, sector: number): Uint8Array {
  if (uid.length !== 4 && uid.length !== 7) throw new RangeError(`MIFARE Classic UID must be 4 or 7 bytes, got ${uid.length}`);
  const input = new Uint8Array(8);
  input.set(uid, 0);
  input[7] = sector;
  return encryptEcb('des', sectorMasterKey, input).slice(0, 6);
}

/** Key B of one sector: like key A, with the sector number's bits inverted, so that it differs from key A. */
export function m1SectorKeyB(sectorMasterKey: Uint8Array, uid: Uint8Array, sector: number): Uint8Array {
  return m1SectorKey(sectorMasterKey, uid, ~sector & 0xff);
}

/** The card's record MAC key: the record master key diversified with the card number's rightmost 8 bytes. */
export function m1RecordKey(recordMasterKey: Uint8Array, asn8: Uint8Array): Uint8Array {
  return diversifyKey('des', recordMasterKey, asn8);
}

/**
 * The back office's row for the M1 issuer. The key store keeps the record master key where it
 * keeps TAC master keys, because the record MAC plays the TAC's part for M1 records.
 */
export function backofficeM1KeyRow(issuer: M1IssuerKeys = BENCH_M1_ISSUER): BackofficeTacKey {
  return { issuerId: issuer.issuerId, algorithm: 'des', tacMasterKeyHex: toHex(issuer.recordMasterKey), test: true };
}

