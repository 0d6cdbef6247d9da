import { describe, expect, it } from 'vitest';
import { TimedEntries } from './timed-entries.js';

function rows(entries: TimedEntries): number[][] {
  return Array.from({ length: entries.length }, (_, position) => [entries.item(position), entries.index(position), entries.time(position)]);
}

describe('TimedEntries', () => {
  it('inserts in time order, equal times in insertion order', () => {
    const entries = new TimedEntries();
    expect(entries.insert(1, 0, 100.5)).toBe(0);
    expect(entries.insert(2, 1, 50)).toBe(0);
    expect(entries.insert(3, 2, 100.5)).toBe(2);
    expect(entries.insert(4, 3, 75)).toBe(1);
    expect(rows(entries)).toEqual([
      [2, 1, 50],
      [4, 3, 75],
      [1, 0, 100.5],
      [3, 2, 100.5],
    ]);
  });

  it('finds the first entry later than a time', () => {
    const entries = new TimedEntries();
    for (const time of [10, 20, 20, 30]) entries.push(0, 0, time);
    expect(entries.upperBound(5)).toBe(0);
    expect(entries.upperBound(20)).toBe(3);
    expect(entries.upperBound(30)).toBe(4);
  });

  it('keeps every entry when it grows', () => {
    const entries = new TimedEntries();
    // Descending times put every insert at the front, so each growth copies shifted columns.
    for (let item = 0; item < 1000; item += 1) entries.insert(item, item * 2, 5000 - item);
    expect(entries.length).toBe(1000);
    expect(rows(entries)[0]).toEqual([999, 1998, 4001]);
    expect(rows(entries)[999]).toEqual([0, 0, 5000]);
    for (let position = 1; position < entries.length; position += 1) expect(entries.time(position)).toBeGreaterThan(entries.time(position - 1));
  });
});
