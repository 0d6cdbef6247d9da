import { parse } from 'csv-parse/sync';
import { ArrivalDataError } from './arrival-data-error.js';
import { type ObservedTrip, dayTypeOf } from './observed-trip.js';

/** One row of a Suzhou stop-sighting export. */
export interface SuzhouSighting {
  stopName: string;
  /** Three-letter stop code, or '' where the export leaves it empty. */
  stopCode: string;
  plate: string;
  serviceDate: string;
  /** Local seconds since midnight. */
  secondsOfDay: number;
  directionId: number;
}

export interface SuzhouParseResult {
  sightings: SuzhouSighting[];
  /** Rows of the form `,YYYY-MM-DD,direction` that mark a day and direction without sightings. */
  markerRows: number;
}

const TIME_PATTERN = /^(\d{1,2}):(\d{2}):(\d{2})$/;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Parses a Suzhou export: no header, six fields (stop name, stop code, plate, local time H:MM:SS,
 * date, direction 0 or 1). Rows of three fields are day markers and are counted, not returned.
 * Throws ArrivalDataError naming the first invalid line.
 */
export function parseSuzhouSightings(text: string): SuzhouParseResult {
  const rows = parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][];
  const sightings: SuzhouSighting[] = [];
  let markerRows = 0;
  rows.forEach((row, index) => {
    const line = index + 1;
    if (row.length === 3) {
      markerRows += 1;
      return;
    }
    if (row.length !== 6) throw new ArrivalDataError(`line ${line}: expected 6 fields (or a 3-field marker row), found ${row.length}`);
    const [stopName, stopCode, plate, time, serviceDate, direction] = row as [string, string, string, string, string, string];
    if (stopName === '') throw new ArrivalDataError(`line ${line}: missing stop name`);
    if (plate === '') throw new ArrivalDataError(`line ${line}: missing plate`);
    if (!DATE_PATTERN.test(serviceDate) || Number.isNaN(Date.parse(`${serviceDate}T00:00:00Z`))) {
      throw new ArrivalDataError(`line ${line}: invalid date "${serviceDate}", expected YYYY-MM-DD`);
    }
    if (direction !== '0' && direction !== '1') throw new ArrivalDataError(`line ${line}: invalid direction "${direction}", expected 0 or 1`);
    sightings.push({ stopName, stopCode, plate, serviceDate, secondsOfDay: parseTimeOfDay(time, line), directionId: Number(direction) });
  });
  return { sightings, markerRows };
}

function parseTimeOfDay(text: string, line: number): number {
  const match = TIME_PATTERN.exec(text);
  const [hours, minutes, seconds] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [NaN, NaN, NaN];
  if (!match || hours > 23 || minutes > 59 || seconds > 59) throw new ArrivalDataError(`line ${line}: invalid time "${text}", expected H:MM:SS`);
  return hours * 3600 + minutes * 60 + seconds;
}

export interface SuzhouTripOptions {
  routeId: string;
  /** Offset of local time from UTC in minutes (China Standard Time: 480). */
  utcOffsetMinutes: number;
  /** A longer gap between two sightings of a bus ends its trip (seconds). */
  maxGapSeconds?: number;
}

const DEFAULT_MAX_GAP_S = 30 * 60;

/**
 * Groups sightings into trips. A bus's sightings on a date, in time order, form one trip while the
 * direction stays the same, no gap exceeds maxGapSeconds and no stop comes back. A sighting at the
 * stop the bus was last seen at is the same arrival seen again, so only the first one counts; a
 * return to an earlier stop of the trip starts a new trip.
 */
export function buildSuzhouTrips(sightings: readonly SuzhouSighting[], options: SuzhouTripOptions): ObservedTrip[] {
  const maxGap = options.maxGapSeconds ?? DEFAULT_MAX_GAP_S;
  const byBusDay = new Map<string, SuzhouSighting[]>();
  for (const sighting of sightings) {
    const key = `${sighting.serviceDate}|${sighting.plate}`;
    const list = byBusDay.get(key);
    if (list) list.push(sighting);
    else byBusDay.set(key, [sighting]);
  }

  const trips: ObservedTrip[] = [];
  for (const list of byBusDay.values()) {
    list.sort((a, b) => a.secondsOfDay - b.secondsOfDay);
    const first = list[0]!;
    const dayStart = Date.parse(`${first.serviceDate}T00:00:00Z`) / 1000 - options.utcOffsetMinutes * 60;
    let current: ObservedTrip | undefined;
    let seen = new Set<string>();
    let lastStop = '';
    let lastTime = -Infinity;
    for (const sighting of list) {
      const time = dayStart + sighting.secondsOfDay;
      const sameTrip = current !== undefined && current.directionId === sighting.directionId && time - lastTime <= maxGap;
      if (sameTrip && sighting.stopName === lastStop) {
        lastTime = time;
        continue;
      }
      if (!sameTrip || seen.has(sighting.stopName)) {
        current = {
          id: `${sighting.serviceDate}/${sighting.plate}/${trips.length}`,
          routeId: options.routeId,
          directionId: sighting.directionId,
          vehicleId: sighting.plate,
          serviceDate: sighting.serviceDate,
          dayType: dayTypeOf(sighting.serviceDate),
          dayStart,
          arrivals: [],
        };
        trips.push(current);
        seen = new Set();
      }
      current!.arrivals.push({ stopId: sighting.stopName, time });
      seen.add(sighting.stopName);
      lastStop = sighting.stopName;
      lastTime = time;
    }
  }
  return trips.filter((trip) => trip.arrivals.length >= 2);
}
