import { mergeSorted, sortedAsnArray, sortedIncludes, sortedIncludesAsn } from '@busfare/shared-protocol';

/**
 * An immutable blacklist: ASNs as unsigned 64-bit integers in one sorted typed array, 8 bytes per
 * entry, so 1,000,000 entries take 8 MB. A lookup is a binary search (at most 20 steps for 1M),
 * and a delta builds a new set by one merge pass, so readers never see a half-applied change.
 */
export class BlacklistSet {
  static readonly EMPTY = new BlacklistSet(new BigUint64Array(0));

  /** `entries` must be sorted ascending without duplicates; the set keeps it without copying. */
  private constructor(private readonly entries: BigUint64Array) {}

  /** Wraps entries already sorted ascending without duplicates, as unpackBlacklist returns them. */
  static fromSorted(entries: BigUint64Array): BlacklistSet {
    return new BlacklistSet(entries);
  }

  /** Builds a set from ASNs in any order; duplicates are dropped. */
  static fromAsns(asns: Iterable<string>): BlacklistSet {
    return new BlacklistSet(sortedAsnArray(asns));
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * Returns whether the card with this ASN (right-most 8 bytes, 16 upper-case hex digits) is
   * listed. Text in any other form is not an ASN of the list and returns false.
   */
  has(asn8Hex: string): boolean {
    return sortedIncludesAsn(this.entries, asn8Hex);
  }

  includes(value: bigint): boolean {
    return sortedIncludes(this.entries, value);
  }

  /**
   * Returns a new set with `add` merged in and `remove` taken out, in one pass over the entries.
   * Adding a listed ASN or removing an unlisted one changes nothing.
   */
  applyDelta(add: readonly string[], remove: readonly string[]): BlacklistSet {
    return new BlacklistSet(mergeSorted(this.entries, sortedAsnArray(add), sortedAsnArray(remove)));
  }

  /** The entries in ascending order; callers must not change the array. */
  sortedEntries(): BigUint64Array {
    return this.entries;
  }
}

