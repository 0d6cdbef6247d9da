import { describe, expect, it } from 'vitest';
import { TimeColumn } from './time-column.js';

describe('TimeColumn', () => {
  it('returns views holding the appended values', () => {
    const column = new TimeColumn(8);
    const first = column.append([3600, 3700.5, 3800]);
    const second = column.append([100, 200]);
    expect(Array.from(first)).toEqual([3600, 3700.5, 3800]);
    expect(Array.from(second)).toEqual([100, 200]);
    expect(first.at(-1)).toBe(3800);
    expect(second.buffer).toBe(first.buffer);
  });

  it('starts a new block when one is full', () => {
    const column = new TimeColumn(4);
    const first = column.append([1, 2, 3]);
    const second = column.append([4, 5]);
    expect(second.buffer).not.toBe(first.buffer);
    second[0] = 40;
    expect(Array.from(first)).toEqual([1, 2, 3]);
    expect(Array.from(second)).toEqual([40, 5]);
  });

  it('gives an array longer than a block its own block', () => {
    const column = new TimeColumn(4);
    const long = column.append([1, 2, 3, 4, 5, 6]);
    const next = column.append([7]);
    expect(Array.from(long)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(next)).toEqual([7]);
    expect(next.buffer).not.toBe(long.buffer);
  });

  it('appends empty arrays', () => {
    const column = new TimeColumn(2);
    expect(column.append([])).toHaveLength(0);
    expect(Array.from(column.append([1, 2]))).toEqual([1, 2]);
  });

  it('rejects an invalid block size', () => {
    expect(() => new TimeColumn(0)).toThrow(RangeError);
    expect(() => new TimeColumn(1.5)).toThrow(RangeError);
  });
});
