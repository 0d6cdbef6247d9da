import { EF1E_RECORD_LENGTH, encodeTUnionEf15, fromHex } from '@busfare/shared-protocol';
import { CyclicRecordFile, IdentifiedRecordFile } from './record-files.js';

/** Application type byte of EF15; readers treat 0x02 as an issued, usable purse. */
export const TUNION_APPLICATION_TYPE = 0x02;
/** Application version in EF15 and 9F08; some readers reject version 0x00 as not started. */
export const TUNION_APPLICATION_VERSION = 0x01;
/** Country code in EF17: China, ISO 3166 numeric 156, as BCD. */
const CHINA_COUNTRY_CODE = fromHex('00000156');
/** EF17 interoperability flag that marks a card usable in other T-Union cities. */
const INTEROP_FLAG = fromHex('0001');
const EF17_LENGTH = 60;

export interface TUnionFileFields {
  issuerId: string;
  asn: string;
  startDate: string;
  expiryDate: string;
  cardTypeCode: number;
  /** EF15 byte 29, read as the deposit in yuan. */
  depositYuan: number;
}

/** The files of a T-Union e-purse application other than the purse log, which the purse owns. */
export interface TUnionFiles {
  ef15: Uint8Array;
  ef17: Uint8Array;
  /** EF1E transit-process records, 48 bytes, cyclic. */
  ef1e: CyclicRecordFile;
  /** EF1A (transit process) and EF19 (issuer-defined) variable records, addressed by record id. */
  identified: Map<number, IdentifiedRecordFile>;
}

export function createTUnionFiles(fields: TUnionFileFields): TUnionFiles {
  const ef15 = encodeTUnionEf15({
    issuerId: fields.issuerId,
    applicationType: TUNION_APPLICATION_TYPE,
    applicationVersion: TUNION_APPLICATION_VERSION,
    asn: fields.asn,
    startDate: fields.startDate,
    expiryDate: fields.expiryDate,
    cardTypeCode: fields.cardTypeCode,
    issuerData: fields.depositYuan,
  });
  return {
    ef15,
    ef17: managementInfo(fields.issuerId, fields.cardTypeCode),
    ef1e: new CyclicRecordFile(EF1E_RECORD_LENGTH, 30),
    identified: new Map([
      [0x1a, new IdentifiedRecordFile(128)],
      [0x19, new IdentifiedRecordFile(128)],
    ]),
  };
}

/**
 * EF17 management info: country (4) | province (2) | city (2) | interop flag (2) | card-type
 * category (1) | reserved. The city code is the first 2 bytes of the issuer id; the province is
 * the city code with its last two digits zeroed.
 */
function managementInfo(issuerId: string, cardTypeCode: number): Uint8Array {
  const data = new Uint8Array(EF17_LENGTH);
  const cityCode = fromHex(issuerId.slice(0, 4));
  data.set(CHINA_COUNTRY_CODE, 0);
  data.set(Uint8Array.of(cityCode[0] ?? 0, 0x00), 4);
  data.set(cityCode, 6);
  data.set(INTEROP_FLAG, 8);
  data[10] = cardTypeCode;
  return data;
}
