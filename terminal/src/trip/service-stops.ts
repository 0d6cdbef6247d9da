import { type RouteStopLookup, type RoutesBody, routeStopLookupFromRoutes } from '@busfare/shared-protocol';
import { StopTracker, type StopProgress, distanceM } from './stop-tracker.js';

/** Speed above which a move between two fixes is a receiver jump, not the bus: 126 km/h. */
export const MAX_BUS_SPEED_MPS = 35;
/** Distance two fixes of a standing bus may lie apart through receiver noise alone, an estimate for street canyons. */
export const FIX_NOISE_M = 100;
/**
 * Jumps in a row that agree with each other and are then taken: the fix they all jumped from was
 * the wrong one (a receiver's first fix after a cold start, say).
 */
export const AGREEING_JUMPS_TAKEN = 3;

interface TimedFix {
  lat: number;
  lon: number;
  time?: Date | null;
}

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
  private lastFix?: TimedFix;
  /** The latest ignored jump, and how many jumps in a row up to it agree with each other. */
  private jumps?: { fix: TimedFix; agreeing: number };

  constructor(private readonly routes: () => RoutesBody | undefined) {}

  /**
   * Moves the bus along the service's pattern. A stop once reached is never left for an earlier
   * one, so a fix farther from the last one than the bus could travel since (receiver time) is a
   * jump and is ignored. Returns false for such a fix. AGREEING_JUMPS_TAKEN jumps in a row that
   * agree with each other are taken. A fix without a time, or not later than the last one, is
   * taken as it is.
   */
  update(service: ServiceKey, lat: number, lon: number, time?: Date | null): boolean {
    const fix = { lat, lon, time };
    if (this.lastFix && jumps(this.lastFix, fix)) {
      const agreeing = this.jumps && !jumps(this.jumps.fix, fix) ? this.jumps.agreeing + 1 : 1;
      this.jumps = { fix, agreeing };
      if (agreeing < AGREEING_JUMPS_TAKEN) return false;
    }
    this.jumps = undefined;
    this.lastFix = fix;
    this.trackerFor(service)?.update(lat, lon);
    return true;
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

/** Returns whether `to` lies farther from `from` than a bus could travel between their receiver times. */
function jumps(from: TimedFix, to: TimedFix): boolean {
  // NOTE: a wrong first fix has nothing to be compared with, so a later stop it lies at stays reached.
  if (!from.time || !to.time) return false;
  const elapsedS = (to.time.getTime() - from.time.getTime()) / 1000;
  if (elapsedS <= 0) return false;
  return distanceM(from.lat, from.lon, to.lat, to.lon) > MAX_BUS_SPEED_MPS * elapsedS + FIX_NOISE_M;
}
