import { M1_LAYOUT, decodeValueBlock, encodeValueBlock, fromHex, m1Psam, m1RecordBlock, mifare, toHex } from '@busfare/shared-protocol';
import { SoftwarePsam, VirtualM1Card } from '@busfare/simulators';
import { describe, expect, it } from 'vitest';

const card = () => new VirtualM1Card({ uid: fromHex('11223344'), cardSerial: '00000001', balanceFen: 100, cardTypeCode: 1, startDate: '20240101', expiryDate: '20301231' });
const sw = (response: Uint8Array) => toHex(response.subarray(response.length - 2));

describe('M1 value block codec', () => {
  it('encodes the published example', () => {
    expect(toHex(encodeValueBlock(100, 5))).toBe('640000009BFFFFFF6400000005FA05FA');
  });

  it('rejects inconsistent value blocks', () => {
    const good = encodeValueBlock(100, 5);
    expect(decodeValueBlock(good)).toEqual({ value: 100, address: 5 });
    for (const offset of [0, 4, 8, 12, 13, 14, 15]) {
      const bad = good.slice();
      bad[offset] = (bad[offset] ?? 0) ^ 0x01;
      expect(decodeValueBlock(bad), `byte ${offset}`).toBeUndefined();
    }
    expect(decodeValueBlock(good.subarray(0, 15))).toBeUndefined();
  });

  it('rejects values outside 32 bits', () => {
    expect(() => encodeValueBlock(2 ** 31, 5)).toThrow(RangeError);
  });

  it('places nine records in sectors 3 to 5', () => {
    const blocks = Array.from({ length: 9 }, (_, index) => m1RecordBlock(index + 1));
    expect(blocks).toEqual([12, 13, 14, 16, 17, 18, 20, 21, 22]);
    expect(m1RecordBlock(10)).toBe(12);
  });

  it('rejects bad pseudo-APDU arguments', () => {
    expect(() => mifare.loadKey(2, new Uint8Array(6))).toThrow(RangeError);
    expect(() => mifare.loadKey(0, new Uint8Array(5))).toThrow(RangeError);
    expect(() => mifare.writeBlock(4, new Uint8Array(15))).toThrow(RangeError);
    expect(() => mifare.readBlock(256)).toThrow(RangeError);
    expect(() => m1Psam.deriveM1Keys(new Uint8Array(5), [1])).toThrow(RangeError);
    expect(() => m1Psam.deriveM1Keys(new Uint8Array(4), [])).toThrow(RangeError);
  });
});

describe('virtual M1 card', () => {
  it('rejects access without authentication', () => {
    const m1 = card();
    expect(sw(m1.process(mifare.readBlock(M1_LAYOUT.issuanceBlock)))).toBe('6300');
    expect(sw(m1.process(mifare.writeBlock(M1_LAYOUT.issuanceBlock, new Uint8Array(16))))).toBe('6300');
  });

  it('rejects a wrong key and malformed commands', () => {
    const m1 = card();
    expect(sw(m1.process(mifare.loadKey(0, new Uint8Array(6))))).toBe('9000');
    expect(sw(m1.process(mifare.authenticate(4, 'A', 0)))).toBe('6300');
    expect(sw(m1.process(mifare.authenticate(4, 'A', 1)))).toBe('6300');
    expect(sw(m1.process(fromHex('FF82000105000000000000')))).toBe('6700');
    expect(sw(m1.process(fromHex('00B0000010')))).toBe('6E00');
    expect(sw(m1.process(fromHex('FF99000000')))).toBe('6D00');
    expect(sw(m1.process(fromHex('FF')))).toBe('6700');
    expect(sw(m1.process(fromHex('FFCA010000')))).toBe('6A81');
  });

  it('rejects increment with key A', () => {
    const m1 = card();
    const psam = new SoftwarePsam({ terminalNumber: '000058100001', issuers: [] });
    const keys = m1Psam.parseM1Keys({ data: psam.process(m1Psam.deriveM1Keys(m1.uid, [2])).subarray(0, 6), sw: 0x9000 }, 1);
    expect(sw(m1.process(mifare.loadKey(0, keys[0]!)))).toBe('9000');
    expect(sw(m1.process(mifare.authenticate(8, 'A', 0)))).toBe('9000');
    expect(sw(m1.process(mifare.valueOperation(9, 'increment', 100)))).toBe('6300');
    expect(sw(m1.process(mifare.valueOperation(9, 'decrement', 30)))).toBe('9000');
    expect(m1.balanceFen).toBe(70);
    expect(sw(m1.process(mifare.writeBlock(11, new Uint8Array(16))))).toBe('6300');
  });
});

describe('software PSAM M1 commands', () => {
  const psam = () => new SoftwarePsam({ terminalNumber: '000058100001', issuers: [] });

  it('rejects malformed M1 commands', () => {
    expect(sw(psam().process(fromHex('80FC000108' + '0411223344000000')))).toBe('6A86');
    expect(sw(psam().process(fromHex('80FC000008' + '0411223344000000')))).toBe('6700');
    expect(sw(psam().process(fromHex('80FC000009' + '0511223344000000' + '01')))).toBe('6A80');
    expect(sw(psam().process(fromHex('80F8000001' + '00')))).toBe('6700');
  });

  it('rejects a record MAC for an unknown issuer', () => {
    const command = m1Psam.m1RecordMac({
      issuerId: fromHex('2000000100000000'),
      asn8: new Uint8Array(8),
      uid: fromHex('11223344'),
      purseCounter: 0,
      balanceBeforeFen: 100,
      amountFen: 10,
      transactionType: 6,
      dateTime: '20260302080000',
      recordRandom: new Uint8Array(4),
    });
    expect(sw(psam().process(command))).toBe('9403');
    expect(sw(new SoftwarePsam({ terminalNumber: '000058100001', issuers: [], m1Issuer: null }).process(m1Psam.deriveM1Keys(fromHex('11223344'), [1])))).toBe('9403');
  });
});
