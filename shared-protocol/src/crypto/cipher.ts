import { createCipheriv } from 'node:crypto';
import { concatBytes } from '../bytes.js';

/**
 * Block-cipher families a PBOC e-purse uses. The card reports its family as the algorithm id in
 * the INITIALIZE FOR PURCHASE response; only the PSAM and the simulators need to know it.
 */
export type CipherFamily = 'des' | 'sm4';

export function blockSize(family: CipherFamily): number {
  return family === 'des' ? 8 : 16;
}

/**
 * Encrypts whole blocks in ECB mode. For 'des' the key may be 8 bytes (single DES, run as 2-key
 * 3DES under K‖K because OpenSSL 3 no longer offers plain DES), 16 bytes (2-key 3DES) or 24 bytes.
 * For 'sm4' the key is 16 bytes.
 */
export function encryptEcb(family: CipherFamily, key: Uint8Array, data: Uint8Array): Uint8Array {
  const size = blockSize(family);
  if (data.length === 0 || data.length % size !== 0) {
    throw new RangeError(`ECB input must be a non-empty multiple of ${size} bytes, got ${data.length}`);
  }
  const cipher = createCipheriv(ecbName(family, key), normaliseKey(family, key), null);
  cipher.setAutoPadding(false);
  return concatBytes(cipher.update(data), cipher.final());
}

/**
 * Returns a function that encrypts whole blocks in ECB mode under `key`, as `encryptEcb` does,
 * with one OpenSSL cipher reused for every call. ECB keeps no state between blocks, and with
 * padding off an update returns all of its whole blocks at once, so the cipher is never finalised.
 * Keys are checked as `encryptEcb` checks them, when the function is made.
 */
export function ecbEncrypter(family: CipherFamily, key: Uint8Array): (data: Uint8Array) => Uint8Array {
  const size = blockSize(family);
  const cipher = createCipheriv(ecbName(family, key), normaliseKey(family, key), null);
  cipher.setAutoPadding(false);
  return (data) => {
    if (data.length === 0 || data.length % size !== 0) {
      throw new RangeError(`ECB input must be a non-empty multiple of ${size} bytes, got ${data.length}`);
    }
    const encrypted = cipher.update(data);
    if (encrypted.length !== data.length) throw new Error(`ECB cipher returned ${encrypted.length} bytes for ${data.length} bytes of whole blocks`);
    return Uint8Array.from(encrypted);
  };
}

/** Encrypts whole blocks in CBC mode with the given IV (zero by default). */
export function encryptCbc(family: CipherFamily, key: Uint8Array, data: Uint8Array, iv?: Uint8Array): Uint8Array {
  const size = blockSize(family);
  if (data.length === 0 || data.length % size !== 0) {
    throw new RangeError(`CBC input must be a non-empty multiple of ${size} bytes, got ${data.length}`);
  }
  const cipher = createCipheriv(cbcName(family, key), normaliseKey(family, key), iv ?? new Uint8Array(size));
  cipher.setAutoPadding(false);
  return concatBytes(cipher.update(data), cipher.final());
}

/** Appends 80 and then 00 bytes up to a block boundary; an aligned input gains a whole block. */
export function padIso9797M2(data: Uint8Array, size: number): Uint8Array {
  const padded = new Uint8Array((Math.floor(data.length / size) + 1) * size);
  padded.set(data);
  padded[data.length] = 0x80;
  return padded;
}

/**
 * Computes the PBOC e-purse MAC: ISO 9797-1 padding method 2 (always padded), CBC with a zero
 * IV under the session key, leftmost 4 bytes of the last block.
 */
export function pbocMac(family: CipherFamily, key: Uint8Array, data: Uint8Array): Uint8Array {
  const size = blockSize(family);
  const encrypted = encryptCbc(family, key, padIso9797M2(data, size));
  return encrypted.subarray(encrypted.length - size, encrypted.length - size + 4);
}

function ecbName(family: CipherFamily, key: Uint8Array): string {
  if (family === 'sm4') return 'sm4-ecb';
  return key.length === 24 ? 'des-ede3' : 'des-ede';
}

function cbcName(family: CipherFamily, key: Uint8Array): string {
  if (family === 'sm4') return 'sm4-cbc';
  return key.length === 24 ? 'des-ede3-cbc' : 'des-ede-cbc';
}

function normaliseKey(family: CipherFamily, key: Uint8Array): Uint8Array {
  if (family === 'sm4') {
    if (key.length !== 16) throw new RangeError(`SM4 key must be 16 bytes, got ${key.length}`);
    return key;
  }
  if (key.length === 8) return concatBytes(key, key);
  if (key.length === 16 || key.length === 24) return key;
  throw new RangeError(`DES key must be 8, 16 or 24 bytes, got ${key.length}`);
}
