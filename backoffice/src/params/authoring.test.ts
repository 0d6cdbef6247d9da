import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bigIntToAsn, blacklistBodySchema, generateParameterSigningKeys, verifyParameterSetSignature } from '@busfare/shared-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ParameterAuthoring, ParameterAuthoringError, fullBlacklistEntries } from './authoring.js';
import { defaultFareTable } from './default-fare-table.js';
import { ParameterRepository } from './parameter-repository.js';

const KEYS = generateParameterSigningKeys();
const NOW = new Date('2026-01-05T08:00:00+08:00');
const A = '0000000000000001';
const B = '0000000000000002';
const C = '0000000000000003';

function problemsOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ParameterAuthoringError) return error.problems;
    throw error;
  }
  throw new Error('expected a ParameterAuthoringError');
}

describe('ParameterAuthoring', () => {
  let dir: string;
  let repository: ParameterRepository;
  let authoring: ParameterAuthoring;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-authoring-'));
    repository = new ParameterRepository(join(dir, 'office.db'));
    authoring = new ParameterAuthoring({ repository, signingKey: KEYS.privateKey, now: () => NOW });
  });

  afterEach(() => {
    repository.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs and stores a fare table', () => {
    const { set } = authoring.create({ kind: 'fare-table', body: defaultFareTable(['3104']), version: 3 });
    expect(set.version).toBe(3);
    expect(set.effectiveFrom).toBe(NOW.toISOString());
    expect(verifyParameterSetSignature(set, KEYS.publicKey)).toEqual([]);
    expect(repository.unpublished().map((publication) => publication.set.version)).toEqual([3]);
  });

  it('lists every problem of a set', () => {
    authoring.create({ kind: 'fare-table', body: defaultFareTable(['3104']), version: 3 });
    const body = { ...defaultFareTable(['3104']), cardTypeByCode: { '9': 'vip' }, lowBalanceWarningFen: -1 };
    const problems = problemsOf(() => authoring.create({ kind: 'fare-table', body, version: 3, effectiveFrom: '2025-12-01T00:00:00+08:00' }));
    expect(problems).toContainEqual('version: fare-table version 3 is already stored; use 4 or higher');
    expect(problems).toContainEqual(expect.stringMatching(/^effectiveFrom: 2025-12-01T00:00:00\+08:00 is more than 168 h in the past/));
    expect(problems).toContainEqual(expect.stringMatching(/^body\.cardTypeByCode\.9:/));
    expect(problems).toContainEqual(expect.stringMatching(/^body\.lowBalanceWarningFen:/));
  });

  it('rejects a malformed effective time', () => {
    expect(problemsOf(() => authoring.create({ kind: 'issuers', body: { issuers: [{ prefix: '3104', name: 'City', accepted: true }], purchaseKeyVersions: [1] }, effectiveFrom: 'tomorrow' }))).toEqual([
      'effectiveFrom: "tomorrow" is not an ISO 8601 time with an offset',
    ]);
  });

  it('packs a large full blacklist', () => {
    const entries = Array.from({ length: 70_000 }, (_, index) => bigIntToAsn(BigInt(70_000 - index)));
    const publication = authoring.create({ kind: 'blacklist', body: { mode: 'full', entries } });
    const body = blacklistBodySchema.parse(publication.set.body);
    expect(body.mode).toBe('full');
    expect(body.mode === 'full' ? body.packed?.count : undefined).toBe(70_000);
    expect(publication.chunks).toHaveLength(2);

    const stored = repository.latestFullBlacklist()!;
    const decoded = fullBlacklistEntries(stored);
    expect(decoded.length).toBe(70_000);
    expect(bigIntToAsn(decoded[0]!)).toBe(A);
  });

  it('turns blacklist changes into one cumulative delta', () => {
    expect(authoring.changeBlacklist([A, B], []).set.body).toEqual({ mode: 'full', entries: [A, B] });
    expect(authoring.changeBlacklist([C, A], []).set.body).toEqual({ mode: 'delta', baseVersion: 1, add: [C], remove: [] });
    expect(authoring.changeBlacklist([], [B]).set.body).toEqual({ mode: 'delta', baseVersion: 1, add: [C], remove: [B] });
    const latest = authoring.changeBlacklist([B], [C]);
    expect(latest.set.version).toBe(4);
    expect(latest.set.body).toEqual({ mode: 'delta', baseVersion: 1, add: [], remove: [] });
  });

  it('lists every invalid ASN', () => {
    const problems = problemsOf(() => authoring.changeBlacklist(['12', A], ['xyz', A]));
    expect(problems).toEqual([
      'add.0: "12" is not 16 hex digits (the right-most 8 bytes of the ASN)',
      'remove.0: "xyz" is not 16 hex digits (the right-most 8 bytes of the ASN)',
      `ASN ${A} is both added and removed`,
    ]);
  });

  it('rejects a delta on an older full list', () => {
    authoring.changeBlacklist([A], []);
    authoring.create({ kind: 'blacklist', body: { mode: 'full', entries: [B] } });
    expect(problemsOf(() => authoring.create({ kind: 'blacklist', body: { mode: 'delta', baseVersion: 1, add: [C] } }))).toEqual([
      'body.baseVersion: deltas apply to the newest full list, version 2, not 1',
    ]);
  });
});
