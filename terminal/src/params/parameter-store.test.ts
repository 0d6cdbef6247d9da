import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, generateParameterSigningKeys, PARAMETER_SET_SCHEMA, sha256Hex, signParameterSet, type FareTableBody } from '@busfare/shared-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ParameterStore } from './parameter-store.js';

function fareTableBody(flatFareFen = 200): FareTableBody {
  return {
    currency: 'CNY',
    flatFareFen,
    routeFareFen: { '12': 100 },
    cardTypes: { ordinary: { allowed: true, ratePercent: 100 }, student: { allowed: true, ratePercent: 50 } },
    cardTypeByCode: { '1': 'ordinary', '2': 'student' },
    localIssuerPrefixes: ['3104'],
    lowBalanceWarningFen: 500,
  };
}

const KEYS = generateParameterSigningKeys();

function fareTableSet(version: number, effectiveFrom: string, body: unknown = fareTableBody()): Record<string, unknown> {
  return signed({
    schema: PARAMETER_SET_SCHEMA,
    kind: 'fare-table',
    version,
    effectiveFrom,
    publishedAt: '2026-01-01T00:00:00+08:00',
    bodySha256: sha256Hex(canonicalJson(body)),
    body,
  });
}

/** Signs a set as the back office does, so that only the changes made after signing break it. */
function signed(set: Record<string, unknown>): Record<string, unknown> {
  return signParameterSet(set, KEYS.privateKey);
}

const MORNING = new Date('2026-01-05T08:00:00+08:00');

describe('ParameterStore', () => {
  let dir: string;
  let store: ParameterStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-params-'));
    store = ParameterStore.open(join(dir, 'parameters.db'), { publicKey: KEYS.publicKey, clock: { now: () => MORNING, monotonicMs: () => 0 } });
    expect(store.accept(fareTableSet(1, '2026-01-01T00:00:00+08:00', fareTableBody(200)))).toEqual({ ok: true });
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function expectRejected(raw: unknown, expected: RegExp[]): string[] {
    const result = store.accept(raw);
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    for (const pattern of expected) expect(problems.some((problem) => pattern.test(problem)), `${pattern} in ${JSON.stringify(problems)}`).toBe(true);
    expect(store.activeFareTable(MORNING)?.version).toBe(1);
    return problems;
  }

  it('activates a set at its effective time', () => {
    expect(store.accept(fareTableSet(2, '2026-01-05T12:00:00+08:00', fareTableBody(300)))).toEqual({ ok: true });

    expect(store.activeFareTable(MORNING)?.version).toBe(1);
    expect(store.activeFareTable(MORNING)?.body.flatFareFen).toBe(200);
    expect(store.versions(MORNING)).toEqual({ active: { 'fare-table': 1 }, pending: { 'fare-table': 2 } });

    const noon = new Date('2026-01-05T12:00:00+08:00');
    expect(store.activeFareTable(noon)?.version).toBe(2);
    expect(store.activeFareTable(noon)?.body.flatFareFen).toBe(300);
    expect(store.versions(noon)).toEqual({ active: { 'fare-table': 2 }, pending: {} });
  });

  it('has no fare table before the first effective time', () => {
    expect(store.activeFareTable(new Date('2025-12-31T00:00:00+08:00'))).toBeUndefined();
  });

  it('fills body defaults', () => {
    const body: Partial<FareTableBody> = fareTableBody();
    delete body.routeFareFen;
    expect(store.accept(fareTableSet(2, '2026-01-02T00:00:00+08:00', body))).toEqual({ ok: true });
    expect(store.activeFareTable(MORNING)?.body.routeFareFen).toEqual({});
  });

  it('accepts JSON bytes and a redelivered set', () => {
    const payload = Buffer.from(JSON.stringify(fareTableSet(2, '2026-01-02T00:00:00+08:00')));
    expect(store.accept(payload)).toEqual({ ok: true });
    expect(store.accept(payload)).toEqual({ ok: true, duplicate: true });
    expect(store.activeFareTable(MORNING)?.version).toBe(2);
  });

  it('keeps sets across reopen', () => {
    store.accept(fareTableSet(2, '2026-01-05T12:00:00+08:00', fareTableBody(300)));
    store.close();
    store = ParameterStore.open(join(dir, 'parameters.db'), { publicKey: KEYS.publicKey, clock: { now: () => MORNING, monotonicMs: () => 0 } });
    expect(store.versions(MORNING)).toEqual({ active: { 'fare-table': 1 }, pending: { 'fare-table': 2 } });
    expect(store.activeFareTable(new Date('2026-01-06T00:00:00+08:00'))?.body.flatFareFen).toBe(300);
  });

  it('rejects a wrong body hash', () => {
    const set = fareTableSet(2, '2026-01-02T00:00:00+08:00');
    set.bodySha256 = 'f'.repeat(64);
    expectRejected(set, [/^bodySha256: does not match the body/]);
  });

  it('rejects truncated JSON', () => {
    const text = JSON.stringify(fareTableSet(2, '2026-01-02T00:00:00+08:00'));
    expectRejected(text.slice(0, text.length / 2), [/not valid JSON/]);
  });

  it('rejects a body with missing fields', () => {
    const body = { currency: 'CNY', flatFareFen: 200 };
    const problems = expectRejected(fareTableSet(2, '2026-01-02T00:00:00+08:00', body), [/^body\.cardTypes/, /^body\.cardTypeByCode/, /^body\.localIssuerPrefixes/, /^body\.lowBalanceWarningFen/]);
    expect(problems).toHaveLength(4);
  });

  it('rejects an unknown card type', () => {
    const body = fareTableBody() as unknown as Record<string, Record<string, unknown>>;
    body.cardTypeByCode!['9'] = 'vip';
    body.cardTypes!.vip = { allowed: true, ratePercent: 0 };
    const problems = expectRejected(fareTableSet(2, '2026-01-02T00:00:00+08:00', body), [/^body\.cardTypeByCode\.9/, /^body\.cardTypes/]);
    expect(problems.length).toBeGreaterThanOrEqual(2);
  });

  it('rejects card-type codes no card carries', () => {
    // The card carries one byte, so a code above 255 never matches.
    for (const code of ['256', '999']) {
      const body = fareTableBody();
      body.cardTypeByCode[code] = 'student';
      expectRejected(fareTableSet(2, '2026-01-02T00:00:00+08:00', body), [new RegExp(`^body\\.cardTypeByCode\\.${code}`)]);
    }
    const body = fareTableBody();
    body.cardTypeByCode['0'] = 'ordinary';
    body.cardTypeByCode['255'] = 'student';
    expect(store.accept(fareTableSet(2, '2026-01-02T00:00:00+08:00', body))).toEqual({ ok: true });
  });

  it('rejects two keys for one card-type byte', () => {
    const body = fareTableBody();
    body.cardTypeByCode['3'] = 'student';
    body.cardTypeByCode['03'] = 'ordinary';
    expectRejected(fareTableSet(2, '2026-01-02T00:00:00+08:00', body), [/^body\.cardTypeByCode\.03/]);
  });

  it('accepts a card-type code with leading zeros', () => {
    const body = fareTableBody();
    body.cardTypeByCode['003'] = 'student';
    expect(store.accept(fareTableSet(2, '2026-01-02T00:00:00+08:00', body))).toEqual({ ok: true });
  });

  it('lists every envelope problem', () => {
    const set = fareTableSet(0, 'yesterday');
    set.schema = 'busfare.parameters/0';
    expectRejected(set, [/^schema:/, /^version:/, /^effectiveFrom:/]);
  });

  it('rejects a value that is not a set', () => {
    expectRejected(42, [/^\(set\):/]);
    expectRejected(null, [/^\(set\):/]);
  });

  it('rejects a kind other than the topic kind', () => {
    const result = store.accept(fareTableSet(2, '2026-01-02T00:00:00+08:00'), { kind: 'blacklist' });
    expect(result).toEqual({ ok: false, problems: ['kind: "fare-table" does not match the topic kind "blacklist"'] });
  });

  it('rejects a changed body under a stored version', () => {
    expectRejected(fareTableSet(1, '2026-01-01T00:00:00+08:00', fareTableBody(999)), [/already stored with a different body/]);
    expect(store.activeFareTable(MORNING)?.body.flatFareFen).toBe(200);
  });

  it('rejects a version older than the stored one', () => {
    store.accept(fareTableSet(3, '2026-01-02T00:00:00+08:00'));
    const result = store.accept(fareTableSet(2, '2026-01-02T00:00:00+08:00'));
    expect(result).toEqual({ ok: false, problems: ['version: fare-table version 2 is older than stored version 3'] });
  });

  it('loads a fare table from a file', () => {
    const path = join(dir, 'fare-table.json');
    writeFileSync(path, JSON.stringify(fareTableSet(2, '2026-01-02T00:00:00+08:00', fareTableBody(150))));
    expect(store.loadFromFile(path)).toEqual({ ok: true });
    expect(store.activeFareTable(MORNING)?.body.flatFareFen).toBe(150);
  });

  it('reports a missing file', () => {
    const result = store.loadFromFile(join(dir, 'missing.json'));
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.problems[0]).toMatch(/cannot read parameter file .*missing\.json/);
  });

  it('prefixes file problems with the path', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"schema":');
    const result = store.loadFromFile(path);
    expect(result.ok ? [] : result.problems).toEqual([expect.stringMatching(/broken\.json: parameter set is not valid JSON/)]);
  });
});
