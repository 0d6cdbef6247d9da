import { describe, expect, it } from 'vitest';
import { BoundedMap } from './bounded-map.js';

/** Returns the keys of `keys` that `map` still contains, in the order given. */
function presentKeys(map: BoundedMap<number, number>, keys: readonly number[]): number[] {
  return keys.filter((key) => map.get(key) !== undefined);
}

describe('BoundedMap', () => {
  it('drops the oldest entry when full', () => {
    const map = new BoundedMap<number, number>(3);
    for (const key of [1, 2, 3, 4, 5]) map.set(key, key * 10);

    expect(map.size).toBe(3);
    expect(presentKeys(map, [1, 2, 3, 4, 5])).toEqual([3, 4, 5]);
    expect(map.get(5)).toBe(50);
  });

  it('moves a key that is set again to the newest place', () => {
    const map = new BoundedMap<number, number>(3);
    for (const key of [1, 2, 3]) map.set(key, key);

    map.set(1, 100);
    map.set(4, 4);

    expect(presentKeys(map, [1, 2, 3, 4])).toEqual([1, 3, 4]);
    expect(map.get(1)).toBe(100);
  });

  it('keeps its size after deletes and refills', () => {
    const map = new BoundedMap<number, number>(2);
    map.set(1, 1);
    map.set(2, 2);
    map.delete(1);
    map.set(3, 3);

    expect(presentKeys(map, [1, 2, 3])).toEqual([2, 3]);

    map.set(4, 4);

    expect(presentKeys(map, [2, 3, 4])).toEqual([3, 4]);
  });

  it('matches a plain FIFO over a long mixed run', () => {
    const capacity = 50;
    const map = new BoundedMap<number, number>(capacity);
    // A plain array model: oldest first, with a set key moved to the end.
    const model: number[] = [];
    let state = 12345;
    for (let step = 0; step < 20_000; step += 1) {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      const key = state % 120;
      if (state % 7 === 0) {
        map.delete(key);
        const index = model.indexOf(key);
        if (index >= 0) model.splice(index, 1);
        continue;
      }
      map.set(key, step);
      const index = model.indexOf(key);
      if (index >= 0) model.splice(index, 1);
      else if (model.length >= capacity) model.shift();
      model.push(key);
    }

    expect(map.size).toBe(model.length);
    expect(presentKeys(map, [...model].sort((a, b) => a - b))).toEqual([...model].sort((a, b) => a - b));
  });

  it('rejects a capacity of zero', () => {
    expect(() => new BoundedMap(0)).toThrow(RangeError);
  });
});
