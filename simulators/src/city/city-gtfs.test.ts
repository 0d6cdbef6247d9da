import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importGtfsFeed, routesBodyFromFeed, tripDepartures } from '@busfare/backoffice';
import { routesBodySchema } from '@busfare/shared-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { generateCityFeed, writeCityFeed, type CityFeedSpec } from './city-gtfs.js';

const SPEC: CityFeedSpec = {
  agencyName: '公交测试城',
  timezone: 'Asia/Shanghai',
  startDate: '20260101',
  endDate: '20261231',
  routes: [
    {
      id: '1',
      shortName: '1',
      longName: 'East-West',
      path: [
        [31.3, 120.6],
        [31.3, 120.62],
        [31.31, 120.62],
      ],
      stopSpacingM: 500,
      speedMps: 8,
      dwellS: 20,
      firstDeparture: '06:00:00',
      lastDeparture: '24:30:00',
      headwayS: 600,
    },
  ],
};

describe('generateCityFeed', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('imports as a GTFS feed', () => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-city-'));
    writeCityFeed(dir, generateCityFeed(SPEC));
    const feed = importGtfsFeed(dir);
    expect(feed.warnings).toEqual([]);
    expect(feed.trips.size).toBe(2);
    // 1.9 km east then 1.1 km north: stops every 500 m plus both ends.
    expect(feed.stops.size).toBe(7);
    expect(tripDepartures(feed, '1-0')).toHaveLength(111);
    const body = routesBodySchema.parse(routesBodyFromFeed(feed));
    const [outbound, inbound] = body.routes[0]!.patterns;
    expect(outbound!.stops).toEqual([...inbound!.stops].reverse());
    expect(outbound!.distancesM![6]).toBeGreaterThan(2_900);
    expect(outbound!.distancesM![6]).toBeLessThan(3_100);
  });

  it('rejects a one-point path', () => {
    expect(() => generateCityFeed({ ...SPEC, routes: [{ ...SPEC.routes[0]!, path: [[31.3, 120.6]] }] })).toThrow(RangeError);
  });
});
