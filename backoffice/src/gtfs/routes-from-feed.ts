import type { RoutePattern, RoutesBody } from '@busfare/shared-protocol';
import { distanceM, projectOntoSegment, type LatLon } from './geo.js';
import type { GtfsFeed, GtfsShapePoint, GtfsStop } from './gtfs-model.js';

/** A stop within this distance of the shape is taken as lying on it. */
const NEAR_SHAPE_M = 100;

/**
 * Builds the routes parameter body from a feed: per route and direction, every distinct stop
 * pattern, the one with most trips first. Distances come from projecting each stop onto the
 * trip's shape in travel order. Without a shape they are straight lines between stops, which
 * makes them shorter than road distance. shape_dist_traveled is not used, because its unit
 * differs from feed to feed.
 */
export function routesBodyFromFeed(feed: GtfsFeed): RoutesBody {
  const usedStops = new Set<string>();
  const routes: RoutesBody['routes'] = [];

  for (const route of feed.routes.values()) {
    const patternsByKey = new Map<string, { direction: 0 | 1; stops: string[]; trips: number; headsign?: string; shapeId?: string }>();
    for (const trip of feed.trips.values()) {
      if (trip.routeId !== route.id) continue;
      const stops = feed.stopTimes.get(trip.id)!.map((stopTime) => stopTime.stopId);
      const key = `${trip.directionId}|${stops.join('\u0000')}`;
      const pattern = patternsByKey.get(key) ?? { direction: trip.directionId, stops, trips: 0, headsign: trip.headsign, shapeId: trip.shapeId };
      pattern.trips += 1;
      patternsByKey.set(key, pattern);
    }
    const ranked = [...patternsByKey.values()].sort((a, b) => a.direction - b.direction || b.trips - a.trips || b.stops.length - a.stops.length);
    if (ranked.length === 0) continue;

    const patterns: RoutePattern[] = ranked.map((candidate) => {
      candidate.stops.forEach((stopId) => usedStops.add(stopId));
      const stops = candidate.stops.map((stopId) => feed.stops.get(stopId)!);
      const shape = candidate.shapeId === undefined ? undefined : feed.shapes.get(candidate.shapeId);
      const pattern: RoutePattern = {
        direction: candidate.direction,
        stops: candidate.stops,
        distancesM: roundDistances(shape && shape.length >= 2 ? distancesAlongShape(stops, shape) : straightDistances(stops)),
        loop: candidate.stops[0] === candidate.stops[candidate.stops.length - 1],
      };
      if (candidate.headsign) pattern.headsign = candidate.headsign;
      return pattern;
    });
    routes.push({ id: route.id, shortName: route.shortName, longName: route.longName, patterns });
  }

  const stops = [...usedStops].map((stopId) => {
    const stop = feed.stops.get(stopId)!;
    return { id: stop.id, name: stop.name, lat: stop.lat, lon: stop.lon };
  });
  return { stops, routes };
}

function straightDistances(stops: readonly GtfsStop[]): number[] {
  const distances = [0];
  for (let index = 1; index < stops.length; index += 1) distances.push(distances[index - 1]! + distanceM(stops[index - 1]!, stops[index]!));
  return distances;
}

/**
 * Distance of each stop along the shape. Stops are matched in travel order and never behind the
 * previous match, so a loop's last stop lands at the loop's end, not its start. A stop far from
 * the shape falls back to the straight line from the previous stop.
 */
function distancesAlongShape(stops: readonly GtfsStop[], shape: readonly GtfsShapePoint[]): number[] {
  const cumulative = [0];
  for (let index = 1; index < shape.length; index += 1) cumulative.push(cumulative[index - 1]! + distanceM(shape[index - 1]!, shape[index]!));

  const distances: number[] = [];
  let segment = 0;
  let lastDistance = 0;
  stops.forEach((stop, stopIndex) => {
    const match = matchForward(stop, shape, segment, cumulative, lastDistance);
    if (match === undefined) {
      lastDistance = stopIndex === 0 ? 0 : lastDistance + distanceM(stops[stopIndex - 1]!, stop);
    } else {
      segment = match.segment;
      lastDistance = match.distance;
    }
    distances.push(lastDistance);
  });
  return distances;
}

/**
 * Finds the first place at or after `fromSegment` where the shape passes within NEAR_SHAPE_M of
 * the stop, refined to the nearest point of that pass. When no pass is near, it returns the
 * nearest point overall, or undefined beyond five times NEAR_SHAPE_M.
 */
function matchForward(stop: LatLon, shape: readonly GtfsShapePoint[], fromSegment: number, cumulative: readonly number[], notBefore: number): { segment: number; distance: number } | undefined {
  let best: { segment: number; distance: number; offsetM: number } | undefined;
  for (let segment = fromSegment; segment < shape.length - 1; segment += 1) {
    const { fraction, offsetM } = projectOntoSegment(stop, shape[segment]!, shape[segment + 1]!);
    const distance = cumulative[segment]! + fraction * (cumulative[segment + 1]! - cumulative[segment]!);
    if (distance < notBefore) continue;
    if (!best || offsetM < best.offsetM) best = { segment, distance, offsetM };
    else if (best.offsetM <= NEAR_SHAPE_M && offsetM > best.offsetM) break;
  }
  return best && best.offsetM <= NEAR_SHAPE_M * 5 ? { segment: best.segment, distance: best.distance } : undefined;
}

function roundDistances(distances: number[]): number[] {
  let previous = 0;
  return distances.map((distance) => {
    previous = Math.max(previous, Math.round(distance));
    return previous;
  });
}
