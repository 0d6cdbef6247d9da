import { describe, expect, it } from 'vitest';
import type { GtfsStopTime } from './gtfs-model.js';
import { GtfsStopTimes } from './gtfs-stop-times.js';

const TRIP_A: GtfsStopTime[] = [
  { stopId: 'S1', sequence: 1, arrivalS: 21_600, departureS: 21_630, distTraveled: 0 },
  { stopId: 'S2', sequence: 5 },
  { stopId: 'S3', sequence: 9, arrivalS: 22_200.5, distTraveled: 1.25 },
  { stopId: 'S1', sequence: 12, departureS: 90_000 },
];
const TRIP_B: GtfsStopTime[] = [
  { stopId: 'S3', sequence: 0, arrivalS: 0, departureS: 0 },
  { stopId: 'S4', sequence: 0xffff_ffff, arrivalS: 60, departureS: 60 },
];

describe('GtfsStopTimes', () => {
  it('returns each trip as it was set', () => {
    const table = new GtfsStopTimes([
      ['A', TRIP_A],
      ['B', TRIP_B],
    ]);
    expect(table.get('A')).toEqual(TRIP_A);
    expect(table.get('B')).toEqual(TRIP_B);
    expect(table.size).toBe(2);
    expect([...table.keys()]).toEqual(['A', 'B']);
  });

  it('leaves absent times and distances out', () => {
    const table = new GtfsStopTimes([['A', TRIP_A]]);
    const second = table.get('A')![1]!;
    expect(Object.keys(second).sort()).toEqual(['sequence', 'stopId']);
    expect('arrivalS' in table.get('A')![3]!).toBe(false);
  });

  it('returns undefined for an unknown trip', () => {
    const table = new GtfsStopTimes([['A', TRIP_A]]);
    expect(table.get('Z')).toBeUndefined();
    expect(table.has('Z')).toBe(false);
    expect(table.has('A')).toBe(true);
  });

  it('gives fresh objects on every get', () => {
    const table = new GtfsStopTimes([['A', TRIP_A]]);
    const first = table.get('A')!;
    first[0]!.arrivalS = 1;
    first.pop();
    expect(table.get('A')).toEqual(TRIP_A);
  });

  it('replaces a trip set twice', () => {
    const table = new GtfsStopTimes([['A', TRIP_A]]);
    table.set('A', TRIP_B);
    expect(table.get('A')).toEqual(TRIP_B);
    expect(table.size).toBe(1);
  });

  it('deletes a trip', () => {
    const table = new GtfsStopTimes([
      ['A', TRIP_A],
      ['B', TRIP_B],
    ]);
    expect(table.delete('A')).toBe(true);
    expect(table.delete('A')).toBe(false);
    expect(table.get('A')).toBeUndefined();
    expect(table.get('B')).toEqual(TRIP_B);
    expect([...table.keys()]).toEqual(['B']);
  });

  it('grows past its first capacity', () => {
    const table = new GtfsStopTimes();
    for (let trip = 0; trip < 300; trip += 1) {
      table.set(`T${trip}`, Array.from({ length: 30 }, (_, index) => ({ stopId: `S${index}`, sequence: index + 1, arrivalS: trip * 60 + index * 80, departureS: trip * 60 + index * 80 + 20 })));
    }
    expect(table.size).toBe(300);
    expect(table.get('T0')![0]).toEqual({ stopId: 'S0', sequence: 1, arrivalS: 0, departureS: 20 });
    expect(table.get('T299')![29]).toEqual({ stopId: 'S29', sequence: 30, arrivalS: 299 * 60 + 29 * 80, departureS: 299 * 60 + 29 * 80 + 20 });
  });

  it('rejects a stop_sequence outside 0 to 2^32 - 1', () => {
    const table = new GtfsStopTimes();
    for (const sequence of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => table.set('A', [{ stopId: 'S1', sequence }])).toThrow(RangeError);
    }
    expect(table.has('A')).toBe(false);
  });
});
