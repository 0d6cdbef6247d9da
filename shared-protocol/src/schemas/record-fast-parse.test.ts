import { type TransactionRecord, transactionRecordSchema } from './transactions.js';
import { describe, expect, it } from 'vitest';
import { parseCommonRecord } from './record-fast-parse.js';

function purchase(): Record<string, unknown> {
  return {
    sequence: 7,
    kind: 'purchase',
    occurredAt: '2026-12-05T08:30:00.123+08:00',
    card: { application: 'tunion', medium: 'card', asn: '58100001281232000001', issuerId: '58100001FFFFFFFF', cardType: 'ordinary' },
    debit: {
      transactionType: 6,
      amountFen: 200,
      listFareFen: 200,
      balanceBeforeFen: 1000,
      cardCounter: 3,
      cardRandom: '0A0B0C0D',
      keyVersion: 1,
      algorithmId: 0,
      psamTerminalNumber: '00000692061D',
      terminalSerial: 41,
      cardDateTime: '20261205083000',
      tac: 'E6B4EA6B',
      // Out of schema order, as a terminal may send it.
      balanceAfterFen: 800,
      mac2Verified: true,
    },
    trip: { vehicleId: 'V-1', route: '1', direction: 0, stopId: 'S1', driverId: 'D1', lat: 31.3, lon: 120.6 },
  };
}

/** Applies `change` to a fresh purchase and returns it. */
function changed(change: (record: Record<string, any>) => void): Record<string, unknown> {
  const record = purchase();
  change(record);
  return record;
}

function schemaParse(input: unknown): TransactionRecord | undefined {
  const parsed = transactionRecordSchema.safeParse(input);
  return parsed.success ? parsed.data : undefined;
}

const VALID: [string, Record<string, unknown>][] = [
  ['purchase', purchase()],
  ['phone purchase of a MOHURD card', changed((r) => Object.assign(r.card, { application: 'mohurd', medium: 'phone' }))],
  ['purchase with unknown keys', changed((r) => Object.assign(r, { extra: 1 }, { card: { ...r.card, extra: 'x' } }))],
  ['purchase without optional trip fields', changed((r) => (r.trip = { vehicleId: 'V-1' }))],
  ['in-doubt record without TAC', changed((r) => { r.kind = 'in-doubt'; delete r.debit.tac; delete r.debit.balanceAfterFen; delete r.debit.mac2Verified; })],
  ['debited resolution', changed((r) => Object.assign(r, { kind: 'resolution', resolvesSequence: 6, outcome: 'debited' }))],
  ['not-debited resolution without TAC', changed((r) => { Object.assign(r, { kind: 'resolution', resolvesSequence: 6, outcome: 'not-debited' }); delete r.debit.tac; })],
  ['composite purchase', changed((r) => (r.debit.transactionType = 9))],
];

const INVALID: [string, unknown][] = [
  ['null', null],
  ['an array', [purchase()]],
  ['sequence 0', changed((r) => (r.sequence = 0))],
  ['fractional sequence', changed((r) => (r.sequence = 1.5))],
  ['sequence as text', changed((r) => (r.sequence = '7'))],
  ['lock kind', changed((r) => (r.kind = 'lock'))],
  ['time without offset', changed((r) => (r.occurredAt = '2026-12-05T08:30:00'))],
  ['impossible date', changed((r) => (r.occurredAt = '2026-02-30T08:30:00Z'))],
  ['lower-case card number', changed((r) => (r.card.asn = '58100001281232abcdef'))],
  ['short card number', changed((r) => (r.card.asn = '1234567'))],
  ['issuer id of 4 bytes', changed((r) => (r.card.issuerId = '58100001'))],
  ['empty card type', changed((r) => (r.card.cardType = ''))],
  ['card type of 33 characters', changed((r) => (r.card.cardType = 'x'.repeat(33)))],
  ['unknown medium', changed((r) => (r.card.medium = 'watch'))],
  ['M1 application', changed((r) => (r.card.application = 'm1'))],
  ['M1 evidence on a CPU card', changed((r) => (r.debit.m1 = { uid: '01020304', recordMac: '0A0B0C0D' }))],
  ['transaction type 7', changed((r) => (r.debit.transactionType = 7))],
  ['negative amount', changed((r) => (r.debit.amountFen = -1))],
  ['amount above the maximum', changed((r) => (r.debit.amountFen = 100_000_001))],
  ['fractional balance after', changed((r) => (r.debit.balanceAfterFen = 1.5))],
  ['card counter above 16 bits', changed((r) => (r.debit.cardCounter = 0x10000))],
  ['key version above 255', changed((r) => (r.debit.keyVersion = 256))],
  ['lower-case card random', changed((r) => (r.debit.cardRandom = '0a0b0c0d'))],
  ['PSAM number of 5 bytes', changed((r) => (r.debit.psamTerminalNumber = '0000069206'))],
  ['terminal serial above 32 bits', changed((r) => (r.debit.terminalSerial = 2 ** 32))],
  ['card date and time of 13 digits', changed((r) => (r.debit.cardDateTime = '2026120508300'))],
  ['TAC of 3 bytes', changed((r) => (r.debit.tac = 'E6B4EA'))],
  ['purchase without TAC', changed((r) => delete r.debit.tac)],
  ['MAC2 flag as text', changed((r) => (r.debit.mac2Verified = 'yes'))],
  ['missing debit', changed((r) => delete r.debit)],
  ['empty vehicle id', changed((r) => (r.trip.vehicleId = ''))],
  ['route of 33 characters', changed((r) => (r.trip.route = 'r'.repeat(33)))],
  ['direction 2', changed((r) => (r.trip.direction = 2))],
  ['latitude 91', changed((r) => (r.trip.lat = 91))],
  ['longitude as text', changed((r) => (r.trip.lon = '120.6'))],
  ['resolution without the sequence it settles', changed((r) => Object.assign(r, { kind: 'resolution', outcome: 'debited' }))],
  ['resolution without outcome', changed((r) => Object.assign(r, { kind: 'resolution', resolvesSequence: 6 }))],
  ['debited resolution without TAC', changed((r) => { Object.assign(r, { kind: 'resolution', resolvesSequence: 6, outcome: 'debited' }); delete r.debit.tac; })],
  ['unknown outcome', changed((r) => Object.assign(r, { kind: 'resolution', resolvesSequence: 6, outcome: 'maybe' }))],
];

/** Returns each field of an object schema with whether it may be left out, nested objects as dotted paths. */
function schemaFields(schema: unknown, prefix = ''): string[] {
  const shape = (schema as { shape?: Record<string, { safeParse(value: unknown): { success: boolean } }> }).shape;
  if (shape === undefined) return [];
  return Object.entries(shape).flatMap(([name, field]) => {
    const path = `${prefix}${name}`;
    return [`${path}${field.safeParse(undefined).success ? '?' : ''}`, ...schemaFields(field, `${path}.`)];
  });
}

describe('parseCommonRecord', () => {
  // The parser copies these fields by hand, so a schema change must change it too.
  it('matches the schema fields it was written for', () => {
    expect(schemaFields(transactionRecordSchema)).toMatchInlineSnapshot(`
      [
        "sequence",
        "kind",
        "occurredAt",
        "card",
        "card.application",
        "card.medium",
        "card.asn",
        "card.issuerId",
        "card.cardType",
        "debit",
        "debit.transactionType",
        "debit.amountFen",
        "debit.listFareFen",
        "debit.balanceBeforeFen",
        "debit.balanceAfterFen?",
        "debit.cardCounter",
        "debit.cardRandom",
        "debit.keyVersion",
        "debit.algorithmId",
        "debit.psamTerminalNumber",
        "debit.terminalSerial",
        "debit.cardDateTime",
        "debit.tac?",
        "debit.mac2Verified?",
        "debit.m1?",
        "trip",
        "trip.vehicleId",
        "trip.route?",
        "trip.direction?",
        "trip.stopId?",
        "trip.driverId?",
        "trip.lat?",
        "trip.lon?",
        "resolvesSequence?",
        "outcome?",
      ]
    `);
  });


  it.each(VALID)('returns the schema output for a %s', (_name, input) => {
    const fast = parseCommonRecord(input);
    const schema = schemaParse(input);

    expect(schema).toBeDefined();
    expect(fast).toEqual(schema);
    expect(JSON.stringify(fast)).toBe(JSON.stringify(schema));
  });

  it.each(INVALID)('leaves a record with %s to the schema', (_name, input) => {
    expect(parseCommonRecord(input)).toBeUndefined();
    expect(schemaParse(input)).toBeUndefined();
  });

  it('leaves an M1 record to the schema', () => {
    const m1 = changed((r) => {
      r.card.application = 'm1';
      r.debit.m1 = { uid: '01020304', recordMac: '0A0B0C0D' };
    });

    expect(parseCommonRecord(m1)).toBeUndefined();
    expect(schemaParse(m1)).toBeDefined();
  });

  it('writes keys in schema order', () => {
    const fast = parseCommonRecord(purchase())!;

    expect(Object.keys(fast.debit)).toEqual(Object.keys(schemaParse(purchase())!.debit));
    expect(Object.keys(fast.debit).indexOf('balanceAfterFen')).toBe(4);
  });
});
