import { bcdFromDigits, readU32be } from '../bytes.js';
import { buildApdu } from './command.js';
import { type ResponseApdu, expectLength, expectOk } from './response.js';

/** PSAM (terminal security module) commands used in a purchase. */

/** READ BINARY of MF EF16, the 6-byte terminal number. */
export function readPsamTerminalNumber(): Uint8Array {
  return buildApdu({ cla: 0x00, ins: 0xb0, p1: 0x96, p2: 0x00, le: 0x06 });
}

/** READ BINARY of the first byte of DF EF17, the purchase key index. */
export function readPsamKeyIndex(): Uint8Array {
  return buildApdu({ cla: 0x00, ins: 0xb0, p1: 0x97, p2: 0x00, le: 0x01 });
}

export interface InitSamForPurchaseCommand {
  cardRandom: Uint8Array;
  cardCounter: number;
  amountFen: number;
  transactionType: number;
  /** YYYYMMDDhhmmss; the same value must go into DEBIT. */
  dateTime: string;
  keyVersion: number;
  algorithmId: number;
  /** Rightmost 8 bytes of the card's application serial number. */
  asn8: Uint8Array;
  /** Second diversification factor: the issuer id (T-Union) or city code + FF 00.. (MOHURD). */
  issuerFactor: Uint8Array;
}

/** INIT SAM FOR PURCHASE (MAC1 generation): 80 70 00 00 24 data(36) 08. */
export function initSamForPurchase(command: InitSamForPurchaseCommand): Uint8Array {
  if (command.cardRandom.length !== 4) throw new RangeError('card random must be 4 bytes');
  if (command.asn8.length !== 8 || command.issuerFactor.length !== 8) throw new RangeError('diversification factors must be 8 bytes each');
  const data = new Uint8Array(36);
  data.set(command.cardRandom, 0);
  data[4] = command.cardCounter >>> 8;
  data[5] = command.cardCounter & 0xff;
  new DataView(data.buffer).setUint32(6, command.amountFen);
  data[10] = command.transactionType;
  data.set(bcdFromDigits(command.dateTime), 11);
  data[18] = command.keyVersion;
  data[19] = command.algorithmId;
  data.set(command.asn8, 20);
  data.set(command.issuerFactor, 28);
  return buildApdu({ cla: 0x80, ins: 0x70, p1: 0x00, p2: 0x00, data, le: 0x08 });
}

export function parseInitSamForPurchase(response: ResponseApdu): { terminalSerial: number; mac1: Uint8Array } {
  const data = expectLength('INIT SAM FOR PURCHASE', expectOk('INIT SAM FOR PURCHASE', response), 8);
  return { terminalSerial: readU32be(data, 0), mac1: data.slice(4, 8) };
}

/** CREDIT SAM FOR PURCHASE (verify MAC2): 80 72 00 00 04 MAC2. */
export function creditSamForPurchase(mac2: Uint8Array): Uint8Array {
  if (mac2.length !== 4) throw new RangeError('MAC2 must be 4 bytes');
  return buildApdu({ cla: 0x80, ins: 0x72, p1: 0x00, p2: 0x00, data: mac2 });
}

/** MOHURD: have the PSAM check a card's 9-byte security identification code (80 CA 00 00 09 code). */
export function verifyMohurdCode(code: Uint8Array): Uint8Array {
  if (code.length !== 9) throw new RangeError(`MOHURD verify code must be 9 bytes, got ${code.length}`);
  return buildApdu({ cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x00, data: code });
}

/**
 * DELIVERY KEY for the application-block key: 80 1A 45 02 10 ASN8 factor8. The PSAM diversifies
 * its block master key for this card and keeps the result for the next 80FA.
 */
export function deliverApplicationBlockKey(asn8: Uint8Array, issuerFactor: Uint8Array): Uint8Array {
  if (asn8.length !== 8 || issuerFactor.length !== 8) throw new RangeError('diversification factors must be 8 bytes each');
  const data = new Uint8Array(16);
  data.set(asn8, 0);
  data.set(issuerFactor, 8);
  return buildApdu({ cla: 0x80, ins: 0x1a, p1: 0x45, p2: 0x02, data });
}

/** The APPLICATION BLOCK header the PSAM MACs, padded to 8 bytes: 84 1E 00 00 04 80 00 00. */
export const APPLICATION_BLOCK_MAC_INPUT = Uint8Array.of(0x84, 0x1e, 0x00, 0x00, 0x04, 0x80, 0x00, 0x00);

/**
 * Compute a MAC with the delivered key: 80 FA 05 00 10 | card challenge (4) 00000000 | padded
 * APPLICATION BLOCK header. The challenge with four zero bytes is the initial vector.
 */
export function computeApplicationBlockMac(challenge: Uint8Array): Uint8Array {
  if (challenge.length !== 4) throw new RangeError(`card challenge must be 4 bytes, got ${challenge.length}`);
  const data = new Uint8Array(16);
  data.set(challenge, 0);
  data.set(APPLICATION_BLOCK_MAC_INPUT, 8);
  return buildApdu({ cla: 0x80, ins: 0xfa, p1: 0x05, p2: 0x00, data });
}

export function parseMacResponse(command: string, response: ResponseApdu): Uint8Array {
  return expectLength(command, expectOk(command, response), 4).slice();
}
