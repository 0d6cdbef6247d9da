import { describe, expect, it } from 'vitest';
import { ArrivalDataError } from './arrival-data-error.js';
import { buildSuzhouTrips, parseSuzhouSightings } from './suzhou-format.js';

const CHINA = { routeId: '558', utcOffsetMinutes: 480 };

describe('parseSuzhouSightings', () => {
  it('reads six-field rows and counts marker rows', () => {
    const text = '郭苑路,,苏E-6M357,6:00:56,2018-02-07,1\n,2018-04-16,0\n浮桥村,MNS,苏E-6M357,16:08:42,2018-02-07,1\n';

    const result = parseSuzhouSightings(text);

    expect(result.markerRows).toBe(1);
    expect(result.sightings).toHaveLength(2);
    expect(result.sightings[0]).toEqual({ stopName: '郭苑路', stopCode: '', plate: '苏E-6M357', serviceDate: '2018-02-07', secondsOfDay: 6 * 3600 + 56, directionId: 1 });
    expect(result.sightings[1]!.secondsOfDay).toBe(16 * 3600 + 8 * 60 + 42);
    expect(result.sightings[1]!.stopCode).toBe('MNS');
  });

  it.each([
    ['a four-field row', '郭苑路,,苏E-6M357,6:00:56\n', /line 1: expected 6 fields/],
    ['an invalid time', '郭苑路,,苏E-6M357,6:0:56,2018-02-07,1\n', /line 1: invalid time "6:0:56"/],
    ['an hour past 23', '郭苑路,,苏E-6M357,24:00:00,2018-02-07,1\n', /invalid time "24:00:00"/],
    ['an invalid date', '郭苑路,,苏E-6M357,6:00:56,2018/02/07,1\n', /invalid date "2018\/02\/07"/],
    ['an invalid direction', '郭苑路,,苏E-6M357,6:00:56,2018-02-07,2\n', /invalid direction "2"/],
    ['a missing plate', '郭苑路,,,6:00:56,2018-02-07,1\n', /missing plate/],
    ['a missing stop name', ',,苏E-6M357,6:00:56,2018-02-07,1\n', /missing stop name/],
  ])('rejects %s', (_case, text, message) => {
    expect(() => parseSuzhouSightings(text)).toThrow(ArrivalDataError);
    expect(() => parseSuzhouSightings(text)).toThrow(message);
  });

  it('names the line of the invalid row', () => {
    const text = 'A,,P1,6:00:00,2018-02-07,0\nB,,P1,6:01:00,2018-02-07,x\n';

    expect(() => parseSuzhouSightings(text)).toThrow(/line 2:/);
  });
});

describe('buildSuzhouTrips', () => {
  it('sorts unsorted rows and keeps the first sighting at a stop', () => {
    const text = ['B,,P1,6:02:00,2018-02-07,0', 'A,,P1,6:00:00,2018-02-07,0', 'B,,P1,6:03:30,2018-02-07,0', 'C,,P1,6:05:00,2018-02-07,0'].join('\n');

    const [trip, ...others] = buildSuzhouTrips(parseSuzhouSightings(text).sightings, CHINA);

    expect(others).toHaveLength(0);
    expect(trip!.arrivals.map((arrival) => arrival.stopId)).toEqual(['A', 'B', 'C']);
    expect(trip!.arrivals[1]!.time - trip!.arrivals[0]!.time).toBe(120);
  });

  it('converts local time at UTC+8 to Unix time', () => {
    const text = 'A,,P1,8:00:00,2018-02-07,0\nB,,P1,8:01:00,2018-02-07,0\n';

    const [trip] = buildSuzhouTrips(parseSuzhouSightings(text).sightings, CHINA);

    expect(trip!.arrivals[0]!.time).toBe(Date.parse('2018-02-07T00:00:00Z') / 1000);
    expect(trip!.dayType).toBe('weekday');
  });

  it('starts a new trip on a change of direction', () => {
    const text = ['A,,P1,6:00:00,2018-02-07,0', 'B,,P1,6:02:00,2018-02-07,0', 'B,,P1,6:10:00,2018-02-07,1', 'A,,P1,6:12:00,2018-02-07,1'].join('\n');

    const trips = buildSuzhouTrips(parseSuzhouSightings(text).sightings, CHINA);

    expect(trips.map((trip) => trip.directionId)).toEqual([0, 1]);
  });

  it('starts a new trip on a return to an earlier stop', () => {
    const text = ['A,,P1,6:00:00,2018-02-07,0', 'B,,P1,6:02:00,2018-02-07,0', 'A,,P1,6:20:00,2018-02-07,0', 'B,,P1,6:22:00,2018-02-07,0'].join('\n');

    const trips = buildSuzhouTrips(parseSuzhouSightings(text).sightings, CHINA);

    expect(trips).toHaveLength(2);
  });

  it('starts a new trip after a long gap', () => {
    const text = ['A,,P1,6:00:00,2018-02-07,0', 'B,,P1,6:02:00,2018-02-07,0', 'C,,P1,7:00:00,2018-02-07,0', 'D,,P1,7:02:00,2018-02-07,0'].join('\n');

    const trips = buildSuzhouTrips(parseSuzhouSightings(text).sightings, CHINA);

    expect(trips.map((trip) => trip.arrivals.length)).toEqual([2, 2]);
  });

  it('drops trips of a single sighting', () => {
    const text = 'A,,P1,6:00:00,2018-02-07,0\n';

    expect(buildSuzhouTrips(parseSuzhouSightings(text).sightings, CHINA)).toEqual([]);
  });
});
