import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKeyStore, SqliteCloneFlagStore, TacVerifier } from '@busfare/backoffice';
import { M1_LAYOUT, encodeValueBlock, fromHex, type TransactionRecord } from '@busfare/shared-protocol';
import { BENCH_LOCAL_CITY_CODE, VirtualM1Card, backofficeM1KeyRow, type VirtualM1CardOptions } from '@busfare/simulators';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createTapFixture } from '../tap/tap-fixture.js';

const OPTIONS: VirtualM1CardOptions = { uid: fromHex('4D0C0FFE'), cardSerial: '77000001', balanceFen: 1000, cardTypeCode: 1, startDate: '20240101', expiryDate: '20301231' };

function verifier(recordMasterKeyHex = backofficeM1KeyRow().tacMasterKeyHex): TacVerifier {
  const row = backofficeM1KeyRow();
  return new TacVerifier({ keys: new MemoryKeyStore([{ issuerId: row.issuerId, algorithm: 'des', tacMasterKey: fromHex(recordMasterKeyHex), test: true }]), localIssuerPrefixes: [BENCH_LOCAL_CITY_CODE] });
}

async function tapRecord(fixture: Awaited<ReturnType<typeof createTapFixture>>, card: VirtualM1Card): Promise<TransactionRecord> {
  const outcome = await fixture.tap(card);
  expect(outcome.status).toBe('accepted');
  return fixture.moneyRecord(outcome.sequence!);
}

describe('M1 record MAC in clearing', () => {
  it('verifies the PSAM record MAC', async () => {
    const fixture = await createTapFixture();
    const record = await tapRecord(fixture, new VirtualM1Card(OPTIONS));
    expect(verifier().verify(record)).toEqual({ outcome: 'verified' });
  });

  it('rejects tampered M1 records', async () => {
    const fixture = await createTapFixture();
    const record = await tapRecord(fixture, new VirtualM1Card({ ...OPTIONS, cardSerial: '77000002' }));
    const tampered: [string, TransactionRecord][] = [
      ['amount', { ...record, debit: { ...record.debit, amountFen: 1 } }],
      ['balance before', { ...record, debit: { ...record.debit, balanceBeforeFen: 5000 } }],
      ['purse counter', { ...record, debit: { ...record.debit, cardCounter: 7 } }],
      ['uid', { ...record, debit: { ...record.debit, m1: { ...record.debit.m1!, uid: '01020304' } } }],
      ['terminal serial', { ...record, debit: { ...record.debit, terminalSerial: record.debit.terminalSerial + 1 } }],
      ['card number', { ...record, card: { ...record.card, asn: '5810000377000099' } }],
      ['mac', { ...record, debit: { ...record.debit, tac: '00000000', m1: { ...record.debit.m1!, recordMac: '00000000' } } }],
      ['tac differs from mac', { ...record, debit: { ...record.debit, tac: '00000000' } }],
    ];
    for (const [name, candidate] of tampered) expect(verifier().verify(candidate).outcome, name).toBe('failed');
  });

  it('rejects a record under another key', async () => {
    const fixture = await createTapFixture();
    const record = await tapRecord(fixture, new VirtualM1Card({ ...OPTIONS, cardSerial: '77000003' }));
    expect(verifier('00112233445566778899AABBCCDDEEFF').verify(record).outcome).toBe('failed');
  });
});

describe('M1 clone flags', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const openStore = () => {
    const dir = mkdtempSync(join(tmpdir(), 'busfare-clone-'));
    dirs.push(dir);
    const db = new Database(join(dir, 'clearing.db'));
    return { db, store: new SqliteCloneFlagStore(db) };
  };

  it('flags two cards spending one purse counter', async () => {
    const { db, store } = openStore();
    const first = await createTapFixture();
    const second = await createTapFixture({ psamNumber: '000058100002' });
    const original = new VirtualM1Card({ ...OPTIONS, cardSerial: '77000010' });
    const copy = new VirtualM1Card({ ...OPTIONS, cardSerial: '77000010' });

    expect(store.observe('T1', await tapRecord(first, original), '2026-03-02T08:00:00Z')).toEqual([]);
    const flags = store.observe('T2', await tapRecord(second, copy), '2026-03-02T08:01:00Z');

    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ asn: original.asn, kind: 'overlapping-counter', terminalId: 'T2', otherTerminalId: 'T1' });
    expect(store.listCloneFlags(10)).toEqual([expect.objectContaining({ kind: 'overlapping-counter', asn: original.asn, flaggedAt: '2026-03-02T08:01:00Z' })]);
    db.close();
  });

  it('flags a balance that rises without a load', async () => {
    const { db, store } = openStore();
    const fixture = await createTapFixture();
    const card = new VirtualM1Card({ ...OPTIONS, cardSerial: '77000011' });
    store.observe('T1', await tapRecord(fixture, card), '2026-03-02T08:00:00Z');
    store.observe('T1', await tapRecord(fixture, card), '2026-03-02T08:01:00Z');
    // The purse is written back to its first balance, as a restored dump would.
    card.setBlock(M1_LAYOUT.primaryValueBlock, encodeValueBlock(1000, M1_LAYOUT.primaryValueBlock));
    card.setBlock(M1_LAYOUT.backupValueBlock, encodeValueBlock(1000, M1_LAYOUT.primaryValueBlock));

    const flags = store.observe('T1', await tapRecord(fixture, card), '2026-03-02T08:02:00Z');

    expect(flags.map((flag) => flag.kind)).toEqual(['balance-without-load', 'balance-without-load']);
    expect(store.listCloneFlags(10)).toHaveLength(2);
    db.close();
  });

  it('does not flag a card used normally or a record delivered twice', async () => {
    const { db, store } = openStore();
    const fixture = await createTapFixture();
    const card = new VirtualM1Card({ ...OPTIONS, cardSerial: '77000012' });
    const first = await tapRecord(fixture, card);
    expect(store.observe('T1', first, '2026-03-02T08:00:00Z')).toEqual([]);
    expect(store.observe('T1', await tapRecord(fixture, card), '2026-03-02T08:01:00Z')).toEqual([]);
    expect(store.observe('T1', first, '2026-03-02T08:02:00Z')).toEqual([]);
    expect(store.listCloneFlags(10)).toEqual([]);
    db.close();
  });
});
