import type { RoutesBody, RouteStop } from '@busfare/shared-protocol';

/** Metres from a stop within which the bus counts as at that stop. */
export const AT_STOP_RADIUS_M = 60;

export interface StopProgress {
  /** The stop the bus is at or has last passed. */
  current?: RouteStop;
  /** Index of `current` in the route pattern. */
  currentIndex?: number;
  next?: RouteStop;
}

/**
 * Follows one route pattern with GPS fixes and names the current and next stop. The bus has
 * passed a stop once it came within AT_STOP_RADIUS_M of it. Before the first stop is reached,
 * the nearest stop is the next one. On a loop pattern (first stop equals last) the terminus is
 * reached as the last stop, and the stops after it start the next lap.
 */
export class StopTracker {
  private readonly stops: RouteStop[];
  private reachedIndex = -1;
  private nearestIndex = -1;

  constructor(routes: RoutesBody, route: string, direction: 0 | 1) {
    const pattern = routes.routes.find((entry) => entry.id === route)?.patterns.find((entry) => entry.direction === direction);
    const byId = new Map(routes.stops.map((stop) => [stop.id, stop]));
    this.stops = (pattern?.stops ?? []).map((id) => byId.get(id)).filter((stop): stop is RouteStop => stop !== undefined);
  }

  get knowsRoute(): boolean {
    return this.stops.length > 0;
  }

  /** Updates the progress with a fix; a stop behind the one last reached is not reached again. */
  update(lat: number, lon: number): StopProgress {
    const last = this.stops.length - 1;
    const loop = last > 0 && this.stops[0]!.id === this.stops[last]!.id;
    // After the terminus of a loop the lap starts again.
    const behind = loop && this.reachedIndex === last ? 0 : this.reachedIndex;
    let nearest = -1;
    let nearestM = Number.POSITIVE_INFINITY;
    this.stops.forEach((stop, index) => {
      const metres = distanceM(lat, lon, stop.lat, stop.lon);
      // The terminus of a loop is its first and its last stop: the last once the bus has left it.
      if (metres < nearestM || (metres === nearestM && behind > 0 && index > behind && nearest <= behind)) {
        nearest = index;
        nearestM = metres;
      }
    });
    this.nearestIndex = nearest;
    if (nearest > behind && nearestM <= AT_STOP_RADIUS_M) this.reachedIndex = nearest;
    return this.progress();
  }

  /**
   * Starts from a stop the bus had already reached on another copy of this pattern (a new routes
   * parameter set), so the bus keeps its current stop while it is between stops.
   */
  resumeAt(stopId: string, index: number | undefined): void {
    const found = index !== undefined && this.stops[index]?.id === stopId ? index : this.stops.findIndex((stop) => stop.id === stopId);
    if (found > this.reachedIndex) this.reachedIndex = found;
  }

  progress(): StopProgress {
    if (this.reachedIndex >= 0) return { current: this.stops[this.reachedIndex], currentIndex: this.reachedIndex, next: this.stops[this.reachedIndex + 1] };
    if (this.nearestIndex >= 0) return { next: this.stops[this.nearestIndex] };
    return {};
  }
}

/** Great-circle distance in metres (haversine on a 6,371 km sphere). */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const radians = Math.PI / 180;
  const dLat = (lat2 - lat1) * radians;
  const dLon = (lon2 - lon1) * radians;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * radians) * Math.cos(lat2 * radians) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(a)));
}
