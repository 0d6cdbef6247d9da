import {
  BoundedMap,
  type CipherFamily,
  type TransactionRecord,
  UnsupportedAlgorithmError,
  asnFactor,
  cardKeyDiversifier,
  cipherFamilyOf,
  computeTac,
} from '@busfare/shared-protocol';
import type { KeyStore } from '../keys/key-store.js';
import { verifyM1RecordMac } from './m1-record-check.js';
import { TAC_DATA_LENGTH, type TacInput, TacMacCiphers, readHex32, writeTacData } from './tac-mac-ciphers.js';

export type TacCheck =
  | { outcome: 'verified' }
  | { outcome: 'queued-for-issuer' }
  | { outcome: 'failed'; reason: string };

export interface TacVerifierOptions {
  keys: KeyStore;
  /**
   * Issuer-id prefixes of this city's own issuers. A T-Union card of any other issuer whose keys
   * the key store does not hold is out of town, and its records wait for that issuer's clearing.
   * An empty list treats every T-Union issuer without a key as out of town.
   */
  localIssuerPrefixes: readonly string[];
  /** Cards whose diversified TAC key is kept in memory, so a card seen again needs no key derivation. 100,000 unless set. */
  cardKeyCacheSize?: number;
  /** Card ciphers kept ready for the TAC computation (about 1.4 KB each), 16,384 unless set. */
  cardCipherCacheSize?: number;
}

/** A card's diversified TAC key, valid while the key store returns the same master key object. */
interface CardKey {
  family: CipherFamily;
  masterKey: Uint8Array;
  tacKey: Uint8Array;
}

type Diversifier = (asn8: Uint8Array) => Uint8Array;

/**
 * Recomputes a record's TAC with the card's diversified TAC key and compares it with the record's
 * TAC. Only records that carry a TAC reach this check. For MIFARE Classic (M1) records the TAC is
 * the PSAM's record MAC, and the key store keeps the M1 issuer's record master key in the place
 * of a TAC master key. That key is diversified with the card number in the same way.
 *
 * TACs are computed with a cached cipher of the card, or with `computeTac` under a key store that
 * derives card keys itself (an HSM).
 */
export class TacVerifier {
  private readonly keys: KeyStore;
  private readonly localIssuerPrefixes: readonly string[];
  /** Card keys by card number (ASN). An entry counts only for its own family and master key. */
  private readonly cardKeys: BoundedMap<string, CardKey>;
  /**
   * Card key derivation of each master key object, with its cipher created once. A master key
   * that the key store no longer returns drops out with its object.
   */
  private readonly diversifiers = { des: new WeakMap<Uint8Array, Diversifier>(), sm4: new WeakMap<Uint8Array, Diversifier>() };
  private readonly ciphers: TacMacCiphers;

  constructor(options: TacVerifierOptions) {
    this.keys = options.keys;
    this.localIssuerPrefixes = options.localIssuerPrefixes.map((prefix) => prefix.toUpperCase());
    this.cardKeys = new BoundedMap(options.cardKeyCacheSize ?? 100_000);
    this.ciphers = new TacMacCiphers(options.cardCipherCacheSize ?? 16_384);
  }

  verify(record: TransactionRecord): TacCheck {
    const { card, debit } = record;
    if (!debit.tac) return { outcome: 'failed', reason: 'record carries no TAC' };

    let family;
    try {
      family = cipherFamilyOf(debit.algorithmId);
    } catch (error) {
      if (error instanceof UnsupportedAlgorithmError) return { outcome: 'failed', reason: error.message };
      throw error;
    }

    let tacKey: Uint8Array | undefined;
    // Set only for a key from the card key cache, whose object identity marks it as unchanged.
    let cardKey: CardKey | undefined;
    if (this.keys.deriveCardTacKey) {
      // An HSM key store derives the card key itself and never hands out the master key.
      tacKey = this.keys.deriveCardTacKey(card.issuerId, family, asnFactor(card.asn));
    } else {
      const masterKey = this.keys.tacMasterKey(card.issuerId, family);
      if (masterKey) {
        cardKey = this.cardKey(family, card.asn, masterKey);
        tacKey = cardKey.tacKey;
      }
    }
    if (!tacKey) return this.withoutKey(record, family);

    if (card.application === 'm1') return verifyM1RecordMac(record, tacKey);

    const received = readHex32(debit.tac);
    if (received < 0) return { outcome: 'failed', reason: `TAC must be 8 hex digits (4 bytes), got ${JSON.stringify(debit.tac.slice(0, 16))}` };
    let expected: number;
    try {
      expected = this.tacHead(record, family, tacKey, cardKey);
    } catch (error) {
      // A record whose TAC fields cannot be encoded fails alone rather than failing its batch.
      if (error instanceof RangeError) return { outcome: 'failed', reason: `record cannot be TAC-checked: ${error.message}` };
      throw error;
    }
    // Both sides are unsigned 32-bit integers, so one integer comparison decides, and its time
    // does not depend on which byte differs.
    if (expected === received) return { outcome: 'verified' };
    return { outcome: 'failed', reason: `TAC does not match the issuer key (issuer ${card.issuerId}, ${family})` };
  }

  /**
   * Computes the record's TAC as an unsigned 32-bit integer (its 4 bytes, big-endian). Raises a
   * RangeError for TAC fields that cannot be encoded.
   */
  private tacHead(record: TransactionRecord, family: CipherFamily, tacKey: Uint8Array, cardKey: CardKey | undefined): number {
    const input = tacInputOf(record);
    if (cardKey === undefined) {
      const data = new Uint8Array(TAC_DATA_LENGTH + 1);
      writeTacData(data, input);
      return readU32(computeTac(family, tacKey, { ...input, terminalNumber: data.subarray(5, 11), dateTime: data.subarray(15, 22) }));
    }
    return readU32(this.ciphers.tac(`${family}:${record.card.issuerId}:${record.card.asn}`, family, tacKey, input));
  }

  /**
   * Returns the card's diversified TAC key from the cache, or derives it. An entry is reused only
   * for the same family while the key store returns the same master key object, so a reloaded
   * key is never bypassed. The cache drops its oldest entry when full.
   */
  private cardKey(family: CipherFamily, asn: string, masterKey: Uint8Array): CardKey {
    const cached = this.cardKeys.get(asn);
    if (cached !== undefined && cached.masterKey === masterKey && cached.family === family) return cached;
    let diversify = this.diversifiers[family].get(masterKey);
    if (diversify === undefined) {
      diversify = cardKeyDiversifier(family, masterKey);
      this.diversifiers[family].set(masterKey, diversify);
    }
    const entry: CardKey = { family, masterKey, tacKey: diversify(asnFactor(asn)) };
    this.cardKeys.set(asn, entry);
    return entry;
  }

  private withoutKey(record: TransactionRecord, family: string): TacCheck {
    const { issuerId, application } = record.card;
    if (this.keys.holdsIssuer(issuerId)) {
      return { outcome: 'failed', reason: `no ${family} TAC key for issuer ${issuerId}, whose other keys are held` };
    }
    if (application === 'tunion' && !this.isLocalIssuer(issuerId)) return { outcome: 'queued-for-issuer' };
    const scope = application === 'tunion' ? 'local T-Union issuer' : `${application} issuer`;
    return { outcome: 'failed', reason: `no TAC key for ${scope} ${issuerId}` };
  }

  private isLocalIssuer(issuerId: string): boolean {
    const id = issuerId.toUpperCase();
    return this.localIssuerPrefixes.some((prefix) => id.startsWith(prefix));
  }
}

function tacInputOf(record: TransactionRecord): TacInput {
  const { debit } = record;
  return {
    amountFen: debit.amountFen,
    transactionType: debit.transactionType,
    terminalNumberHex: debit.psamTerminalNumber,
    terminalSerial: debit.terminalSerial,
    dateTimeHex: debit.cardDateTime,
  };
}

function readU32(bytes: Uint8Array): number {
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}
