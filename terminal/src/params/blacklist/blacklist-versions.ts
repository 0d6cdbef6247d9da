import { unpackBlacklist, type BlacklistBody } from '@busfare/shared-protocol';
import { BlacklistSet } from './blacklist-set.js';

/** Storage access for the versions: a stored blacklist body and, for a packed list, its chunks. */
export interface BlacklistRows {
  body(version: number): BlacklistBody | undefined;
  /** The stored chunks of a packed full list in index order, read one at a time. */
  packedChunks(version: number): Iterable<Uint8Array>;
}

/**
 * Blacklist sets built from stored versions, so that the tap path only looks one up. A delta is
 * applied on top of its base version when it is stored, not when it becomes active.
 */
export class BlacklistVersions {
  private readonly sets = new Map<number, BlacklistSet>();

  constructor(private readonly rows: BlacklistRows) {}

  get(version: number): BlacklistSet | undefined {
    return this.sets.get(version);
  }

  put(version: number, set: BlacklistSet): void {
    this.sets.set(version, set);
  }

  /** Builds the set of a stored version from storage, through its base versions where needed. */
  build(version: number): BlacklistSet {
    const cached = this.sets.get(version);
    if (cached) return cached;
    const body = this.rows.body(version);
    if (!body) throw new Error(`blacklist version ${version} is not stored`);
    let set: BlacklistSet;
    if (body.mode === 'delta') {
      set = this.build(body.baseVersion).applyDelta(body.add, body.remove);
    } else if (body.packed) {
      const unpacked = unpackBlacklist(body.packed, this.rows.packedChunks(version));
      if (!unpacked.ok) throw new Error(`stored blacklist version ${version} is damaged: ${unpacked.problems.join('; ')}`);
      set = BlacklistSet.fromSorted(unpacked.entries);
    } else {
      set = BlacklistSet.fromAsns(body.entries ?? []);
    }
    this.sets.set(version, set);
    return set;
  }

  /** Drops built sets other than `keep`, so that memory holds only the versions still needed. */
  retainOnly(keep: ReadonlySet<number>): void {
    for (const version of [...this.sets.keys()]) if (!keep.has(version)) this.sets.delete(version);
  }
}
