import type { CipherFamily } from '@busfare/shared-protocol';

/**
 * Issuer TAC master keys held by the clearing centre. Implementations must never expose a key
 * through logs or errors; callers only ask for the key they are about to use.
 */
export interface KeyStore {
  /** Returns the TAC master key (16 bytes) of an issuer for one cipher family, or undefined. */
  tacMasterKey(issuerId: string, family: CipherFamily): Uint8Array | undefined;
  /** Whether any key of this issuer is held, whatever its cipher family. */
  holdsIssuer(issuerId: string): boolean;
  /** Issuer ids with at least one key, for start-up logs. */
  issuerIds(): string[];
  /**
   * Derives a card's TAC key from the issuer's master key and the 8-byte ASN factor inside the
   * store, for stores whose master keys cannot leave it (an HSM). Undefined when no key is held.
   * When present, callers use it in place of tacMasterKey().
   */
  deriveCardTacKey?(issuerId: string, family: CipherFamily, factor: Uint8Array): Uint8Array | undefined;
  /**
   * Returns every key entry of a store that keeps its keys in this process's memory, so a worker
   * thread can check TACs with the same keys. Stores whose keys never leave them (an HSM) lack it.
   */
  softwareKeyEntries?(): IssuerKeyEntry[];
  /** Releases the store's resources (an HSM session). */
  close?(): void;
}

export interface IssuerKeyEntry {
  issuerId: string;
  algorithm: CipherFamily;
  tacMasterKey: Uint8Array;
  /** A test key: bench and simulator cards only, never a production issuer's key. */
  test: boolean;
}

/** A key store held in memory, built from already validated entries. */
export class MemoryKeyStore implements KeyStore {
  private readonly keys = new Map<string, Uint8Array>();
  private readonly issuers = new Set<string>();
  private readonly entries: readonly IssuerKeyEntry[];

  constructor(entries: readonly IssuerKeyEntry[]) {
    this.entries = entries.map((entry) => ({ ...entry }));
    for (const entry of entries) {
      const issuerId = entry.issuerId.toUpperCase();
      this.keys.set(keyOf(issuerId, entry.algorithm), entry.tacMasterKey);
      this.issuers.add(issuerId);
    }
  }

  tacMasterKey(issuerId: string, family: CipherFamily): Uint8Array | undefined {
    return this.keys.get(keyOf(issuerId.toUpperCase(), family));
  }

  holdsIssuer(issuerId: string): boolean {
    return this.issuers.has(issuerId.toUpperCase());
  }

  issuerIds(): string[] {
    return [...this.issuers].sort();
  }

  softwareKeyEntries(): IssuerKeyEntry[] {
    return this.entries.map((entry) => ({ ...entry }));
  }
}

function keyOf(issuerId: string, family: CipherFamily): string {
  return `${issuerId}/${family}`;
}
