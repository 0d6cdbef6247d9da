import type { FareTableBody, SectionRoute } from '../schemas/fare-table.js';
import type { RouteStopLookup } from './fare-input.js';

/** Stop order of one direction of a tap-on/tap-off route: the table's own list first, else the route data. */
export function sectionStops(section: SectionRoute, route: string, direction: 0 | 1, lookup: RouteStopLookup | undefined): readonly string[] | undefined {
  return section.stops?.[direction === 0 ? '0' : '1'] ?? lookup?.stops(route, direction);
}

export function sectionRouteOf(table: FareTableBody, route: string): SectionRoute | undefined {
  return table.sectionRoutes?.[route];
}

/** The band fare of a journey of `stopCount` stops; journeys beyond the last band pay the last band. */
export function bandFare(section: SectionRoute, stopCount: number): number {
  const band = section.bands.find((candidate) => stopCount <= candidate.maxStops) ?? section.bands[section.bands.length - 1]!;
  return band.fareFen;
}

/** Index of the boarding stop: its first place on the pattern. */
export function boardingIndex(stops: readonly string[], stopId: string): number {
  return stops.indexOf(stopId);
}

/**
 * Stops travelled from the boarding index to the alighting stop. On a loop pattern (first stop
 * equals last) the alighting stop is looked for after the boarding, so a rider who rides past
 * the terminus is counted to the end of the loop. Returns -1 when the stop is not on the pattern.
 */
export function stopsTravelled(stops: readonly string[], fromIndex: number, stopId: string): number {
  // A rider who boards at a loop's terminus and alights there has ridden the whole loop. The
  // caller refuses an immediate second tap at the boarding stop as a repeat tap before this.
  const isLoop = stops.length > 1 && stops[0] === stops[stops.length - 1];
  const laterIndex = isLoop ? stops.indexOf(stopId, fromIndex + 1) : -1;
  if (laterIndex >= 0) return laterIndex - fromIndex;
  const forward = stops.indexOf(stopId, fromIndex);
  if (forward >= 0) return forward - fromIndex;
  const backward = stops.indexOf(stopId);
  // A stop before the boarding: the rider went the wrong way or the driver set the stop late.
  return backward < 0 ? -1 : fromIndex - backward;
}

/** The longest journey from a boarding index: to the last stop of the pattern. */
export function longestJourneyStops(stops: readonly string[], fromIndex: number): number {
  return stops.length - 1 - fromIndex;
}
