import { type RouteStopLookup, type RoutesBody, routeStopLookupFromRoutes } from '@busfare/shared-protocol';
import { StopTracker, type StopProgress } from './stop-tracker.js';

/** Route and direction the bus is running, from the driver's sign-on. */
export interface ServiceKey {
  route?: string;
  direction?: 0 | 1;
}

/**
 * The bus's place on its confirmed service: one StopTracker for the route pattern, rebuilt when
 * the service or the routes parameter set changes, and replayed with the last fix so a new
 * pattern starts from where the bus is. Fares on tap-on/tap-off routes and the driver's page both
 * read the current stop from here, so a rider is charged from the stop the driver's screen shows.
 */
export class ServiceStops {
  private tracker?: { key: string; routes: RoutesBody; tracker: StopTracker };
  private lookup?: { routes: RoutesBody; lookup: RouteStopLookup };
  private lastFix?: { lat: number; lon: number };

  constructor(private readonly routes: () => RoutesBody | undefined) {}

  /** Moves the bus along the service's pattern. */
  update(service: ServiceKey, lat: number, lon: number): void {
    this.lastFix = { lat, lon };
    this.trackerFor(service)?.update(lat, lon);
  }

  /** Returns the current and next stop of the service, or none when the service or its pattern is unknown. */
  progress(service: ServiceKey): StopProgress {
    return this.trackerFor(service)?.progress() ?? {};
  }

  /** Stop order of every route pattern in the active routes parameter set. */
  stopOrder(): RouteStopLookup | undefined {
    const routes = this.routes();
    if (!routes) return undefined;
    if (this.lookup?.routes !== routes) this.lookup = { routes, lookup: routeStopLookupFromRoutes(routes) };
    return this.lookup.lookup;
  }

  private trackerFor(service: ServiceKey): StopTracker | undefined {
    const routes = this.routes();
    const { route, direction } = service;
    if (!routes || route === undefined || direction === undefined) return undefined;
    const key = `${route}/${direction}`;
    if (this.tracker?.key !== key || this.tracker.routes !== routes) {
      const tracker = new StopTracker(routes, route, direction);
      // A new routes set on the same service keeps the stop reached, which the last fix may be far from.
      const reached = this.tracker?.key === key ? this.tracker.tracker.progress() : undefined;
      if (reached?.current) tracker.resumeAt(reached.current.id, reached.currentIndex);
      if (this.lastFix) tracker.update(this.lastFix.lat, this.lastFix.lon);
      this.tracker = { key, routes, tracker };
    }
    return this.tracker.tracker;
  }
}
