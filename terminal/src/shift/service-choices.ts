import type { RoutesBody } from '@busfare/shared-protocol';
import type { ServiceChoice } from './driver-shift.js';

/** Lists every route pattern of the routes parameters as a choice, in parameter order. */
export function serviceChoicesFromRoutes(routes: RoutesBody): ServiceChoice[] {
  return routes.routes.flatMap((route) =>
    route.patterns.map((pattern) => ({
      route: route.id,
      direction: pattern.direction,
      routeName: route.shortName,
      ...(pattern.headsign === undefined ? {} : { headsign: pattern.headsign }),
    })),
  );
}
