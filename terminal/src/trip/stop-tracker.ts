import type { RoutesBody, RouteStop } from '@busfare/shared-protocol';

/** Metres from a stop within which the bus counts as at that stop. */
export const AT_STOP_RADIUS_M = 60;

export interface StopProgress {
  /** The stop the bus is at or has last passed. */
  current?: RouteStop;
  next?: RouteStop;
}

/**
 * Follows one route pattern with GPS fixes and names the current and next stop. The bus has
 * passed a stop once it came within AT_STOP_RADIUS_M of it. Before the first stop is reached,
 * the nearest stop is the next one.
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
    let nearest = -1;
    let nearestM = Number.POSITIVE_INFINITY;
    this.stops.forEach((stop, index) => {
      const metres = distanceM(lat, lon, stop.lat, stop.lon);
      if (metres < nearestM) {
        nearest = index;
        nearestM = metres;
      }
    });
    this.nearestIndex = nearest;
    if (nearest > this.reachedIndex && nearestM <= AT_STOP_RADIUS_M) this.reachedIndex = nearest;
    return this.progress();
  }

  progress(): StopProgress {
    if (this.reachedIndex >= 0) return { current: this.stops[this.reachedIndex], next: this.stops[this.reachedIndex + 1] };
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
