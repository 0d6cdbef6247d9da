import { routesBodySchema } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { AGREEING_JUMPS_TAKEN, ServiceStops } from './service-stops.js';

// Stops 1.1 km apart on one meridian.
const STOPS = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'].map((id, index) => ({ id, name: `站${index + 1}`, lat: 31 + index * 0.01, lon: 120 }));
const ROUTES = routesBodySchema.parse({
  stops: STOPS,
  routes: [{ id: '30', shortName: '30路', longName: '一站—六站', patterns: [{ direction: 0, stops: STOPS.map((stop) => stop.id) }] }],
});
const SERVICE = { route: '30', direction: 0 } as const;
const START = Date.parse('2026-12-06T08:00:00Z');

function at(stops: ServiceStops, stopIndex: number, second: number): boolean {
  const stop = STOPS[stopIndex]!;
  return stops.update(SERVICE, stop.lat, stop.lon, new Date(START + second * 1000));
}

describe('ServiceStops jumps', () => {
  it('ignores a single jump', () => {
    const stops = new ServiceStops(() => ROUTES);
    expect(at(stops, 0, 0)).toBe(true);
    expect(at(stops, 4, 1)).toBe(false);
    expect(at(stops, 0, 2)).toBe(true);
    expect(stops.progress(SERVICE).current?.id).toBe('S1');
  });

  it('takes jumps that agree', () => {
    // A wrong first fix at S1, then the bus seen at S3 on every later fix.
    const stops = new ServiceStops(() => ROUTES);
    at(stops, 0, 0);
    const accepted = Array.from({ length: AGREEING_JUMPS_TAKEN }, (_, index) => at(stops, 2, index + 1));
    expect(accepted).toEqual([...Array<boolean>(AGREEING_JUMPS_TAKEN - 1).fill(false), true]);
    expect(stops.progress(SERVICE).current?.id).toBe('S3');
    expect(at(stops, 2, AGREEING_JUMPS_TAKEN + 1)).toBe(true);
  });

  it('ignores jumps that disagree', () => {
    const stops = new ServiceStops(() => ROUTES);
    at(stops, 0, 0);
    const accepted = [4, 2, 5, 3, 4].map((stopIndex, index) => at(stops, stopIndex, index + 1));
    expect(accepted).toEqual([false, false, false, false, false]);
    expect(stops.progress(SERVICE).current?.id).toBe('S1');
  });
});
