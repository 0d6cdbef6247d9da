import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serviceDayStart } from '../local-time.js';
import { type DetectedStop, DetectedTripStore, DetectedTripStoreError } from './detected-trip-store.js';

const ZONE = 'Asia/Shanghai';
let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-detected-'));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Stop times of one trip on a date: stop i at 08:00 plus 100·i seconds. */
function tripStops(serviceDate: string, vehicleId: string, count: number): DetectedStop[] {
  const start = serviceDayStart(serviceDate, ZONE) + 8 * 3600;
  return Array.from({ length: count }, (_, stopIndex) => ({ serviceDate, vehicleId, tripId: 't1', routeId: 'R', directionId: 0, stopIndex, stopId: `S${stopIndex}`, time: start + 100 * stopIndex }));
}

describe('DetectedTripStore', () => {
  it('keeps trips across a reopen', () => {
    const path = join(directory, 'detected.sqlite');
    const first = new DetectedTripStore(path);
    expect(first.append([...tripStops('2026-03-09', 'bus-1', 3), ...tripStops('2026-03-10', 'bus-1', 3)])).toBe(6);
    first.close();

    const second = new DetectedTripStore(path);
    const trips = second.tripsBefore('2026-03-11', 7, ZONE);
    second.close();

    expect(trips.map((trip) => trip.serviceDate)).toEqual(['2026-03-09', '2026-03-10']);
    expect(trips[0]!.arrivals.map((arrival) => arrival.stopId)).toEqual(['S0', 'S1', 'S2']);
    expect(trips[0]!.dayStart).toBe(serviceDayStart('2026-03-09', ZONE));
    expect(trips[0]!.dayType).toBe('weekday');
  });

  it('ignores a stop time stored twice', () => {
    const store = new DetectedTripStore(join(directory, 'detected.sqlite'));
    store.append(tripStops('2026-03-09', 'bus-1', 3));

    const again = tripStops('2026-03-09', 'bus-1', 4).map((stop) => ({ ...stop, time: stop.time + 5 }));
    expect(store.append(again)).toBe(1);
    expect(store.tripsBefore('2026-03-10', 1, ZONE)[0]!.arrivals.map((arrival) => arrival.time - serviceDayStart('2026-03-09', ZONE))).toEqual([28_800, 28_900, 29_000, 29_105]);
    store.close();
  });

  it('returns only the days asked for', () => {
    const store = new DetectedTripStore(join(directory, 'detected.sqlite'));
    for (const date of ['2026-03-01', '2026-03-08', '2026-03-09', '2026-03-10']) store.append(tripStops(date, 'bus-1', 2));

    expect(store.tripsBefore('2026-03-10', 2, ZONE).map((trip) => trip.serviceDate)).toEqual(['2026-03-08', '2026-03-09']);
    expect(store.pruneBefore('2026-03-09')).toBe(4);
    expect(store.tripsBefore('2026-03-11', 30, ZONE).map((trip) => trip.serviceDate)).toEqual(['2026-03-09', '2026-03-10']);
    store.close();
  });

  it('drops stop times that go back', () => {
    const store = new DetectedTripStore(join(directory, 'detected.sqlite'));
    const stops = tripStops('2026-03-09', 'bus-1', 4);
    stops[2]!.time = stops[0]!.time - 30;
    store.append(stops);

    expect(store.tripsBefore('2026-03-10', 1, ZONE)[0]!.arrivals.map((arrival) => arrival.stopId)).toEqual(['S0', 'S1', 'S3']);
    store.close();
  });

  it('leaves out trips of one stop', () => {
    const store = new DetectedTripStore(join(directory, 'detected.sqlite'));
    store.append(tripStops('2026-03-09', 'bus-1', 1));

    expect(store.tripsBefore('2026-03-10', 1, ZONE)).toEqual([]);
    store.close();
  });

  it('rejects a file that is not SQLite', () => {
    const path = join(directory, 'detected.sqlite');
    writeFileSync(path, 'not a database, just text that is long enough to fill a header page');

    expect(() => new DetectedTripStore(path)).toThrow(DetectedTripStoreError);
    expect(() => new DetectedTripStore(path)).toThrow(/invalid detected-trip store .*move the file away/);
  });

  it('rejects a directory in place of the file', () => {
    const path = join(directory, 'detected.sqlite');
    mkdirSync(path);

    expect(() => new DetectedTripStore(path)).toThrow(DetectedTripStoreError);
  });

  it('rejects a corrupt file on read, not at open', () => {
    const path = join(directory, 'detected.sqlite');
    const first = new DetectedTripStore(path);
    for (let day = 1; day <= 9; day += 1) first.append(tripStops(`2026-03-0${day}`, 'bus-1', 200));
    first.close();
    // Overwrite every page after the schema page, as a torn disk write might.
    const reader = new Database(path, { readonly: true });
    const pages = reader.pragma('page_count', { simple: true }) as number;
    reader.close();
    const bytes = readFileSync(path);
    bytes.fill(0xa5, 4096, pages * 4096);
    writeFileSync(path, bytes);

    const store = new DetectedTripStore(path);
    expect(() => store.tripsBefore('2026-03-10', 28, ZONE)).toThrow(/malformed|corrupt/i);
    store.close();
  });

  it('notices a deleted or replaced file', () => {
    const path = join(directory, 'detected.sqlite');
    const store = new DetectedTripStore(path);
    expect(store.isDetached()).toBe(false);

    rmSync(path);
    expect(store.isDetached()).toBe(true);
    writeFileSync(path, '');
    expect(store.isDetached()).toBe(true);
    store.close();
  });

  it('rejects another schema version', () => {
    const path = join(directory, 'detected.sqlite');
    const other = new Database(path);
    other.pragma('user_version = 7');
    other.close();

    expect(() => new DetectedTripStore(path)).toThrow(/schema version 7, expected 1/);
  });
});
