import { describe, expect, it } from 'vitest';
import type { StoredPublication } from '../params/parameter-repository.js';
import { blacklistLookup } from './blacklist-lookup.js';

const publication = (version: number, body: unknown) => ({ set: { version, body } }) as unknown as StoredPublication;
const CARD = '99000001000000001001';
const KEY = '0001000000001001';

describe('blacklistLookup', () => {
  it('finds a card in the full list by its last 8 bytes', () => {
    const full = publication(1, { mode: 'full', entries: [KEY] });
    const lookup = blacklistLookup({ latestFullBlacklist: () => full, latest: () => full });
    expect(lookup(CARD)).toBe(true);
    expect(lookup('99000001000000001002')).toBe(false);
  });

  it('applies the newest delta on top', () => {
    const full = publication(1, { mode: 'full', entries: [KEY] });
    const removed = blacklistLookup({ latestFullBlacklist: () => full, latest: () => publication(2, { mode: 'delta', baseVersion: 1, remove: [KEY] }) });
    expect(removed(CARD)).toBe(false);
    const added = blacklistLookup({ latestFullBlacklist: () => full, latest: () => publication(2, { mode: 'delta', baseVersion: 1, add: ['0001000000002002'] }) });
    expect(added('99000001000000002002')).toBe(true);
  });

  it('lists nothing before any blacklist is published', () => {
    expect(blacklistLookup({ latestFullBlacklist: () => undefined, latest: () => undefined })(CARD)).toBe(false);
  });
});
