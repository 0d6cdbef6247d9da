import { describe, expect, it } from 'vitest';
import { type ObservedTrip, dayTypeOf } from './observed-trip.js';
import { PairHistory, median, pairKey } from './travel-history.js';

const DAY_START = Date.parse('2018-03-05T00:00:00Z') / 1000 - 8 * 3600;

function trip(id: string, serviceDate: string, routeId: string, startS: number, stops: string[], runS: number[]): ObservedTrip {
  const dayStart = DAY_START + (Date.parse(`${serviceDate}T00:00:00Z`) - Date.parse('2018-03-05T00:00:00Z')) / 1000;
  let time = dayStart + startS;
  const arrivals = [{ stopId: stops[0]!, time }];
  runS.forEach((run, index) => {
    time += run;
    arrivals.push({ stopId: stops[index + 1]!, time });
  });
  return { id, routeId, directionId: 0, vehicleId: id, serviceDate, dayType: dayTypeOf(serviceDate), dayStart, arrivals };
}

// Trips out of time-of-day order, on two routes and two dates, so the pairs' ranges interleave.
const TRIPS = [
  trip('late', '2018-03-05', 'R', 9 * 3600, ['A', 'B', 'C'], [100, 200]),
  trip('early', '2018-03-06', 'R', 7 * 3600, ['A', 'B', 'C'], [110, 210]),
  trip('other', '2018-03-05', 'S', 8 * 3600, ['X', 'Y'], [50]),
  trip('middle', '2018-03-05', 'R', 8 * 3600, ['A', 'B'], [120]),
];

describe('PairHistory', () => {
  it('returns each pair sorted by time of day', () => {
    const history = new PairHistory(TRIPS);
    expect(history.samples(pairKey('R', 0, 'A', 'B'))).toEqual([
      { secondsOfDay: 7 * 3600, duration: 110, serviceDate: '2018-03-06', dayType: 'weekday' },
      { secondsOfDay: 8 * 3600, duration: 120, serviceDate: '2018-03-05', dayType: 'weekday' },
      { secondsOfDay: 9 * 3600, duration: 100, serviceDate: '2018-03-05', dayType: 'weekday' },
    ]);
    expect(history.samples(pairKey('R', 0, 'A', 'C')).map((sample) => sample.duration)).toEqual([320, 300]);
    expect(history.samples(pairKey('R', 0, 'B', 'C')).map((sample) => sample.duration)).toEqual([210, 200]);
    expect(history.samples(pairKey('S', 0, 'X', 'Y'))).toEqual([{ secondsOfDay: 8 * 3600, duration: 50, serviceDate: '2018-03-05', dayType: 'weekday' }]);
  });

  it('matches a plain build on disordered trips', () => {
    // 16 trips a day over 3 days, given out of date order, with run times that let later trips
    // overtake, so pairs arrive out of order.
    const trips: ObservedTrip[] = [];
    let seed = 17;
    const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    for (const serviceDate of ['2018-03-07', '2018-03-05', '2018-03-06']) {
      for (let index = 0; index < 16; index += 1) {
        const runs = Array.from({ length: 5 }, () => Math.round(60 + 1500 * next()));
        trips.push(trip(`${serviceDate}-${index}`, serviceDate, index % 3 === 0 ? 'S' : 'R', Math.round(6 * 3600 + 40_000 * next()), ['A', 'B', 'C', 'D', 'E', 'F'], runs));
      }
    }

    const parts = new PairHistory(trips).toParts();
    const expected = plainBuild(trips, 45 * 60);

    expect(parts.pairKeys).toEqual([...expected.keys()]);
    parts.pairKeys.forEach((key, pair) => {
      const rows = Array.from({ length: parts.pairStart[pair + 1]! - parts.pairStart[pair]! }, (_, offset) => parts.pairStart[pair]! + offset);
      const seconds = rows.map((row) => parts.secondsOfDay[row]!);
      expect(seconds, key).toEqual([...seconds].sort((a, b) => a - b));
      const samples = rows.map((row) => `${parts.secondsOfDay[row]}/${parts.duration[row]}/${parts.dates[parts.date[row]!]!.serviceDate}`);
      expect(samples.sort(), key).toEqual(expected.get(key)!.sort());
    });
  });

  it.each([
    ['within the packed range', 0],
    ['beyond the packed range', 14 * 86_400],
  ])('sorts pairs that arrive reversed, times of day %s', (_range, shiftS) => {
    // Trip k leaves A 10·k s after the first and reaches B 20·k s sooner, so at B the trips come in
    // reverse order. A day start 14 days before the trips gives times of day above 2^20 s.
    const trips = Array.from({ length: 100 }, (_, k) => {
      const built = trip(`t${k}`, '2018-03-05', 'R', 6 * 3600 + 10 * k, ['A', 'B', 'C'], [2000 - 20 * k, 60 + k]);
      return { ...built, dayStart: built.dayStart - shiftS };
    });

    const samples = new PairHistory(trips).samples(pairKey('R', 0, 'B', 'C'));

    expect(samples).toHaveLength(100);
    expect(samples.map((sample) => sample.secondsOfDay)).toEqual(Array.from({ length: 100 }, (_, index) => shiftS + 6 * 3600 + 2000 - 10 * (99 - index)));
    expect(samples.map((sample) => sample.duration)).toEqual(Array.from({ length: 100 }, (_, index) => 60 + 99 - index));
  });

  it('keeps a window within its pair', () => {
    const history = new PairHistory(TRIPS);
    const key = pairKey('R', 0, 'A', 'B');
    expect(history.samplesBetween(key, 7.5 * 3600, 9 * 3600).map((sample) => sample.duration)).toEqual([120, 100]);
    expect(history.samplesBetween(key, 9 * 3600 + 1, Infinity)).toEqual([]);
    expect(history.samplesBetween(key, -Infinity, 7 * 3600 - 1)).toEqual([]);
    expect(history.samplesBetween(pairKey('S', 0, 'X', 'Y'), 0, 7 * 3600)).toEqual([]);
  });

  it('returns nothing for an unknown pair', () => {
    const history = new PairHistory(TRIPS);
    expect(history.samples(pairKey('R', 0, 'C', 'A'))).toEqual([]);
    expect(history.samples(pairKey('R', 1, 'A', 'B'))).toEqual([]);
  });

  it('leaves out runs longer than maxRunS', () => {
    const history = new PairHistory(TRIPS, 150);
    expect(history.samples(pairKey('R', 0, 'A', 'C'))).toEqual([]);
    expect(history.samples(pairKey('R', 0, 'B', 'C'))).toEqual([]);
    expect(history.samples(pairKey('R', 0, 'A', 'B'))).toHaveLength(3);
  });

  it('lists its service dates in order', () => {
    expect(new PairHistory(TRIPS).serviceDates).toEqual(['2018-03-05', '2018-03-06']);
    expect(new PairHistory([]).serviceDates).toEqual([]);
  });

  it('rejects more than 65,536 service dates', () => {
    const first = Date.parse('1900-01-01T00:00:00Z');
    const trips = Array.from({ length: 65_537 }, (_, day) => trip(`t${day}`, new Date(first + day * 86_400_000).toISOString().slice(0, 10), 'R', 8 * 3600, ['A', 'B'], [60]));

    expect(() => new PairHistory(trips.slice(0, 65_536))).not.toThrow();
    expect(() => new PairHistory(trips)).toThrow('invalid travel history: more than 65,536 service dates (from 2079-06-07); build it from fewer days');
  });

  it('matches a plain build on odd trips', () => {
    // Trips of 0 to 7 arrivals, loop routes that visit a stop twice, stop and route ids with '|' and
    // quotes, fractional times, times that stand still or go back, times before the day start and
    // beyond the ±2^20 s that the packed sort keys cover, and maxRunS 0.
    const stopIds = ['A', 'B', 'A|B', '"', '\\', '', 'A'];
    const serviceDates = ['2018-03-05', '2018-03-06', '2018-03-10'];
    const asTimeOfDay = (seconds: number): number => Int32Array.of(seconds)[0]!;
    for (let seed = 1; seed <= 60; seed += 1) {
      let state = seed;
      const next = (): number => (state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
      const trips: ObservedTrip[] = Array.from({ length: Math.floor(next() * 30) }, (_, index) => {
        const serviceDate = serviceDates[Math.floor(next() * serviceDates.length)]!;
        const dayStart = 1_520_000_000 + Math.floor(next() * 3) * 86_400;
        let time = dayStart + (next() - 0.2) * 86_400 * (next() < 0.1 ? 20 : 1);
        const arrivals = Array.from({ length: Math.floor(next() * 8) }, () => {
          const arrival = { stopId: stopIds[Math.floor(next() * stopIds.length)]!, time };
          time += next() < 0.1 ? -30 : next() < 0.3 ? 0 : next() * 900;
          return arrival;
        });
        return { id: `t${index}`, routeId: next() < 0.5 ? 'R' : 'R|0', directionId: Math.floor(next() * 2), vehicleId: 'v', serviceDate, dayType: dayTypeOf(serviceDate), dayStart, arrivals };
      });

      for (const maxRunS of [0, 600, 45 * 60]) {
        const parts = new PairHistory(trips, maxRunS).toParts();
        const expected = plainBuild(trips, maxRunS);
        const context = `seed ${seed}, maxRunS ${maxRunS}`;

        expect(parts.pairKeys, context).toEqual([...expected.keys()]);
        parts.pairKeys.forEach((key, pair) => {
          const seconds = Array.from(parts.secondsOfDay.subarray(parts.pairStart[pair]!, parts.pairStart[pair + 1]!));
          expect(seconds, `${context}, ${key}`).toEqual([...seconds].sort((a, b) => a - b));
          const samples = seconds.map((secondsOfDay, offset) => {
            const row = parts.pairStart[pair]! + offset;
            return `${secondsOfDay}/${parts.duration[row]}/${parts.dates[parts.date[row]!]!.serviceDate}`;
          });
          // The columns keep times of day as Int32, so the plain build's times are converted the same way.
          const plain = expected.get(key)!.map((sample) => {
            const [secondsOfDay, duration, serviceDate] = sample.split('/');
            return `${asTimeOfDay(Number(secondsOfDay))}/${duration}/${serviceDate}`;
          });
          expect(samples.sort(), `${context}, ${key}`).toEqual(plain.sort());
        });
      }
    }
  });
});

describe('median', () => {
  /** Computes the median with a comparator sort, as the reference. */
  function referenceMedian(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  }

  it('returns NaN for no values', () => {
    expect(median([])).toBeNaN();
  });

  it('matches a comparator sort on short and long inputs', () => {
    let state = 11;
    const random = () => {
      state = (state * 1_664_525 + 1_013_904_223) >>> 0;
      return state / 2 ** 32;
    };
    // Lengths on both sides of the switch from insertion sort to the typed array's sort.
    for (const length of [1, 2, 3, 4, 7, 10, 63, 64, 65, 66, 200, 501]) {
      const values = Array.from({ length }, () => (random() < 0.3 ? Math.round(random() * 10) : random() * 600 - 100));
      const expected = referenceMedian(values);
      expect(median([...values]), `length ${length}`).toBe(expected);
    }
  });

  it('averages the two middle values of an even count', () => {
    expect(median([90, 30, 60, 120])).toBe(75);
    expect(median([5, 5])).toBe(5);
  });
});

/** Returns each pair's samples as `secondsOfDay/duration/serviceDate`, pairs in the order of their first sample, built the plain way. */
function plainBuild(trips: readonly ObservedTrip[], maxRunS: number): Map<string, string[]> {
  const byPair = new Map<string, string[]>();
  for (const observed of trips) {
    const { arrivals } = observed;
    for (let i = 0; i < arrivals.length; i += 1) {
      for (let j = i + 1; j < arrivals.length; j += 1) {
        if (arrivals[j]!.time - arrivals[i]!.time > maxRunS) break;
        const key = pairKey(observed.routeId, observed.directionId, arrivals[i]!.stopId, arrivals[j]!.stopId);
        const samples = byPair.get(key) ?? [];
        samples.push(`${arrivals[i]!.time - observed.dayStart}/${arrivals[j]!.time - arrivals[i]!.time}/${observed.serviceDate}`);
        byPair.set(key, samples);
      }
    }
  }
  return byPair;
}
