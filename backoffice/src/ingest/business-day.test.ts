import { describe, expect, it } from 'vitest';
import { businessDayOf } from './business-day.js';

describe('business day', () => {
  it.each([
    ['2025-05-06T15:59:59Z', '00:00', '2025-05-06'],
    ['2025-05-06T16:00:00Z', '00:00', '2025-05-07'],
    ['2025-05-06T18:30:00Z', '03:00', '2025-05-06'],
    ['2025-05-06T19:00:00Z', '03:00', '2025-05-07'],
    ['2025-05-07T02:30:00+08:00', '03:00', '2025-05-06'],
  ])('places %s with cutoff %s on %s', (time, cutoff, day) => {
    expect(businessDayOf(time, { timezoneOffsetMinutes: 480, cutoff })).toBe(day);
  });

  it('rejects an invalid cutoff', () => {
    expect(() => businessDayOf('2025-05-06T00:00:00Z', { timezoneOffsetMinutes: 480, cutoff: '24:00' })).toThrow(/expected HH:MM/);
  });
});
