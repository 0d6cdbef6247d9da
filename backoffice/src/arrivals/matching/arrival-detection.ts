import { serviceDayStart } from '../local-time.js';
import { type ObservedTrip, dayTypeOf } from '../observed-trip.js';
import type { TripSchedule } from './trip-patterns.js';
import type { VehicleEvent, VehicleFix } from './vehicle-events.js';
import { DEFAULT_TRACKER_OPTIONS, type TrackerOptions, VehicleTracker } from './vehicle-tracker.js';

/** A trip as detected from positions, with the time each arrival became known. */
export interface DetectedTrip {
  trip: ObservedTrip;
  /** Unix time of the fix that revealed each arrival, in the order of trip.arrivals. */
  detectedAt: number[];
}

/**
 * Runs every vehicle's fixes through a tracker and turns its stop events into observed trips. The
 * first stop of a trip counts from its departure, because the time a bus stands at its first
 * stop is layover, not travel. Trips with fewer than two stop times are left out.
 */
export function detectTrips(schedule: TripSchedule, fixes: readonly VehicleFix[], options: TrackerOptions = DEFAULT_TRACKER_OPTIONS): { trips: DetectedTrip[]; events: VehicleEvent[] } {
  const byVehicle = new Map<string, VehicleFix[]>();
  for (const fix of fixes) {
    const list = byVehicle.get(fix.vehicleId);
    if (list) list.push(fix);
    else byVehicle.set(fix.vehicleId, [fix]);
  }
  const events: VehicleEvent[] = [];
  for (const list of byVehicle.values()) {
    const tracker = new VehicleTracker(schedule, options);
    for (const fix of [...list].sort((a, b) => a.time - b.time)) events.push(...tracker.update(fix));
  }
  return { trips: tripsFromEvents(schedule, events), events };
}

/** Assembles observed trips from stop events, one per vehicle, trip and service date. */
export function tripsFromEvents(schedule: TripSchedule, events: readonly VehicleEvent[]): DetectedTrip[] {
  const byTrip = new Map<string, { first: VehicleEvent & { kind: 'arrival' | 'departure' }; stops: Map<number, { stopId: string; time: number; detectedAt: number }> }>();
  for (const event of events) {
    if (event.kind !== 'arrival' && event.kind !== 'departure') continue;
    const key = `${event.vehicleId}|${event.serviceDate}|${event.tripId}`;
    let entry = byTrip.get(key);
    if (!entry) {
      entry = { first: event, stops: new Map() };
      byTrip.set(key, entry);
    }
    const counts = event.stopIndex === 0 ? event.kind === 'departure' : event.kind === 'arrival';
    if (counts) entry.stops.set(event.stopIndex, { stopId: event.stopId, time: event.time, detectedAt: event.detectedAt });
  }

  const result: DetectedTrip[] = [];
  for (const { first, stops } of byTrip.values()) {
    const ordered = [...stops.entries()].sort((a, b) => a[0] - b[0]).map(([, stop]) => stop);
    if (ordered.length < 2) continue;
    result.push({
      trip: {
        id: `${first.serviceDate}/${first.vehicleId}/${first.tripId}`,
        routeId: first.routeId,
        directionId: first.directionId,
        vehicleId: first.vehicleId,
        serviceDate: first.serviceDate,
        dayType: dayTypeOf(first.serviceDate),
        dayStart: serviceDayStart(first.serviceDate, schedule.timeZone),
        arrivals: ordered.map((stop) => ({ stopId: stop.stopId, time: stop.time })),
      },
      detectedAt: ordered.map((stop) => stop.detectedAt),
    });
  }
  return result.sort((a, b) => a.trip.arrivals[0]!.time - b.trip.arrivals[0]!.time);
}
