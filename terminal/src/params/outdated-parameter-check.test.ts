import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bigIntToAsn,
  BLACKLIST_DELTA_TOPIC_KIND,
  blacklistChunkTopicKind,
  generateParameterSigningKeys,
  packBlacklist,
  signParameterContent,
  sortedAsnArray,
} from '@busfare/shared-protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../ports/clock.js';
import { MemoryDriverScreen } from '../ports/driver-screen.js';
import { OutdatedParameterCheck, type OutdatedParameterCheckOptions } from './outdated-parameter-check.js';
import { ParameterStore } from './parameter-store.js';

const KEYS = generateParameterSigningKeys();
const logger = pino({ level: 'silent' });
const NOW = new Date('2026-01-05T08:00:00+08:00');
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const A = '0000000000000001';
const B = '0000000000000002';

function set(kind: string, version: number, body: unknown, effectiveFrom = '2026-01-05T07:00:00+08:00'): Buffer {
  return Buffer.from(JSON.stringify(signParameterContent({ kind, version, effectiveFrom, publishedAt: '2026-01-05T06:00:00+08:00', body }, KEYS.privateKey)));
}

/** Blacklist delta 3 on top of full list 2, which the terminal has not received. */
const waitingDelta = () => set('blacklist', 3, { mode: 'delta', baseVersion: 2, add: [B], remove: [] });

describe('OutdatedParameterCheck', () => {
  let dir: string;
  let clock: ManualClock;
  let screen: MemoryDriverScreen;
  let store: ParameterStore;
  let connected: boolean;
  let check: OutdatedParameterCheck;

  const create = (options: Partial<OutdatedParameterCheckOptions> = {}) =>
    new OutdatedParameterCheck({ store, clock, screen, logger, linkConnected: () => connected, graceMinutes: 60, maxOfflineHours: 24, ...options });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-outdated-'));
    clock = new ManualClock(NOW);
    screen = new MemoryDriverScreen();
    store = ParameterStore.open(join(dir, 'parameters.db'), { publicKey: KEYS.publicKey, clock, driverScreen: screen });
    connected = true;
    check = create();
    check.start();
  });

  afterEach(() => {
    check.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('raises nothing while sets are stored', () => {
    expect(check.accept(set('blacklist', 1, { mode: 'full', entries: [A] }), { kind: 'blacklist' })).toEqual({ ok: true });
    clock.advance(48 * HOUR_MS);
    expect(check.check()).toEqual({ alerted: false, overdue: [], offlineTooLong: false });
    expect(screen.alerts.has('parameters-outdated')).toBe(false);
  });

  it('raises for an overdue waiting set', () => {
    expect(check.accept(waitingDelta(), { kind: BLACKLIST_DELTA_TOPIC_KIND })).toEqual({ ok: true, waiting: 'blacklist version 2' });
    clock.advance(59 * MINUTE_MS);
    expect(check.check().alerted).toBe(false);

    clock.advance(2 * MINUTE_MS);
    const state = check.check();
    expect(state.alerted).toBe(true);
    expect(state.overdue).toEqual([{ kind: 'blacklist', version: 3, effectiveFrom: '2026-01-05T07:00:00+08:00', receivedAt: NOW.toISOString() }]);
    expect(screen.alerts.get('parameters-outdated')).toEqual({ id: 'parameters-outdated', severity: 'warning', messageId: 'alert.parameters-outdated' });
  });

  it('clears when the waiting set activates', () => {
    check.accept(waitingDelta(), { kind: BLACKLIST_DELTA_TOPIC_KIND });
    clock.advance(2 * HOUR_MS);
    check.check();
    expect(screen.alerts.has('parameters-outdated')).toBe(true);

    expect(check.accept(set('blacklist', 2, { mode: 'full', entries: [A] }), { kind: 'blacklist' })).toEqual({ ok: true });
    expect(store.versions(clock.now()).active.blacklist).toBe(3);
    expect(screen.alerts.has('parameters-outdated')).toBe(false);
    expect(check.check().overdue).toEqual([]);
  });

  it('raises while packed chunks are missing', () => {
    const entries = sortedAsnArray(Array.from({ length: 1_500 }, (_, index) => bigIntToAsn(BigInt(index * 7 + 1))));
    const { manifest, chunks } = packBlacklist(entries, 1_000);
    expect(check.accept(set('blacklist', 4, { mode: 'full', packed: manifest }), { kind: 'blacklist' })).toEqual({ ok: true, waiting: '2 blacklist chunks' });
    check.accept(chunks[0]!, { kind: blacklistChunkTopicKind(0) });
    clock.advance(61 * MINUTE_MS);
    expect(check.check().overdue.map((set) => set.version)).toEqual([4]);

    expect(check.accept(chunks[1]!, { kind: blacklistChunkTopicKind(1) })).toEqual({ ok: true });
    expect(store.versions(clock.now()).active.blacklist).toBe(4);
    expect(screen.alerts.has('parameters-outdated')).toBe(false);
  });

  it('counts grace from later effective time', () => {
    const effectiveFrom = new Date(NOW.getTime() + 3 * HOUR_MS).toISOString();
    check.accept(set('blacklist', 3, { mode: 'delta', baseVersion: 2, add: [B], remove: [] }, effectiveFrom), { kind: BLACKLIST_DELTA_TOPIC_KIND });
    clock.advance(3 * HOUR_MS + 59 * MINUTE_MS);
    expect(check.check().alerted).toBe(false);
    clock.advance(2 * MINUTE_MS);
    expect(check.check().alerted).toBe(true);
  });

  it('keeps first arrival of redelivered set', () => {
    check.accept(waitingDelta(), { kind: BLACKLIST_DELTA_TOPIC_KIND });
    clock.advance(50 * MINUTE_MS);
    // A reconnect delivers the retained delta again.
    check.accept(waitingDelta(), { kind: BLACKLIST_DELTA_TOPIC_KIND });
    clock.advance(11 * MINUTE_MS);
    expect(check.check().alerted).toBe(true);
  });

  it('leaves rejected sets to their alert', () => {
    const unsigned = JSON.parse(set('fare-table', 2, { flat: 300 }).toString('utf8')) as Record<string, unknown>;
    delete unsigned.signature;
    expect(check.accept(JSON.stringify(unsigned), { kind: 'fare-table' }).ok).toBe(false);
    clock.advance(2 * HOUR_MS);
    expect(check.check().alerted).toBe(false);
    expect(screen.alerts.has('parameters-rejected')).toBe(true);
    expect(screen.alerts.has('parameters-outdated')).toBe(false);
  });

  it('raises after a long link outage', () => {
    connected = false;
    clock.advance(23 * HOUR_MS);
    expect(check.check()).toEqual({ alerted: false, overdue: [], offlineTooLong: false });
    clock.advance(2 * HOUR_MS);
    expect(check.check()).toEqual({ alerted: true, overdue: [], offlineTooLong: true });
    expect(screen.alerts.has('parameters-outdated')).toBe(true);

    connected = true;
    expect(check.check().alerted).toBe(false);
    expect(screen.alerts.has('parameters-outdated')).toBe(false);
  });

  it('passes versions through from the store', () => {
    check.accept(set('blacklist', 1, { mode: 'full', entries: [A] }), { kind: 'blacklist' });
    expect(check.versions(clock.now())).toEqual({ active: { blacklist: 1 }, pending: {} });
  });

  it.each([
    [{ graceMinutes: -1 }, /invalid graceMinutes -1/],
    [{ graceMinutes: Number.NaN }, /invalid graceMinutes NaN/],
    [{ maxOfflineHours: 0 }, /invalid maxOfflineHours 0/],
  ])('rejects options %o', (options, message) => {
    expect(() => create(options)).toThrow(message);
  });
});
