import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { routesBodySchema } from '@busfare/shared-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { GtfsFeedError, importGtfsFeed } from './gtfs-feed.js';
import { parseGtfsTime } from './gtfs-time.js';
import type { GtfsFeed } from './gtfs-model.js';
import { serviceRunsOn, tripDepartures } from './gtfs-service.js';
import { GtfsStopTimes } from './gtfs-stop-times.js';
import { routesBodyFromFeed } from './routes-from-feed.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
// GPL feeds kept outside the repository; their tests skip where the folder is absent.
const WMATA = '/work/shared/data/arrivals/wmata-transitclock/gtfs';

describe('parseGtfsTime', () => {
  it.each([
    ['06:00:00', 21_600],
    ['6:00:00', 21_600],
    ['24:00:00', 86_400],
    ['25:35:10', 92_110],
    ['', undefined],
  ])('parses "%s"', (text, expected) => {
    expect(parseGtfsTime(text)).toBe(expected);
  });

  it.each(['6:0:00', '06:60:00', 'noon', '-1:00:00'])('rejects "%s"', (text) => {
    expect(parseGtfsTime(text)).toBeNaN();
  });
});

describe('importGtfsFeed', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function writeFeed(files: Record<string, string>): string {
    dir = mkdtempSync(join(tmpdir(), 'busfare-gtfs-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }

  const QUIRKY = {
    'stops.txt': '\ufeffstop_id, stop_name ,stop_lat,stop_lon\r\nA,"Gate ""A"", north",31.30,120.60\r\nB,  Library ,31.31,120.61\r\nC,C,31.32,120.62\r\n',
    'routes.txt': 'route_id,route_short_name,route_long_name,route_type\nL,1,"Loop, inner",3\n',
    'trips.txt': 'route_id,service_id,trip_id,direction_id\nL,WK,T1,\nL,WK,T2,0\n',
    'stop_times.txt': 'trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,6:00:00,6:00:00,A,10\nT1,6:05:00,6:05:00,B,20\nT1,6:09:00,6:09:00,C,35\nT1,6:15:00,6:15:00,A,40\nT2,23:58:00,23:58:00,A,1\nT2,24:03:00,24:03:00,B,2\nT2,24:07:00,24:07:00,C,3\nT2,24:13:00,24:13:00,A,4\n',
    'calendar.txt': 'service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nWK,1,1,1,1,1,0,0,20260101,20261231\n',
    'frequencies.txt': 'trip_id,start_time,end_time,headway_secs, exact_times\nT1,6:00:00,7:00:00,1200,0\n',
    'notes.txt': 'not a GTFS file\n',
  };

  it('reads quoted fields and trimmed headers', () => {
    const feed = importGtfsFeed(writeFeed(QUIRKY));
    expect(feed.stops.get('A')?.name).toBe('Gate "A", north');
    expect(feed.stops.get('B')?.name).toBe('Library');
    expect(feed.routes.get('L')?.longName).toBe('Loop, inner');
    expect(feed.warnings).toEqual([]);
  });

  it('lists non-GTFS files as ignored', () => {
    expect(importGtfsFeed(writeFeed(QUIRKY)).ignoredFiles).toEqual(['notes.txt']);
  });

  it('orders gappy stop sequences', () => {
    const feed = importGtfsFeed(writeFeed(QUIRKY));
    expect(feed.stopTimes.get('T1')?.map((stopTime) => stopTime.sequence)).toEqual([10, 20, 35, 40]);
  });

  it('keeps times past midnight', () => {
    const feed = importGtfsFeed(writeFeed(QUIRKY));
    expect(feed.stopTimes.get('T2')?.[3]?.arrivalS).toBe(24 * 3600 + 13 * 60);
  });

  it('expands frequency-based trips', () => {
    const feed = importGtfsFeed(writeFeed(QUIRKY));
    expect(tripDepartures(feed, 'T1')).toEqual([21_600, 22_800, 24_000]);
    expect(tripDepartures(feed, 'T2')).toEqual([23 * 3600 + 58 * 60]);
  });

  it('marks loop patterns', () => {
    const body = routesBodySchema.parse(routesBodyFromFeed(importGtfsFeed(writeFeed(QUIRKY))));
    expect(body.routes[0]?.patterns[0]).toMatchObject({ direction: 0, stops: ['A', 'B', 'C', 'A'], loop: true });
  });

  it('computes distances without shapes', () => {
    const pattern = routesBodyFromFeed(importGtfsFeed(writeFeed(QUIRKY))).routes[0]!.patterns[0]!;
    expect(pattern.distancesM?.[0]).toBe(0);
    // A to B is about 1.45 km on the ground.
    expect(pattern.distancesM?.[1]).toBeGreaterThan(1_400);
    expect(pattern.distancesM?.[1]).toBeLessThan(1_500);
  });

  it('skips invalid rows with warnings', () => {
    const feed = importGtfsFeed(writeFeed({ ...QUIRKY, 'stop_times.txt': `${QUIRKY['stop_times.txt']}T1,x,6:20:00,B,50\nT9,6:00:00,6:00:00,A,1\nT1,6:30:00,6:30:00,Z,60\n` }));
    expect(feed.warnings).toHaveLength(3);
    expect(feed.warnings[0]).toMatch(/^stop_times\.txt line 10: trip T1 has invalid time/);
    expect(feed.warnings[1]).toMatch(/unknown trip "T9"/);
    expect(feed.warnings[2]).toMatch(/unknown stop "Z"/);
  });

  it('rejects a feed without stop_times', () => {
    const { 'stop_times.txt': _dropped, ...rest } = QUIRKY;
    expect(() => importGtfsFeed(writeFeed(rest))).toThrow(/stop_times\.txt: missing/);
  });

  it('rejects a missing column', () => {
    expect(() => importGtfsFeed(writeFeed({ ...QUIRKY, 'stops.txt': 'stop_id,stop_name,stop_lat\nA,A,31\n' }))).toThrow(/stops\.txt: missing column\(s\) stop_lon/);
  });

  /** Imports the feed and returns the GtfsFeedError it must raise. */
  function feedErrorOf(files: Record<string, string>): GtfsFeedError {
    try {
      importGtfsFeed(writeFeed(files));
    } catch (error) {
      if (error instanceof GtfsFeedError) return error;
      throw error;
    }
    throw new Error('expected a GtfsFeedError');
  }

  it('words file problems in both languages', () => {
    const { 'stop_times.txt': _dropped, ...rest } = QUIRKY;
    const error = feedErrorOf({ ...rest, 'stops.txt': 'stop_id,stop_name,stop_lat\nA,A,31\n' });
    expect(error.problemsIn('zh')).toEqual(['stops.txt：缺少列 stop_lon', 'stop_times.txt：缺少此文件，GTFS 数据必须包含它']);
    expect(error.problemsIn('en')).toEqual(['stops.txt: missing column(s) stop_lon', 'stop_times.txt: missing (a GTFS feed needs it)']);
    expect(error.problems).toEqual(error.problemsIn('en'));
  });

  it('words skipped rows in both languages when no trip is left', () => {
    const stopTimes = 'trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,6:00:00,6:00:00,A,1\nT1,6:61:00,6:61:00,B,2\nT2,6:00:00,6:00:00,A,x\n';
    const error = feedErrorOf({ ...QUIRKY, 'stop_times.txt': stopTimes });
    expect(error.problemsIn('zh')).toEqual([
      '没有一个行程有两个或以上有效的停站时刻',
      'stop_times.txt 第 3 行：行程 T1 的到站或离站时间无效（"6:61:00" / "6:61:00"），应为 H:MM:SS 或 HH:MM:SS',
      'stop_times.txt 第 4 行：行程 T2 的 stop_sequence "x" 无效，应为 0 到 4294967295 之间的整数',
      '行程 T1 的停站时刻少于两个，已略去',
      '行程 T2 的停站时刻少于两个，已略去',
    ]);
    expect(error.problemsIn('en')[1]).toBe('stop_times.txt line 3: trip T1 has invalid time "6:61:00" / "6:61:00"; expected H:MM:SS or HH:MM:SS');
  });

  it('rejects broken quoting', () => {
    expect(() => importGtfsFeed(writeFeed({ ...QUIRKY, 'routes.txt': 'route_id,route_short_name\nL,"1\n' }))).toThrow(GtfsFeedError);
  });

  it('reads the GTFS sample feed', () => {
    const feed = importGtfsFeed(fixture('google-sample-feed-1'));
    expect(feed.routes.size).toBe(5);
    expect(feed.stops.size).toBe(9);
    expect(feed.trips.size).toBe(11);
    expect(feed.shapes.size).toBe(0);
    expect(feed.ignoredFiles).toEqual(['fare_attributes.txt', 'fare_rules.txt']);
    expect(feed.warnings).toEqual([]);
    expect(tripDepartures(feed, 'STBA')).toHaveLength(32);
    expect(serviceRunsOn(feed, 'FULLW', '20070604')).toBe(false);
    expect(serviceRunsOn(feed, 'FULLW', '20070605')).toBe(true);
    expect(serviceRunsOn(feed, 'WE', '20070605')).toBe(false);
    expect(routesBodySchema.safeParse(routesBodyFromFeed(feed)).success).toBe(true);
  });

  it('reads the Bull Runner feed', () => {
    const feed = importGtfsFeed(fixture('bullrunner'));
    expect(feed.routes.size).toBe(6);
    expect(feed.frequencies.get('1')?.[0]).toEqual({ startS: 7 * 3600, endS: 24 * 3600, headwayS: 600, exactTimes: false });
    expect(feed.agencies[0]?.id).toBeUndefined();
    expect(feed.warnings).toEqual([]);
    const body = routesBodySchema.parse(routesBodyFromFeed(feed));
    const loop = body.routes.find((route) => route.id === 'A')!.patterns[0]!;
    expect(loop.loop).toBe(true);
    const distances = loop.distancesM!;
    expect(distances.every((distance, index) => index === 0 || distance >= distances[index - 1]!)).toBe(true);
    // The Green Campus Loop is a few kilometres long, so the last stop must land at the loop's end.
    expect(distances[distances.length - 1]).toBeGreaterThan(2_000);
  });

  it.skipIf(!existsSync(WMATA))('reads the WMATA feeds', () => {
    for (const route of ['S2', '5A', '3T']) {
      const feed = importGtfsFeed(join(WMATA, route));
      expect(feed.trips.size, route).toBeGreaterThan(0);
      expect(routesBodySchema.safeParse(routesBodyFromFeed(feed)).success, route).toBe(true);
      if (route === 'S2') expect(feed.ignoredFiles).toContain('t.txt');
    }
  });
});

describe('serviceRunsOn', () => {
  const feed = (): GtfsFeed => ({
    agencies: [],
    stops: new Map(),
    routes: new Map(),
    trips: new Map(),
    stopTimes: new GtfsStopTimes(),
    shapes: new Map(),
    calendars: new Map([['WK', { serviceId: 'WK', days: [true, true, true, true, true, false, false], startDate: '20260101', endDate: '20261231' }]]),
    calendarDates: [
      { serviceId: 'WK', date: '20260302', exceptionType: 2 },
      { serviceId: 'WK', date: '20260307', exceptionType: 1 },
      { serviceId: 'WK', date: '20260307', exceptionType: 2 },
      { serviceId: 'EXTRA', date: '20260308', exceptionType: 1 },
    ],
    frequencies: new Map(),
    ignoredFiles: [],
    warnings: [],
  });

  it('applies calendar_dates over calendar.txt', () => {
    const withExceptions = feed();

    expect(serviceRunsOn(withExceptions, 'WK', '20260302')).toBe(false);
    expect(serviceRunsOn(withExceptions, 'WK', '20260303')).toBe(true);
    expect(serviceRunsOn(withExceptions, 'WK', '20260308')).toBe(false);
    expect(serviceRunsOn(withExceptions, 'EXTRA', '20260308')).toBe(true);
    expect(serviceRunsOn(withExceptions, 'EXTRA', '20260309')).toBe(false);
  });

  it('takes the first row of a repeated date', () => {
    expect(serviceRunsOn(feed(), 'WK', '20260307')).toBe(true);
  });

  it('reads rows appended after a call', () => {
    const growing = feed();

    expect(serviceRunsOn(growing, 'WK', '20260303')).toBe(true);
    growing.calendarDates.push({ serviceId: 'WK', date: '20260303', exceptionType: 2 });
    expect(serviceRunsOn(growing, 'WK', '20260303')).toBe(false);
  });
});
