import { createHash } from 'node:crypto';
import { BLACKLIST_PACKED_ENCODING, type PackedListManifest } from '../schemas/blacklist.js';

/** Entries per packed chunk: 65,536 entries are 512 KiB, so a 1,000,000-entry list is 16 chunks. */
export const BLACKLIST_CHUNK_ENTRIES = 65_536;

const ENTRY_BYTES = 8;
const ASN_PATTERN = /^[0-9A-F]{16}$/;

// Hot loops read each 64-bit entry as two 32-bit words, because every read of a BigUint64Array
// element allocates a BigInt. HIGH and LOW are the word indexes within an entry on this machine.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const HIGH = LITTLE_ENDIAN ? 1 : 0;
const LOW = LITTLE_ENDIAN ? 0 : 1;

function words(entries: BigUint64Array): Uint32Array {
  return new Uint32Array(entries.buffer, entries.byteOffset, entries.length * 2);
}

/** Returns a blacklist ASN (16 upper-case hex digits) as an unsigned 64-bit integer. */
export function asnToBigInt(asn: string): bigint {
  if (!ASN_PATTERN.test(asn)) throw new RangeError(`invalid blacklist ASN ${JSON.stringify(asn)}: expected the right-most 8 bytes of the ASN as 16 upper-case hex digits`);
  return BigInt(`0x${asn}`);
}

/** Returns an unsigned 64-bit integer as a blacklist ASN of 16 upper-case hex digits. */
export function bigIntToAsn(value: bigint): string {
  return value.toString(16).toUpperCase().padStart(16, '0');
}

/** Returns the ASNs as a sorted array without duplicates; throws RangeError on an invalid ASN. */
export function sortedAsnArray(asns: Iterable<string>): BigUint64Array {
  const list = Array.isArray(asns) ? (asns as string[]) : [...asns];
  const entries = new BigUint64Array(list.length);
  const view = words(entries);
  list.forEach((asn, index) => {
    if (!ASN_PATTERN.test(asn)) throw new RangeError(`invalid blacklist ASN ${JSON.stringify(asn)}: expected the right-most 8 bytes of the ASN as 16 upper-case hex digits`);
    view[index * 2 + HIGH] = Number.parseInt(asn.slice(0, 8), 16);
    view[index * 2 + LOW] = Number.parseInt(asn.slice(8), 16);
  });
  entries.sort();
  let unique = 0;
  for (let index = 0; index < entries.length; index += 1) {
    const high = view[index * 2 + HIGH]!;
    const low = view[index * 2 + LOW]!;
    if (unique > 0 && view[(unique - 1) * 2 + HIGH] === high && view[(unique - 1) * 2 + LOW] === low) continue;
    view[unique * 2 + HIGH] = high;
    view[unique * 2 + LOW] = low;
    unique += 1;
  }
  return entries.slice(0, unique);
}

/** Returns whether `value` is in `entries`, which are sorted ascending, by binary search. */
export function sortedIncludes(entries: BigUint64Array, value: bigint): boolean {
  return searchWords(words(entries), Number(value >> 32n), Number(value & 0xffffffffn));
}

/** Returns whether the ASN (16 upper-case hex digits) is in the sorted entries, and false for any other text. */
export function sortedIncludesAsn(entries: BigUint64Array, asn: string): boolean {
  if (!ASN_PATTERN.test(asn)) return false;
  return searchWords(words(entries), Number.parseInt(asn.slice(0, 8), 16), Number.parseInt(asn.slice(8), 16));
}

function searchWords(view: Uint32Array, high: number, low: number): boolean {
  let first = 0;
  let last = view.length / 2 - 1;
  while (first <= last) {
    const middle = (first + last) >>> 1;
    const entryHigh = view[middle * 2 + HIGH]!;
    if (entryHigh === high) {
      const entryLow = view[middle * 2 + LOW]!;
      if (entryLow === low) return true;
      if (entryLow < low) first = middle + 1;
      else last = middle - 1;
    } else if (entryHigh < high) {
      first = middle + 1;
    } else {
      last = middle - 1;
    }
  }
  return false;
}

/** Compares entry `a` of view `x` with entry `b` of view `y`: negative, zero or positive. */
function compareEntries(x: Uint32Array, a: number, y: Uint32Array, b: number): number {
  return x[a * 2 + HIGH]! - y[b * 2 + HIGH]! || x[a * 2 + LOW]! - y[b * 2 + LOW]!;
}

/** Returns the first index from `from` whose entry is not below entry `index` of `key`. */
function lowerBound(view: Uint32Array, from: number, key: Uint32Array, index: number): number {
  let first = from;
  let last = view.length / 2;
  while (first < last) {
    const middle = (first + last) >>> 1;
    if (compareEntries(view, middle, key, index) < 0) first = middle + 1;
    else last = middle;
  }
  return first;
}

/**
 * Returns `base` with `additions` merged in and `removals` taken out. All three are sorted
 * ascending without duplicates, and so is the result; an ASN in both `additions` and `removals`
 * is left out. Each change costs a binary search in `base`, and the runs of `base` between
 * changes are copied whole, so a 10,000-entry change to 1,000,000 entries copies 8 MB once.
 */
export function mergeSorted(base: BigUint64Array, additions: BigUint64Array, removals: BigUint64Array): BigUint64Array {
  const baseWords = words(base);
  const addWords = words(additions);
  const removeWords = words(removals);
  const merged = new BigUint64Array(base.length + additions.length);
  const out = words(merged);
  let basePosition = 0;
  let size = 0;
  let addIndex = 0;
  let removeIndex = 0;
  const copyBaseUpTo = (end: number) => {
    out.set(baseWords.subarray(basePosition * 2, end * 2), size * 2);
    size += end - basePosition;
    basePosition = end;
  };

  while (addIndex < additions.length || removeIndex < removals.length) {
    // order < 0: the next change is an addition, > 0: a removal, 0: the same ASN in both.
    let order: number;
    if (addIndex >= additions.length) order = 1;
    else if (removeIndex >= removals.length) order = -1;
    else order = compareEntries(addWords, addIndex, removeWords, removeIndex);
    const key = order <= 0 ? addWords : removeWords;
    const keyIndex = order <= 0 ? addIndex : removeIndex;
    copyBaseUpTo(lowerBound(baseWords, basePosition, key, keyIndex));
    const listed = basePosition < base.length && compareEntries(baseWords, basePosition, key, keyIndex) === 0;
    if (order === 0) {
      if (listed) basePosition += 1;
      addIndex += 1;
      removeIndex += 1;
    } else if (order < 0) {
      if (!listed) {
        out[size * 2 + HIGH] = addWords[addIndex * 2 + HIGH]!;
        out[size * 2 + LOW] = addWords[addIndex * 2 + LOW]!;
        size += 1;
      }
      addIndex += 1;
    } else {
      if (listed) basePosition += 1;
      removeIndex += 1;
    }
  }
  copyBaseUpTo(base.length);
  // A view, not a copy: the unused tail is at most additions.length entries.
  return merged.subarray(0, size);
}

/** Writes sorted entries as 8-byte big-endian chunks and builds the manifest with every hash. */
export function packBlacklist(entries: BigUint64Array, chunkEntries = BLACKLIST_CHUNK_ENTRIES): { manifest: PackedListManifest; chunks: Buffer[] } {
  if (!Number.isInteger(chunkEntries) || chunkEntries < 1) throw new RangeError(`chunkEntries must be a positive integer, got ${chunkEntries}`);
  const view = words(entries);
  const whole = createHash('sha256');
  const chunks: Buffer[] = [];
  const described: PackedListManifest['chunks'] = [];
  for (let start = 0; start < entries.length; start += chunkEntries) {
    const end = Math.min(entries.length, start + chunkEntries);
    const chunk = Buffer.alloc((end - start) * ENTRY_BYTES);
    for (let index = start; index < end; index += 1) {
      chunk.writeUInt32BE(view[index * 2 + HIGH]!, (index - start) * ENTRY_BYTES);
      chunk.writeUInt32BE(view[index * 2 + LOW]!, (index - start) * ENTRY_BYTES + 4);
    }
    whole.update(chunk);
    chunks.push(chunk);
    described.push({ count: end - start, sha256: createHash('sha256').update(chunk).digest('hex') });
  }
  return {
    manifest: { encoding: BLACKLIST_PACKED_ENCODING, count: entries.length, sha256: whole.digest('hex'), chunks: described },
    chunks,
  };
}

/**
 * Checks chunks against their manifest and decodes them, one chunk at a time, so that the
 * chunks may come lazily from storage. Returns the sorted entries, or every problem found: a
 * chunk count, size or hash that does not match, or entries out of order.
 */
export function unpackBlacklist(manifest: PackedListManifest, chunks: Iterable<Uint8Array>): { ok: true; entries: BigUint64Array } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const entries = new BigUint64Array(manifest.count);
  const view = words(entries);
  const whole = createHash('sha256');
  let offset = 0;
  let index = 0;
  for (const chunk of chunks) {
    whole.update(chunk);
    const expected = manifest.chunks[index];
    if (expected) {
      const sha256 = createHash('sha256').update(chunk).digest('hex');
      if (chunk.length !== expected.count * ENTRY_BYTES) problems.push(`packed.chunks.${index}: ${chunk.length} bytes, expected ${expected.count * ENTRY_BYTES} (${expected.count} entries of 8 bytes); the chunk is truncated or padded`);
      if (sha256 !== expected.sha256) problems.push(`packed.chunks.${index}: SHA-256 ${sha256} does not match the manifest's ${expected.sha256}`);
      if (problems.length === 0) {
        const data = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        for (let position = 0; position < chunk.byteLength; position += ENTRY_BYTES) {
          view[offset * 2 + HIGH] = data.getUint32(position, false);
          view[offset * 2 + LOW] = data.getUint32(position + 4, false);
          offset += 1;
        }
      }
    }
    index += 1;
  }
  if (index !== manifest.chunks.length) problems.push(`packed: the manifest lists ${manifest.chunks.length} chunks, ${index} arrived`);
  const sha256 = whole.digest('hex');
  if (sha256 !== manifest.sha256) problems.push(`packed.sha256: the chunks hash to ${sha256}, the manifest carries ${manifest.sha256}`);
  if (problems.length > 0) return { ok: false, problems };

  for (let entry = 1; entry < entries.length; entry += 1) {
    if (compareEntries(view, entry, view, entry - 1) <= 0) {
      return { ok: false, problems: [`packed: entry ${entry} (${bigIntToAsn(entries[entry]!)}) is not above entry ${entry - 1}; the encoding ${BLACKLIST_PACKED_ENCODING} requires ascending order without duplicates`] };
    }
  }
  return { ok: true, entries };
}
