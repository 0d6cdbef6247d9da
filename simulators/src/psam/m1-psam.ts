import { SW, bcdToDigits, computeM1RecordMac, concatBytes, equalBytes, m1Psam, readU16be, readU32be, u32be } from '@busfare/shared-protocol';
import { SIMULATOR_SW, respond, statusOnly } from '../cards/apdu-card.js';
import { type M1IssuerKeys, m1RecordKey, m1SectorKey } from './m1-keys.js';

/** Length of the UID field (length byte, UID padded to 7) in the M1 PSAM commands. */
const UID_FIELD_LENGTH = 8;

/** Reads a UID field; undefined when its length byte is not 4 or 7 or the padding is not zero. */
function readUidField(field: Uint8Array): Uint8Array | undefined {
  const length = field[0];
  if (length !== 4 && length !== 7) return undefined;
  const uid = field.slice(1, 1 + length);
  if (field.subarray(1 + length).some((byte) => byte !== 0)) return undefined;
  return uid;
}

/** DERIVE M1 KEYS (80 FC 00 00): key A of each sector asked for, diversified for the UID. */
export function deriveM1Keys(keys: M1IssuerKeys | undefined, p1: number, p2: number, data: Uint8Array): Uint8Array {
  if (p1 !== 0x00 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
  const sectors = data.subarray(UID_FIELD_LENGTH);
  if (data.length <= UID_FIELD_LENGTH || sectors.length > m1Psam.MAX_M1_KEY_SECTORS) return statusOnly(SW.WRONG_LENGTH);
  if (!keys) return statusOnly(SIMULATOR_SW.KEY_NOT_SUPPORTED);
  const uid = readUidField(data.subarray(0, UID_FIELD_LENGTH));
  if (!uid || sectors.some((sector) => sector > 39)) return statusOnly(SIMULATOR_SW.WRONG_DATA);
  return respond(concatBytes(...[...sectors].map((sector) => m1SectorKey(keys.sectorMasterKey, uid, sector))), SW.OK);
}

/**
 * M1 RECORD MAC (80 F8 00 00 2E): MAC of the record under the card's record key, with this PSAM's
 * terminal number and the serial it hands out. Returns serial (4) | MAC (4).
 */
export function m1RecordMac(
  keys: M1IssuerKeys | undefined,
  terminal: { terminalNumber: Uint8Array; takeSerial: () => number },
  p1: number,
  p2: number,
  data: Uint8Array,
): Uint8Array {
  if (p1 !== 0x00 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
  if (data.length !== m1Psam.M1_RECORD_MAC_DATA_LENGTH) return statusOnly(SW.WRONG_LENGTH);
  if (!keys || !equalBytes(data.subarray(0, 8), Buffer.from(keys.issuerId, 'hex'))) return statusOnly(SIMULATOR_SW.KEY_NOT_SUPPORTED);
  const uid = readUidField(data.subarray(16, 24));
  const dateTime = bcdToDigits(data.subarray(35, 42));
  if (!uid || !/^\d{14}$/.test(dateTime)) return statusOnly(SIMULATOR_SW.WRONG_DATA);
  const asn8 = data.slice(8, 16);
  const terminalSerial = terminal.takeSerial();
  const mac = computeM1RecordMac(m1RecordKey(keys.recordMasterKey, asn8), {
    asn8,
    uid,
    purseCounter: readU16be(data, 24),
    balanceBeforeFen: readU32be(data, 26),
    amountFen: readU32be(data, 30),
    transactionType: data[34] ?? 0,
    terminalNumber: terminal.terminalNumber,
    terminalSerial,
    dateTime,
    recordRandom: data.slice(42, 46),
  });
  return respond(concatBytes(u32be(terminalSerial), mac), SW.OK);
}

