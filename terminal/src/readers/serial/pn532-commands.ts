/** PN532 command codes the serial reader uses (UM0701-02 §7). The response code is the command code + 1. */
export const PN532_COMMAND = {
  GetFirmwareVersion: 0x02,
  SAMConfiguration: 0x14,
  InDataExchange: 0x40,
  InListPassiveTarget: 0x4a,
  InRelease: 0x52,
} as const;

/** MIFARE Classic commands sent inside InDataExchange. */
export const MIFARE_CMD = {
  authA: 0x60,
  authB: 0x61,
  read: 0x30,
  write: 0xa0,
  decrement: 0xc0,
  increment: 0xc1,
  restore: 0xc2,
  transfer: 0xb0,
} as const;

/**
 * The HSU baud rates a PN532 supports, as the SetSerialBaudRate command of UM0701-02 lists them. The
 * module starts at 115200 after power-on or reset.
 */
export const PN532_HSU_BAUD_RATES: readonly number[] = [9_600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 921_600, 1_288_000];

/** InListPassiveTarget BrTy for 106 kbps ISO/IEC 14443 type A. */
export const BRTY_106_TYPE_A = 0x00;

/**
 * Error codes in the low six bits of the status byte of InDataExchange (UM0701-02 table 17).
 * Bit 6 (MI) is set when more data follows, and bit 7 (NAD) when a NAD byte is present.
 */
export const PN532_STATUS = {
  ok: 0x00,
  timeout: 0x01,
  crc: 0x02,
  parity: 0x03,
  bitCount: 0x04,
  mifareFraming: 0x05,
  collision: 0x06,
  bufferTooSmall: 0x07,
  rfBufferOverflow: 0x09,
  rfFieldOff: 0x0a,
  rfProtocol: 0x0b,
  overheating: 0x0d,
  internalOverflow: 0x0e,
  invalidParameter: 0x10,
  depNotSupported: 0x12,
  dataFormat: 0x13,
  mifareAuthentication: 0x14,
  uidCheckByte: 0x23,
  depInvalidState: 0x25,
  notAllowed: 0x26,
  wrongContext: 0x27,
  released: 0x29,
  cardExchanged: 0x2a,
  cardDisappeared: 0x2b,
  nfcid3Mismatch: 0x2c,
  overCurrent: 0x2d,
  nadMissing: 0x2e,
} as const;

export const STATUS_ERROR_MASK = 0x3f;
export const STATUS_MORE_INFORMATION = 0x40;

/** Consequence of a status error for the tap: the card is gone, the exchange failed on the air, or the module is at fault. */
export type StatusClass = { kind: 'card'; reason: 'removed' | 'timeout' | 'transport' } | { kind: 'module' } | { kind: 'refused' };

/**
 * Classifies a non-zero status. `refused` is a MIFARE operation that the card rejected with a NAK
 * or a failed authentication. The card is still present, so the PC/SC pseudo-APDU returns 63 00
 * as on an ACS reader. Air errors mean the card response was missing or damaged. Module errors
 * mean the PN532 itself could not carry out the command.
 */
export function classifyStatus(status: number): StatusClass {
  const code = status & STATUS_ERROR_MASK;
  switch (code) {
    case PN532_STATUS.mifareAuthentication:
    case PN532_STATUS.mifareFraming:
      return { kind: 'refused' };
    case PN532_STATUS.timeout:
      return { kind: 'card', reason: 'timeout' };
    case PN532_STATUS.released:
    case PN532_STATUS.cardExchanged:
    case PN532_STATUS.cardDisappeared:
    case PN532_STATUS.wrongContext:
      return { kind: 'card', reason: 'removed' };
    case PN532_STATUS.crc:
    case PN532_STATUS.parity:
    case PN532_STATUS.bitCount:
    case PN532_STATUS.collision:
    case PN532_STATUS.rfProtocol:
    case PN532_STATUS.dataFormat:
    case PN532_STATUS.uidCheckByte:
      return { kind: 'card', reason: 'transport' };
    default:
      return { kind: 'module' };
  }
}

/** One target from an InListPassiveTarget response at 106 kbps type A. */
export interface TypeATarget {
  tg: number;
  atqa: Uint8Array;
  sak: number;
  uid: Uint8Array;
  /** The ATS, first byte TL included, when the PN532 ran RATS (ISO-DEP cards). */
  ats?: Uint8Array;
}

/**
 * Parses the data of an InListPassiveTarget response (after D5 4B): NbTg, then per target
 * Tg SENS_RES(2) SEL_RES(1) NFCIDLength NFCID1 [ATS]. The PN532 fetches the ATS itself when
 * SEL_RES bit 6 marks the card as ISO/IEC 14443-4 compliant.
 */
export function parseTypeATargets(data: Uint8Array): TypeATarget[] {
  const count = data[0] ?? 0;
  const targets: TypeATarget[] = [];
  let at = 1;
  for (let index = 0; index < count; index += 1) {
    if (data.length < at + 5) throw new RangeError(`InListPassiveTarget response ends inside target ${index + 1}`);
    const tg = data[at]!;
    const atqa = data.slice(at + 1, at + 3);
    const sak = data[at + 3]!;
    const uidLength = data[at + 4]!;
    const uidEnd = at + 5 + uidLength;
    if (data.length < uidEnd) throw new RangeError(`InListPassiveTarget response ends inside the ${uidLength}-byte UID`);
    const uid = data.slice(at + 5, uidEnd);
    at = uidEnd;
    let ats: Uint8Array | undefined;
    if ((sak & 0x20) !== 0 && at < data.length) {
      const tl = data[at]!;
      if (tl === 0 || data.length < at + tl) throw new RangeError(`InListPassiveTarget response has an ATS of length ${tl} with ${data.length - at} bytes left`);
      ats = data.slice(at, at + tl);
      at += tl;
    }
    targets.push(ats ? { tg, atqa, sak, uid, ats } : { tg, atqa, sak, uid });
  }
  return targets;
}

/** Encodes target data as the PN532 reports it; the inverse of parseTypeATargets for one target. */
export function encodeTypeATarget(target: TypeATarget): Uint8Array {
  return Uint8Array.from([target.tg, ...target.atqa, target.sak, target.uid.length, ...target.uid, ...(target.ats ?? [])]);
}
