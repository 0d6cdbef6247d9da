import { timingSafeEqual } from 'node:crypto';
import {
  type TransactionRecord,
  UnsupportedAlgorithmError,
  asnFactor,
  cipherFamilyOf,
  computeTac,
  diversifyKey,
  fromHex,
} from '@busfare/shared-protocol';
import type { KeyStore } from '../keys/key-store.js';

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
}

/**
 * Recomputes a record's TAC with the card's diversified TAC key and compares it in constant time.
 * Only records that carry a TAC reach this check.
 */
export class TacVerifier {
  private readonly keys: KeyStore;
  private readonly localIssuerPrefixes: readonly string[];

  constructor(options: TacVerifierOptions) {
    this.keys = options.keys;
    this.localIssuerPrefixes = options.localIssuerPrefixes.map((prefix) => prefix.toUpperCase());
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

    const masterKey = this.keys.tacMasterKey(card.issuerId, family);
    if (!masterKey) return this.withoutKey(record, family);

    const tacKey = diversifyKey(family, masterKey, asnFactor(card.asn));
    const expected = computeTac(family, tacKey, {
      amountFen: debit.amountFen,
      transactionType: debit.transactionType,
      terminalNumber: fromHex(debit.psamTerminalNumber),
      terminalSerial: debit.terminalSerial,
      dateTime: fromHex(debit.cardDateTime),
    });
    const received = fromHex(debit.tac);
    if (received.length === expected.length && timingSafeEqual(received, expected)) return { outcome: 'verified' };
    return { outcome: 'failed', reason: `TAC does not match the issuer key (issuer ${card.issuerId}, ${family})` };
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
