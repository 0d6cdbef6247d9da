import { routesBodySchema } from '@busfare/shared-protocol';
import type { GtfsFeed } from '../gtfs/gtfs-model.js';
import type { StoredPublication } from '../params/parameter-repository.js';
import { escapeHtml } from './html.js';

/** A route's line, from a GTFS shape or from the stops of a routes parameter set. */
export interface RouteShape {
  routeId: string;
  label: string;
  points: { lat: number; lon: number }[];
  /** Stops along the line, drawn as small circles named on hover. */
  stops?: { name: string; lat: number; lon: number }[];
}

export interface MapVehicle {
  terminalId: string;
  vehicleId: string;
  lat: number;
  lon: number;
  online: boolean;
}

const WIDTH = 720;
const HEIGHT = 420;
/** Margin around the drawn area, in px. */
const PAD = 24;
/** Smallest span drawn, in degrees (about 1 km), so a few nearby vehicles are not stretched to the edges. */
const MIN_SPAN_DEG = 0.01;
/** Width of one label character at the map's 10 px font, an estimate that errs on the wide side. */
const LABEL_CHAR_PX = 7;
const PALETTE = ['#0b4f8a', '#2a9d8f', '#8a5a00', '#7b2cbf', '#b5179e', '#386641'];

/** The first shape of each route in a GTFS feed. */
export function routeShapesFromFeed(feed: GtfsFeed): RouteShape[] {
  const shapes: RouteShape[] = [];
  for (const route of feed.routes.values()) {
    const trip = [...feed.trips.values()].find((candidate) => candidate.routeId === route.id && candidate.shapeId !== undefined && feed.shapes.has(candidate.shapeId));
    if (!trip?.shapeId) continue;
    shapes.push({ routeId: route.id, label: route.shortName || route.longName, points: (feed.shapes.get(trip.shapeId) ?? []).map(({ lat, lon }) => ({ lat, lon })) });
  }
  return shapes;
}

/**
 * Turns each route of a routes parameter set into a line through the stops of its first pattern,
 * in travel order. Returns no shapes when the body is not a valid routes body.
 */
export function routeShapesFromRoutesBody(body: unknown): RouteShape[] {
  const parsed = routesBodySchema.safeParse(body);
  if (!parsed.success) return [];
  const stops = new Map(parsed.data.stops.map((stop) => [stop.id, stop]));
  return parsed.data.routes.flatMap((route) => {
    const pattern = route.patterns[0];
    const onRoute = (pattern?.stops ?? []).flatMap((stopId) => {
      const stop = stops.get(stopId);
      return stop ? [stop] : [];
    });
    if (onRoute.length < 2) return [];
    return [{ routeId: route.id, label: route.shortName || route.longName, points: onRoute.map(({ lat, lon }) => ({ lat, lon })), stops: onRoute.map(({ name, lat, lon }) => ({ name, lat, lon })) }];
  });
}

/** Returns the route lines of the newest stored routes parameter set, or none before one exists. */
export function routeShapesFromParameters(repository: { latest(kind: 'routes'): StoredPublication | undefined }): RouteShape[] {
  const latest = repository.latest('routes');
  return latest ? routeShapesFromRoutesBody(latest.set.body) : [];
}

/**
 * Draws route lines, their stops and vehicle positions as inline SVG in an equirectangular
 * projection, centred and scaled to the drawn area, with no map tiles, so the console works
 * without internet access. Vehicle labels stay inside the box: a label that would cross the
 * right edge is drawn on the dot's left.
 */
export function routeMapSvg(shapes: readonly RouteShape[], vehicles: readonly MapVehicle[], title: string): string {
  const points = [...shapes.flatMap((shape) => [...shape.points, ...(shape.stops ?? [])]), ...vehicles];
  if (points.length === 0) return '';
  const minLat = Math.min(...points.map((point) => point.lat));
  const maxLat = Math.max(...points.map((point) => point.lat));
  const minLon = Math.min(...points.map((point) => point.lon));
  const maxLon = Math.max(...points.map((point) => point.lon));
  const lonScale = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const spanX = (maxLon - minLon) * lonScale;
  const spanY = maxLat - minLat;
  const scale = Math.min((WIDTH - 2 * PAD) / Math.max(spanX, MIN_SPAN_DEG), (HEIGHT - 2 * PAD) / Math.max(spanY, MIN_SPAN_DEG));
  const left = (WIDTH - spanX * scale) / 2;
  const bottom = (HEIGHT + spanY * scale) / 2;
  const project = (point: { lat: number; lon: number }) => ({ x: left + (point.lon - minLon) * lonScale * scale, y: bottom - (point.lat - minLat) * scale });

  const lines = shapes
    .map((shape, index) => {
      const colour = PALETTE[index % PALETTE.length];
      const path = shape.points.map((point) => project(point)).map((point) => `${point.x.toFixed(1)},${point.y.toFixed(1)}`).join(' ');
      const stops = (shape.stops ?? [])
        .map((stop) => {
          const point = project(stop);
          return `<circle class="stop" cx="${point.x.toFixed(1)}" cy="${point.y.toFixed(1)}" r="3" fill="#fff" stroke="${colour}" stroke-width="2"><title>${escapeHtml(stop.name)}</title></circle>`;
        })
        .join('');
      return `<g class="route"><polyline points="${path}" fill="none" stroke="${colour}" stroke-width="3" opacity="0.7"><title>${escapeHtml(shape.label)}</title></polyline>${stops}</g>`;
    })
    .join('\n');
  const dots = vehicles
    .map((vehicle) => {
      const point = project(vehicle);
      const labelWidth = vehicle.vehicleId.length * LABEL_CHAR_PX;
      const onLeft = point.x + 8 + labelWidth > WIDTH - 4;
      const labelX = onLeft ? point.x - 8 : point.x + 8;
      const labelY = Math.min(Math.max(point.y + 4, 12), HEIGHT - 4);
      return `<g class="vehicle"><circle cx="${point.x.toFixed(1)}" cy="${point.y.toFixed(1)}" r="6" fill="${vehicle.online ? '#2a9d48' : '#888'}" stroke="#fff"/><text x="${labelX.toFixed(1)}" y="${labelY.toFixed(1)}"${onLeft ? ' text-anchor="end"' : ''}>${escapeHtml(vehicle.vehicleId)}</text><title>${escapeHtml(`${vehicle.terminalId} ${vehicle.vehicleId}`)}</title></g>`;
    })
    .join('\n');
  return `<svg id="route-map" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" xmlns="http://www.w3.org/2000/svg">
<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>
${lines}
${dots}
</svg>`;
}
