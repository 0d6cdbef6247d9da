import { serviceRunsOn } from '../../gtfs/gtfs-service.js';
import { addDays, serviceDayStart } from '../local-time.js';
import { type ObservedTrip, dayTypeOf } from '../observed-trip.js';
import type { TripSchedule } from './trip-patterns.js';

/**
 * Returns the scheduled trips of the given routes on each of the `days` service dates before
 * `beforeDate` as observed trips, so models can learn travel times from the timetable where no
 * recorded history exists. The first stop counts from its departure, the others from arrival.
 */
export function scheduleHistoryTrips(schedule: TripSchedule, routeIds: ReadonlySet<string>, beforeDate: string, days: number): ObservedTrip[] {
  const trips: ObservedTrip[] = [];
  for (let back = days; back >= 1; back -= 1) {
    const serviceDate = addDays(beforeDate, -back);
    const compactDate = serviceDate.replaceAll('-', '');
    const dayStart = serviceDayStart(serviceDate, schedule.timeZone);
    const runs = serviceRunningOn(schedule.feed, compactDate);
    for (const routeId of routeIds) {
      for (const trip of schedule.tripsByRoute.get(routeId) ?? []) {
        if (!runs(trip.serviceId)) continue;
        trips.push({
          id: `${serviceDate}/schedule/${trip.id}`,
          routeId: trip.routeId,
          directionId: trip.directionId,
          vehicleId: `schedule:${trip.id}`,
          serviceDate,
          dayType: dayTypeOf(serviceDate),
          dayStart,
          arrivals: trip.pattern.stops.map((stop, index) => ({ stopId: stop.stopId, time: dayStart + (index === 0 ? trip.departureS[0]! : trip.arrivalS[index]!) })),
        });
      }
    }
  }
  return trips;
}

/** Returns whether each service runs on a date (YYYYMMDD), remembering the answer per service id, since many trips share one. */
export function serviceRunningOn(feed: TripSchedule['feed'], compactDate: string): (serviceId: string) => boolean {
  const running = new Map<string, boolean>();
  return (serviceId) => {
    let runs = running.get(serviceId);
    if (runs === undefined) {
      runs = serviceRunsOn(feed, serviceId, compactDate);
      running.set(serviceId, runs);
    }
    return runs;
  };
}
