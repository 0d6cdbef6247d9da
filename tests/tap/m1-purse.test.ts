import { M1_ENABLE_FLAG, M1_LAYOUT, M1_PROCESS_FLAG, encodeValueBlock, transactionRecordSchema } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { makeM1Card } from './cards.js';
import { createTapFixture } from './tap-fixture.js';

/**
 * Index of DECREMENT among the card APDUs. The reader reports the UID, so the tap starts with 3 for
 * block 4 and 3 for blocks 8-10. LOAD KEY and AUTHENTICATE of the record sector run during the PSAM
 * MAC, then come the record write, AUTHENTICATE of the purse sector, the flag write and DECREMENT.
 */
const DECREMENT_APDU = 11;

describe('M1 purse tap', () => {
  it('debits the fare and records the PSAM MAC', async () => {
    const fixture = await createTapFixture();
    const card = makeM1Card();

    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('accepted');
    expect(outcome.application).toBe('m1');
    expect(outcome.amountFen).toBe(200);
    expect(outcome.balanceFen).toBe(800);
    expect(card.balanceFen).toBe(800);
    expect(card.debits).toEqual([{ asn: card.asn, counter: 0, amountFen: 200 }]);
    expect(card.purseInfo.counter).toBe(1);
    expect(card.purseInfo.processFlag).toBe(M1_PROCESS_FLAG.idle);
    expect(card.block(M1_LAYOUT.backupValueBlock)).toEqual(encodeValueBlock(800, M1_LAYOUT.primaryValueBlock));
    expect(outcome.cardApdus).toBe(14);
    expect(outcome.psamApdus).toBe(2);

    const record = fixture.moneyRecord(outcome.sequence!);
    expect(transactionRecordSchema.safeParse(record).success).toBe(true);
    expect(record.card.application).toBe('m1');
    expect(record.debit.cardCounter).toBe(0);
    expect(record.debit.tac).toBe(record.debit.m1?.recordMac);
    expect(record.debit.m1?.uid).toBe(Buffer.from(card.uid).toString('hex').toUpperCase());
  });

  it('refuses a purse below the fare', async () => {
    const fixture = await createTapFixture();
    const card = makeM1Card({ balanceFen: 150 });

    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('refused');
    expect(outcome.promptId).toBe('insufficient-balance');
    expect(card.balanceFen).toBe(150);
    expect(card.debits).toHaveLength(0);
    expect(fixture.store.lastSequence()).toBe(0);
  });

  it('sets enable flag 04 on a blacklisted card', async () => {
    const card = makeM1Card();
    const fixture = await createTapFixture({ blacklist: [card.asn] });

    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('refused');
    expect(outcome.promptId).toBe('card-blacklisted');
    expect(card.enableFlag).toBe(M1_ENABLE_FLAG.blacklisted);
    expect(card.debits).toHaveLength(0);
    expect(fixture.lockLog.records).toHaveLength(1);
    expect(fixture.lockLog.records[0]).toMatchObject({ application: 'm1', asn: card.asn, locked: true });
  });

  it('refuses a card whose enable flag is not normal', async () => {
    const fixture = await createTapFixture();
    for (const [flag, promptId] of [
      [M1_ENABLE_FLAG.notEnabled, 'invalid-card'],
      [M1_ENABLE_FLAG.stopped, 'invalid-card'],
      [M1_ENABLE_FLAG.blacklisted, 'card-blacklisted'],
      [0x7f, 'invalid-card'],
    ] as const) {
      const card = makeM1Card({ enableFlag: flag });
      const outcome = await fixture.tap(card);
      expect(outcome.status, `flag ${flag}`).toBe('refused');
      expect(outcome.promptId, `flag ${flag}`).toBe(promptId);
      expect(card.balanceFen, `flag ${flag}`).toBe(1000);
    }
  });

  it('refuses an expired card', async () => {
    const fixture = await createTapFixture();
    const card = makeM1Card({ expiryDate: '20251231' });

    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('refused');
    expect(outcome.promptId).toBe('card-expired');
    expect(card.balanceFen).toBe(1000);
  });

  it('finishes a debit torn after DECREMENT on the next tap', async () => {
    const fixture = await createTapFixture();
    const card = makeM1Card();

    const torn = await fixture.tap(card, { apduIndex: DECREMENT_APDU, phase: 'after-card' });
    expect(torn.status).toBe('in-doubt');
    expect(card.balanceFen).toBe(800);
    expect(card.purseInfo.processFlag).toBe(M1_PROCESS_FLAG.debitInProgress);

    const again = await fixture.tap(card);

    expect(again.status).toBe('recovered');
    expect(again.amountFen).toBe(200);
    expect(card.balanceFen).toBe(800);
    expect(card.debits).toHaveLength(1);
    expect(card.purseInfo).toMatchObject({ counter: 1, processFlag: M1_PROCESS_FLAG.idle });
    expect(card.block(M1_LAYOUT.backupValueBlock)).toEqual(card.block(M1_LAYOUT.primaryValueBlock));
    expect(fixture.store.listOpenInDoubt()).toHaveLength(0);
    const resolution = fixture.moneyRecord(again.sequence!);
    expect(resolution).toMatchObject({ kind: 'resolution', outcome: 'debited' });
    expect(resolution.debit.tac).toBe(resolution.debit.m1?.recordMac);
  });

  it('rolls back a debit torn before DECREMENT and charges once', async () => {
    const fixture = await createTapFixture();
    const card = makeM1Card();

    const torn = await fixture.tap(card, { apduIndex: DECREMENT_APDU, phase: 'before-card' });
    expect(torn.status).toBe('in-doubt');
    expect(card.balanceFen).toBe(1000);

    const again = await fixture.tap(card);

    expect(again.status).toBe('accepted');
    expect(card.balanceFen).toBe(800);
    expect(card.debits).toHaveLength(1);
    expect(fixture.store.listOpenInDoubt()).toHaveLength(0);
  });

  it('settles a torn debit another terminal finished', async () => {
    const fixture = await createTapFixture();
    const other = await createTapFixture({ psamNumber: '000058100002' });
    const card = makeM1Card();

    await fixture.tap(card, { apduIndex: DECREMENT_APDU, phase: 'after-card' });
    const elsewhere = await other.tap(card);
    expect(elsewhere.status).toBe('accepted');
    expect(card.balanceFen).toBe(600);

    const back = await fixture.tap(card);

    expect(back.status).toBe('recovered');
    expect(card.debits).toHaveLength(2);
    expect(card.balanceFen).toBe(600);
    expect(fixture.store.listOpenInDoubt()).toHaveLength(0);
  });

  it('takes the fare when the tear comes after DECREMENT answered', async () => {
    const fixture = await createTapFixture();
    const card = makeM1Card();

    const outcome = await fixture.tap(card, { apduIndex: DECREMENT_APDU + 1, phase: 'before-card' });
    expect(outcome.status).toBe('accepted');
    expect(card.purseInfo.processFlag).toBe(M1_PROCESS_FLAG.debitInProgress);

    const next = await fixture.tap(card);

    expect(next.status).toBe('accepted');
    expect(card.debits).toHaveLength(2);
    expect(card.purseInfo).toMatchObject({ counter: 2, processFlag: M1_PROCESS_FLAG.idle });
  });

  it('repairs a damaged backup value block', async () => {
    const fixture = await createTapFixture();
    const card = makeM1Card();
    card.setBlock(M1_LAYOUT.backupValueBlock, new Uint8Array(16).fill(0x55));

    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('accepted');
    expect(card.block(M1_LAYOUT.backupValueBlock)).toEqual(card.block(M1_LAYOUT.primaryValueBlock));
    expect(card.balanceFen).toBe(800);
  });

  it('restores a damaged primary block from the backup', async () => {
    const fixture = await createTapFixture();
    const card = makeM1Card();
    card.setBlock(M1_LAYOUT.primaryValueBlock, new Uint8Array(16));

    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('accepted');
    expect(outcome.balanceFen).toBe(800);
    expect(card.balanceFen).toBe(800);
  });

  it('refuses a card with both value blocks damaged', async () => {
    const fixture = await createTapFixture();
    const card = makeM1Card();
    card.setBlock(M1_LAYOUT.primaryValueBlock, new Uint8Array(16));
    card.setBlock(M1_LAYOUT.backupValueBlock, new Uint8Array(16));

    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('refused');
    expect(outcome.promptId).toBe('invalid-card');
    expect(fixture.store.lastSequence()).toBe(0);
  });

  it('asks for a new tap when the card leaves early', async () => {
    const fixture = await createTapFixture();
    const card = makeM1Card();

    const outcome = await fixture.tap(card, { apduIndex: 3, phase: 'before-card' });

    expect(outcome.status).toBe('failed');
    expect(outcome.promptId).toBe('tap-again');
    expect(card.balanceFen).toBe(1000);
  });

  it('refuses a card keyed for another issuer', async () => {
    const fixture = await createTapFixture();
    const card = makeM1Card({ issuer: { ...(await import('@busfare/simulators')).BENCH_M1_ISSUER, sectorMasterKey: new Uint8Array(16).fill(1) } });

    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('failed');
    expect(outcome.promptId).toBe('card-read-error');
    expect(card.balanceFen).toBe(1000);
  });

  it('boards M1 cards on a tap-on/tap-off route', async () => {
    const { sectionFareTable } = await import('@busfare/simulators');
    const fixture = await createTapFixture({ fareTable: sectionFareTable(), route: '9', stopId: 'S2' });
    const card = makeM1Card();

    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('accepted');
    expect(outcome.promptId).toBe('please-tap-off');
    expect(outcome.amountFen).toBe(0);
    expect(card.balanceFen).toBe(1000);
    expect(card.hasOpenBoarding).toBe(true);
  });
});
