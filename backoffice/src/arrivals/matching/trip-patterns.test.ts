import { describe, expect, it } from 'vitest';
import type { GtfsFeed } from '../../gtfs/gtfs-model.js';
import { GtfsStopTimes } from '../../gtfs/gtfs-stop-times.js';
import { buildTripSchedule } from './trip-patterns.js';

function feed(frequencies: GtfsFeed['frequencies']): GtfsFeed {
  return {
    agencies: [{ name: 'bus', timezone: 'Asia/Shanghai' }],
    stops: new Map(['a', 'b', 'c'].map((id, index) => [id, { id, name: id, lat: 31.3, lon: 120.6 + index * 0.005, locationType: 0 }])),
    routes: new Map([['1', { id: '1', shortName: '1', longName: 'one', type: 3 }]]),
    trips: new Map([['T', { id: 'T', routeId: '1', serviceId: 'all', directionId: 0 }]]),
    stopTimes: new GtfsStopTimes([['T', [{ stopId: 'a', sequence: 1, arrivalS: 3600, departureS: 3600 }, { stopId: 'b', sequence: 2, arrivalS: 3700, departureS: 3720 }, { stopId: 'c', sequence: 3, arrivalS: 3800, departureS: 3800 }]]]),
    shapes: new Map(),
    calendars: new Map(),
    calendarDates: [],
    frequencies,
    ignoredFiles: [],
    warnings: [],
  };
}

describe('buildTripSchedule', () => {
  it('keeps a timetabled trip under its own id', () => {
    const schedule = buildTripSchedule(feed(new Map()));

    expect([...schedule.trips.keys()]).toEqual(['T']);
    expect(schedule.trips.get('T')).toMatchObject({ gtfsTripId: 'T' });
    expect(Array.from(schedule.trips.get('T')!.arrivalS)).toEqual([3600, 3700, 3800]);
    expect(schedule.trips.get('T')!.startTime).toBeUndefined();
  });

  it('expands a frequency-based trip into runs', () => {
    const schedule = buildTripSchedule(feed(new Map([['T', [{ startS: 6 * 3600, endS: 7 * 3600, headwayS: 1200, exactTimes: false }]]])));

    expect([...schedule.trips.keys()]).toEqual(['T@06:00:00', 'T@06:20:00', 'T@06:40:00']);
    expect(schedule.tripsByRoute.get('1')).toHaveLength(3);
    const run = schedule.trips.get('T@06:20:00')!;
    expect(run).toMatchObject({ gtfsTripId: 'T', startTime: '06:20:00' });
    expect(Array.from(run.arrivalS)).toEqual([22_800, 22_900, 23_000]);
    expect(Array.from(run.departureS)).toEqual([22_800, 22_920, 23_000]);
  });
});
