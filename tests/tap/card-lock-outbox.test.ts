import { describe, expect, it } from 'vitest';
import { lockRecordSchema } from '@busfare/shared-protocol';
import { type VirtualM1Card, createSweepCard } from '@busfare/simulators';
import { MemoryTransactionStore, type PendingLock } from '@busfare/terminal';
import { makeCard } from './cards.js';
import { PSAM_TERMINAL_NUMBER, createTapFixture } from './tap-fixture.js';

describe('card lock records in the outbox', () => {
  it('appends a lock record for a T-Union card', async () => {
    const card = makeCard();
    const fixture = await createTapFixture({ blacklist: [card.asn.slice(-16)] });
    await fixture.tap(card);

    const records = fixture.store.readReady(0, 10);
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(lockRecordSchema.safeParse(record).success).toBe(true);
    expect(record).toMatchObject({
      sequence: 1,
      kind: 'lock',
      card: { application: 'tunion', asn: card.asn, issuerId: card.issuerId },
      lock: { locked: true, psamTerminalNumber: PSAM_TERMINAL_NUMBER },
      trip: { vehicleId: 'V001', route: '1' },
    });
  });

  it('appends a lock record for an M1 card', async () => {
    const card = createSweepCard('m1', 31) as VirtualM1Card;
    const fixture = await createTapFixture({ blacklist: [card.asn] });
    await fixture.tap(card);

    const records = fixture.store.readReady(0, 10);
    expect(records).toEqual([expect.objectContaining({ kind: 'lock', card: expect.objectContaining({ application: 'm1', asn: card.asn }) })]);
  });

  it('appends nothing for a card not on the blacklist', async () => {
    const fixture = await createTapFixture({ blacklist: ['0000000000000001'] });
    await fixture.tap(makeCard());

    expect(fixture.store.readReady(0, 10).map((record) => record.kind)).toEqual(['purchase']);
  });

  it('keeps the tap refused when the outbox append fails', async () => {
    const store = new MemoryTransactionStore();
    store.appendLock = (_lock: PendingLock) => {
      throw new Error('disk full');
    };
    const card = makeCard();
    const fixture = await createTapFixture({ store, blacklist: [card.asn.slice(-16)] });
    const outcome = await fixture.tap(card);

    expect(outcome.promptId).toBe('card-blacklisted');
    expect(card.isBlocked).toBe(true);
    expect(fixture.lockLog.records).toHaveLength(1);
  });
});
