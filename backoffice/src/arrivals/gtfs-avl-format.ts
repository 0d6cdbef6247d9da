import { parse } from 'csv-parse/sync';
import { ArrivalDataError } from './arrival-data-error.js';
import { parseLocalTime } from './local-time.js';
import type { VehicleFix } from './matching/vehicle-events.js';

/** One arrival or departure prediction from a TransitClock prediction export. */
export interface TransitClockPrediction {
  vehicleId: string;
  tripId: string;
  stopId: string;
  /** Unix times in seconds. */
  avlTime: number;
  creationTime: number;
  predictionTime: number;
  isArrival: boolean;
}

function readTable(text: string, what: string, required: readonly string[]): { rows: string[][]; column: (name: string) => number } {
  let rows: string[][];
  try {
    rows = parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true, bom: true }) as string[][];
  } catch (error) {
    throw new ArrivalDataError(`invalid ${what} CSV: ${error instanceof Error ? error.message : String(error)}`);
  }
  const header = rows.shift() ?? [];
  const missing = required.filter((name) => !header.includes(name));
  if (missing.length > 0) throw new ArrivalDataError(`${what}: missing column(s) ${missing.join(', ')} in the header`);
  return { rows, column: (name) => header.indexOf(name) };
}

/**
 * Parses AVL positions: a CSV with a header that has at least vehicleId, time (local time in
 * `zone`, YYYY-MM-DD HH:MM:SS), latitude and longitude; optional routeId, directionId and tripId
 * carry a sign-on. Throws ArrivalDataError naming the first invalid line.
 */
export function parseAvlFixes(text: string, zone: string): VehicleFix[] {
  const { rows, column } = readTable(text, 'AVL', ['vehicleId', 'time', 'latitude', 'longitude']);
  const [vehicle, time, lat, lon, route, direction, trip] = ['vehicleId', 'time', 'latitude', 'longitude', 'routeId', 'directionId', 'tripId'].map(column) as number[];
  return rows.map((row, index) => {
    const line = index + 2;
    const fix: VehicleFix = { vehicleId: row[vehicle!] ?? '', time: Number.NaN, lat: Number(row[lat!]), lon: Number(row[lon!]) };
    if (fix.vehicleId === '') throw new ArrivalDataError(`AVL line ${line}: missing vehicleId`);
    if (!Number.isFinite(fix.lat) || Math.abs(fix.lat) > 90 || !Number.isFinite(fix.lon) || Math.abs(fix.lon) > 180 || row[lat!] === '' || row[lon!] === '') {
      throw new ArrivalDataError(`AVL line ${line}: invalid coordinates "${row[lat!] ?? ''}", "${row[lon!] ?? ''}"`);
    }
    try {
      fix.time = parseLocalTime(row[time!] ?? '', zone);
    } catch (error) {
      throw new ArrivalDataError(`AVL line ${line}: ${(error as Error).message}`);
    }
    if (route! >= 0 && row[route!]) fix.routeId = row[route!]!;
    if (direction! >= 0 && (row[direction!] === '0' || row[direction!] === '1')) fix.directionId = Number(row[direction!]);
    if (trip! >= 0 && row[trip!]) fix.tripId = row[trip!]!;
    return fix;
  });
}

/** Reads a TransitClock boolean, which the export writes as "10000000" (true) or "00000000" (false). */
export function parseTransitClockBoolean(text: string): boolean | undefined {
  if (/^[01]0{7}$/.test(text)) return text[0] === '1';
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  return undefined;
}

/**
 * Parses a TransitClock prediction export (header with avlTime, creationTime, predictionTime,
 * stopId, tripId, vehicleId, isArrival; times local in `zone`). Throws ArrivalDataError naming the
 * first invalid line.
 */
export function parseTransitClockPredictions(text: string, zone: string): TransitClockPrediction[] {
  const names = ['avlTime', 'creationTime', 'predictionTime', 'stopId', 'tripId', 'vehicleId', 'isArrival'] as const;
  const { rows, column } = readTable(text, 'baseline', names);
  const index = Object.fromEntries(names.map((name) => [name, column(name)])) as Record<(typeof names)[number], number>;
  return rows.map((row, rowIndex) => {
    const line = rowIndex + 2;
    const field = (name: (typeof names)[number]): string => row[index[name]] ?? '';
    const isArrival = parseTransitClockBoolean(field('isArrival'));
    if (isArrival === undefined) throw new ArrivalDataError(`baseline line ${line}: invalid isArrival "${field('isArrival')}", expected 00000000 or 10000000`);
    for (const name of ['stopId', 'vehicleId'] as const) if (field(name) === '') throw new ArrivalDataError(`baseline line ${line}: missing ${name}`);
    try {
      return {
        vehicleId: field('vehicleId'),
        tripId: field('tripId'),
        stopId: field('stopId'),
        avlTime: parseLocalTime(field('avlTime'), zone),
        creationTime: parseLocalTime(field('creationTime'), zone),
        predictionTime: parseLocalTime(field('predictionTime'), zone),
        isArrival,
      };
    } catch (error) {
      throw new ArrivalDataError(`baseline line ${line}: ${(error as Error).message}`);
    }
  });
}
