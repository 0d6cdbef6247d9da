import { describe, expect, it } from 'vitest';
import { fitLeastAbsoluteDeviations } from './least-absolute-deviations.js';

const rowsOf = (xs: number[]) => xs.map((x) => Float64Array.of(1, x));

describe('fitLeastAbsoluteDeviations', () => {
  it('recovers an exact line', () => {
    const xs = [0, 1, 2, 3, 4, 5];

    const beta = fitLeastAbsoluteDeviations(rowsOf(xs), xs.map((x) => 2 + 0.5 * x), xs.map(() => 1));

    expect(beta[0]).toBeCloseTo(2, 4);
    expect(beta[1]).toBeCloseTo(0.5, 4);
  });

  it('ignores a single far outlier that would pull least squares', () => {
    const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const ys = xs.map((x) => 1 + x);
    ys[9] = 100;

    const beta = fitLeastAbsoluteDeviations(rowsOf(xs), ys, xs.map(() => 1));

    expect(beta[0]).toBeCloseTo(1, 2);
    expect(beta[1]).toBeCloseTo(1, 2);
  });

  it('follows the heavier points where the data disagree', () => {
    // An intercept only: the weighted median of 0 (weight 3) and 10 (weight 1) is 0.
    const beta = fitLeastAbsoluteDeviations([Float64Array.of(1), Float64Array.of(1)], [0, 10], [3, 1]);

    expect(beta[0]).toBeCloseTo(0, 3);
  });

  it('shrinks the slopes but not the intercept under a ridge penalty', () => {
    const xs = [-1, -0.5, 0, 0.5, 1];
    const ys = xs.map((x) => 3 + x);

    const free = fitLeastAbsoluteDeviations(rowsOf(xs), ys, xs.map(() => 1));
    const ridged = fitLeastAbsoluteDeviations(rowsOf(xs), ys, xs.map(() => 1), { ridge: 10 });

    expect(Math.abs(ridged[1]!)).toBeLessThan(Math.abs(free[1]!) / 2);
    expect(ridged[0]).toBeCloseTo(3, 1);
  });

  it('leaves a feature that is zero on every point at 0', () => {
    const beta = fitLeastAbsoluteDeviations([Float64Array.of(1, 0), Float64Array.of(1, 0)], [2, 2], [1, 1]);

    expect(beta[0]).toBeCloseTo(2, 6);
    expect(beta[1]).toBe(0);
  });

  it('rejects inputs of different lengths', () => {
    expect(() => fitLeastAbsoluteDeviations(rowsOf([1, 2]), [1], [1, 1])).toThrow(/invalid fit: 2 rows, 1 targets, 2 weights/);
    expect(() => fitLeastAbsoluteDeviations([Float64Array.of(1, 2), Float64Array.of(1)], [1, 1], [1, 1])).toThrow(/rows of different lengths/);
  });
});
