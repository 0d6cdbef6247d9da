import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type CatalogueEntry, type Language, type ProblemText, catalogueEntryFrom, problemTextsIn, validationText, validationTextEntry } from '@busfare/shared-protocol';
import { columnReader, readCsvTable, type CsvTable } from '../csv/csv-table.js';
import type { GtfsCalendar, GtfsFeed, GtfsFrequency, GtfsShapePoint, GtfsStopTime } from './gtfs-model.js';
import { GtfsStopTimes, MAX_STOP_SEQUENCE } from './gtfs-stop-times.js';
import { parseGtfsTime } from './gtfs-time.js';

/** A feed that cannot be imported, with every problem found. */
export class GtfsFeedError extends Error {
  /** The problems in English, as the message and logs print them. */
  readonly problems: string[];

  constructor(
    readonly folder: string,
    private readonly problemTexts: readonly ProblemText[],
  ) {
    const problems = problemTextsIn(problemTexts, 'en');
    super(`invalid GTFS feed ${folder}: ${problems.join('; ')}`);
    this.problems = problems;
  }

  /** Returns the problems in the language, for a person reading the command's output. */
  problemsIn(language: Language): string[] {
    return problemTextsIn(this.problemTexts, language);
  }
}

/** Files this importer reads, with the columns each must have. */
const READ_FILES: Record<string, { required: boolean; columns: string[] }> = {
  'agency.txt': { required: false, columns: ['agency_name', 'agency_timezone'] },
  'stops.txt': { required: true, columns: ['stop_id', 'stop_lat', 'stop_lon'] },
  'routes.txt': { required: true, columns: ['route_id'] },
  'trips.txt': { required: true, columns: ['route_id', 'service_id', 'trip_id'] },
  'stop_times.txt': { required: true, columns: ['trip_id', 'stop_id', 'stop_sequence'] },
  'calendar.txt': { required: false, columns: ['service_id', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'start_date', 'end_date'] },
  'calendar_dates.txt': { required: false, columns: ['service_id', 'date', 'exception_type'] },
  'shapes.txt': { required: false, columns: ['shape_id', 'shape_pt_lat', 'shape_pt_lon', 'shape_pt_sequence'] },
  'frequencies.txt': { required: false, columns: ['trip_id', 'start_time', 'end_time', 'headway_secs'] },
};

type Tables = Partial<Record<keyof typeof READ_FILES, CsvTable>>;

/**
 * Imports a GTFS static feed from a folder of .txt files. It accepts byte-order marks, CRLF
 * endings, quoted fields, and spaces around header names and values. It also accepts times past
 * 24:00:00, single-digit hours, frequency-based trips, loop routes, gaps in stop_sequence and
 * missing shape_dist_traveled. Files that are not part of GTFS are listed in ignoredFiles. Invalid rows are skipped and listed in warnings, in English. Throws GtfsFeedError when a
 * required file or column is missing, a file is not valid CSV, or no trip is usable.
 */
export function importGtfsFeed(folder: string): GtfsFeed {
  const { tables, ignoredFiles, problems } = readTables(folder);
  if (problems.length > 0) throw new GtfsFeedError(folder, problems);

  const warnings: CatalogueEntry[] = [];
  const feed: GtfsFeed = {
    agencies: [],
    stops: new Map(),
    routes: new Map(),
    trips: new Map(),
    stopTimes: new GtfsStopTimes(),
    shapes: new Map(),
    calendars: new Map(),
    calendarDates: [],
    frequencies: new Map(),
    ignoredFiles,
    warnings: [],
  };

  eachRow(tables, 'agency.txt', warnings, (get) => {
    const agency = { name: get('agency_name'), timezone: get('agency_timezone') };
    feed.agencies.push(get('agency_id') ? { id: get('agency_id'), ...agency } : agency);
  });

  eachRow(tables, 'stops.txt', warnings, (get, warn) => {
    const lat = Number(get('stop_lat'));
    const lon = Number(get('stop_lon'));
    const locationType = get('location_type') === '' ? 0 : Number(get('location_type'));
    if (get('stop_id') === '') return warn(validationTextEntry('validation.gtfs.stopIdEmpty'));
    // Entrances, generic nodes and boarding areas (location_type 2-4) may leave out coordinates.
    if ((get('stop_lat') === '' || !Number.isFinite(lat) || Math.abs(lat) > 90 || !Number.isFinite(lon) || Math.abs(lon) > 180) && locationType < 2) {
      return warn(validationTextEntry('validation.gtfs.stopCoordinates', { stop: get('stop_id'), lat: get('stop_lat'), lon: get('stop_lon') }));
    }
    const stop = { id: get('stop_id'), name: get('stop_name'), lat, lon, locationType };
    feed.stops.set(stop.id, get('parent_station') ? { ...stop, parentStation: get('parent_station') } : stop);
  });

  eachRow(tables, 'routes.txt', warnings, (get, warn) => {
    if (get('route_id') === '') return warn(validationTextEntry('validation.gtfs.routeIdEmpty'));
    const route = { id: get('route_id'), shortName: get('route_short_name'), longName: get('route_long_name'), type: Number(get('route_type') || '3') };
    feed.routes.set(route.id, get('agency_id') ? { ...route, agencyId: get('agency_id') } : route);
  });

  eachRow(tables, 'trips.txt', warnings, (get, warn) => {
    if (!feed.routes.has(get('route_id'))) return warn(validationTextEntry('validation.gtfs.tripUnknownRoute', { trip: get('trip_id'), route: get('route_id') }));
    const direction = get('direction_id');
    if (direction !== '' && direction !== '0' && direction !== '1') return warn(validationTextEntry('validation.gtfs.tripDirection', { trip: get('trip_id'), direction }));
    const trip = { id: get('trip_id'), routeId: get('route_id'), serviceId: get('service_id'), directionId: (direction === '1' ? 1 : 0) as 0 | 1 };
    feed.trips.set(trip.id, { ...trip, ...(get('trip_headsign') ? { headsign: get('trip_headsign') } : {}), ...(get('shape_id') ? { shapeId: get('shape_id') } : {}) });
  });

  // Rows are collected per trip and sorted by stop_sequence before they enter the compact table.
  const stopTimesByTrip = new Map<string, GtfsStopTime[]>();
  eachRow(tables, 'stop_times.txt', warnings, (get, warn) => {
    const tripId = get('trip_id');
    if (!feed.trips.has(tripId)) return warn(validationTextEntry('validation.gtfs.stopTimeUnknownTrip', { trip: tripId }));
    if (!feed.stops.has(get('stop_id'))) return warn(validationTextEntry('validation.gtfs.stopTimeUnknownStop', { trip: tripId, stop: get('stop_id') }));
    const sequence = Number(get('stop_sequence'));
    if (!Number.isInteger(sequence) || sequence < 0 || sequence > MAX_STOP_SEQUENCE) return warn(validationTextEntry('validation.gtfs.stopSequence', { trip: tripId, value: get('stop_sequence') }));
    const arrivalS = parseGtfsTime(get('arrival_time'));
    const departureS = parseGtfsTime(get('departure_time'));
    if (Number.isNaN(arrivalS) || Number.isNaN(departureS)) {
      return warn(validationTextEntry('validation.gtfs.stopTime', { trip: tripId, arrival: get('arrival_time'), departure: get('departure_time') }));
    }
    const stopTime: GtfsStopTime = { stopId: get('stop_id'), sequence };
    if (arrivalS !== undefined) stopTime.arrivalS = arrivalS;
    if (departureS !== undefined) stopTime.departureS = departureS;
    const dist = get('shape_dist_traveled');
    if (dist !== '' && Number.isFinite(Number(dist))) stopTime.distTraveled = Number(dist);
    const list = stopTimesByTrip.get(tripId);
    if (list) list.push(stopTime);
    else stopTimesByTrip.set(tripId, [stopTime]);
  });
  for (const tripId of feed.trips.keys()) {
    const list = stopTimesByTrip.get(tripId) ?? [];
    if (list.length < 2) {
      warnings.push(validationTextEntry('validation.gtfs.tooFewStopTimes', { trip: tripId }));
      feed.trips.delete(tripId);
    } else {
      feed.stopTimes.set(tripId, list.sort((a, b) => a.sequence - b.sequence));
    }
  }
  if (feed.trips.size === 0) throw new GtfsFeedError(folder, [validationTextEntry('validation.gtfs.noUsableTrip'), ...warnings.slice(0, 20)]);

  eachRow(tables, 'calendar.txt', warnings, (get, warn) => {
    const dayNames = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
    if (!/^\d{8}$/.test(get('start_date')) || !/^\d{8}$/.test(get('end_date'))) return warn(validationTextEntry('validation.gtfs.serviceDates', { service: get('service_id') }));
    const days = dayNames.map((day) => get(day) === '1') as GtfsCalendar['days'];
    feed.calendars.set(get('service_id'), { serviceId: get('service_id'), days, startDate: get('start_date'), endDate: get('end_date') });
  });

  eachRow(tables, 'calendar_dates.txt', warnings, (get, warn) => {
    const type = get('exception_type');
    if (!/^\d{8}$/.test(get('date')) || (type !== '1' && type !== '2')) return warn(validationTextEntry('validation.gtfs.calendarDate', { service: get('service_id') }));
    feed.calendarDates.push({ serviceId: get('service_id'), date: get('date'), exceptionType: type === '1' ? 1 : 2 });
  });

  eachRow(tables, 'shapes.txt', warnings, (get, warn) => {
    const point: GtfsShapePoint = { lat: Number(get('shape_pt_lat')), lon: Number(get('shape_pt_lon')), sequence: Number(get('shape_pt_sequence')) };
    if (!Number.isFinite(point.lat) || !Number.isFinite(point.lon) || !Number.isFinite(point.sequence)) return warn(validationTextEntry('validation.gtfs.shapePoint', { shape: get('shape_id') }));
    const list = feed.shapes.get(get('shape_id')) ?? [];
    list.push(point);
    feed.shapes.set(get('shape_id'), list);
  });
  for (const list of feed.shapes.values()) list.sort((a, b) => a.sequence - b.sequence);

  eachRow(tables, 'frequencies.txt', warnings, (get, warn) => {
    const tripId = get('trip_id');
    if (!feed.trips.has(tripId)) return warn(validationTextEntry('validation.gtfs.frequencyUnknownTrip', { trip: tripId }));
    const startS = parseGtfsTime(get('start_time'));
    const endS = parseGtfsTime(get('end_time'));
    const headwayS = Number(get('headway_secs'));
    if (startS === undefined || endS === undefined || Number.isNaN(startS) || Number.isNaN(endS) || endS < startS || !Number.isInteger(headwayS) || headwayS <= 0) {
      return warn(validationTextEntry('validation.gtfs.frequencyInvalid', { trip: tripId }));
    }
    const frequency: GtfsFrequency = { startS, endS, headwayS, exactTimes: get('exact_times') === '1' };
    const list = feed.frequencies.get(tripId) ?? [];
    list.push(frequency);
    feed.frequencies.set(tripId, list);
  });

  feed.warnings.push(...warnings.map((warning) => warning.en));
  return feed;
}

function readTables(folder: string): { tables: Tables; ignoredFiles: string[]; problems: CatalogueEntry[] } {
  let names: string[];
  try {
    names = readdirSync(folder).sort();
  } catch (error) {
    return { tables: {}, ignoredFiles: [], problems: [validationTextEntry('validation.gtfs.folderUnreadable', { message: (error as Error).message })] };
  }
  const tables: Tables = {};
  const ignoredFiles: string[] = [];
  const problems: CatalogueEntry[] = [];
  for (const name of names) {
    const spec = READ_FILES[name];
    if (!spec) {
      ignoredFiles.push(name);
      continue;
    }
    try {
      const table = readCsvTable(readFileSync(join(folder, name)));
      const missing = spec.columns.filter((column) => !table.header.includes(column));
      if (missing.length > 0) problems.push(validationTextEntry('validation.gtfs.missingColumns', { file: name, columns: missing.join(', ') }));
      else tables[name] = table;
    } catch (error) {
      problems.push(validationTextEntry('validation.gtfs.csvInvalid', { file: name, message: (error as Error).message }));
    }
  }
  for (const [name, spec] of Object.entries(READ_FILES)) {
    if (spec.required && !names.includes(name)) problems.push(validationTextEntry('validation.gtfs.fileMissing', { file: name }));
  }
  return { tables, ignoredFiles, problems };
}

/** Calls `visit` for each row of a file with a field reader and a warning function that names file and line. */
function eachRow(tables: Tables, file: keyof typeof READ_FILES, warnings: CatalogueEntry[], visit: (get: (column: string) => string, warn: (problem: CatalogueEntry) => void) => void): void {
  const table = tables[file];
  if (!table) return;
  const field = columnReader(table);
  table.rows.forEach((row, index) => {
    visit(
      (column) => field(row, column),
      (problem) => warnings.push(catalogueEntryFrom((language) => validationText('validation.gtfs.atLine', language, { file, line: table.lines[index] ?? '', problem: problem[language] }))),
    );
  });
}
