import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { PARAMETER_SET_SCHEMA, canonicalJson, generateParameterSigningKeys, sha256Hex, signParameterSet } from '@busfare/shared-protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../ports/clock.js';
import { MemoryDriverScreen } from '../ports/driver-screen.js';
import { ParameterStore } from './parameter-store.js';

const KEYS = generateParameterSigningKeys();
const NOW = new Date('2026-01-05T08:00:00+08:00');
const DAY_MS = 24 * 60 * 60 * 1000;

const ISSUERS = { issuers: [{ prefix: '3104', name: 'City card', accepted: true }], purchaseKeyVersions: [1] };
const ROUTES = {
  stops: [
    { id: 'S1', name: 'North', lat: 30.1, lon: 120.1 },
    { id: 'S2', name: 'South', lat: 30.2, lon: 120.2 },
  ],
  routes: [{ id: '12', shortName: '12', longName: 'North - South', patterns: [{ direction: 0, stops: ['S1', 'S2'] }] }],
};

function set(kind: string, version: number, body: unknown, effectiveFrom = '2026-01-05T07:00:00+08:00'): Record<string, unknown> {
  const unsigned = { schema: PARAMETER_SET_SCHEMA, kind, version, effectiveFrom, publishedAt: '2026-01-05T07:00:00+08:00', bodySha256: sha256Hex(canonicalJson(body)), body };
  return signParameterSet(unsigned, KEYS.privateKey);
}

describe('ParameterStore validation', () => {
  let dir: string;
  let screen: MemoryDriverScreen;
  let logLines: { msg: string; problems?: string[]; kind?: string }[];
  let store: ParameterStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-param-checks-'));
    screen = new MemoryDriverScreen();
    logLines = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    store = ParameterStore.open(join(dir, 'parameters.db'), { publicKey: KEYS.publicKey, clock: new ManualClock(NOW), driverScreen: screen, logger: pino({ level: 'info' }, sink) });
    expect(store.accept(set('issuers', 1, ISSUERS), { kind: 'issuers' })).toEqual({ ok: true });
    expect(store.accept(set('routes', 1, ROUTES), { kind: 'routes' })).toEqual({ ok: true });
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function expectRejected(kind: string, raw: unknown, expected: RegExp[]): string[] {
    const result = store.accept(raw, { kind });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    for (const pattern of expected) expect(problems.some((problem) => pattern.test(problem)), `${pattern} in ${JSON.stringify(problems)}`).toBe(true);
    expect(store.versions(NOW).active).toEqual({ issuers: 1, routes: 1 });
    return problems;
  }

  it('checks the issuers body', () => {
    const problems = expectRejected('issuers', set('issuers', 2, { issuers: [{ prefix: '31x4', name: '', accepted: 'yes' }], purchaseKeyVersions: [] }), [
      /^body\.issuers\.0\.prefix:/,
      /^body\.issuers\.0\.name:/,
      /^body\.issuers\.0\.accepted:/,
      /^body\.purchaseKeyVersions:/,
    ]);
    expect(problems).toHaveLength(4);
  });

  it('checks the routes body', () => {
    const body = { ...ROUTES, routes: [{ ...ROUTES.routes[0], patterns: [{ direction: 0, stops: ['S1', 'S9'] }] }] };
    expectRejected('routes', set('routes', 2, body), [/^body\.routes\.0\.patterns\.0\.stops\.1: unknown stop id "S9"/]);
  });

  it('rejects an unknown kind', () => {
    expectRejected('tariffs', set('tariffs', 1, {}), [/^kind:/]);
  });

  it('rejects an effective time beyond the age limit', () => {
    const stale = new Date(NOW.getTime() - 8 * DAY_MS).toISOString();
    expectRejected('routes', set('routes', 2, ROUTES, stale), [/^effectiveFrom: .* is more than 168 h in the past; the set is stale or replayed/]);
  });

  it('accepts an old set when none of its kind is stored', () => {
    const old = new Date(NOW.getTime() - 30 * DAY_MS).toISOString();
    const fareTable = { currency: 'CNY', flatFareFen: 200, cardTypes: { ordinary: { allowed: true, ratePercent: 100 } }, cardTypeByCode: { '1': 'ordinary' }, localIssuerPrefixes: ['3104'], lowBalanceWarningFen: 500 };
    expect(store.accept(set('fare-table', 1, fareTable, old), { kind: 'fare-table' })).toEqual({ ok: true });
  });

  it('raises the alert with every problem in log and status', () => {
    const problems = expectRejected('issuers', set('issuers', 2, { issuers: [], purchaseKeyVersions: [] }), [/^body\.issuers:/, /^body\.purchaseKeyVersions:/]);

    expect(screen.alerts.get('parameters-rejected')).toEqual({ id: 'parameters-rejected', severity: 'warning', messageId: 'alert.parameters-rejected' });
    expect(store.statusAlerts()).toEqual([{ id: 'parameters-rejected', severity: 'warning', messageId: 'alert.parameters-rejected' }]);
    expect(store.openRejections()).toEqual([{ kind: 'issuers', at: NOW.toISOString(), problems }]);
    const logged = logLines.find((line) => line.msg === 'rejected parameter set, the last good set stays active');
    expect(logged?.kind).toBe('issuers');
    expect(logged?.problems).toEqual(problems);
  });

  it('clears the alert once every rejected kind has a good set', () => {
    store.accept('{"truncated', { kind: 'issuers' });
    store.accept(set('routes', 2, { stops: [], routes: 'none' }), { kind: 'routes' });
    expect(store.openRejections().map((rejection) => rejection.kind)).toEqual(['issuers', 'routes']);

    expect(store.accept(set('issuers', 2, ISSUERS), { kind: 'issuers' })).toEqual({ ok: true });
    expect(screen.alerts.has('parameters-rejected')).toBe(true);
    expect(store.accept(set('routes', 2, ROUTES), { kind: 'routes' })).toEqual({ ok: true });
    expect(screen.alerts.has('parameters-rejected')).toBe(false);
    expect(store.statusAlerts()).toEqual([]);
  });

  it('raises an open rejection on a screen attached later', () => {
    store.accept('{"truncated', { kind: 'issuers' });
    const later = new MemoryDriverScreen();
    store.attachDriverScreen(later);
    expect(later.alerts.has('parameters-rejected')).toBe(true);
  });
});
