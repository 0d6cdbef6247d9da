import { timingSafeEqual } from 'node:crypto';
import {
  type CipherFamily,
  type TransactionRecord,
  UnsupportedAlgorithmError,
  asnFactor,
  cipherFamilyOf,
  computeTac,
  diversifyKey,
  fromHex,
} from '@busfare/shared-protocol';
import type { KeyStore } from '../keys/key-store.js';
import { verifyM1RecordMac } from './m1-record-check.js';
import { TacMacCiphers } from './tac-mac-ciphers.js';

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
  /** Diversified card keys kept in memory, so a card seen again costs one cipher, not three. */
  cardKeyCacheSize?: number;
  /** Card ciphers kept ready for the TAC computation (about 1.4 KB each), 16,384 unless set. */
  cardCipherCacheSize?: number;
}

/**
 * Recomputes a record's TAC with the card's diversified TAC key and compares it in constant time.
 * Only records that carry a TAC reach this check. For MIFARE Classic (M1) records the TAC is the
 * PSAM's record MAC, and the key store holds the M1 issuer's record master key in the place of a
 * TAC master key; it is diversified with the card number in the same way.
 */
export class TacVerifier {
  private readonly keys: KeyStore;
  private readonly localIssuerPrefixes: readonly string[];
  private readonly cardKeys = new Map<string, { masterKey: Uint8Array; tacKey: Uint8Array }>();
  private readonly cardKeyCacheSize: number;
  private readonly ciphers: TacMacCiphers;

  constructor(options: TacVerifierOptions) {
    this.keys = options.keys;
    this.localIssuerPrefixes = options.localIssuerPrefixes.map((prefix) => prefix.toUpperCase());
    this.cardKeyCacheSize = options.cardKeyCacheSize ?? 100_000;
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
    let cacheKey: string | undefined;
    if (this.keys.deriveCardTacKey) {
      // An HSM key store derives the card key itself and never hands out the master key.
      tacKey = this.keys.deriveCardTacKey(card.issuerId, family, asnFactor(card.asn));
    } else {
      const masterKey = this.keys.tacMasterKey(card.issuerId, family);
      if (masterKey) {
        cacheKey = `${family}:${card.issuerId}:${card.asn}`;
        tacKey = this.cardTacKey(cacheKey, family, card.asn, masterKey);
      }
    }
    if (!tacKey) return this.withoutKey(record, family);

    if (card.application === 'm1') return verifyM1RecordMac(record, tacKey);
    const expected =
      cacheKey === undefined
        ? computeTac(family, tacKey, {
            amountFen: debit.amountFen,
            transactionType: debit.transactionType,
            terminalNumber: fromHex(debit.psamTerminalNumber),
            terminalSerial: debit.terminalSerial,
            dateTime: fromHex(debit.cardDateTime),
          })
        : this.ciphers.tac(cacheKey, family, tacKey, {
            amountFen: debit.amountFen,
            transactionType: debit.transactionType,
            terminalNumberHex: debit.psamTerminalNumber,
            terminalSerial: debit.terminalSerial,
            dateTimeHex: debit.cardDateTime,
          });
    const received = fromHex(debit.tac);
    if (received.length === expected.length && timingSafeEqual(received, expected)) return { outcome: 'verified' };
    return { outcome: 'failed', reason: `TAC does not match the issuer key (issuer ${card.issuerId}, ${family})` };
  }

  /**
   * Returns the card's diversified TAC key from the cache, or derives it. An entry is reused only
   * while the key store returns the same master key object, so a reloaded key is never bypassed.
   * The cache drops its oldest entry when full.
   */
  private cardTacKey(cacheKey: string, family: CipherFamily, asn: string, masterKey: Uint8Array): Uint8Array {
    const cached = this.cardKeys.get(cacheKey);
    if (cached && cached.masterKey === masterKey) return cached.tacKey;
    const tacKey = diversifyKey(family, masterKey, asnFactor(asn));
    if (this.cardKeys.size >= this.cardKeyCacheSize) {
      const oldest = this.cardKeys.keys().next().value;
      if (oldest !== undefined) this.cardKeys.delete(oldest);
    }
    this.cardKeys.set(cacheKey, { masterKey, tacKey });
    return tacKey;
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
