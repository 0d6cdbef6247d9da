import { describe, expect, it } from 'vitest';
import { type BusinessDayRule, businessDayOf, businessDayPlacer, cutoffMinutes } from './business-day.js';

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

/** Places one instant with no state kept between calls. */
function placeAlone(isoTime: string, rule: BusinessDayRule): string {
  const shiftMs = (rule.timezoneOffsetMinutes - cutoffMinutes(rule.cutoff)) * 60_000;
  return new Date(Date.parse(isoTime) + shiftMs).toISOString().slice(0, 10);
}

describe('business day placer', () => {
  const times = [
    '2025-05-06T19:59:59.999Z',
    '2025-05-06T20:00:00.000Z',
    '2025-05-06T19:59:59.999Z',
    '2025-05-07T03:59:59+08:00',
    '2025-05-07T04:00:00+08:00',
    '2025-05-07T04:00:00.0001+08:00',
    '2025-12-31T23:59:59Z',
    '2026-01-01T00:00:00Z',
    '1969-12-31T23:59:59.999Z',
    '1970-01-01T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '-000001-12-31T23:59:59Z',
    '+010000-01-01T00:00:00Z',
    '2024-02-29T12:00:00-05:00',
    '2025-05-06T20:00:00.000Z',
  ];
  const rules: BusinessDayRule[] = [
    { timezoneOffsetMinutes: 480, cutoff: '04:00' },
    { timezoneOffsetMinutes: -300, cutoff: '00:00' },
    { timezoneOffsetMinutes: 0, cutoff: '23:59' },
    { timezoneOffsetMinutes: 840, cutoff: '03:30' },
  ];

  it.each(rules)('places like a stateless placement (offset $timezoneOffsetMinutes, cutoff $cutoff)', (rule) => {
    const place = businessDayPlacer(rule);

    for (const time of [...times, ...times.slice().reverse()]) expect(place(time), time).toBe(placeAlone(time, rule));
  });

  it('rejects an invalid time after a placed one', () => {
    const place = businessDayPlacer({ timezoneOffsetMinutes: 480, cutoff: '04:00' });
    place('2025-05-06T20:00:00Z');

    expect(() => place('not a time')).toThrow('invalid ISO 8601 time "not a time"');
  });

  it('rejects a day beyond the Date range after the last valid instant', () => {
    const place = businessDayPlacer({ timezoneOffsetMinutes: 60, cutoff: '00:00' });
    // Shifted by one hour this is the last instant a Date can hold, 8.64e15 ms after the epoch.
    expect(place('+275760-09-12T23:00:00Z')).toBe('+275760-09');

    // The next instant shifts past the range, into the same day number.
    expect(() => place('+275760-09-12T23:00:00.001Z')).toThrow(RangeError);
  });
});
