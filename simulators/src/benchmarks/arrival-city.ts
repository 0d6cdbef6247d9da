import type { GtfsFeed, GtfsStopTime, ObservedTrip, VehicleFix } from '@busfare/backoffice';
import { GtfsStopTimes, dayTypeOf, serviceDayStart } from '@busfare/backoffice';

/**
 * The synthetic city of the `arrivals` benchmark: ROUTES straight east-west routes, 2.2 km apart,
 * of STOPS stops STOP_SPACING_M apart, with a trip each way every HEADWAY_S from 05:00 to 23:00.
 * Each route has BUSES_PER_ROUTE buses that shuttle end to end, each trip a little faster or
 * slower than the timetable, waiting at the end for the next departure of their rota.
 */
export const ROUTES = 25;
export const BUSES_PER_ROUTE = 40;
export const STOPS = 30;
const STOP_SPACING_M = 400;
const RUN_S = 60;
const DWELL_S = 20;
const HEADWAY_S = 120;
const FIRST_DEPARTURE_S = 5 * 3600;
const LAST_DEPARTURE_S = 23 * 3600;
/** Shortest stand at the end of a trip before the bus leaves on its next one (s). */
const MIN_LAYOVER_S = 30;
export const TIME_ZONE = 'Asia/Shanghai';
const ORIGIN = { lat: 31.0, lon: 120.5 };
const METRES_PER_DEG_LAT = 111_320;
const METRES_PER_DEG_LON = METRES_PER_DEG_LAT * Math.cos((ORIGIN.lat * Math.PI) / 180);
/** Departures of one direction that a bus's rota skips between its own (a round trip). */
const ROTA = BUSES_PER_ROUTE;

function pointOf(route: number, metres: number): { lat: number; lon: number } {
  return { lat: ORIGIN.lat + (route * 2_200) / METRES_PER_DEG_LAT, lon: ORIGIN.lon + metres / METRES_PER_DEG_LON };
}

function stopId(route: number, index: number): string {
  return `R${route}-S${index}`;
}

function tripId(route: number, direction: number, departure: number): string {
  return `R${route}-D${direction}-${departure}`;
}

/** Scheduled arrival (s after the first departure) at the n-th stop of a trip. */
function scheduledOffsetS(sequence: number): number {
  return sequence === 0 ? 0 : sequence * RUN_S + (sequence - 1) * DWELL_S;
}

/** Builds the city's GTFS feed, running every day. */
export function arrivalCityFeed(): GtfsFeed {
  const feed: GtfsFeed = {
    agencies: [{ id: 'CITY', name: 'bench', timezone: TIME_ZONE }],
    stops: new Map(),
    routes: new Map(),
    trips: new Map(),
    stopTimes: new GtfsStopTimes(),
    shapes: new Map(),
    calendars: new Map([['ALL', { serviceId: 'ALL', days: [true, true, true, true, true, true, true], startDate: '20200101', endDate: '20991231' }]]),
    calendarDates: [],
    frequencies: new Map(),
    ignoredFiles: [],
    warnings: [],
  };
  const lengthM = (STOPS - 1) * STOP_SPACING_M;
  for (let route = 0; route < ROUTES; route += 1) {
    feed.routes.set(`R${route}`, { id: `R${route}`, agencyId: 'CITY', shortName: String(route), longName: `Route ${route}`, type: 3 });
    for (let index = 0; index < STOPS; index += 1) feed.stops.set(stopId(route, index), { id: stopId(route, index), name: `Stop ${route}-${index}`, ...pointOf(route, index * STOP_SPACING_M), locationType: 0 });
    for (const direction of [0, 1]) {
      const shapeId = `R${route}-shape-${direction}`;
      const points = Array.from({ length: Math.round(lengthM / 200) + 1 }, (_, index) => ({ ...pointOf(route, direction === 0 ? index * 200 : lengthM - index * 200), sequence: index + 1 }));
      feed.shapes.set(shapeId, points);
      for (let departure = FIRST_DEPARTURE_S; departure <= LAST_DEPARTURE_S; departure += HEADWAY_S) {
        const id = tripId(route, direction, departure);
        feed.trips.set(id, { id, routeId: `R${route}`, serviceId: 'ALL', directionId: direction as 0 | 1, shapeId });
        const stopTimes: GtfsStopTime[] = [];
        for (let sequence = 0; sequence < STOPS; sequence += 1) {
          const arrivalS = departure + scheduledOffsetS(sequence);
          const dwell = sequence === 0 || sequence === STOPS - 1 ? 0 : DWELL_S;
          stopTimes.push({ stopId: stopId(route, direction === 0 ? sequence : STOPS - 1 - sequence), sequence: sequence + 1, arrivalS, departureS: arrivalS + dwell });
        }
        feed.stopTimes.set(id, stopTimes);
      }
    }
  }
  return feed;
}

/**
 * Recorded history for the models: the trips of `days` dates before `serviceDate`, one per
 * `everyS` each way, each run between stops and each dwell the timetable's times a random 0.8 to
 * 1.25.
 */
export function arrivalCityHistory(serviceDate: string, days: number, everyS: number, random: () => number): ObservedTrip[] {
  const trips: ObservedTrip[] = [];
  for (let back = days; back >= 1; back -= 1) {
    const date = new Date(Date.parse(`${serviceDate}T00:00:00Z`) - back * 86_400_000).toISOString().slice(0, 10);
    const dayStart = serviceDayStart(date, TIME_ZONE);
    for (let route = 0; route < ROUTES; route += 1) {
      for (const direction of [0, 1]) {
        for (let departure = FIRST_DEPARTURE_S; departure <= LAST_DEPARTURE_S; departure += everyS) {
          const times = driveTimes(dayStart + departure, 0.8 + 0.45 * random(), random);
          trips.push({
            id: `${date}/history/${tripId(route, direction, departure)}`,
            routeId: `R${route}`,
            directionId: direction,
            vehicleId: `history-${route}`,
            serviceDate: date,
            dayType: dayTypeOf(date),
            dayStart,
            arrivals: times.arrive.map((time, sequence) => ({ stopId: stopId(route, direction === 0 ? sequence : STOPS - 1 - sequence), time: sequence === 0 ? times.leave[0]! : Math.round(time) })),
          });
        }
      }
    }
  }
  return trips;
}

/** Arrival and departure times at every stop of a trip that leaves its first stop at `start`. */
function driveTimes(start: number, pace: number, random: () => number): { arrive: number[]; leave: number[] } {
  const arrive = [start];
  const leave = [start];
  for (let sequence = 1; sequence < STOPS; sequence += 1) {
    arrive.push(leave[sequence - 1]! + RUN_S * pace * (0.8 + 0.4 * random()));
    leave.push(arrive[sequence]! + (sequence === STOPS - 1 ? 0 : DWELL_S * (0.5 + random())));
  }
  return { arrive, leave };
}

interface BusTrip {
  route: number;
  direction: number;
  departure: number;
  arrive: number[];
  leave: number[];
}

/** One bus of the city, shuttling between the ends of its route on its rota of departures. */
export class ArrivalCityBus {
  readonly vehicleId: string;
  private trip: BusTrip;

  constructor(
    readonly index: number,
    private readonly dayStart: number,
    private readonly random: () => number,
  ) {
    const route = index % ROUTES;
    const slot = Math.floor(index / ROUTES);
    this.vehicleId = `bus-${index}`;
    const direction = slot < ROTA / 2 ? 0 : 1;
    this.trip = this.plan(route, direction, FIRST_DEPARTURE_S + (slot % (ROTA / 2)) * HEADWAY_S, -Infinity);
  }

  /** Returns the bus's fix at a time, with a sign-on of its route, direction and trip. */
  fixAt(time: number): VehicleFix {
    while (time > this.trip.arrive.at(-1)! + MIN_LAYOVER_S && this.trip.departure + (ROTA / 2) * HEADWAY_S <= LAST_DEPARTURE_S) {
      const { route, direction, departure, arrive } = this.trip;
      this.trip = this.plan(route, 1 - direction, departure + (ROTA / 2) * HEADWAY_S, arrive.at(-1)! + MIN_LAYOVER_S);
    }
    const { route, direction, departure, arrive, leave } = this.trip;
    let metres = 0;
    if (time >= arrive.at(-1)!) metres = (STOPS - 1) * STOP_SPACING_M;
    else if (time > leave[0]!) {
      let sequence = 1;
      while (arrive[sequence]! < time && leave[sequence]! < time) sequence += 1;
      const share = time >= arrive[sequence]! ? 1 : (time - leave[sequence - 1]!) / (arrive[sequence]! - leave[sequence - 1]!);
      metres = (sequence - 1 + share) * STOP_SPACING_M;
    }
    const along = direction === 0 ? metres : (STOPS - 1) * STOP_SPACING_M - metres;
    return { vehicleId: this.vehicleId, time, ...pointOf(route, along), routeId: `R${route}`, directionId: direction, tripId: tripId(route, direction, departure) };
  }

  private plan(route: number, direction: number, departure: number, readyAt: number): BusTrip {
    const start = Math.max(this.dayStart + departure, readyAt);
    return { route, direction, departure, ...driveTimes(start, 0.9 + 0.2 * this.random(), this.random) };
  }
}
