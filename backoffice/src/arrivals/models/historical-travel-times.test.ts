import { describe, expect, it } from 'vitest';
import { type ObservedTrip, dayTypeOf } from '../observed-trip.js';
import { PairHistory, median, pairKey } from '../travel-history.js';
import { HistoricalTravelTimes } from './historical-travel-times.js';

const DATES = ['2018-03-03', '2018-03-04', '2018-03-05', '2018-03-06', '2018-03-07'];

/** Trips A→B→C every 20 minutes from 06:00 to 10:00 on each date, each run a little different. */
function historyTrips(): ObservedTrip[] {
  const trips: ObservedTrip[] = [];
  DATES.forEach((serviceDate, day) => {
    const dayStart = Date.parse(`${serviceDate}T00:00:00Z`) / 1000 - 8 * 3600;
    for (let start = 6 * 3600, run = 0; start <= 10 * 3600; start += 1200, run += 1) {
      const first = dayStart + start;
      const second = first + 100 + ((run * 7 + day * 13) % 40) + 0.5;
      trips.push({ id: `${serviceDate}/${run}`, routeId: 'R', directionId: 0, vehicleId: `bus-${run}`, serviceDate, dayType: dayTypeOf(serviceDate), dayStart, arrivals: [{ stopId: 'A', time: first }, { stopId: 'B', time: second }, { stopId: 'C', time: second + 200 + (run % 5) }] });
    }
  });
  return trips;
}

describe('HistoricalTravelTimes cache', () => {
  const history = new PairHistory(historyTrips());
  const window = { windowS: 1800, minSamples: 3 };
  const keys = [pairKey('R', 0, 'A', 'B'), pairKey('R', 0, 'B', 'C'), pairKey('R', 0, 'A', 'C')];
  const times = [5.5 * 3600, 7 * 3600 + 10, 7 * 3600 + 290, 8 * 3600, 9.75 * 3600, 23 * 3600];

  it('returns the medians of a fresh instance when reused', () => {
    const cached = new HistoricalTravelTimes(history, window);
    for (let round = 0; round < 2; round += 1) {
      for (const key of keys) {
        for (const secondsOfDay of times) {
          for (const dayType of ['weekday', 'saturday', 'sunday'] as const) {
            expect(cached.median(key, secondsOfDay, dayType)).toBe(new HistoricalTravelTimes(history, window).median(key, secondsOfDay, dayType));
          }
        }
      }
    }
  });

  it('computes the median of the samples in the window', () => {
    const travelTimes = new HistoricalTravelTimes(history, window);
    const key = pairKey('R', 0, 'A', 'B');
    // Slot 08:00-08:05, centre 08:02:30: the weekday samples from 07:32:30 to 08:32:30 are those of 07:40, 08:00 and 08:20.
    const expected = median(history.samplesBetween(key, 7.5 * 3600 + 150, 8.5 * 3600 + 150).filter((sample) => sample.dayType === 'weekday').map((sample) => sample.duration));
    expect(travelTimes.median(key, 8 * 3600 + 60, 'weekday')).toBe(expected);
    expect(travelTimes.median(key, 8 * 3600 + 60, 'weekday')).toBe(expected);
  });

  it('returns medians outside the key range', () => {
    const travelTimes = new HistoricalTravelTimes(history, window);
    const key = pairKey('R', 0, 'A', 'B');
    // 10^12 s gives a key beyond the int32 range, and NaN and Infinity give no slot at all.
    for (const secondsOfDay of [1e12, -1e12, Number.NaN, Number.POSITIVE_INFINITY]) {
      const first = travelTimes.median(key, secondsOfDay, 'weekday');
      expect(travelTimes.median(key, secondsOfDay, 'weekday')).toBe(first);
      expect(first).toBe(new HistoricalTravelTimes(history, window).median(key, secondsOfDay, 'weekday'));
    }
    // Not even the whole-day window around 10^12 s reaches a sample.
    expect(travelTimes.median(key, 1e12, 'weekday')).toBeNaN();
  });

  it('returns NaN for a pair never run', () => {
    expect(new HistoricalTravelTimes(history, window).median(pairKey('R', 0, 'C', 'A'), 8 * 3600, 'weekday')).toBeNaN();
  });
});
