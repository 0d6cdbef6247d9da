import type { GtfsStopTimes } from './gtfs-stop-times.js';

/** A GTFS static feed as the back office uses it. Times are seconds after the service day's start. */
export interface GtfsAgency {
  id?: string;
  name: string;
  timezone: string;
}

export interface GtfsStop {
  id: string;
  name: string;
  lat: number;
  lon: number;
  /** 0 stop or platform, 1 station, 2 entrance, … */
  locationType: number;
  parentStation?: string;
}

export interface GtfsRoute {
  id: string;
  agencyId?: string;
  shortName: string;
  longName: string;
  type: number;
}

export interface GtfsTrip {
  id: string;
  routeId: string;
  serviceId: string;
  /** direction_id; 0 when the feed leaves it out. */
  directionId: 0 | 1;
  headsign?: string;
  shapeId?: string;
}

export interface GtfsStopTime {
  stopId: string;
  sequence: number;
  arrivalS?: number;
  departureS?: number;
  /** shape_dist_traveled in the feed's own unit, when given. */
  distTraveled?: number;
}

export interface GtfsShapePoint {
  lat: number;
  lon: number;
  sequence: number;
}

export interface GtfsFrequency {
  startS: number;
  endS: number;
  headwayS: number;
  exactTimes: boolean;
}

export interface GtfsCalendar {
  serviceId: string;
  /** Monday first, as in calendar.txt. */
  days: [boolean, boolean, boolean, boolean, boolean, boolean, boolean];
  /** YYYYMMDD. */
  startDate: string;
  endDate: string;
}

export interface GtfsCalendarDate {
  serviceId: string;
  date: string;
  /** 1 service added, 2 service removed. */
  exceptionType: 1 | 2;
}

export interface GtfsFeed {
  agencies: GtfsAgency[];
  stops: Map<string, GtfsStop>;
  routes: Map<string, GtfsRoute>;
  trips: Map<string, GtfsTrip>;
  /** Stop times of each trip, sorted by stop_sequence. */
  stopTimes: GtfsStopTimes;
  /** Shape points, sorted by shape_pt_sequence. */
  shapes: Map<string, GtfsShapePoint[]>;
  calendars: Map<string, GtfsCalendar>;
  calendarDates: GtfsCalendarDate[];
  /** Frequency windows of frequency-based trips. */
  frequencies: Map<string, GtfsFrequency[]>;
  /** Files in the folder that are not GTFS files, or GTFS files this importer does not read. */
  ignoredFiles: string[];
  /** Rows skipped because they were invalid, each with file and line. */
  warnings: string[];
}
