import { describe, expect, it } from 'vitest';
import { ErrorTable } from './error-table.js';
import { horizonBandOf, isWithinCaltrans } from './horizon-bands.js';

describe('horizonBandOf', () => {
  it.each([
    [0, '0-5'],
    [299, '0-5'],
    [300, '5-10'],
    [599, '5-10'],
    [600, '10-20'],
    [1200, '20-30'],
    [1800, '20-30'],
  ])('puts %i s in band %s', (horizonS, band) => {
    expect(horizonBandOf(horizonS)).toBe(band);
  });

  it('leaves out horizons beyond 30 minutes and negative ones', () => {
    expect(horizonBandOf(1801)).toBeUndefined();
    expect(horizonBandOf(-1)).toBeUndefined();
  });
});

describe('isWithinCaltrans', () => {
  it('accepts lateness inside the range at 10 minutes', () => {
    // At t = 10: -60·ln(11.3) = -145.5 s and 60·ln(11.5) = 146.5 s.
    expect(isWithinCaltrans(600, 1000, 1146)).toBe(true);
    expect(isWithinCaltrans(600, 1000, 855)).toBe(true);
  });

  it('rejects lateness outside the range at 10 minutes', () => {
    expect(isWithinCaltrans(600, 1000, 1147)).toBe(false);
    expect(isWithinCaltrans(600, 1000, 854)).toBe(false);
  });
});

describe('ErrorTable', () => {
  it('reports MAE, RMSE, bias and the Caltrans share', () => {
    const table = new ErrorTable();
    table.add('kalman', 100, 200, 100);
    table.add('kalman', 200, 190, 200);

    const [line, ...rest] = table.reports();

    expect(rest).toHaveLength(0);
    expect(line).toEqual({ model: 'kalman', horizonMin: '0-5', n: 2, maeS: 55, rmseS: 71.1, biasS: 45, withinCaltrans: 0.5 });
  });

  it('keeps the order models were first added', () => {
    const table = new ErrorTable();
    table.add('busfare', 900, 900, 900);
    table.add('historical-median', 60, 60, 60);
    table.add('busfare', 60, 60, 60);

    expect(table.reports().map((line) => `${line.model} ${line.horizonMin}`)).toEqual(['busfare 0-5', 'busfare 10-20', 'historical-median 0-5']);
  });
});
