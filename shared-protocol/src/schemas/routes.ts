import { z } from 'zod';
import { routeIdSchema, stopIdSchema } from './fare-table.js';

export const routeStopSchema = z.object({
  id: stopIdSchema,
  name: z.string().max(128),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});

/** One direction of a route: its stops in travel order and their distance along the route. */
export const routePatternSchema = z
  .object({
    direction: z.union([z.literal(0), z.literal(1)]),
    headsign: z.string().max(128).optional(),
    stops: z.array(stopIdSchema).min(2),
    /** Metres from the first stop, one per stop, never decreasing. */
    distancesM: z.array(z.number().min(0)).optional(),
    /** A loop route starts and ends at the same stop. */
    loop: z.boolean().default(false),
  })
  .superRefine((pattern, ctx) => {
    if (pattern.distancesM && pattern.distancesM.length !== pattern.stops.length) {
      ctx.addIssue({ code: 'custom', path: ['distancesM'], message: `expected ${pattern.stops.length} distances, one per stop, got ${pattern.distancesM.length}` });
    }
  });

export const routeSchema = z.object({
  id: routeIdSchema,
  shortName: z.string().max(64),
  longName: z.string().max(256),
  patterns: z.array(routePatternSchema).min(1),
});

/** Route and stop data: what a terminal needs to name stops and price tap-on/tap-off journeys. */
export const routesBodySchema = z
  .object({
    stops: z.array(routeStopSchema),
    routes: z.array(routeSchema),
  })
  .superRefine((body, ctx) => {
    const stopIds = new Set(body.stops.map((stop) => stop.id));
    body.routes.forEach((route, routeIndex) => {
      route.patterns.forEach((pattern, patternIndex) => {
        pattern.stops.forEach((stopId, stopIndex) => {
          if (!stopIds.has(stopId)) ctx.addIssue({ code: 'custom', path: ['routes', routeIndex, 'patterns', patternIndex, 'stops', stopIndex], message: `unknown stop id "${stopId}"` });
        });
      });
    });
  });

export type RouteStop = z.infer<typeof routeStopSchema>;
export type RoutePattern = z.infer<typeof routePatternSchema>;
export type Route = z.infer<typeof routeSchema>;
export type RoutesBody = z.infer<typeof routesBodySchema>;
