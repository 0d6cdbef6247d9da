import type { GtfsFeed } from '../gtfs/gtfs-model.js';
import { escapeHtml } from './html.js';

/** A route's line drawn from a GTFS shape. */
export interface RouteShape {
  routeId: string;
  label: string;
  points: { lat: number; lon: number }[];
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
const PAD = 16;
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
 * Draws route shapes and vehicle positions as inline SVG in an equirectangular projection scaled
 * to the drawn area, with no map tiles, so the console works without internet access.
 */
export function routeMapSvg(shapes: readonly RouteShape[], vehicles: readonly MapVehicle[], title: string): string {
  const points = [...shapes.flatMap((shape) => shape.points), ...vehicles];
  if (points.length === 0) return '';
  const minLat = Math.min(...points.map((point) => point.lat));
  const maxLat = Math.max(...points.map((point) => point.lat));
  const minLon = Math.min(...points.map((point) => point.lon));
  const maxLon = Math.max(...points.map((point) => point.lon));
  const lonScale = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const spanX = Math.max((maxLon - minLon) * lonScale, 1e-6);
  const spanY = Math.max(maxLat - minLat, 1e-6);
  const scale = Math.min((WIDTH - 2 * PAD) / spanX, (HEIGHT - 2 * PAD) / spanY);
  const project = (point: { lat: number; lon: number }) => ({ x: PAD + (point.lon - minLon) * lonScale * scale, y: HEIGHT - PAD - (point.lat - minLat) * scale });

  const lines = shapes
    .map((shape, index) => {
      const colour = PALETTE[index % PALETTE.length];
      const path = shape.points.map((point) => project(point)).map((point) => `${point.x.toFixed(1)},${point.y.toFixed(1)}`).join(' ');
      return `<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="3" opacity="0.7"><title>${escapeHtml(shape.label)}</title></polyline>`;
    })
    .join('\n');
  const dots = vehicles
    .map((vehicle) => {
      const point = project(vehicle);
      return `<g class="vehicle"><circle cx="${point.x.toFixed(1)}" cy="${point.y.toFixed(1)}" r="6" fill="${vehicle.online ? '#2a9d48' : '#888'}" stroke="#fff"/><text x="${(point.x + 8).toFixed(1)}" y="${(point.y + 4).toFixed(1)}">${escapeHtml(vehicle.vehicleId)}</text><title>${escapeHtml(`${vehicle.terminalId} ${vehicle.vehicleId}`)}</title></g>`;
    })
    .join('\n');
  return `<svg id="route-map" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" xmlns="http://www.w3.org/2000/svg">
<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>
${lines}
${dots}
</svg>`;
}
