import type { GtfsFeed, GtfsStop, GtfsTrip } from '../../gtfs/gtfs-model.js';
import { tripDepartures } from '../../gtfs/gtfs-service.js';
import { formatGtfsTime } from '../../gtfs/gtfs-time.js';
import { ShapeLine } from './shape-line.js';
import { TimeColumn } from './time-column.js';

/** A stop of a pattern and its place along the pattern's line. */
export interface PatternStop {
  stopId: string;
  distanceM: number;
}

/** The stops of one direction of a route in order, on the line the buses drive. */
export interface TripPattern {
  id: string;
  routeId: string;
  directionId: number;
  line: ShapeLine;
  stops: PatternStop[];
}

/** A scheduled trip on a pattern; times are seconds after the service day's start. */
export interface ScheduledTrip {
  /** The feed's trip id, or for one run of a frequency-based trip `tripId@HH:MM:SS`. */
  id: string;
  /** trip_id in the feed. */
  gtfsTripId: string;
  /** First departure HH:MM:SS of one run of a frequency-based trip (GTFS-realtime start_time). */
  startTime?: string;
  routeId: string;
  directionId: number;
  serviceId: string;
  pattern: TripPattern;
  /**
   * Scheduled arrival at each stop of the pattern, interpolated where the feed leaves it out. It is
   * a view into a TimeColumn block shared with other trips, so a full garbage collection marks one
   * small object per trip and scans none of the schedule's hundreds of thousands of times.
   */
  arrivalS: Float64Array;
  /** Scheduled departure from each stop of the pattern, a view like arrivalS. */
  departureS: Float64Array;
}

/** Every trip of a feed on its pattern, with lookups by route. */
export interface TripSchedule {
  feed: GtfsFeed;
  patterns: Map<string, TripPattern>;
  trips: Map<string, ScheduledTrip>;
  tripsByRoute: Map<string, ScheduledTrip[]>;
  /** Time zone of the feed's agency. */
  timeZone: string;
}

/**
 * Builds the patterns and scheduled trips of a feed. Trips with the same route, direction, shape
 * and stops share one pattern. A stop's place on the shape is found by projecting it forward from
 * the previous stop's place, so a loop visits its stops in order; without a shape the line runs
 * straight through the stops. A frequency-based trip becomes one scheduled trip per start time.
 */
export function buildTripSchedule(feed: GtfsFeed, timeZone = feed.agencies[0]?.timezone ?? 'UTC'): TripSchedule {
  const patterns = new Map<string, TripPattern>();
  const trips = new Map<string, ScheduledTrip>();
  const tripsByRoute = new Map<string, ScheduledTrip[]>();
  const times = new TimeColumn();

  for (const trip of feed.trips.values()) {
    const stopTimes = feed.stopTimes.get(trip.id)!;
    const stopIds = stopTimes.map((stopTime) => stopTime.stopId);
    const key = `${trip.routeId}|${trip.directionId}|${trip.shapeId ?? ''}|${stopIds.join(',')}`;
    let pattern = patterns.get(key);
    if (!pattern) {
      pattern = buildPattern(`${trip.routeId}:${trip.directionId}:${patterns.size}`, trip.routeId, trip.directionId, stopIds.map((id) => feed.stops.get(id)!), trip.shapeId === undefined ? undefined : feed.shapes.get(trip.shapeId));
      patterns.set(key, pattern);
    }
    const arrivals = interpolateTimes(stopTimes.map((stopTime) => stopTime.arrivalS ?? stopTime.departureS), pattern);
    if (!arrivals) continue;
    const departures = stopTimes.map((stopTime, index) => stopTime.departureS ?? arrivals[index]!);
    let list = tripsByRoute.get(trip.routeId);
    if (!list) {
      list = [];
      tripsByRoute.set(trip.routeId, list);
    }
    if (!feed.frequencies.has(trip.id)) {
      const scheduled = scheduledTrip(trip.id, trip, undefined, pattern, times.append(arrivals), times.append(departures));
      trips.set(trip.id, scheduled);
      list.push(scheduled);
      continue;
    }
    // A frequency-based trip runs once per headway with the stop times' spacing from each start.
    const offset = departures[0]!;
    for (const start of tripDepartures(feed, trip.id)) {
      const startTime = formatGtfsTime(start);
      const arrivalS = times.append(arrivals.map((time) => time - offset + start));
      const scheduled = scheduledTrip(`${trip.id}@${startTime}`, trip, startTime, pattern, arrivalS, times.append(departures.map((time) => time - offset + start)));
      trips.set(scheduled.id, scheduled);
      list.push(scheduled);
    }
  }
  return { feed, patterns, trips, tripsByRoute, timeZone };
}

/** Builds a trip with every property in one literal, so that all trips share one object shape with the properties in the object. */
function scheduledTrip(id: string, trip: GtfsTrip, startTime: string | undefined, pattern: TripPattern, arrivalS: Float64Array, departureS: Float64Array): ScheduledTrip {
  if (startTime === undefined) return { id, gtfsTripId: trip.id, routeId: trip.routeId, directionId: trip.directionId, serviceId: trip.serviceId, pattern, arrivalS, departureS };
  return { id, gtfsTripId: trip.id, startTime, routeId: trip.routeId, directionId: trip.directionId, serviceId: trip.serviceId, pattern, arrivalS, departureS };
}

function buildPattern(id: string, routeId: string, directionId: number, stops: GtfsStop[], shape: readonly { lat: number; lon: number }[] | undefined): TripPattern {
  const line = new ShapeLine(shape && shape.length >= 2 ? shape : stops.length >= 2 ? stops : [stops[0]!, stops[0]!]);
  const placed: PatternStop[] = [];
  let fromM = 0;
  stops.forEach((stop, index) => {
    const position = line.locateFirst(stop, fromM);
    const distance = index === 0 && !shape ? 0 : position.distanceM;
    placed.push({ stopId: stop.id, distanceM: distance });
    fromM = distance;
  });
  return { id, routeId, directionId, line, stops: placed };
}

/** Fills stop times the feed leaves empty by distance between the timed stops; undefined when the ends are not timed. */
function interpolateTimes(times: (number | undefined)[], pattern: TripPattern): number[] | undefined {
  const first = times[0];
  const last = times.at(-1);
  if (first === undefined || last === undefined) return undefined;
  const result = [...times] as number[];
  let previous = 0;
  for (let index = 1; index < times.length; index += 1) {
    if (times[index] === undefined) continue;
    for (let gap = previous + 1; gap < index; gap += 1) {
      const span = pattern.stops[index]!.distanceM - pattern.stops[previous]!.distanceM;
      const share = span > 0 ? (pattern.stops[gap]!.distanceM - pattern.stops[previous]!.distanceM) / span : (gap - previous) / (index - previous);
      result[gap] = times[previous]! + share * (times[index]! - times[previous]!);
    }
    previous = index;
  }
  return result;
}
