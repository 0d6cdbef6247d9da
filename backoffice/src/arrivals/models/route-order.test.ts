import { describe, expect, it } from 'vitest';
import { keepRouteOrder } from './route-order.js';

describe('keepRouteOrder', () => {
  it('leaves ordered times alone', () => {
    const times = [60, 120, 120, 300];
    keepRouteOrder(times);
    expect(times).toEqual([60, 120, 120, 300]);
  });

  it('pools each run out of order', () => {
    const times = [60, 200, 140, 150, 400, 380];
    keepRouteOrder(times);
    // 200, 140 and 150 pool to 163.3; 400 and 380 pool to 390.
    expect(times[0]).toBe(60);
    expect(times[1]).toBeCloseTo(490 / 3, 9);
    expect(times[2]).toBeCloseTo(490 / 3, 9);
    expect(times[3]).toBeCloseTo(490 / 3, 9);
    expect(times[4]).toBe(390);
    expect(times[5]).toBe(390);
  });

  it('skips targets without a time', () => {
    const times = [100, Number.NaN, 80, Number.POSITIVE_INFINITY, 200];
    keepRouteOrder(times);
    expect(times).toEqual([90, Number.NaN, 90, Number.POSITIVE_INFINITY, 200]);
  });

  it('orders a scrambled sequence', () => {
    const times = Array.from({ length: 200 }, (_, index) => 30 * index + ((index * 7919) % 97) * 5 - 240);
    const sum = times.reduce((total, value) => total + value, 0);
    keepRouteOrder(times);
    for (let index = 1; index < times.length; index += 1) expect(times[index]!).toBeGreaterThanOrEqual(times[index - 1]! - 1e-9);
    expect(times.reduce((total, value) => total + value, 0)).toBeCloseTo(sum, 6);
  });

  it('grows its scratch space', () => {
    const times = Array.from({ length: 1000 }, (_, index) => 1000 - index);
    keepRouteOrder(times);
    expect(new Set(times).size).toBe(1);
    expect(times[0]).toBeCloseTo(500.5, 9);
  });
});
