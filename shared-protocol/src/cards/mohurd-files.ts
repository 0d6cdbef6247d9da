import { bcdFromDigits, bcdToDigits, fromHex, toHex } from '../bytes.js';
import { MalformedResponseError } from '../apdu/response.js';
import { EF15_LENGTH } from './tunion-files.js';

/**
 * Layouts of the MOHURD "city union" purse (ADF A0 00 00 00 03 86 98 07 01) that a bus reader
 * needs: EF15 (public application info, also copied into tag 9F0C of the FCI), the 9-byte
 * security identification code and the PSAM's second diversification factor.
 */

export const MOHURD_SFI = { ef15: 0x15, ef17: 0x17, ef18: 0x18, ef10: 0x10, ef1a: 0x1a } as const;
/** Length of the card security identification code (80 CA 00 00 09). */
export const MOHURD_VERIFY_CODE_LENGTH = 9;
/** EF15 byte 8: 01 means the application is enabled. */
export const MOHURD_APPLICATION_ENABLED = 0x01;
/** EF17 composite-purchase record a bus writes with UPDATE CAPP DATA CACHE (P1 = record id). */
export const MOHURD_TRANSIT_RECORD_ID = 0x02;
export const MOHURD_TRANSIT_RECORD_LENGTH = 48;

export interface MohurdEf15 {
  issuerCode: string;
  /** City code, 2 bytes as hex (BCD digits). */
  cityCode: string;
  industryCode: string;
  enableFlag: number;
  applicationVersion: number;
  interopFlag: string;
  /** Application serial number, 8 bytes BCD (16 digits). */
  asn: string;
  startDate: string;
  expiryDate: string;
  /**
   * Byte 28 of the trailing 2 RFU bytes. The public layouts leave them reserved and keep the card
   * type in MF EF05; reading EF05 would cost two more APDUs (select MF, read, reselect the ADF), so
   * this project's cards and terminal carry the card-type code here, at the same offset as on
   * T-Union cards. A city whose cards differ maps the code in its fare table or reads EF05.
   */
  cardTypeCode: number;
}

export function parseMohurdEf15(data: Uint8Array): MohurdEf15 {
  if (data.length < EF15_LENGTH) throw new MalformedResponseError(`MOHURD EF15 has ${data.length} bytes, expected ${EF15_LENGTH}`, data);
  return {
    issuerCode: toHex(data.subarray(0, 2)),
    cityCode: toHex(data.subarray(2, 4)),
    industryCode: toHex(data.subarray(4, 6)),
    enableFlag: data[8] ?? 0,
    applicationVersion: data[9] ?? 0,
    interopFlag: toHex(data.subarray(10, 12)),
    asn: bcdToDigits(data.subarray(12, 20)),
    startDate: bcdToDigits(data.subarray(20, 24)),
    expiryDate: bcdToDigits(data.subarray(24, 28)),
    cardTypeCode: data[28] ?? 0,
  };
}

export function encodeMohurdEf15(ef15: MohurdEf15): Uint8Array {
  const data = new Uint8Array(EF15_LENGTH);
  data.set(fromHex(ef15.issuerCode), 0);
  data.set(fromHex(ef15.cityCode), 2);
  data.set(fromHex(ef15.industryCode), 4);
  data[8] = ef15.enableFlag;
  data[9] = ef15.applicationVersion;
  data.set(fromHex(ef15.interopFlag), 10);
  data.set(bcdFromDigits(ef15.asn), 12);
  data.set(bcdFromDigits(ef15.startDate), 20);
  data.set(bcdFromDigits(ef15.expiryDate), 24);
  data[28] = ef15.cardTypeCode;
  return data;
}

/**
 * The PSAM's second diversification factor for a MOHURD card, city code followed by
 * FF 00 00 00 00 00. Records of MOHURD cards carry it as their issuer id, because it is what
 * selects the issuer keys in the PSAM and in clearing.
 */
export function mohurdIssuerFactor(cityCode: string): string {
  if (!/^[0-9A-Fa-f]{4}$/.test(cityCode)) throw new RangeError(`invalid city code "${cityCode}": expected 2 bytes as hex`);
  return `${cityCode.toUpperCase()}FF0000000000`;
}
