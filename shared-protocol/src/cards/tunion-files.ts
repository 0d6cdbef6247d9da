import { bcdFromDigits, bcdToDigits, readU16be, readU32be, toHex, u32be } from '../bytes.js';
import { MalformedResponseError } from '../apdu/response.js';

/**
 * Layouts of the T-Union e-purse files a bus reader reads: EF15 (public application info),
 * EF18 (purse transaction log) and EF1E (transit process cyclic record).
 */

export const TUNION_SFI = { ef15: 0x15, ef17: 0x17, ef18: 0x18, ef1a: 0x1a, ef1e: 0x1e } as const;
export const EF15_LENGTH = 30;
export const EF18_RECORD_LENGTH = 23;
export const EF1E_RECORD_LENGTH = 48;

export interface TUnionEf15 {
  /** Issuer id, 8 bytes as hex; also the PSAM's second diversification factor. */
  issuerId: string;
  applicationType: number;
  applicationVersion: number;
  /** Application serial number, 10 bytes BCD (20 digits). */
  asn: string;
  /** Start and expiry dates, YYYYMMDD. */
  startDate: string;
  expiryDate: string;
  /**
   * Issuer-defined bytes 28..29. This project reads byte 28 as the card-type code and byte 29
   * as the deposit in yuan, as the Shanghai gate code prints them; cities that differ set their
   * own card-type mapping in the fare table.
   */
  cardTypeCode: number;
  issuerData: number;
}

export function parseTUnionEf15(data: Uint8Array): TUnionEf15 {
  if (data.length < EF15_LENGTH) throw new MalformedResponseError(`EF15 has ${data.length} bytes, expected ${EF15_LENGTH}`, data);
  return {
    issuerId: toHex(data.subarray(0, 8)),
    applicationType: data[8] ?? 0,
    applicationVersion: data[9] ?? 0,
    asn: bcdToDigits(data.subarray(10, 20)),
    startDate: bcdToDigits(data.subarray(20, 24)),
    expiryDate: bcdToDigits(data.subarray(24, 28)),
    cardTypeCode: data[28] ?? 0,
    issuerData: data[29] ?? 0,
  };
}

export function encodeTUnionEf15(ef15: TUnionEf15): Uint8Array {
  const data = new Uint8Array(EF15_LENGTH);
  data.set(Buffer.from(ef15.issuerId, 'hex'), 0);
  data[8] = ef15.applicationType;
  data[9] = ef15.applicationVersion;
  data.set(bcdFromDigits(ef15.asn), 10);
  data.set(bcdFromDigits(ef15.startDate), 20);
  data.set(bcdFromDigits(ef15.expiryDate), 24);
  data[28] = ef15.cardTypeCode;
  data[29] = ef15.issuerData;
  return data;
}

/** Rightmost 8 bytes of the 10-byte ASN: the PSAM's first diversification factor. */
export function asnFactor(asn: string): Uint8Array {
  const bytes = Buffer.from(asn.padStart(20, '0'), 'hex');
  return Uint8Array.from(bytes.subarray(bytes.length - 8));
}

export interface PurseLogRecord {
  serial: number;
  overdraftLimitFen: number;
  amountFen: number;
  transactionType: number;
  terminalNumber: string;
  dateTime: string;
}

export function parsePurseLogRecord(data: Uint8Array): PurseLogRecord {
  if (data.length < EF18_RECORD_LENGTH) throw new MalformedResponseError(`EF18 record has ${data.length} bytes, expected ${EF18_RECORD_LENGTH}`, data);
  return {
    serial: readU16be(data, 0),
    overdraftLimitFen: ((data[2] ?? 0) << 16) | ((data[3] ?? 0) << 8) | (data[4] ?? 0),
    amountFen: readU32be(data, 5),
    transactionType: data[9] ?? 0,
    terminalNumber: toHex(data.subarray(10, 16)),
    dateTime: bcdToDigits(data.subarray(16, 23)),
  };
}

export function encodePurseLogRecord(record: PurseLogRecord): Uint8Array {
  const data = new Uint8Array(EF18_RECORD_LENGTH);
  data[0] = record.serial >>> 8;
  data[1] = record.serial & 0xff;
  data[2] = record.overdraftLimitFen >>> 16;
  data[3] = (record.overdraftLimitFen >>> 8) & 0xff;
  data[4] = record.overdraftLimitFen & 0xff;
  data.set(u32be(record.amountFen), 5);
  data[9] = record.transactionType;
  data.set(Buffer.from(record.terminalNumber, 'hex'), 10);
  data.set(bcdFromDigits(record.dateTime), 16);
  return data;
}

/** An empty cyclic record slot reads as all zeroes or all FF. */
export function isEmptyRecord(data: Uint8Array): boolean {
  return data.every((b) => b === 0x00) || data.every((b) => b === 0xff);
}

export interface TransitRecord {
  /** 03 EP boarding, 04 EP alighting, 06 EP single trip (per the Mianyang reader). */
  recordType: number;
  terminalNumber: string;
  industryCode: number;
  /** Line and station, 7 bytes; city-specific layout, kept as hex. */
  lineStation: string;
  amountFen: number;
  balanceAfterFen: number;
  dateTime: string;
  acquirerCityCode: string;
  acquirerId: string;
  maxIncompleteAmountFen: number;
  maxJourneyMinutes: number;
}

export function parseTransitRecord(data: Uint8Array): TransitRecord {
  if (data.length < EF1E_RECORD_LENGTH) throw new MalformedResponseError(`EF1E record has ${data.length} bytes, expected ${EF1E_RECORD_LENGTH}`, data);
  return {
    recordType: data[0] ?? 0,
    terminalNumber: toHex(data.subarray(1, 9)),
    industryCode: data[9] ?? 0,
    lineStation: toHex(data.subarray(10, 17)),
    amountFen: readU32be(data, 17),
    balanceAfterFen: readU32be(data, 21),
    dateTime: bcdToDigits(data.subarray(25, 32)),
    acquirerCityCode: toHex(data.subarray(32, 34)),
    acquirerId: toHex(data.subarray(34, 42)),
    maxIncompleteAmountFen: readU32be(data, 42),
    maxJourneyMinutes: readU16be(data, 46),
  };
}

export function encodeTransitRecord(record: TransitRecord): Uint8Array {
  const data = new Uint8Array(EF1E_RECORD_LENGTH);
  data[0] = record.recordType;
  data.set(Buffer.from(record.terminalNumber.padStart(16, '0'), 'hex'), 1);
  data[9] = record.industryCode;
  data.set(Buffer.from(record.lineStation.padStart(14, '0'), 'hex'), 10);
  data.set(u32be(record.amountFen), 17);
  data.set(u32be(record.balanceAfterFen), 21);
  data.set(bcdFromDigits(record.dateTime), 25);
  data.set(Buffer.from(record.acquirerCityCode.padStart(4, '0'), 'hex'), 32);
  data.set(Buffer.from(record.acquirerId.padStart(16, '0'), 'hex'), 34);
  data.set(u32be(record.maxIncompleteAmountFen), 42);
  data[46] = record.maxJourneyMinutes >>> 8;
  data[47] = record.maxJourneyMinutes & 0xff;
  return data;
}
