import {
  BusfareModel,
  LiveDay,
  type ObservedTrip,
  PairHistory,
  type PredictionRequest,
  dayTypeOf,
  neutralCoefficients,
} from '@busfare/backoffice';
import { type BenchmarkGroup, quantile } from './figure.js';

/** Buses on the road in one refresh, spread over ROUTES routes and both directions. */
const BUSES = 1_000;
const ROUTES = 25;
const STOPS_PER_DIRECTION = 30;
/** Seconds between successive stops of the synthetic routes. */
const STOP_SPACING_S = 90;
const HISTORY_DAYS = 14;
const HORIZON_S = 60 * 60;
const REFRESHES = 30;
const SERVICE_DATE = '2025-05-06';
const DAY_START = Date.parse(`${SERVICE_DATE}T00:00:00Z`) / 1000 - 8 * 3600;

/**
 * `arrival_refresh_ms`: wall time of one prediction refresh for 1,000 buses, each predicting every
 * later stop of its trip within 60 minutes. A refresh indexes the day's arrivals so far (LiveDay)
 * and runs busfare's model for every bus; the history is built once, before timing.
 */
export const arrivalsBenchmark: BenchmarkGroup = async ({ log }) => {
  const random = seededRandom(7);
  const history = new PairHistory(historicalTrips(random));
  const model = new BusfareModel(history, {
    history: { windowS: 1800, minSamples: 5, halfLifeDays: 14 },
    today: { timeConstantS: 1800, priorWeight: 4 },
    ownMaxAgeS: 2400,
    coefficients: Object.fromEntries(Object.keys(neutralCoefficients()).map((band) => [band, { today: 0.8, own: 0.2 }])) as ReturnType<typeof neutralCoefficients>,
  });
  const now = DAY_START + 12 * 3600;
  const today = liveTrips(random, now);

  const durations: number[] = [];
  let predictions = 0;
  for (let refresh = 0; refresh < REFRESHES; refresh += 1) {
    const started = process.hrtime.bigint();
    const live = new LiveDay(today);
    predictions = 0;
    for (const trip of today) predictions += model.predict(requestFor(trip, now), live).length;
    durations.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  log(`arrivals: ${BUSES} buses, ${predictions} predictions per refresh, ${REFRESHES} refreshes`);
  return [
    { name: 'arrival_refresh_ms', value: round(quantile(durations, 0.5)), unit: 'ms' },
    { name: 'arrival_refresh_ms.p99', value: round(quantile(durations, 0.99)), unit: 'ms' },
  ];
};

const STOP_LISTS = new Map<string, string[]>();

/** Stop ids of one direction of a synthetic route, in route order; the same array on every call. */
function stopsOf(route: number, direction: number): string[] {
  const key = `${route}/${direction}`;
  let stops = STOP_LISTS.get(key);
  if (!stops) {
    stops = makeStops(route, direction);
    STOP_LISTS.set(key, stops);
  }
  return stops;
}

function makeStops(route: number, direction: number): string[] {
  return Array.from({ length: STOPS_PER_DIRECTION }, (_, index) => `R${route}-S${direction === 0 ? index : STOPS_PER_DIRECTION - 1 - index}`);
}

function historicalTrips(random: () => number): ObservedTrip[] {
  const trips: ObservedTrip[] = [];
  for (let day = 0; day < HISTORY_DAYS; day += 1) {
    const serviceDate = new Date(Date.parse('2025-04-01T00:00:00Z') + day * 86_400_000).toISOString().slice(0, 10);
    const dayStart = Date.parse(`${serviceDate}T00:00:00Z`) / 1000 - 8 * 3600;
    for (let route = 0; route < ROUTES; route += 1) {
      for (let direction = 0; direction < 2; direction += 1) {
        for (let start = 6 * 3600; start < 21 * 3600; start += 1800) {
          trips.push(trip(`${serviceDate}/${route}/${direction}/${start}`, route, direction, serviceDate, dayStart, dayStart + start, STOPS_PER_DIRECTION, random));
        }
      }
    }
  }
  return trips;
}

/** One trip per bus, each partway along its route at `now`, with its arrivals so far. */
function liveTrips(random: () => number, now: number): ObservedTrip[] {
  const trips: ObservedTrip[] = [];
  for (let bus = 0; bus < BUSES; bus += 1) {
    const route = bus % ROUTES;
    const direction = Math.floor(bus / ROUTES) % 2;
    const reached = 1 + Math.floor(random() * (STOPS_PER_DIRECTION - 2));
    trips.push(trip(`today/${bus}`, route, direction, SERVICE_DATE, DAY_START, now - reached * STOP_SPACING_S, reached + 1, random));
  }
  return trips;
}

function trip(id: string, route: number, direction: number, serviceDate: string, dayStart: number, start: number, stops: number, random: () => number): ObservedTrip {
  let time = start;
  const arrivals = stopsOf(route, direction)
    .slice(0, stops)
    .map((stopId) => {
      const arrival = { stopId, time: Math.round(time) };
      time += STOP_SPACING_S * (0.7 + 0.6 * random());
      return arrival;
    });
  return { id, routeId: `R${route}`, directionId: direction, vehicleId: id, serviceDate, dayType: dayTypeOf(serviceDate), dayStart, arrivals };
}

function requestFor(trip: ObservedTrip, now: number): PredictionRequest {
  const current = trip.arrivals.at(-1)!;
  const stops = stopsOf(Number(trip.routeId.slice(1)), trip.directionId);
  const position = stops.indexOf(current.stopId);
  const maxStops = Math.floor(HORIZON_S / STOP_SPACING_S);
  return {
    routeId: trip.routeId,
    directionId: trip.directionId,
    tripId: trip.id,
    vehicleId: trip.vehicleId,
    dayType: trip.dayType,
    dayStart: trip.dayStart,
    arrivalsSoFar: trip.arrivals,
    now,
    targets: stops.slice(position + 1, position + 1 + maxStops),
  };
}

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
