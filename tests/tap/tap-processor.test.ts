import { describe, expect, it } from 'vitest';
import { defaultFareTable } from '@busfare/backoffice';
import { BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, type ApduCard } from '@busfare/simulators';
import { TRANSACTION_TYPE, computeTac, cipherFamilyOf, diversifyKey, asnFactor, encodePurseLogRecord, fromHex, toHex } from '@busfare/shared-protocol';
import { makeCard } from './cards.js';
import { PSAM_TERMINAL_NUMBER, createTapFixture } from './tap-fixture.js';

describe('tap processor purchase', () => {
  it('debits the flat fare and stores a completed record with a valid TAC', async () => {
    const fixture = await createTapFixture();
    const card = makeCard();
    const outcome = await fixture.tap(card);

    expect(outcome.status).toBe('accepted');
    expect(outcome.promptId).toBe('fare-paid');
    expect(outcome.amountFen).toBe(200);
    expect(outcome.balanceFen).toBe(800);
    expect(card.balanceFen).toBe(800);
    expect(outcome.cardApdus).toBe(4);

    const stored = fixture.store.get(outcome.sequence!);
    expect(stored?.state).toBe('ready');
    const record = fixture.moneyRecord(outcome.sequence!);
    expect(record.kind).toBe('purchase');
    expect(record.debit.mac2Verified).toBe(true);
    expect(record.debit.psamTerminalNumber).toBe(PSAM_TERMINAL_NUMBER);

    const issuer = BENCH_ISSUERS.cityDes;
    const family = cipherFamilyOf(record.debit.algorithmId);
    const tacKey = diversifyKey(family, issuer.tacMasterKey, asnFactor(record.card.asn));
    const expected = computeTac(family, tacKey, {
      amountFen: record.debit.amountFen,
      transactionType: record.debit.transactionType,
      terminalNumber: fromHex(record.debit.psamTerminalNumber),
      terminalSerial: record.debit.terminalSerial,
      dateTime: fromHex(record.debit.cardDateTime),
    });
    expect(record.debit.tac).toBe(toHex(expected));
  });

  it('pays with SM4 cards and phones the same way', async () => {
    const fixture = await createTapFixture();
    for (const card of [makeCard({ issuer: BENCH_ISSUERS.citySm4 }), makeCard({ medium: 'sim' }), makeCard({ medium: 'hce' })]) {
      const outcome = await fixture.tap(card);
      expect(outcome.status).toBe('accepted');
      expect(card.balanceFen).toBe(800);
    }
    const phone = fixture.store.readReady(0, 10).map((record) => record.card.medium);
    expect(phone).toEqual(['card', 'phone', 'phone']);
  });

  it('applies concession rates and announces the card type', async () => {
    const fixture = await createTapFixture();
    const student = await fixture.tap(makeCard({ cardTypeCode: 2 }));
    expect(student.amountFen).toBe(100);
    expect(student.promptId).toBe('card-type-student');
    const senior = await fixture.tap(makeCard({ cardTypeCode: 3 }));
    expect(senior.amountFen).toBe(0);
    expect(senior.promptId).toBe('card-type-senior');
  });

  it('charges out-of-town cards the full fare', async () => {
    const fixture = await createTapFixture();
    const outcome = await fixture.tap(makeCard({ issuer: BENCH_ISSUERS.outOfTown, cardTypeCode: 2 }));
    expect(outcome.cardType).toBe('tunion-out-of-town');
    expect(outcome.amountFen).toBe(200);
  });

  it('warns when the balance after the fare is low', async () => {
    const fixture = await createTapFixture();
    const outcome = await fixture.tap(makeCard({ balanceFen: 600 }));
    expect(outcome.status).toBe('accepted');
    expect(outcome.promptId).toBe('low-balance');
  });
});

describe('tap processor refusals', () => {
  const cases: { name: string; card: () => ApduCard; promptId: string }[] = [
    { name: 'insufficient balance', card: () => makeCard({ balanceFen: 150 }), promptId: 'insufficient-balance' },
    { name: 'expired card', card: () => makeCard({ startDate: '20150101', expiryDate: '20201231' }), promptId: 'card-expired' },
    { name: 'card not yet valid', card: () => makeCard({ startDate: '20990101', expiryDate: '20991231' }), promptId: 'invalid-card' },
    { name: 'blocked application', card: () => makeCard({ blocked: true }), promptId: 'invalid-card' },
    { name: 'permanently blocked application', card: () => makeCard({ blocked: 'permanent' }), promptId: 'invalid-card' },
    { name: 'unknown card type code', card: () => makeCard({ cardTypeCode: 99 }), promptId: 'invalid-card' },
  ];

  for (const testCase of cases) {
    it(`refuses ${testCase.name} without a record`, async () => {
      const fixture = await createTapFixture();
      const card = testCase.card();
      const outcome = await fixture.tap(card);
      expect(outcome.status).toBe('refused');
      expect(outcome.promptId).toBe(testCase.promptId);
      expect(fixture.store.lastSequence()).toBe(0);
      expect(fixture.shown.at(-1)?.promptId).toBe(testCase.promptId);
    });
  }
});

/** A card whose answers are replaced by the given function for chosen commands. */
function hostileCard(inner: ApduCard, answer: (command: Uint8Array, real: () => Uint8Array) => Uint8Array): ApduCard {
  return { atr: inner.atr, protocol: inner.protocol, uid: inner.uid, label: `hostile ${inner.label}`, process: (command) => answer(command, () => inner.process(command)) };
}

describe('tap processor against hostile cards', () => {
  const ins = (command: Uint8Array) => command[1];

  const before: { name: string; answer: (command: Uint8Array, real: () => Uint8Array) => Uint8Array }[] = [
    { name: 'an empty answer to SELECT', answer: (c, real) => (ins(c) === 0xa4 ? new Uint8Array(0) : real()) },
    { name: 'a one-byte answer to INIT', answer: (c, real) => (ins(c) === 0x50 ? Uint8Array.of(0x90) : real()) },
    { name: 'a short INIT answer', answer: (c, real) => (ins(c) === 0x50 ? Uint8Array.of(1, 2, 3, 0x90, 0x00) : real()) },
    { name: 'an FCI with a broken TLV length', answer: (c, real) => (ins(c) === 0xa4 && c[4] === 8 ? Uint8Array.of(0x6f, 0x40, 0x84, 0x02, 0x90, 0x00) : real()) },
    { name: 'an unexpected status word from INIT', answer: (c, real) => (ins(c) === 0x50 ? Uint8Array.of(0x6f, 0x00) : real()) },
    { name: 'random bytes to every command', answer: () => Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x13, 0x37) },
  ];

  for (const testCase of before) {
    it(`gives a clear prompt for ${testCase.name} and debits nothing`, async () => {
      const fixture = await createTapFixture();
      const inner = makeCard();
      const outcome = await fixture.tap(hostileCard(inner, testCase.answer));
      expect(['failed', 'refused']).toContain(outcome.status);
      expect(['card-read-error', 'invalid-card', 'tap-again']).toContain(outcome.promptId);
      expect(inner.balanceFen).toBe(1000);
      expect(fixture.store.listOpenInDoubt()).toHaveLength(0);
    });
  }

  it('keeps a record in doubt when DEBIT answers garbage after debiting', async () => {
    const fixture = await createTapFixture();
    const inner = makeCard();
    const card = hostileCard(inner, (c, real) => {
      const answer = real();
      return ins(c) === 0x54 ? answer.subarray(0, 3) : answer;
    });
    const outcome = await fixture.tap(card);
    expect(outcome.status).toBe('in-doubt');
    expect(outcome.promptId).toBe('tap-again');
    expect(inner.balanceFen).toBe(800);
    expect(fixture.store.listOpenInDoubt()).toHaveLength(1);

    const retry = await fixture.tap(inner);
    expect(retry.status).toBe('recovered');
    expect(inner.balanceFen).toBe(800);
    expect(fixture.store.listOpenInDoubt()).toHaveLength(0);
  });

  const failedLogReads: { name: string; answer: Uint8Array }[] = [
    ...[0x6f00, 0x6581, 0x6982].map((sw) => ({ name: `status ${sw.toString(16)}`, answer: Uint8Array.of(sw >> 8, sw & 0xff) })),
    { name: 'an empty 9000 answer', answer: Uint8Array.of(0x90, 0x00) },
  ];
  for (const failed of failedLogReads) {
    it(`keeps a torn debit in doubt when its purse log read returns ${failed.name}`, async () => {
      const fixture = await createTapFixture();
      const inner = makeCard();
      const garbledDebit = hostileCard(inner, (c, real) => {
        const answer = real();
        return ins(c) === 0x54 ? answer.subarray(0, 3) : answer;
      });
      expect((await fixture.tap(garbledDebit)).status).toBe('in-doubt');
      expect(inner.balanceFen).toBe(800);

      // Only "record not found" means an empty purse log. Any other failure leaves the debit's outcome unknown.
      const failingLog = hostileCard(inner, (c, real) => (ins(c) === 0xb2 && c[3] === ((0x18 << 3) | 4) ? failed.answer : real()));
      const retry = await fixture.tap(failingLog);
      expect(retry.status).toBe('in-doubt');
      expect(retry.promptId).toBe('tap-again');
      expect(inner.balanceFen).toBe(800);
      expect(fixture.store.listOpenInDoubt()).toHaveLength(1);

      const recovered = await fixture.tap(inner);
      expect(recovered.status).toBe('recovered');
      expect(inner.balanceFen).toBe(800);
      expect(fixture.store.listOpenInDoubt()).toHaveLength(0);
    });
  }

  it('stops asking to tap again when the purse log stays unreadable', async () => {
    const fixture = await createTapFixture();
    const inner = makeCard();
    const garbledDebit = hostileCard(inner, (c, real) => {
      const answer = real();
      return ins(c) === 0x54 ? answer.subarray(0, 3) : answer;
    });
    expect((await fixture.tap(garbledDebit)).status).toBe('in-doubt');
    expect(inner.balanceFen).toBe(800);

    // A card that refuses its purse log on every read: the retry at once stays in doubt.
    const failingLog = hostileCard(inner, (c, real) => (ins(c) === 0xb2 && c[3] === ((0x18 << 3) | 4) ? Uint8Array.of(0x6a, 0x82) : real()));
    expect((await fixture.tap(failingLog)).status).toBe('in-doubt');

    // Later the card pays again, and the torn record stays open for clearing.
    fixture.clock.advance(10 * 60_000);
    const later = await fixture.tap(failingLog);
    expect(later.status).toBe('accepted');
    expect(inner.balanceFen).toBe(600);
    expect(fixture.store.listOpenInDoubt()).toHaveLength(1);
  });

  it('voids the attempt when DEBIT is refused with 9302', async () => {
    const fixture = await createTapFixture();
    const inner = makeCard();
    const card = hostileCard(inner, (c, real) => (ins(c) === 0x54 ? Uint8Array.of(0x93, 0x02) : real()));
    const outcome = await fixture.tap(card);
    expect(outcome.status).toBe('refused');
    expect(outcome.promptId).toBe('invalid-card');
    expect(inner.balanceFen).toBe(1000);
    const records = fixture.store.readReady(0, 10);
    expect(records.map((record) => [record.kind, 'outcome' in record ? record.outcome : undefined])).toEqual([
      ['in-doubt', undefined],
      ['resolution', 'not-debited'],
    ]);
  });
});

describe('tap processor torn debit after a load', () => {
  const EF18_READ_P2 = (0x18 << 3) | 4;
  /** DEBIT is the fourth card APDU of a flat-fare tap: PPSE, SELECT, INIT, DEBIT. */
  const DEBIT_APDU = 3;

  /**
   * The card as a kiosk leaves it after a load: the load is the newest purse log record, and it
   * carries the purse's online counter, which INIT FOR PURCHASE does not return.
   */
  function loadedAtKiosk(inner: ApduCard, onlineCounter: number): ApduCard {
    const load = encodePurseLogRecord({
      serial: onlineCounter,
      overdraftLimitFen: 0,
      amountFen: 5000,
      transactionType: TRANSACTION_TYPE.load,
      terminalNumber: 'AABBCCDDEEFF',
      dateTime: '20260302083000',
    });
    return {
      atr: inner.atr,
      protocol: inner.protocol,
      uid: inner.uid,
      label: `loaded ${inner.label}`,
      process: (command) => {
        if (command[1] !== 0xb2 || command[3] !== EF18_READ_P2) return inner.process(command);
        if (command[2] === 1) return Uint8Array.from([...load, 0x90, 0x00]);
        return inner.process(Uint8Array.of(command[0]!, command[1]!, command[2]! - 1, ...command.subarray(3)));
      },
    };
  }

  for (const onlineCounter of [0, 1, 2, 40]) {
    it(`recovers a debit behind a load with online counter ${onlineCounter}`, async () => {
      const fixture = await createTapFixture();
      const inner = makeCard();
      expect((await fixture.tap(inner)).status).toBe('accepted');
      expect((await fixture.tap(inner, { apduIndex: DEBIT_APDU, phase: 'after-card' })).status).toBe('in-doubt');
      expect(inner.balanceFen).toBe(600);

      const retry = await fixture.tap(loadedAtKiosk(inner, onlineCounter));
      expect(retry.status).toBe('recovered');
      expect(inner.balanceFen).toBe(600);
      expect(fixture.store.listOpenInDoubt()).toHaveLength(0);
    });

    it(`voids a torn attempt behind a load with online counter ${onlineCounter}`, async () => {
      const fixture = await createTapFixture();
      const inner = makeCard();
      expect((await fixture.tap(inner)).status).toBe('accepted');
      expect((await fixture.tap(inner, { apduIndex: DEBIT_APDU, phase: 'before-card' })).status).toBe('in-doubt');
      expect(inner.balanceFen).toBe(800);

      const retry = await fixture.tap(loadedAtKiosk(inner, onlineCounter));
      expect(retry.status).toBe('accepted');
      expect(inner.balanceFen).toBe(600);
      const resolutions = fixture.store.readReady(0, 10).flatMap((record) => (record.kind === 'resolution' ? [record] : []));
      expect(resolutions).toHaveLength(1);
      expect(resolutions[0]?.outcome).toBe('not-debited');
    });
  }

  it('voids a first torn attempt behind a load', async () => {
    const fixture = await createTapFixture();
    const inner = makeCard();
    expect((await fixture.tap(inner, { apduIndex: DEBIT_APDU, phase: 'before-card' })).status).toBe('in-doubt');

    const retry = await fixture.tap(loadedAtKiosk(inner, 1));
    expect(retry.status).toBe('accepted');
    expect(inner.balanceFen).toBe(800);
    expect(fixture.store.listOpenInDoubt()).toHaveLength(0);
  });
});

describe('tap processor fare engine rules', () => {
  it('refuses a repeat tap within the window without a second debit', async () => {
    const base = defaultFareTable([BENCH_LOCAL_CITY_CODE]);
    const fixture = await createTapFixture({ fareTable: { ...base, repeatTapWindowSeconds: 300 } });
    const card = makeCard();
    const first = await fixture.tap(card);
    expect(first.status).toBe('accepted');

    const second = await fixture.tap(card);
    expect(second.status).toBe('refused');
    expect(second.promptId).toBe('repeat-tap');
    expect(card.balanceFen).toBe(800);
    expect(fixture.store.lastSequence()).toBe(1);
  });

  it('sells a companion ride where the card type allows it', async () => {
    const base = defaultFareTable([BENCH_LOCAL_CITY_CODE]);
    const table = { ...base, repeatTapWindowSeconds: 300, cardTypes: { ...base.cardTypes, ordinary: { allowed: true, ratePercent: 100, companionsAllowed: 2 } } };
    const fixture = await createTapFixture({ fareTable: table });
    const card = makeCard();
    await fixture.tap(card);
    const companion = await fixture.tap(card);
    expect(companion.status).toBe('accepted');
    expect(companion.promptId).toBe('companion');
    expect(card.balanceFen).toBe(600);
  });
});
