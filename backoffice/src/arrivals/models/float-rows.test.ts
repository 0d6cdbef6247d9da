import { describe, expect, it } from 'vitest';
import { FloatRows } from './float-rows.js';

describe('FloatRows', () => {
  it('keeps each row when it grows', () => {
    const rows = new FloatRows(2);
    for (let value = 0; value < 500; value += 1) {
      const row = rows.addRow();
      expect(row).toBe(value);
      rows.set(row, 0, value + 0.25);
      rows.set(row, 1, -value);
    }
    expect(rows.length).toBe(500);
    for (let row = 0; row < 500; row += 1) {
      expect(rows.get(row, 0)).toBe(row + 0.25);
      expect(rows.get(row, 1)).toBe(-row);
    }
  });

  it('starts each row at zero', () => {
    const rows = new FloatRows(3);
    const row = rows.addRow();
    expect([rows.get(row, 0), rows.get(row, 1), rows.get(row, 2)]).toEqual([0, 0, 0]);
  });

  it('rejects a width that is not a positive integer', () => {
    expect(() => new FloatRows(0)).toThrow(RangeError);
    expect(() => new FloatRows(1.5)).toThrow(RangeError);
  });
});
