import type { RoutesBody } from '../schemas/routes.js';
import type { RouteStopLookup } from './fare-input.js';

/** Looks stop order up in a routes parameter set: the first pattern of each route and direction. */
export function routeStopLookupFromRoutes(body: RoutesBody): RouteStopLookup {
  const byKey = new Map<string, readonly string[]>();
  for (const route of body.routes) {
    for (const pattern of route.patterns) {
      const key = `${route.id}\u0000${pattern.direction}`;
      if (!byKey.has(key)) byKey.set(key, pattern.stops);
    }
  }
  return { stops: (route, direction) => byKey.get(`${route}\u0000${direction}`) };
}
