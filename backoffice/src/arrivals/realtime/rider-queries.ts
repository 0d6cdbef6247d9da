import type { GtfsStop } from '../../gtfs/gtfs-model.js';
import type { TripSchedule } from '../matching/trip-patterns.js';
import type { ArrivalSnapshot } from './arrival-service.js';

export interface RiderStop {
  id: string;
  name: string;
  lat: number;
  lon: number;
}

export interface RiderArrival {
  routeId: string;
  routeName: string;
  directionId: number;
  /** Name of the last stop of the trip. */
  towards: string;
  tripId: string;
  vehicleId: string;
  /** ISO 8601 UTC. */
  predictedArrival: string;
  scheduledArrival: string;
  /** Whole minutes from the snapshot time, rounded down. */
  minutes: number;
}

export interface RiderRouteRef {
  id: string;
  name: string;
  directionId: number;
  towards: string;
}

const iso = (unixS: number): string => new Date(unixS * 1000).toISOString();
const stopOf = (stop: GtfsStop): RiderStop => ({ id: stop.id, name: stop.name, lat: stop.lat, lon: stop.lon });

function routeName(schedule: TripSchedule, routeId: string): string {
  const route = schedule.feed.routes.get(routeId);
  return route?.shortName || route?.longName || routeId;
}

function lastStopName(schedule: TripSchedule, stops: readonly { stopId: string }[]): string {
  return schedule.feed.stops.get(stops.at(-1)!.stopId)?.name ?? '';
}

/** Returns a stop with the routes serving it and the next buses within the hour, or undefined for an unknown stop. */
export function stopQuery(schedule: TripSchedule, snapshot: ArrivalSnapshot, stopId: string): { stop: RiderStop; routes: RiderRouteRef[]; arrivals: RiderArrival[]; updatedAt: string } | undefined {
  const stop = schedule.feed.stops.get(stopId);
  if (!stop) return undefined;
  const routes = new Map<string, RiderRouteRef>();
  for (const pattern of schedule.patterns.values()) {
    if (!pattern.stops.some((entry) => entry.stopId === stopId)) continue;
    const key = `${pattern.routeId}|${pattern.directionId}`;
    if (!routes.has(key)) routes.set(key, { id: pattern.routeId, name: routeName(schedule, pattern.routeId), directionId: pattern.directionId, towards: lastStopName(schedule, pattern.stops) });
  }
  const arrivals: RiderArrival[] = [];
  for (const vehicle of snapshot.vehicles) {
    const prediction = vehicle.stops.find((entry) => entry.stopId === stopId);
    if (!prediction) continue;
    const trip = schedule.trips.get(vehicle.tripId)!;
    arrivals.push({
      routeId: vehicle.routeId,
      routeName: routeName(schedule, vehicle.routeId),
      directionId: vehicle.directionId,
      towards: lastStopName(schedule, trip.pattern.stops),
      tripId: vehicle.tripId,
      vehicleId: vehicle.vehicleId,
      predictedArrival: iso(prediction.predictedArrival),
      scheduledArrival: iso(prediction.scheduledArrival),
      minutes: Math.max(0, Math.floor((prediction.predictedArrival - snapshot.refreshedAt) / 60)),
    });
  }
  arrivals.sort((a, b) => a.predictedArrival.localeCompare(b.predictedArrival));
  return { stop: stopOf(stop), routes: [...routes.values()].sort((a, b) => a.id.localeCompare(b.id) || a.directionId - b.directionId), arrivals, updatedAt: iso(snapshot.refreshedAt) };
}

/** Returns a route's stops per direction (the pattern with most trips) and its active buses, or undefined for an unknown route. */
export function routeQuery(schedule: TripSchedule, snapshot: ArrivalSnapshot, routeId: string) {
  const route = schedule.feed.routes.get(routeId);
  if (!route) return undefined;
  const tripCounts = new Map<string, number>();
  for (const trip of schedule.tripsByRoute.get(routeId) ?? []) tripCounts.set(trip.pattern.id, (tripCounts.get(trip.pattern.id) ?? 0) + 1);
  const directions = new Map<number, { directionId: number; towards: string; stops: RiderStop[]; trips: number }>();
  for (const pattern of schedule.patterns.values()) {
    if (pattern.routeId !== routeId) continue;
    const trips = tripCounts.get(pattern.id) ?? 0;
    const current = directions.get(pattern.directionId);
    if (current && current.trips >= trips) continue;
    directions.set(pattern.directionId, { directionId: pattern.directionId, towards: lastStopName(schedule, pattern.stops), stops: pattern.stops.map((entry) => stopOf(schedule.feed.stops.get(entry.stopId)!)), trips });
  }
  const vehicles = snapshot.vehicles
    .filter((vehicle) => vehicle.routeId === routeId)
    .map((vehicle) => ({ vehicleId: vehicle.vehicleId, tripId: vehicle.tripId, directionId: vehicle.directionId, lat: vehicle.lat, lon: vehicle.lon, nextStopId: vehicle.stops[0]?.stopId ?? null, delayS: vehicle.delayS, layover: vehicle.layover, detour: vehicle.detour }));
  return {
    route: { id: route.id, shortName: route.shortName, longName: route.longName },
    directions: [...directions.values()].sort((a, b) => a.directionId - b.directionId).map(({ trips: _trips, ...direction }) => direction),
    vehicles,
    updatedAt: iso(snapshot.refreshedAt),
  };
}

/** Returns one active bus with its predicted arrivals, or undefined when it is not active. */
export function vehicleQuery(schedule: TripSchedule, snapshot: ArrivalSnapshot, vehicleId: string) {
  const vehicle = snapshot.vehicles.find((entry) => entry.vehicleId === vehicleId);
  if (!vehicle) return undefined;
  return {
    vehicleId: vehicle.vehicleId,
    routeId: vehicle.routeId,
    routeName: routeName(schedule, vehicle.routeId),
    tripId: vehicle.tripId,
    directionId: vehicle.directionId,
    lat: vehicle.lat,
    lon: vehicle.lon,
    positionAt: iso(vehicle.timestamp),
    delayS: vehicle.delayS,
    layover: vehicle.layover,
    detour: vehicle.detour,
    arrivals: vehicle.stops.map((stop) => ({
      stopId: stop.stopId,
      stopName: schedule.feed.stops.get(stop.stopId)?.name ?? '',
      predictedArrival: iso(stop.predictedArrival),
      scheduledArrival: iso(stop.scheduledArrival),
      minutes: Math.max(0, Math.floor((stop.predictedArrival - snapshot.refreshedAt) / 60)),
    })),
    updatedAt: iso(snapshot.refreshedAt),
  };
}
