import { type Cipher, createCipheriv } from 'node:crypto';
import { type CipherFamily, blockSize, concatBytes, tacSessionKey } from '@busfare/shared-protocol';

/** The TAC-covered fields of a purchase, with the byte fields as the record's hex text. */
export interface TacInput {
  amountFen: number;
  transactionType: number;
  /** 6 bytes, as 12 hex digits. */
  terminalNumberHex: string;
  terminalSerial: number;
  /** 7 BCD bytes, as 14 digits. */
  dateTimeHex: string;
}

/** amount (4) | type (1) | terminal number (6) | terminal serial (4) | date and time (7). */
const TAC_DATA_LENGTH = 22;

interface CachedCipher {
  tacKey: Uint8Array;
  cipher: Cipher;
  /** The cipher's CBC chaining value: the last block it returned (zeros before the first). */
  chain: Buffer;
}

/**
 * Computes TACs with one CBC cipher kept per card TAC key. It gives the same value as
 * `computeTac`, but creating an OpenSSL cipher costs more than the MAC itself, and a card is seen
 * many times. The cipher is never finalised: with padding off, every update of whole blocks
 * returns their encryption at once, and the cipher chains the next update on the last block it
 * returned. XORing that block into the first block of the next MAC input cancels it, so each MAC
 * starts from a zero IV and costs one update. Each cipher takes about 1.4 KB of native memory
 * (measured on Node 20), so the cache is bounded and drops its oldest entry when full.
 */
export class TacMacCiphers {
  private readonly ciphers = new Map<string, CachedCipher>();

  constructor(private readonly capacity: number) {}

  /**
   * Computes the 4-byte TAC. `cacheKey` names the card. An entry is reused only for the same
   * `tacKey` object, so a key derived again after a master key reload gets a new cipher.
   */
  tac(cacheKey: string, family: CipherFamily, tacKey: Uint8Array, input: TacInput): Uint8Array {
    const size = blockSize(family);
    // ISO 9797-1 method 2 padding: 80, then zeros up to the block boundary (Buffer.alloc zeroes).
    const data = Buffer.alloc((Math.floor(TAC_DATA_LENGTH / size) + 1) * size);
    data.writeUInt32BE(input.amountFen, 0);
    data[4] = input.transactionType;
    // Buffer's hex decoding stops at the first non-hex digit, so a full count means valid text.
    if (input.terminalNumberHex.length !== 12 || data.write(input.terminalNumberHex, 5, 6, 'hex') !== 6) {
      throw new RangeError(`terminal number must be 12 hex digits, got "${input.terminalNumberHex}"`);
    }
    data.writeUInt32BE(input.terminalSerial, 11);
    if (input.dateTimeHex.length !== 14 || data.write(input.dateTimeHex, 15, 7, 'hex') !== 7) {
      throw new RangeError(`date and time must be 14 digits (7 BCD bytes), got "${input.dateTimeHex}"`);
    }
    data[TAC_DATA_LENGTH] = 0x80;
    const entry = this.cipherFor(cacheKey, family, tacKey);
    for (let index = 0; index < size; index += 1) data[index]! ^= entry.chain[index]!;
    let encrypted: Buffer;
    try {
      encrypted = entry.cipher.update(data);
    } catch (error) {
      // The chaining value is unknown after a failed update, so the cipher is not used again.
      this.ciphers.delete(cacheKey);
      throw error;
    }
    if (encrypted.length !== data.length) {
      this.ciphers.delete(cacheKey);
      throw new Error(`CBC cipher returned ${encrypted.length} bytes for ${data.length} bytes of whole blocks`);
    }
    entry.chain = encrypted.subarray(encrypted.length - size);
    return encrypted.subarray(encrypted.length - size, encrypted.length - size + 4);
  }

  private cipherFor(cacheKey: string, family: CipherFamily, tacKey: Uint8Array): CachedCipher {
    const cached = this.ciphers.get(cacheKey);
    if (cached && cached.tacKey === tacKey) return cached;
    const sessionKey = tacSessionKey(family, tacKey);
    const zeroIv = Buffer.alloc(blockSize(family));
    // OpenSSL 3 no longer offers single DES, so the 8-byte DES session key runs as 2-key 3DES under K‖K.
    const cipher =
      family === 'des' ? createCipheriv('des-ede-cbc', concatBytes(sessionKey, sessionKey), zeroIv) : createCipheriv('sm4-cbc', sessionKey, zeroIv);
    cipher.setAutoPadding(false);
    if (cached) this.ciphers.delete(cacheKey);
    else if (this.ciphers.size >= this.capacity) {
      const oldest = this.ciphers.keys().next().value;
      if (oldest !== undefined) this.ciphers.delete(oldest);
    }
    const entry = { tacKey, cipher, chain: zeroIv };
    this.ciphers.set(cacheKey, entry);
    return entry;
  }
}
