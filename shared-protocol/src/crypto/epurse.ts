import { concatBytes, notBytes, u32be, xorBytes } from '../bytes.js';
import { type CipherFamily, ecbEncrypter, encryptEcb, pbocMac } from './cipher.js';

/**
 * PBOC e-purse cryptography (purchase session key, MAC1, MAC2, TAC and per-card key
 * diversification), shared by the software PSAM, the virtual cards and the back office so that
 * the three cannot drift apart.
 *
 * The DES family follows the public PBOC e-purse description and reproduces its published worked
 * example. No public source gives the SM4 derivations, so the SM4 rules below are this project's
 * choice: the 8-byte inputs are padded with ISO 9797-1 method 2 to one 16-byte block, keys stay
 * 16 bytes, and the TAC key is used whole rather than folded.
 */

/** Algorithm ids a card reports in its INITIALIZE FOR PURCHASE response. */
export const ALGORITHM_ID = { des: 0x00, sm4: 0x04 } as const;

export class UnsupportedAlgorithmError extends Error {
  constructor(readonly algorithmId: number) {
    super(`unsupported e-purse algorithm id 0x${algorithmId.toString(16).padStart(2, '0')}: expected 0x00 (3DES) or 0x04 (SM4)`);
    this.name = 'UnsupportedAlgorithmError';
  }
}

export function cipherFamilyOf(algorithmId: number): CipherFamily {
  if (algorithmId === ALGORITHM_ID.des) return 'des';
  if (algorithmId === ALGORITHM_ID.sm4) return 'sm4';
  throw new UnsupportedAlgorithmError(algorithmId);
}

export function algorithmIdOf(family: CipherFamily): number {
  return ALGORITHM_ID[family];
}

/**
 * Derives a card's 16-byte key from an issuer master key and the rightmost 8 bytes of the
 * application serial number (ASN). DES: left = 3DES(MK, ASN8), right = 3DES(MK, NOT ASN8).
 */
export function diversifyKey(family: CipherFamily, masterKey: Uint8Array, asn8: Uint8Array): Uint8Array {
  if (asn8.length !== 8) throw new RangeError(`diversification factor must be 8 bytes, got ${asn8.length}`);
  return cardKeyDiversifier(family, masterKey)(asn8);
}

/**
 * Returns a function that derives card keys as `diversifyKey` does, under one master key with one
 * reused cipher. Creating the cipher costs several times more than encrypting the 16 bytes, so a
 * caller that derives keys for many cards of one issuer keeps the function.
 */
export function cardKeyDiversifier(family: CipherFamily, masterKey: Uint8Array): (asn8: Uint8Array) => Uint8Array {
  if (masterKey.length !== 16) throw new RangeError(`master key must be 16 bytes, got ${masterKey.length}`);
  const encrypt = ecbEncrypter(family, masterKey);
  return (asn8) => {
    if (asn8.length !== 8) throw new RangeError(`diversification factor must be 8 bytes, got ${asn8.length}`);
    // 3DES: the left half encrypts the factor and the right half its complement. ECB encrypts each
    // 8-byte block on its own, so one call over both blocks gives both halves. SM4 encrypts the
    // two as its one 16-byte block.
    return encrypt(concatBytes(asn8, notBytes(asn8)));
  };
}

export interface SessionKeyInput {
  /** Card pseudo-random number from INITIALIZE FOR PURCHASE (4 bytes). */
  cardRandom: Uint8Array;
  /** Card offline transaction counter from INITIALIZE FOR PURCHASE. */
  cardCounter: number;
  /** PSAM terminal transaction serial; only its low 2 bytes enter the key. */
  terminalSerial: number;
}

/** Derives the purchase session key from the card's diversified purchase key (DPK). */
export function purchaseSessionKey(family: CipherFamily, purchaseKey: Uint8Array, input: SessionKeyInput): Uint8Array {
  if (input.cardRandom.length !== 4) throw new RangeError(`card random must be 4 bytes, got ${input.cardRandom.length}`);
  const block = new Uint8Array(8);
  block.set(input.cardRandom, 0);
  block[4] = (input.cardCounter >>> 8) & 0xff;
  block[5] = input.cardCounter & 0xff;
  block[6] = (input.terminalSerial >>> 8) & 0xff;
  block[7] = input.terminalSerial & 0xff;
  if (family === 'des') return encryptEcb('des', purchaseKey, block);
  const padded = new Uint8Array(16);
  padded.set(block);
  padded[8] = 0x80;
  return encryptEcb('sm4', purchaseKey, padded);
}

export interface PurchaseMacInput {
  amountFen: number;
  /** 0x06 purchase, 0x09 composite (CAPP) purchase. */
  transactionType: number;
  /** PSAM terminal number, 6 bytes. */
  terminalNumber: Uint8Array;
  /** Date and time as 7 BCD bytes YYYYMMDDhhmmss. */
  dateTime: Uint8Array;
}

/** MAC1, computed by the PSAM and checked by the card: amount | type | terminal number | date | time. */
export function computeMac1(family: CipherFamily, sessionKey: Uint8Array, input: PurchaseMacInput): Uint8Array {
  checkPurchaseInput(input);
  return pbocMac(family, sessionKey, concatBytes(u32be(input.amountFen), Uint8Array.of(input.transactionType), input.terminalNumber, input.dateTime));
}

/** MAC2, computed by the card and checked by the PSAM: amount only. */
export function computeMac2(family: CipherFamily, sessionKey: Uint8Array, amountFen: number): Uint8Array {
  return pbocMac(family, sessionKey, u32be(amountFen));
}

/** The key a TAC is computed under: left half XOR right half (DES), or the whole key (SM4). */
export function tacSessionKey(family: CipherFamily, tacKey: Uint8Array): Uint8Array {
  if (tacKey.length !== 16) throw new RangeError(`TAC key must be 16 bytes, got ${tacKey.length}`);
  return family === 'des' ? xorBytes(tacKey.subarray(0, 8), tacKey.subarray(8, 16)) : tacKey;
}

/**
 * TAC over amount | type | terminal number | terminal transaction serial | date | time, under the
 * card's diversified TAC key. Only the card and the clearing centre can compute it.
 */
export function computeTac(family: CipherFamily, tacKey: Uint8Array, input: PurchaseMacInput & { terminalSerial: number }): Uint8Array {
  checkPurchaseInput(input);
  const data = concatBytes(u32be(input.amountFen), Uint8Array.of(input.transactionType), input.terminalNumber, u32be(input.terminalSerial), input.dateTime);
  return pbocMac(family, tacSessionKey(family, tacKey), data);
}

function checkPurchaseInput(input: PurchaseMacInput): void {
  if (input.terminalNumber.length !== 6) throw new RangeError(`terminal number must be 6 bytes, got ${input.terminalNumber.length}`);
  if (input.dateTime.length !== 7) throw new RangeError(`date and time must be 7 BCD bytes, got ${input.dateTime.length}`);
}
