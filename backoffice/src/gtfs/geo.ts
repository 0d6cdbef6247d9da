const EARTH_RADIUS_M = 6_371_008.8;

export interface LatLon {
  lat: number;
  lon: number;
}

/** Great-circle distance in metres (haversine on a spherical Earth of mean radius). */
export function distanceM(a: LatLon, b: LatLon): number {
  const toRad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * toRad;
  const dLon = (b.lon - a.lon) * toRad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * toRad) * Math.cos(b.lat * toRad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Projects a point onto the segment a-b in a local flat approximation, which is accurate to well
 * under a metre for segments of a few hundred metres. Returns the fraction along the segment
 * (0..1) and the distance from the point to the projection in metres.
 */
export function projectOntoSegment(point: LatLon, a: LatLon, b: LatLon): { fraction: number; offsetM: number } {
  const metresPerDegLat = 111_320;
  const metresPerDegLon = 111_320 * Math.cos((a.lat * Math.PI) / 180);
  const bx = (b.lon - a.lon) * metresPerDegLon;
  const by = (b.lat - a.lat) * metresPerDegLat;
  const px = (point.lon - a.lon) * metresPerDegLon;
  const py = (point.lat - a.lat) * metresPerDegLat;
  const lengthSquared = bx * bx + by * by;
  const fraction = lengthSquared === 0 ? 0 : Math.max(0, Math.min(1, (px * bx + py * by) / lengthSquared));
  return { fraction, offsetM: Math.hypot(px - fraction * bx, py - fraction * by) };
}
