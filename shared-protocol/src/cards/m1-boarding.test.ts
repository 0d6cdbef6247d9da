import { describe, expect, it } from 'vitest';
import { M1_PROCESS_FLAG, type M1PurseInfo } from './m1-layout.js';
import { type M1Boarding, classifyM1Boarding, classifyM1BoardingBySlot, encodeM1Boarding, parseM1Boarding } from './m1-boarding.js';

const RECORD: M1Boarding = {
  routeCode: '00000009',
  direction: 0,
  stopIndex: 1,
  boardedAt: '20260302081502',
  boardingCounter: 5,
  terminalSerial: 0x0102,
  terminalTail: '0001',
  boardingChargeFen: 0,
  longestFareFen: 300,
  open: true,
};

/** The purse information block as the boarding debit left it. */
const AFTER_BOARDING: M1PurseInfo = { counter: 5, processFlag: M1_PROCESS_FLAG.idle, pendingAmountFen: 0, pendingBalanceBeforeFen: 1000, pendingTerminalSerial: 0x0102, pendingTerminalTail: '0001' };

describe('M1 boarding record codec', () => {
  it('round-trips every field', () => {
    const record: M1Boarding = { ...RECORD, routeCode: 'A1B2C3D4', direction: 1, stopIndex: 300, boardingCounter: 0xfffe, terminalSerial: 0x01020304, terminalTail: 'BEEF', longestFareFen: 450 };
    const [first, second] = encodeM1Boarding(record);
    expect(first).toHaveLength(16);
    expect(second).toHaveLength(16);
    expect(parseM1Boarding(first, second)).toEqual({ kind: 'boarding', boarding: record });
  });

  it('stores an unknown stop as FFFF', () => {
    const [first, second] = encodeM1Boarding({ ...RECORD, stopIndex: undefined });
    expect(first.subarray(14, 16)).toEqual(Uint8Array.of(0xff, 0xff));
    const decoded = parseM1Boarding(first, second);
    expect(decoded.kind).toBe('boarding');
    expect((decoded as { boarding: M1Boarding }).boarding.stopIndex).toBeUndefined();
  });

  it('reads two zero blocks as empty', () => {
    expect(parseM1Boarding(new Uint8Array(16), new Uint8Array(16))).toEqual({ kind: 'empty' });
  });

  it('rejects damaged records', () => {
    const [first, second] = encodeM1Boarding(RECORD);
    const flip = (block: Uint8Array, offset: number) => block.map((byte, index) => (index === offset ? byte ^ 0x01 : byte));
    const cases: [string, Uint8Array, Uint8Array][] = [
      ['type byte', Uint8Array.from([0xb2, ...first.subarray(1)]), second],
      ['flipped route bit', flip(first, 12), second],
      ['flipped state bit', first, flip(second, 13)],
      ['flipped CRC bit', first, flip(second, 15)],
      ['short first block', first.subarray(0, 15), second],
      ['short second block', first, second.subarray(0, 15)],
      ['second block of another record', first, encodeM1Boarding({ ...RECORD, stopIndex: 2 })[1]],
    ];
    for (const [name, a, b] of cases) expect(parseM1Boarding(a, b).kind, name).toBe('corrupt');
  });

  it('carries the CRC-16/CCITT-FALSE of its contents', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0x29b1);
    const [first, second] = encodeM1Boarding(RECORD);
    const bytes = new Uint8Array([...first, ...second]);
    expect((bytes[30]! << 8) | bytes[31]!).toBe(crc16(bytes.subarray(0, 30)));
  });

  it('rejects invalid fields behind a valid CRC', () => {
    // Re-encoding with a valid CRC isolates the field checks from the CRC check.
    const withField = (offset: number, value: number) => {
      const bytes = new Uint8Array([...encodeM1Boarding(RECORD)[0], ...encodeM1Boarding(RECORD)[1]]);
      bytes[offset] = value;
      const crc = crc16(bytes.subarray(0, 30));
      bytes[30] = crc >> 8;
      bytes[31] = crc & 0xff;
      return parseM1Boarding(bytes.subarray(0, 16), bytes.subarray(16));
    };
    expect(withField(1, 2).kind, 'direction').toBe('corrupt');
    expect(withField(29, 3).kind, 'state').toBe('corrupt');
    expect(withField(16, 0x2a).kind, 'date-time').toBe('corrupt');
  });

  it('refuses to encode invalid fields', () => {
    expect(() => encodeM1Boarding({ ...RECORD, routeCode: 'XYZ' })).toThrow(RangeError);
    expect(() => encodeM1Boarding({ ...RECORD, direction: 2 })).toThrow(RangeError);
    expect(() => encodeM1Boarding({ ...RECORD, stopIndex: 0xffff })).toThrow(RangeError);
    expect(() => encodeM1Boarding({ ...RECORD, stopIndex: -1 })).toThrow(RangeError);
  });
});

describe('M1 boarding against the purse', () => {
  it('is open while the boarding debit is the last one', () => {
    expect(classifyM1Boarding(RECORD, AFTER_BOARDING)).toBe('open');
  });

  it('is closed by its state byte', () => {
    expect(classifyM1Boarding({ ...RECORD, open: false }, AFTER_BOARDING)).toBe('closed');
  });

  it('is closed by any later debit', () => {
    expect(classifyM1Boarding(RECORD, { ...AFTER_BOARDING, counter: 6, pendingTerminalSerial: 9 })).toBe('closed');
  });

  it('is not committed one counter ahead', () => {
    expect(classifyM1Boarding(RECORD, { ...AFTER_BOARDING, counter: 4 })).toBe('not-committed');
    expect(classifyM1Boarding({ ...RECORD, boardingCounter: 0 }, { ...AFTER_BOARDING, counter: 0xffff })).toBe('not-committed');
  });

  it('checks the purchase record after a rollback', () => {
    const rolledBack = { ...AFTER_BOARDING, pendingAmountFen: 100, pendingTerminalSerial: 0x0103 };
    expect(classifyM1Boarding(RECORD, rolledBack)).toBe('check-record');
    const slot = { counterAfter: 5, amountFen: 0, balanceAfterFen: 1000, terminalSerial: 0x0102, terminalTail: '0001' };
    expect(classifyM1BoardingBySlot(RECORD, slot)).toBe('open');
    expect(classifyM1BoardingBySlot(RECORD, { ...slot, terminalSerial: 0x0103 })).toBe('not-committed');
    expect(classifyM1BoardingBySlot(RECORD, { ...slot, terminalTail: '0002' })).toBe('not-committed');
    expect(classifyM1BoardingBySlot(RECORD, { ...slot, counterAfter: 14 })).toBe('not-committed');
    expect(classifyM1BoardingBySlot(RECORD, undefined)).toBe('not-committed');
  });
});

/** Computes CRC-16/CCITT-FALSE bit by bit, independently of the module, whose check value for "123456789" is 29B1. */
function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}
