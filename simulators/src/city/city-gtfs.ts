import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CityRouteSpec {
  id: string;
  shortName: string;
  longName: string;
  /** Path of direction 0 as [lat, lon] points; direction 1 runs it backwards. */
  path: ReadonlyArray<readonly [number, number]>;
  /** Distance between stops along the path, in metres. */
  stopSpacingM: number;
  /** Bus speed between stops, in metres per second, and dwell per stop, in seconds. */
  speedMps: number;
  dwellS: number;
  /** Service hours as GTFS times (may pass 24:00:00) and headway in seconds. */
  firstDeparture: string;
  lastDeparture: string;
  headwayS: number;
}

export interface CityFeedSpec {
  agencyName: string;
  /** IANA zone of the feed's times, e.g. Asia/Shanghai. */
  timezone: string;
  /** Service validity, YYYYMMDD. */
  startDate: string;
  endDate: string;
  routes: CityRouteSpec[];
}

const EARTH_RADIUS_M = 6_371_008.8;

function distanceM(a: readonly [number, number], b: readonly [number, number]): number {
  const toRad = Math.PI / 180;
  const dLat = (b[0] - a[0]) * toRad;
  const dLon = (b[1] - a[1]) * toRad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[0] * toRad) * Math.cos(b[0] * toRad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Points every `spacingM` metres along a path, first and last point included. */
function pointsAlong(path: ReadonlyArray<readonly [number, number]>, spacingM: number): Array<[number, number]> {
  const points: Array<[number, number]> = [[path[0]![0], path[0]![1]]];
  let carried = 0;
  for (let index = 1; index < path.length; index += 1) {
    const from = path[index - 1]!;
    const to = path[index]!;
    const length = distanceM(from, to);
    let along = spacingM - carried;
    while (along < length) {
      const fraction = along / length;
      points.push([from[0] + (to[0] - from[0]) * fraction, from[1] + (to[1] - from[1]) * fraction]);
      along += spacingM;
    }
    carried = (carried + length) % spacingM;
  }
  const last = path[path.length - 1]!;
  const previous = points[points.length - 1]!;
  if (distanceM(previous, last) > spacingM / 3) points.push([last[0], last[1]]);
  else points[points.length - 1] = [last[0], last[1]];
  return points;
}

function gtfsTime(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  return `${String(hours).padStart(2, '0')}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}:${String(Math.round(seconds % 60)).padStart(2, '0')}`;
}

function parseTime(text: string): number {
  const [hours, minutes, seconds] = text.split(':').map(Number);
  return hours! * 3600 + minutes! * 60 + seconds!;
}

function csv(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  return `${rows.map((row) => row.map((field) => (/[",\n]/.test(String(field)) ? `"${String(field).replaceAll('"', '""')}"` : String(field))).join(',')).join('\n')}\n`;
}

/**
 * Generates the bench city's GTFS feed: per route, stops every stopSpacingM along its path, one
 * frequency-based trip per direction with the path as its shape, and a daily calendar. Stop ids
 * are "{route}-{n}" in direction 0 order, shared by both directions. Returns the files by name.
 */
export function generateCityFeed(spec: CityFeedSpec): Record<string, string> {
  const stops: Array<Array<string | number>> = [['stop_id', 'stop_name', 'stop_lat', 'stop_lon']];
  const routes: Array<Array<string | number>> = [['route_id', 'agency_id', 'route_short_name', 'route_long_name', 'route_type']];
  const trips: Array<Array<string | number>> = [['route_id', 'service_id', 'trip_id', 'direction_id', 'shape_id']];
  const stopTimes: Array<Array<string | number>> = [['trip_id', 'arrival_time', 'departure_time', 'stop_id', 'stop_sequence', 'shape_dist_traveled']];
  const shapes: Array<Array<string | number>> = [['shape_id', 'shape_pt_lat', 'shape_pt_lon', 'shape_pt_sequence']];
  const frequencies: Array<Array<string | number>> = [['trip_id', 'start_time', 'end_time', 'headway_secs', 'exact_times']];

  for (const route of spec.routes) {
    if (route.path.length < 2) throw new RangeError(`route ${route.id} needs a path of two or more points`);
    routes.push([route.id, 'CITY', route.shortName, route.longName, 3]);
    const stopPoints = pointsAlong(route.path, route.stopSpacingM);
    const stopIds = stopPoints.map((_, index) => `${route.id}-${index + 1}`);
    stopPoints.forEach((point, index) => stops.push([stopIds[index]!, `${route.longName} ${index + 1}`, point[0].toFixed(6), point[1].toFixed(6)]));

    for (const direction of [0, 1] as const) {
      const tripId = `${route.id}-${direction}`;
      const shapeId = `${route.id}-shape-${direction}`;
      const path = direction === 0 ? route.path : [...route.path].reverse();
      path.forEach((point, index) => shapes.push([shapeId, point[0].toFixed(6), point[1].toFixed(6), index + 1]));
      trips.push([route.id, 'DAILY', tripId, direction, shapeId]);
      const order = direction === 0 ? stopPoints.map((_, index) => index) : stopPoints.map((_, index) => stopPoints.length - 1 - index);
      let clock = parseTime(route.firstDeparture);
      let travelled = 0;
      order.forEach((stopIndex, sequence) => {
        if (sequence > 0) {
          const leg = distanceM(stopPoints[order[sequence - 1]!]!, stopPoints[stopIndex]!);
          travelled += leg;
          clock += leg / route.speedMps;
        }
        const arrival = clock;
        if (sequence > 0 && sequence < order.length - 1) clock += route.dwellS;
        stopTimes.push([tripId, gtfsTime(arrival), gtfsTime(clock), stopIds[stopIndex]!, sequence + 1, Math.round(travelled)]);
      });
      frequencies.push([tripId, route.firstDeparture, route.lastDeparture, route.headwayS, 0]);
    }
  }

  return {
    'agency.txt': csv([
      ['agency_id', 'agency_name', 'agency_url', 'agency_timezone', 'agency_lang'],
      ['CITY', spec.agencyName, 'https://example.invalid/', spec.timezone, 'zh'],
    ]),
    'stops.txt': csv(stops),
    'routes.txt': csv(routes),
    'trips.txt': csv(trips),
    'stop_times.txt': csv(stopTimes),
    'shapes.txt': csv(shapes),
    'frequencies.txt': csv(frequencies),
    'calendar.txt': csv([
      ['service_id', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'start_date', 'end_date'],
      ['DAILY', 1, 1, 1, 1, 1, 1, 1, spec.startDate, spec.endDate],
    ]),
  };
}

/** Writes a generated feed into a folder, creating it. */
export function writeCityFeed(folder: string, files: Record<string, string>): void {
  mkdirSync(folder, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(folder, name), text);
}
