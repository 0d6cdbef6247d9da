import { describe, expect, it } from 'vitest';
import { replayRequests, sampleReplayRequests } from '../evaluation/replay.js';
import { type ObservedTrip, dayTypeOf } from '../observed-trip.js';
import { fitBusfareSettings } from './busfare-fitting.js';
import { DEFAULT_BUSFARE_STRUCTURE } from './busfare-model.js';
import { fixtureTrips, randomSource } from '../testing/recorded-trips.js';

const UTC8 = 8 * 3600;
const DATES = ['2018-03-05', '2018-03-06', '2018-03-07', '2018-03-08', '2018-03-09', '2018-03-12', '2018-03-13', '2018-03-14'];
const STOPS = ['A', 'B', 'C', 'D', 'E', 'F'];
const BUSES = ['b1', 'b2', 'b3'];

/**
 * Two routes run both ways every 15 minutes from 07:00 to 19:00 on eight weekdays. Each bus runs at
 * its own pace, and the pace of the day changes with the date and the hour, so the fit has
 * something to learn. Every trip has 5 requests with 15 targets in all.
 */
function cityTrips(): ObservedTrip[] {
  const trips: ObservedTrip[] = [];
  DATES.forEach((date, day) => {
    const dayStart = Date.parse(`${date}T00:00:00Z`) / 1000 - UTC8;
    for (const routeId of ['R1', 'R2']) {
      for (const directionId of [0, 1]) {
        const stops = directionId === 0 ? STOPS : [...STOPS].reverse();
        for (let departure = 0; departure < 48; departure += 1) {
          const hour = 7 + departure / 4;
          const bus = BUSES[departure % BUSES.length]!;
          const pace = (1 + 0.15 * BUSES.indexOf(bus)) * (1 + 0.1 * Math.sin(day * 3 + hour));
          let time = dayStart + Math.round(hour * 3600) + directionId * 300;
          const arrivals = stops.map((stopId, index) => {
            if (index > 0) time += Math.round((90 + 20 * index) * pace * (1 + 0.05 * Math.sin(day * 7 + departure * 13 + index)));
            return { stopId: `${routeId}-${stopId}`, time };
          });
          trips.push({ id: `${date}/${routeId}/${directionId}/${departure}`, routeId, directionId, vehicleId: `${routeId}-${bus}`, serviceDate: date, dayType: dayTypeOf(date), dayStart, arrivals });
        }
      }
    }
  });
  return trips;
}

/** Returns the requests that a sample replays, as `trip id/arrival index`. */
function sampledRequests(trips: readonly ObservedTrip[], maxTargets: number): string[] {
  const { include } = sampleReplayRequests(trips, maxTargets);
  return [...replayRequests(trips, undefined, include)].map(({ request }) => `${request.tripId}/${request.arrivalsSoFar.length - 1}`);
}

describe('sampleReplayRequests', () => {
  const trips = cityTrips().filter((trip) => trip.serviceDate >= '2018-03-13');
  const allTargets = [...replayRequests(trips)].reduce((sum, { actualS }) => sum + actualS.length, 0);

  it('replays every request under the cap', () => {
    const sample = sampleReplayRequests(trips, allTargets);

    expect(allTargets).toBe(2 * 4 * 48 * 15);
    expect(sample.include).toBeUndefined();
    expect(sample.totalTargets).toBe(allTargets);
    expect(sample.sampledTargets).toBe(allTargets);
  });

  it('keeps the targets within the cap', () => {
    for (const maxTargets of [0, 1, 100, 1000, allTargets - 1]) {
      const sample = sampleReplayRequests(trips, maxTargets);
      const replayed = [...replayRequests(trips, undefined, sample.include)].reduce((sum, { actualS }) => sum + actualS.length, 0);

      expect(sample.totalTargets).toBe(allTargets);
      expect(sample.sampledTargets).toBe(replayed);
      expect(replayed).toBeLessThanOrEqual(maxTargets);
      expect(replayed).toBeGreaterThan(maxTargets - 5);
    }
  });

  it('spreads requests over routes and times', () => {
    const chosen = sampledRequests(trips, 1000);
    const share = 1000 / allTargets;

    for (const route of ['R1/0', 'R1/1', 'R2/0', 'R2/1']) {
      for (const date of ['2018-03-13', '2018-03-14']) {
        const ofDay = chosen.filter((id) => id.startsWith(`${date}/${route}/`));
        const departures = ofDay.map((id) => Number(id.split('/')[3]));
        // Each route direction and date has 48 trips of 5 requests.
        expect(ofDay.length).toBeGreaterThanOrEqual(Math.floor(0.8 * share * 240));
        expect(ofDay.length).toBeLessThanOrEqual(Math.ceil(1.2 * share * 240));
        expect(departures.filter((departure) => departure < 24).length).toBeGreaterThanOrEqual(Math.floor(0.35 * ofDay.length));
        expect(departures.filter((departure) => departure >= 24).length).toBeGreaterThanOrEqual(Math.floor(0.35 * ofDay.length));
      }
    }
  });

  it('chooses the same requests every time', () => {
    expect(sampledRequests(trips, 1000)).toEqual(sampledRequests(cityTrips().filter((trip) => trip.serviceDate >= '2018-03-13'), 1000));
  });

  it('rejects a negative cap', () => {
    expect(() => sampleReplayRequests(trips, -1)).toThrow(RangeError);
  });
});

describe('fitBusfareSettings cap', () => {
  const trips = cityTrips();
  const uncapped = fitBusfareSettings(trips, DEFAULT_BUSFARE_STRUCTURE, Infinity);

  it('fits every target under the cap', () => {
    const total = uncapped.validationTargets.total;

    const atCap = fitBusfareSettings(trips, DEFAULT_BUSFARE_STRUCTURE, total);

    expect(uncapped.validationDates).toEqual(['2018-03-13', '2018-03-14']);
    expect(total).toBe(2 * 4 * 48 * 15);
    expect(uncapped.validationTargets.replayed).toBe(total);
    expect(atCap).toEqual(uncapped);
    expect(fitBusfareSettings(trips)).toEqual(uncapped);
  });

  it('limits the validation points', () => {
    const fit = fitBusfareSettings(trips, DEFAULT_BUSFARE_STRUCTURE, 1500);
    const points = Object.values(fit.points).reduce((sum, count) => sum + count, 0);

    expect(fit.validationTargets.total).toBe(uncapped.validationTargets.total);
    expect(fit.validationTargets.replayed).toBeLessThanOrEqual(1500);
    expect(points).toBeLessThanOrEqual(1500);
    expect(points).toBeGreaterThan(1000);
    expect(fit.settings.coefficients).not.toEqual(uncapped.settings.coefficients);
  });

  it('gives the same settings every time', () => {
    const first = fitBusfareSettings(trips, DEFAULT_BUSFARE_STRUCTURE, 1500);
    const second = fitBusfareSettings(cityTrips(), DEFAULT_BUSFARE_STRUCTURE, 1500);

    expect(second.settings).toEqual(first.settings);
    expect(second).toEqual(first);
  });

  it('chooses the signal move on the sample', () => {
    // Buses queue at a fixed-time signal before stop D, so the move towards its phases pays off.
    const dates = ['2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06', '2025-03-07', '2025-03-10', '2025-03-11', '2025-03-12'];
    const random = randomSource(11);
    const signalTrips = dates.flatMap((date) => fixtureTrips(date, random));
    const full = fitBusfareSettings(signalTrips, DEFAULT_BUSFARE_STRUCTURE, Infinity);
    const cap = Math.floor(full.validationTargets.total / 2);

    const half = fitBusfareSettings(signalTrips, DEFAULT_BUSFARE_STRUCTURE, cap);

    expect(half.validationTargets.replayed).toBeLessThanOrEqual(cap);
    expect(half.signalStops).toBeGreaterThan(0);
    expect(half.signalMoveMaeS).toHaveLength(17);
    expect(half.signalMoveMaeS).not.toEqual(full.signalMoveMaeS);
    expect(half.settings.signalScale).toBeGreaterThan(0);
    expect(fitBusfareSettings(signalTrips, DEFAULT_BUSFARE_STRUCTURE, cap)).toEqual(half);
  });
});
