import { describe, expect, it } from 'vitest';
import { BENCH_ISSUERS, createSweepCard, sectionFareTable, VirtualMohurdCard, type VirtualCpuCard } from '@busfare/simulators';
import { TRANSACTION_TYPE, parseTransitRecord } from '@busfare/shared-protocol';
import { makeCard } from './cards.js';
import { createTapFixture } from './tap-fixture.js';

/** Records every command a card receives, as hex INS bytes. */
function recording(card: VirtualCpuCard) {
  const seen: string[] = [];
  const original = card.process.bind(card);
  card.process = (command) => {
    seen.push(Buffer.from(command.subarray(0, 4)).toString('hex').toUpperCase());
    return original(command);
  };
  return seen;
}

describe('MOHURD city union cards', () => {
  it('falls through PPSE and the T-Union AID, checks the verify code with the PSAM and debits', async () => {
    const fixture = await createTapFixture();
    const card = createSweepCard('mohurd-cpu', 1) as VirtualMohurdCard;
    const commands = recording(card);
    const outcome = await fixture.tap(card);
    expect(outcome.status).toBe('accepted');
    expect(outcome.application).toBe('mohurd');
    expect(card.balanceFen).toBe(4_800);
    expect(commands).toEqual(['00A40400', '00A40400', '00A40400', '80CA0000', '80500102', '80540100']);
    const record = fixture.moneyRecord(outcome.sequence!);
    expect(record.card).toMatchObject({ application: 'mohurd', asn: card.asn, issuerId: '5810FF0000000000' });
    expect(record.debit.mac2Verified).toBe(true);
  });

  it('refuses a card whose verify code the PSAM rejects', async () => {
    const fixture = await createTapFixture();
    const issuer = BENCH_ISSUERS.mohurdCity;
    const card = new VirtualMohurdCard({
      asn: '5810000000000999',
      cityCode: issuer.cityCode,
      balanceFen: 1_000,
      cardTypeCode: 1,
      algorithm: issuer.algorithm,
      purchaseMasterKey: issuer.purchaseMasterKey,
      tacMasterKey: issuer.tacMasterKey,
      verifyMasterKey: BENCH_ISSUERS.cityDes.purchaseMasterKey,
      startDate: '20240101',
      expiryDate: '20341231',
    });
    const outcome = await fixture.tap(card);
    expect(outcome.status).toBe('refused');
    expect(outcome.promptId).toBe('invalid-card');
    expect(card.balanceFen).toBe(1_000);
  });

  it('switches the PSAM DF back for the next T-Union card', async () => {
    const fixture = await createTapFixture();
    expect((await fixture.tap(createSweepCard('mohurd-cpu', 2))).status).toBe('accepted');
    expect((await fixture.tap(makeCard())).status).toBe('accepted');
    expect((await fixture.tap(createSweepCard('mohurd-cpu', 3))).status).toBe('accepted');
  });
});

describe('dual-application cards', () => {
  for (const preferred of ['tunion', 'mohurd'] as const) {
    it(`debit the ${preferred} purse when the parameters prefer it`, async () => {
      const fixture = await createTapFixture({ preferredApplication: preferred });
      const card = createSweepCard(preferred === 'tunion' ? 'dual-tunion' : 'dual-mohurd', 4);
      const outcome = await fixture.tap(card);
      expect(outcome.status).toBe('accepted');
      expect(outcome.application).toBe(preferred);
      const [tunion, mohurd] = card.applets;
      expect(tunion!.purse.balanceFen).toBe(preferred === 'tunion' ? 4_800 : 5_000);
      expect(mohurd!.purse.balanceFen).toBe(preferred === 'mohurd' ? 4_800 : 5_000);
    });
  }

  it('takes the preference from the fare table when the terminal sets none', async () => {
    const base = (await createTapFixture()).fareTable;
    const fixture = await createTapFixture({ fareTable: { ...base, preferredApplication: 'mohurd' } });
    const outcome = await fixture.tap(createSweepCard('dual-tunion', 5));
    expect(outcome.application).toBe('mohurd');
  });
});

describe('blacklisted cards', () => {
  it('locks a blacklisted T-Union card on the card and keeps a lock record', async () => {
    const card = makeCard();
    const fixture = await createTapFixture({ blacklist: [card.asn.slice(-16)] });
    const outcome = await fixture.tap(card);
    expect(outcome.status).toBe('refused');
    expect(outcome.promptId).toBe('card-blacklisted');
    expect(card.isBlocked).toBe(true);
    expect(card.balanceFen).toBe(1_000);
    expect(fixture.lockLog.records).toEqual([expect.objectContaining({ asn: card.asn, application: 'tunion', locked: true })]);
    const again = await fixture.tap(card);
    expect(again.promptId).toBe('invalid-card');
  });

  it('locks a blacklisted MOHURD card through the MOHURD PSAM DF', async () => {
    const card = createSweepCard('mohurd-cpu', 6) as VirtualMohurdCard;
    const fixture = await createTapFixture({ blacklist: [card.asn] });
    await fixture.tap(card);
    expect(card.isBlocked).toBe(true);
    expect(fixture.lockLog.records[0]?.locked).toBe(true);
  });
});

describe('tap-on/tap-off routes', () => {
  it('boards with a zero-amount composite purchase and charges the journey at tap-off', async () => {
    const fixture = await createTapFixture({ fareTable: sectionFareTable(), route: '9', stopId: 'S2' });
    for (const kind of ['tunion-cpu', 'mohurd-cpu'] as const) {
      const card = createSweepCard(kind, 7);
      const boarding = await fixture.tap(card);
      expect(boarding.status).toBe('accepted');
      expect(boarding.promptId).toBe('please-tap-off');
      expect(boarding.amountFen).toBe(0);
      const alighting = await fixture.tap(card);
      expect(alighting.status).toBe('accepted');
      expect(alighting.amountFen).toBeGreaterThan(0);
      expect(card.balanceFen).toBe(5_000 - alighting.amountFen!);
      const records = [boarding, alighting].map((outcome) => fixture.moneyRecord(outcome.sequence!));
      expect(records.map((record) => record.debit.transactionType)).toEqual([TRANSACTION_TYPE.compositePurchase, TRANSACTION_TYPE.compositePurchase]);
    }
  });

  it('writes the transit record in the same step as the debit', async () => {
    const fixture = await createTapFixture({ fareTable: sectionFareTable(), route: '9', stopId: 'S2' });
    const card = createSweepCard('tunion-cpu', 8);
    await fixture.tap(card);
    const record = card.process(Uint8Array.of(0x00, 0xb2, 0x01, 0xf4, 0x30));
    expect(parseTransitRecord(record.subarray(0, 48)).recordType).toBe(0x03);
  });

  it('boards monthly cards with the composite purchase', async () => {
    const fixture = await createTapFixture({ fareTable: sectionFareTable(), route: '9', stopId: 'S2' });
    const outcome = await fixture.tap(makeCard({ cardTypeCode: 6 }));
    expect(outcome.promptId).toBe('please-tap-off');
    expect(fixture.moneyRecord(outcome.sequence!).debit.transactionType).toBe(TRANSACTION_TYPE.compositePurchase);
  });

  it('refuses a tap while the stop is not known', async () => {
    const fixture = await createTapFixture({ fareTable: sectionFareTable(), route: '9' });
    const card = makeCard();
    const outcome = await fixture.tap(card);
    expect(outcome.status).toBe('refused');
    expect(outcome.promptId).toBe('stop-unknown');
    expect(card.balanceFen).toBe(1000);
  });
});
