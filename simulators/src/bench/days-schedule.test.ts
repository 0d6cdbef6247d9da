import { describe, expect, it } from 'vitest';
import { hourWeights, localDateBefore, localInstant, nextDate } from './days-schedule.js';
import { UsageError, parseRunArgs } from './run-command.js';

describe('days schedule', () => {
  it('places local dates and instants at an offset', () => {
    expect(localDateBefore(new Date('2026-12-04T20:00:00Z'), 2, 480)).toBe('2026-12-03');
    expect(localInstant('2026-12-03', 6, 480).toISOString()).toBe('2026-12-02T22:00:00.000Z');
    expect(nextDate('2026-12-31')).toBe('2027-01-01');
  });

  it('weights hours to a mean of one', () => {
    const weights = hourWeights();
    expect(weights).toHaveLength(16);
    expect(weights.reduce((sum, weight) => sum + weight, 0)).toBeCloseTo(16, 9);
    expect(weights[1]).toBeGreaterThan(weights[5] as number);
  });
});

describe('run --days arguments', () => {
  it('reads --days and --taps-per-day', () => {
    const settings = parseRunArgs(['--days', '3', '--taps-per-day', '120', '--report', 'r.json']);
    expect(settings).toMatchObject({ days: 3, tapsPerDay: 120, reportPath: 'r.json' });
  });

  it('rejects invalid day counts', () => {
    for (const value of ['0', '-1', '1.5', 'x', '400']) {
      expect(() => parseRunArgs([`--days=${value}`])).toThrow(UsageError);
    }
    expect(() => parseRunArgs(['--days', '2', '--taps-per-day', '3'])).toThrow(/invalid --taps-per-day/);
  });
});
