import { describe, expect, it } from 'vitest';
import { Int32RowMap } from './int32-row-map.js';

describe('Int32RowMap', () => {
  it('returns the row set for a key', () => {
    const map = new Int32RowMap();
    map.set(7, 0);
    map.set(-3, 12);
    expect(map.get(7)).toBe(0);
    expect(map.get(-3)).toBe(12);
    expect(map.get(8)).toBeUndefined();
    expect(map.size).toBe(2);
  });

  it('replaces the row of a key set again', () => {
    const map = new Int32RowMap();
    map.set(0, 1);
    map.set(0, 2);
    expect(map.get(0)).toBe(2);
    expect(map.size).toBe(1);
  });

  it('keeps every entry when it grows', () => {
    const map = new Int32RowMap();
    // Multiples of 65,536 share their low 16 bits, and the negative keys set the sign bit.
    const keys = Array.from({ length: 5000 }, (_, index) => (index % 2 === 0 ? index * 65_536 : -index - 1));
    keys.forEach((key, row) => map.set(key, row));
    expect(map.size).toBe(keys.length);
    keys.forEach((key, row) => expect(map.get(key)).toBe(row));
    expect(map.get(2 ** 31 - 1)).toBeUndefined();
  });

  it('rejects keys and rows out of range', () => {
    const map = new Int32RowMap();
    expect(() => map.set(2 ** 31, 0)).toThrow(RangeError);
    expect(() => map.set(0.5, 0)).toThrow(RangeError);
    expect(() => map.set(Number.NaN, 0)).toThrow(RangeError);
    expect(() => map.set(1, -1)).toThrow(RangeError);
    expect(() => map.set(1, 2 ** 31 - 1)).toThrow(RangeError);
  });
});
