import { randomBytes } from 'node:crypto';
import { BLACKLIST_PACKED_ENCODING, bigIntToAsn, mergeSorted, packBlacklist, sortedAsnArray, unpackBlacklist } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { BlacklistSet } from './blacklist-set.js';

const A = '0000000000000001';
const B = '00000000000000FF';
const C = 'FFFFFFFFFFFFFFFE';
const D = '8000000000000000';

function randomAsns(count: number): string[] {
  return Array.from(new BigUint64Array(randomBytes(count * 8).buffer), bigIntToAsn);
}

describe('BlacklistSet', () => {
  it('finds listed ASNs only', () => {
    const set = BlacklistSet.fromAsns([C, A, B, A]);
    expect(set.size).toBe(3);
    expect(set.has(A)).toBe(true);
    expect(set.has(B)).toBe(true);
    expect(set.has(C)).toBe(true);
    expect(set.has(D)).toBe(false);
  });

  it('treats malformed ASN text as unlisted', () => {
    const set = BlacklistSet.fromAsns([A]);
    expect(set.has('0000000000000001 ')).toBe(false);
    expect(set.has('1')).toBe(false);
    expect(set.has('000000000000000g')).toBe(false);
  });

  it('rejects an invalid ASN when built', () => {
    expect(() => BlacklistSet.fromAsns(['12345'])).toThrow(/invalid blacklist ASN "12345"/);
  });

  it('applies a delta without changing the original', () => {
    const base = BlacklistSet.fromAsns([A, B]);
    const next = base.applyDelta([C, A], [B, D]);
    expect([...next.sortedEntries()].map(bigIntToAsn)).toEqual([A, C]);
    expect(base.has(B)).toBe(true);
    expect(base.has(C)).toBe(false);
  });

  it('matches a reference merge on random data', () => {
    const base = randomAsns(5_000);
    const add = [...randomAsns(500), ...base.slice(0, 50)];
    const remove = [...base.slice(100, 400), ...randomAsns(100)];
    const expected = new Set(base);
    for (const asn of add) expected.add(asn);
    for (const asn of remove) expected.delete(asn);

    const merged = mergeSorted(sortedAsnArray(base), sortedAsnArray(add), sortedAsnArray(remove));
    expect([...merged].map(bigIntToAsn)).toEqual([...expected].sort());
  });

  it('leaves out an ASN both added and removed', () => {
    const merged = mergeSorted(sortedAsnArray([A, B]), sortedAsnArray([B, C]), sortedAsnArray([B, C]));
    expect([...merged].map(bigIntToAsn)).toEqual([A]);
  });
});

describe('packed blacklist', () => {
  const entries = sortedAsnArray(randomAsns(2_500));

  it('round-trips through chunks', () => {
    const { manifest, chunks } = packBlacklist(entries, 1_000);
    expect(manifest.encoding).toBe(BLACKLIST_PACKED_ENCODING);
    expect(manifest.chunks.map((chunk) => chunk.count)).toEqual([1_000, 1_000, 500]);
    expect(chunks[0]!.subarray(0, 8).toString('hex').toUpperCase()).toBe(bigIntToAsn(entries[0]!));
    const unpacked = unpackBlacklist(manifest, chunks);
    expect(unpacked.ok).toBe(true);
    expect(unpacked.ok ? [...unpacked.entries] : []).toEqual([...entries]);
  });

  it('names a truncated chunk', () => {
    const { manifest, chunks } = packBlacklist(entries, 1_000);
    const result = unpackBlacklist(manifest, [chunks[0]!, chunks[1]!.subarray(0, 7_996), chunks[2]!]);
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toContainEqual(expect.stringMatching(/^packed\.chunks\.1: 7996 bytes, expected 8000/));
    expect(problems).toContainEqual(expect.stringMatching(/^packed\.chunks\.1: SHA-256 .* does not match/));
    expect(problems).toContainEqual(expect.stringMatching(/^packed\.sha256:/));
  });

  it('names a missing chunk', () => {
    const { manifest, chunks } = packBlacklist(entries, 1_000);
    const result = unpackBlacklist(manifest, chunks.slice(0, 2));
    expect(result.ok ? [] : result.problems).toContainEqual('packed: the manifest lists 3 chunks, 2 arrived');
  });

  it('rejects entries out of order', () => {
    const reversed = entries.slice().reverse();
    const { manifest, chunks } = packBlacklist(reversed, 1_000);
    const result = unpackBlacklist(manifest, chunks);
    expect(result.ok ? [] : result.problems).toEqual([expect.stringMatching(/^packed: entry 1 .* is not above entry 0/)]);
  });
});
