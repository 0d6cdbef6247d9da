import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { M1_LAYOUT, fareTableBodySchema, mifare, type TransactionRecord } from '@busfare/shared-protocol';
import { defaultFareTable } from '@busfare/backoffice';
import { SecureAccessModuleError, SqliteTransactionStore } from '@busfare/terminal';
import { BENCH_LOCAL_CITY_CODE, type ApduCard } from '@busfare/simulators';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeCard, makeM1Card } from './cards.js';
import { createTapFixture } from './tap-fixture.js';

/** What a second SQLite connection found in the outbox file for one card. */
interface OnDisk {
  state: string;
  record: TransactionRecord;
}

/** Reads the newest record of a card through a separate connection, as a process after a power cut would. */
function readNewestOnDisk(path: string, asn: string): OnDisk | undefined {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare<[string], { state: string; record_json: string }>('SELECT state, record_json FROM records WHERE asn = ? ORDER BY sequence DESC LIMIT 1').get(asn);
    return row ? { state: row.state, record: JSON.parse(row.record_json) as TransactionRecord } : undefined;
  } finally {
    db.close();
  }
}

/** Wraps a card so that a chosen command first reads the outbox file from a second connection. */
function inspectBefore(card: ApduCard, matches: (command: Uint8Array) => boolean, inspect: () => void): ApduCard {
  return new Proxy(card, {
    get(target, property) {
      if (property === 'process') {
        return (command: Uint8Array) => {
          if (matches(command)) inspect();
          return target.process(command);
        };
      }
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Polls every few milliseconds until the condition holds; throws after 5 s. */
async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const isDebit = (command: Uint8Array) => command[0] === 0x80 && command[1] === 0x54;
const M1_DECREMENT_HEADER = mifare.valueOperation(M1_LAYOUT.primaryValueBlock, 'decrement', 0).slice(0, 6);
const isM1Decrement = (command: Uint8Array) => Buffer.from(command.slice(0, 6)).equals(Buffer.from(M1_DECREMENT_HEADER));

describe('durable tap records', () => {
  let dir: string;
  let path: string;
  let store: SqliteTransactionStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-durable-tap-'));
    path = join(dir, 'outbox.db');
    store = SqliteTransactionStore.open(path);
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('CPU pending record precedes DEBIT', async () => {
    const fixture = await createTapFixture({ store });
    expect(fixture.sam.expectedTerminalSerial).toBeUndefined();

    // The first tap learns the PSAM serial; the second commits while the PSAM computes MAC1.
    for (const tap of [1, 2]) {
      const card = makeCard();
      const seen: (OnDisk | undefined)[] = [];
      const outcome = await fixture.tap(inspectBefore(card, isDebit, () => seen.push(readNewestOnDisk(path, card.asn))));

      expect(outcome.status, `tap ${tap}`).toBe('accepted');
      expect(seen).toHaveLength(1);
      expect(seen[0]?.state).toBe('pending');
      expect(seen[0]?.record.sequence).toBe(outcome.sequence);
      expect(seen[0]?.record.debit.tac).toBeUndefined();
      expect(seen[0]?.record.debit.terminalSerial).toBe(fixture.moneyRecord(outcome.sequence!).debit.terminalSerial);
      expect(fixture.sam.expectedTerminalSerial).toBe(fixture.psam.nextSerial);
    }
  });

  it('M1 pending record precedes DECREMENT', async () => {
    const fixture = await createTapFixture({ store });
    const card = makeM1Card();
    const seen: (OnDisk | undefined)[] = [];

    const outcome = await fixture.tap(inspectBefore(card, isM1Decrement, () => seen.push(readNewestOnDisk(path, card.asn))));

    expect(outcome.status).toBe('accepted');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.state).toBe('pending');
    expect(seen[0]?.record.sequence).toBe(outcome.sequence);
    expect(seen[0]?.record.debit.m1?.recordMac).toBe(fixture.moneyRecord(outcome.sequence!).debit.m1?.recordMac);
    expect(readNewestOnDisk(path, card.asn)?.state).toBe('ready');
  });

  it('TAC precedes the MAC2 verdict', async () => {
    const fixture = await createTapFixture({ store });
    const card = makeCard();
    const seen: (OnDisk | undefined)[] = [];
    const verifyMac2 = fixture.sam.verifyMac2.bind(fixture.sam);
    fixture.sam.verifyMac2 = async (mac2) => {
      // A timer runs only once the main thread is free, so the commit begun during the check has ended.
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(readNewestOnDisk(path, card.asn));
      return verifyMac2(mac2);
    };

    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('accepted');
    expect(seen[0]?.state).toBe('pending');
    expect(seen[0]?.record.debit.tac).toBe(fixture.moneyRecord(outcome.sequence!).debit.tac);
    expect(seen[0]?.record.debit.mac2Verified).toBeUndefined();
    expect(fixture.moneyRecord(outcome.sequence!).debit.mac2Verified).toBe(true);
    expect(store.get(outcome.sequence!)?.state).toBe('ready');
  });

  it('debited record survives a stop', async () => {
    const fixture = await createTapFixture({ store });
    const card = makeCard();
    fixture.sam.verifyMac2 = () => new Promise<boolean>(() => undefined);

    void fixture.tap(card);
    await waitFor(() => readNewestOnDisk(path, card.asn)?.record.debit.tac !== undefined);
    store.close();
    store = SqliteTransactionStore.open(path);

    expect(store.recoverPending()).toBe(1);
    const record = store.get(1)?.record as TransactionRecord;
    expect(record.kind).toBe('purchase');
    expect(record.debit.tac).toMatch(/^[0-9A-F]{8}$/);
    expect(record.debit.balanceAfterFen).toBe(800);
    expect(record.debit.mac2Verified).toBeUndefined();
    expect(store.listOpenInDoubt()).toEqual([]);
    expect(card.balanceFen).toBe(800);
  });

  it('unexpected PSAM serial rewrites record', async () => {
    const fixture = await createTapFixture({ store });
    await fixture.tap(makeCard());
    Object.defineProperty(fixture.sam, 'expectedTerminalSerial', { value: 4_000, configurable: true });
    const card = makeCard();

    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('accepted');
    expect(outcome.sequence).toBe(4);
    expect(fixture.moneyRecord(2).kind).toBe('in-doubt');
    expect(fixture.moneyRecord(2).debit.terminalSerial).toBe(4_000);
    expect(fixture.moneyRecord(3)).toMatchObject({ kind: 'resolution', resolvesSequence: 2, outcome: 'not-debited' });
    expect(fixture.moneyRecord(4).debit.terminalSerial).toBe(fixture.psam.nextSerial - 1);
    expect(store.listOpenInDoubt()).toEqual([]);
    expect(card.balanceFen).toBe(800);
  });

  it('wrong PSAM serial twice voids both early records', async () => {
    const fixture = await createTapFixture({ store });
    await fixture.tap(makeCard());
    Object.defineProperty(fixture.sam, 'expectedTerminalSerial', { value: 4_000, configurable: true });
    const first = makeCard();
    const second = makeCard();

    expect((await fixture.tap(first)).status).toBe('accepted');
    const outcome = await fixture.tap(second);

    expect(outcome.status).toBe('accepted');
    expect(outcome.sequence).toBe(7);
    expect(fixture.moneyRecord(5)).toMatchObject({ kind: 'in-doubt', debit: { terminalSerial: 4_000 } });
    expect(fixture.moneyRecord(6)).toMatchObject({ kind: 'resolution', resolvesSequence: 5, outcome: 'not-debited' });
    expect(fixture.moneyRecord(7).debit.terminalSerial).toBe(fixture.psam.nextSerial - 1);
    expect(store.listOpenInDoubt()).toEqual([]);
    expect(store.readReady(0, 100).map((record) => record.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect([first.balanceFen, second.balanceFen]).toEqual([800, 800]);
  });

  it('recovers a debited record and keeps the uplink moving', async () => {
    const fixture = await createTapFixture({ store });
    const card = makeCard();
    fixture.sam.verifyMac2 = () => new Promise<boolean>(() => undefined);
    void fixture.tap(card);
    await waitFor(() => readNewestOnDisk(path, card.asn)?.record.debit.tac !== undefined);
    // Nothing with a TAC but no verdict is sent before the stop.
    expect(store.readReady(0, 10)).toEqual([]);
    store.close();
    store = SqliteTransactionStore.open(path);
    store.recoverPending();

    expect(store.readReady(0, 10).map((record) => record.kind)).toEqual(['purchase']);
    store.acknowledge(1);
    expect(store.backlog()).toBe(0);
  });

  it('card torn at the transit record voids early record', async () => {
    const fareTable = fareTableBodySchema.parse({
      ...defaultFareTable([BENCH_LOCAL_CITY_CODE]),
      sectionRoutes: { '1': { bands: [{ maxStops: 99, fareFen: 300 }], stops: { '0': ['S1', 'S2', 'S3'] } } },
    });
    const fixture = await createTapFixture({ store, fareTable, stopId: 'S1' });
    const clean = await fixture.tap(makeCard());
    expect(clean.promptId).toBe('please-tap-off');
    const card = makeCard();

    // The last two card APDUs of a boarding are UPDATE CAPP DATA CACHE and DEBIT.
    const torn = await fixture.tap(card, { apduIndex: clean.cardApdus - 2, phase: 'before-card' });

    expect(torn.status).toBe('failed');
    expect(fixture.moneyRecord(2)).toMatchObject({ kind: 'in-doubt' });
    expect(fixture.moneyRecord(3)).toMatchObject({ kind: 'resolution', resolvesSequence: 2, outcome: 'not-debited' });
    expect(store.listOpenInDoubt()).toEqual([]);
    expect(card.debits).toHaveLength(0);
    expect((await fixture.tap(card)).promptId).toBe('please-tap-off');
  });

  it('failed MAC1 voids early record', async () => {
    const fixture = await createTapFixture({ store });
    await fixture.tap(makeCard());
    fixture.sam.initForPurchase = () => Promise.reject(new SecureAccessModuleError('INIT SAM FOR PURCHASE failed: slot not responding'));
    const card = makeCard();

    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('failed');
    expect(outcome.promptId).toBe('terminal-fault');
    expect(fixture.moneyRecord(2).kind).toBe('in-doubt');
    expect(fixture.moneyRecord(3)).toMatchObject({ kind: 'resolution', resolvesSequence: 2, outcome: 'not-debited' });
    expect(store.listOpenInDoubt()).toEqual([]);
    expect(card.balanceFen).toBe(1000);
  });

  it('torn M1 flag write voids record', async () => {
    const fixture = await createTapFixture({ store });
    const card = makeM1Card();

    // Card APDU 9 writes the process flag: GET UID, 3 for block 4, 5 for blocks 8-10, then the flag.
    const torn = await fixture.tap(card, { apduIndex: 9, phase: 'after-card' });

    expect(torn.status).toBe('failed');
    expect(torn.promptId).toBe('tap-again');
    expect(fixture.moneyRecord(1).kind).toBe('in-doubt');
    expect(fixture.moneyRecord(2)).toMatchObject({ kind: 'resolution', resolvesSequence: 1, outcome: 'not-debited' });
    expect(store.listOpenInDoubt()).toEqual([]);
    expect(card.balanceFen).toBe(1000);

    const retry = await fixture.tap(card);
    expect(retry.status).toBe('accepted');
    expect(card.balanceFen).toBe(800);
  });

  it('TAC write failure keeps debit in doubt', async () => {
    const fixture = await createTapFixture({ store });
    const card = makeCard({ balanceFen: 1000 });
    const recordDebit = store.recordDebit.bind(store);
    store.recordDebit = () => {
      throw new Error('SQLITE_FULL: database or disk is full');
    };

    const debited = await fixture.tap(card);
    expect(debited.status).toBe('in-doubt');
    expect(debited.promptId).toBe('tap-again');
    expect(card.balanceFen).toBe(800);
    expect(store.listOpenInDoubt().map((open) => open.sequence)).toEqual([debited.sequence]);

    // The disk has room again: the same card's re-tap books the trip from the card's proof.
    store.recordDebit = recordDebit;
    const retry = await fixture.tap(card);
    expect(retry.status).toBe('recovered');
    expect(card.balanceFen).toBe(800);
    expect(store.listOpenInDoubt()).toEqual([]);
  });
});
