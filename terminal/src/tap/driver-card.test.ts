import { describe, expect, it } from 'vitest';
import { readDriverCard } from './driver-card.js';
import type { PurseCardFacts } from './select-application.js';

function facts(fields: Partial<PurseCardFacts> = {}): PurseCardFacts {
  return {
    asn: '58100001900000008123',
    issuerId: '5810000100000000',
    issuerFactor: '5810000100000000',
    cardTypeCode: 10,
    startDate: '20240101',
    expiryDate: '20341231',
    ...fields,
  };
}

describe('readDriverCard', () => {
  it('takes the driver number from the last digits', () => {
    expect(readDriverCard(facts(), 'tunion', 8, '20260302')).toEqual({ valid: true, card: { driverId: '8123', asn: '58100001900000008123', application: 'tunion' } });
    expect(readDriverCard(facts(), 'mohurd', 4, '20260302')).toMatchObject({ valid: true, card: { driverId: '8123', application: 'mohurd' } });
    expect(readDriverCard(facts({ asn: '58100001912345678901' }), 'tunion', 16, '20260302')).toMatchObject({ valid: true, card: { driverId: '1912345678901' } });
  });

  it('accepts the first and last valid day', () => {
    expect(readDriverCard(facts(), 'tunion', 8, '20240101').valid).toBe(true);
    expect(readDriverCard(facts(), 'tunion', 8, '20341231').valid).toBe(true);
  });

  const invalid: { name: string; fields: Partial<PurseCardFacts>; promptId: string; reason: RegExp }[] = [
    { name: 'hex digits in the number', fields: { asn: '581000019000000081AB' }, promptId: 'driver-card-invalid', reason: /"581000\*{10}81AB" is not decimal/ },
    { name: 'an empty number', fields: { asn: '' }, promptId: 'driver-card-invalid', reason: /is not decimal/ },
    { name: 'zeros where the driver number is', fields: { asn: '58100001900000000000' }, promptId: 'driver-card-invalid', reason: /holds no driver number in its last 8 digits/ },
    { name: 'a start date that is not a date', fields: { startDate: 'FFFFFFFF' }, promptId: 'driver-card-invalid', reason: /invalid validity dates/ },
    { name: 'a short expiry date', fields: { expiryDate: '2034' }, promptId: 'driver-card-invalid', reason: /invalid validity dates/ },
    { name: 'a card not yet valid', fields: { startDate: '20270101' }, promptId: 'card-expired', reason: /valid from 20270101 to 20341231, not on 20260302/ },
    { name: 'an expired card', fields: { expiryDate: '20260301' }, promptId: 'card-expired', reason: /not on 20260302/ },
  ];
  for (const entry of invalid) {
    it(`rejects ${entry.name}`, () => {
      const reading = readDriverCard(facts(entry.fields), 'tunion', 8, '20260302');
      expect(reading.valid).toBe(false);
      if (reading.valid) return;
      expect(reading.promptId).toBe(entry.promptId);
      expect(reading.reason).toMatch(entry.reason);
      expect(reading.reason).not.toContain('58100001900000008123');
    });
  }
});
