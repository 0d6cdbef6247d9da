import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BLACKLIST_DELTA_TOPIC_KIND,
  PARAMETER_SET_SCHEMA,
  bigIntToAsn,
  blacklistChunkTopicKind,
  canonicalJson,
  generateParameterSigningKeys,
  packBlacklist,
  sha256Hex,
  signParameterSet,
  sortedAsnArray,
} from '@busfare/shared-protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../ports/clock.js';
import { MemoryDriverScreen } from '../ports/driver-screen.js';
import { ParameterStore } from './parameter-store.js';

const KEYS = generateParameterSigningKeys();
const NOW = new Date('2026-01-05T08:00:00+08:00');
const A = '0000000000000001';
const B = '0000000000000002';
const C = '0000000000000003';

function set(kind: string, version: number, body: unknown, effectiveFrom = '2026-01-05T07:00:00+08:00'): Buffer {
  const unsigned = { schema: PARAMETER_SET_SCHEMA, kind, version, effectiveFrom, publishedAt: '2026-01-05T07:00:00+08:00', bodySha256: sha256Hex(canonicalJson(body)), body };
  return Buffer.from(JSON.stringify(signParameterSet(unsigned, KEYS.privateKey)));
}

describe('ParameterStore blacklist', () => {
  let dir: string;
  let clock: ManualClock;
  let screen: MemoryDriverScreen;
  let store: ParameterStore;

  const open = () => ParameterStore.open(join(dir, 'parameters.db'), { publicKey: KEYS.publicKey, clock, driverScreen: screen });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-blacklist-'));
    clock = new ManualClock(NOW);
    screen = new MemoryDriverScreen();
    store = open();
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has an empty list before any set', () => {
    expect(store.activeBlacklist(NOW).size).toBe(0);
    expect(store.blacklistLookup().has(A)).toBe(false);
  });

  it('applies an inline full list and a delta', () => {
    expect(store.accept(set('blacklist', 1, { mode: 'full', entries: [A, B] }), { kind: 'blacklist' })).toEqual({ ok: true });
    expect(store.accept(set('blacklist', 2, { mode: 'delta', baseVersion: 1, add: [C], remove: [A] }), { kind: BLACKLIST_DELTA_TOPIC_KIND })).toEqual({ ok: true });

    const lookup = store.blacklistLookup();
    expect(lookup.has(A)).toBe(false);
    expect(lookup.has(B)).toBe(true);
    expect(lookup.has(C)).toBe(true);
    expect(store.versions(NOW).active.blacklist).toBe(2);
  });

  it('switches to a pending delta at its effective time', () => {
    store.accept(set('blacklist', 1, { mode: 'full', entries: [A] }), { kind: 'blacklist' });
    store.accept(set('blacklist', 2, { mode: 'delta', baseVersion: 1, add: [B] }, '2026-01-05T09:00:00+08:00'), { kind: BLACKLIST_DELTA_TOPIC_KIND });
    expect(store.blacklistLookup().has(B)).toBe(false);
    expect(store.versions(NOW)).toEqual({ active: { blacklist: 1 }, pending: { blacklist: 2 } });

    clock.advance(60 * 60_000);
    expect(store.blacklistLookup().has(B)).toBe(true);
  });

  it('holds a delta until its base arrives', () => {
    const delta = store.accept(set('blacklist', 5, { mode: 'delta', baseVersion: 4, add: [B] }), { kind: BLACKLIST_DELTA_TOPIC_KIND });
    expect(delta).toEqual({ ok: true, waiting: 'blacklist version 4' });
    expect(store.accept(set('blacklist', 4, { mode: 'full', entries: [A] }), { kind: 'blacklist' })).toEqual({ ok: true });

    expect(store.versions(NOW).active.blacklist).toBe(5);
    expect(store.blacklistLookup().has(A)).toBe(true);
    expect(store.blacklistLookup().has(B)).toBe(true);
  });

  it('assembles packed chunks in any order', () => {
    const entries = sortedAsnArray(Array.from({ length: 2_500 }, (_, index) => bigIntToAsn(BigInt(index * 7 + 1))));
    const { manifest, chunks } = packBlacklist(entries, 1_000);
    expect(store.accept(chunks[2], { kind: blacklistChunkTopicKind(2) })).toEqual({ ok: true, waiting: 'a blacklist manifest' });
    expect(store.accept(set('blacklist', 1, { mode: 'full', packed: manifest }), { kind: 'blacklist' })).toEqual({ ok: true, waiting: '2 blacklist chunks' });
    expect(store.accept(chunks[0], { kind: blacklistChunkTopicKind(0) })).toEqual({ ok: true, waiting: '1 blacklist chunks' });
    expect(store.accept(chunks[1], { kind: blacklistChunkTopicKind(1) })).toEqual({ ok: true });

    expect(store.activeBlacklist(NOW).size).toBe(2_500);
    expect(store.blacklistLookup().has(bigIntToAsn(7n * 1_234n + 1n))).toBe(true);
    expect(store.blacklistLookup().has(bigIntToAsn(2n))).toBe(false);
    expect(store.accept(chunks[0], { kind: blacklistChunkTopicKind(0) })).toEqual({ ok: true, duplicate: true });
  });

  it('keeps a packed list across a restart', () => {
    const entries = sortedAsnArray([A, B, C]);
    const { manifest, chunks } = packBlacklist(entries, 2);
    expect(store.acceptPackedBlacklist(set('blacklist', 1, { mode: 'full', packed: manifest }), chunks)).toEqual({ ok: true });
    store.accept(set('blacklist', 2, { mode: 'delta', baseVersion: 1, remove: [B] }), { kind: BLACKLIST_DELTA_TOPIC_KIND });
    store.close();

    store = open();
    expect(store.versions(NOW).active.blacklist).toBe(2);
    expect(store.blacklistLookup().has(A)).toBe(true);
    expect(store.blacklistLookup().has(B)).toBe(false);
    expect(store.accept(set('blacklist', 3, { mode: 'delta', baseVersion: 1, add: [B] }), { kind: BLACKLIST_DELTA_TOPIC_KIND })).toEqual({ ok: true });
    expect(store.blacklistLookup().has(B)).toBe(true);
  });

  it('deletes superseded versions', () => {
    store.accept(set('blacklist', 1, { mode: 'full', entries: [A] }), { kind: 'blacklist' });
    store.accept(set('blacklist', 2, { mode: 'delta', baseVersion: 1, add: [B] }), { kind: BLACKLIST_DELTA_TOPIC_KIND });
    store.accept(set('blacklist', 3, { mode: 'delta', baseVersion: 1, add: [B, C] }), { kind: BLACKLIST_DELTA_TOPIC_KIND });
    store.accept(set('blacklist', 4, { mode: 'delta', baseVersion: 1, add: [C] }, '2026-01-05T09:00:00+08:00'), { kind: BLACKLIST_DELTA_TOPIC_KIND });
    store.close();

    const db = new Database(join(dir, 'parameters.db'), { readonly: true });
    const versions = db.prepare("SELECT version FROM parameter_sets WHERE kind = 'blacklist' ORDER BY version").pluck().all();
    db.close();
    expect(versions).toEqual([1, 3, 4]);

    store = open();
    expect(store.versions(NOW)).toEqual({ active: { blacklist: 3 }, pending: { blacklist: 4 } });
    expect(store.blacklistLookup().has(B)).toBe(true);
  });

  it('rejects a chunk with a wrong hash and keeps waiting', () => {
    store.accept(set('blacklist', 1, { mode: 'full', entries: [C] }), { kind: 'blacklist' });
    const { manifest, chunks } = packBlacklist(sortedAsnArray([A, B]), 1);
    store.accept(set('blacklist', 2, { mode: 'full', packed: manifest }), { kind: 'blacklist' });

    const result = store.accept(Buffer.from(chunks[0]!.subarray(0, 4)), { kind: blacklistChunkTopicKind(0) });
    expect(result.ok ? [] : result.problems).toEqual([expect.stringMatching(/^packed\.chunks\.0: received 4 bytes with SHA-256 .* expects/)]);
    expect(screen.alerts.has('parameters-rejected')).toBe(true);
    expect(store.blacklistLookup().has(C)).toBe(true);

    store.accept(chunks[0], { kind: blacklistChunkTopicKind(0) });
    expect(store.accept(chunks[1], { kind: blacklistChunkTopicKind(1) })).toEqual({ ok: true });
    expect(store.blacklistLookup().has(A)).toBe(true);
    expect(store.blacklistLookup().has(C)).toBe(false);
    expect(screen.alerts.has('parameters-rejected')).toBe(false);
  });

  it('rejects a delta on the full-list topic', () => {
    store.accept(set('blacklist', 1, { mode: 'full', entries: [A] }), { kind: 'blacklist' });
    const result = store.accept(set('blacklist', 2, { mode: 'delta', baseVersion: 1, add: [B] }), { kind: 'blacklist' });
    expect(result).toEqual({ ok: false, problems: ['body.mode: parameters/blacklist carries only full lists; deltas go to parameters/blacklist-delta'] });
  });

  it('rejects a delta that adds and removes one ASN', () => {
    store.accept(set('blacklist', 1, { mode: 'full', entries: [A] }), { kind: 'blacklist' });
    const result = store.accept(set('blacklist', 2, { mode: 'delta', baseVersion: 1, add: [B], remove: [B] }), { kind: BLACKLIST_DELTA_TOPIC_KIND });
    expect(result).toEqual({ ok: false, problems: ['body.remove.0: ASN 0000000000000002 is both added and removed; list it in one of the two'] });
  });

  it('rejects a delta based on a later version', () => {
    const result = store.accept(set('blacklist', 2, { mode: 'delta', baseVersion: 2, add: [B] }), { kind: BLACKLIST_DELTA_TOPIC_KIND });
    expect(result.ok ? [] : result.problems).toEqual(['body.baseVersion: a delta applies on top of an older version, but base 2 is not below version 2']);
  });

  it('rejects malformed ASNs and lists each', () => {
    const result = store.accept(set('blacklist', 1, { mode: 'full', entries: ['00000000000001', 'zz00000000000000', A] }), { kind: 'blacklist' });
    const problems = result.ok ? [] : result.problems;
    expect(problems).toContainEqual(expect.stringMatching(/^body\.entries\.0:/));
    expect(problems).toContainEqual(expect.stringMatching(/^body\.entries\.1:/));
    expect(problems).toHaveLength(2);
  });

  it('ignores an empty retained message', () => {
    expect(store.accept(Buffer.alloc(0), { kind: BLACKLIST_DELTA_TOPIC_KIND })).toEqual({ ok: true, duplicate: true });
    expect(store.openRejections()).toEqual([]);
  });
});
