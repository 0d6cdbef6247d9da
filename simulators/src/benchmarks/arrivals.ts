import { ArrivalService, type PositionFeed, type VehicleFix, buildTripSchedule, createLogger, decodeRealtimeFeed, serviceDayStart } from '@busfare/backoffice';
import { ArrivalCityBus, BUSES_PER_ROUTE, ROUTES, TIME_ZONE, arrivalCityFeed, arrivalCityHistory } from './arrival-city.js';
import { type BenchmarkGroup, quantile } from './figure.js';

const BUSES = ROUTES * BUSES_PER_ROUTE;
const SERVICE_DATE = '2025-05-06';
/** The city runs from 05:00; the trackers and the day's arrivals are warmed up to noon. */
const WARM_UP_FROM_S = 5 * 3600;
const MEASURED_FROM_S = 12 * 3600;
/** Fix interval while warming up (coarser, to keep the set-up short) and while measuring. */
const WARM_UP_FIX_S = 30;
const REFRESH_S = 10;
const REFRESHES = 90;
const HISTORY_DAYS = 7;
const HISTORY_EVERY_S = 30 * 60;

/** Hands the positions of the latest step to the service, as the positions table would. */
class StepPositionFeed implements PositionFeed {
  pending: VehicleFix[] = [];
  private cursor = 0;

  readAfter(cursor: number, limit: number): { fixes: VehicleFix[]; cursor: number } {
    const fixes = this.pending.splice(0, limit);
    this.cursor = Math.max(cursor, this.cursor) + fixes.length;
    return { fixes, cursor: this.cursor };
  }

  close(): void {}
}

/**
 * `arrival_refresh_ms`: wall time of one full refresh of the online predictor for 1,000 buses on
 * 25 routes. A refresh reads one new fix per bus and tracks it (trip matching, arrival and
 * departure detection). It predicts every later stop within 60 minutes for every bus and encodes
 * the GTFS-realtime TripUpdates and VehiclePositions feeds. Before timing, the city runs from
 * 05:00 to noon, so the trackers, the day's arrivals and the model's caches contain a morning's
 * state.
 */
export const arrivalsBenchmark: BenchmarkGroup = async ({ log }) => {
  const random = seededRandom(7);
  const feed = arrivalCityFeed();
  const setUpStarted = process.hrtime.bigint();
  const schedule = buildTripSchedule(feed);
  const dayStart = serviceDayStart(SERVICE_DATE, TIME_ZONE);
  const buses = Array.from({ length: BUSES }, (_, index) => new ArrivalCityBus(index, dayStart, random));
  const positions = new StepPositionFeed();
  let clock = dayStart + WARM_UP_FROM_S;
  const service = new ArrivalService({
    schedule,
    positions,
    logger: createLogger('bench-arrivals', process.env.BUSFARE_LOG_LEVEL ?? 'warn'),
    history: arrivalCityHistory(SERVICE_DATE, HISTORY_DAYS, HISTORY_EVERY_S, random),
    now: () => clock,
  });

  const step = (time: number): void => {
    clock = time;
    positions.pending = buses.map((bus) => bus.fixAt(time));
  };
  for (let time = dayStart + WARM_UP_FROM_S; time < dayStart + MEASURED_FROM_S; time += WARM_UP_FIX_S) {
    step(time);
    service.predictor.ingest(positions.readAfter(0, Infinity).fixes);
  }
  step(dayStart + MEASURED_FROM_S);
  service.refresh();
  log(`arrivals: set-up and warm-up ${Math.round(Number(process.hrtime.bigint() - setUpStarted) / 1e6)} ms (${schedule.trips.size} scheduled trips)`);

  const durations: number[] = [];
  const cpu: number[] = [];
  let snapshot = service.snapshot();
  for (let refresh = 1; refresh <= REFRESHES; refresh += 1) {
    step(dayStart + MEASURED_FROM_S + refresh * REFRESH_S);
    const started = process.hrtime.bigint();
    const cpuStarted = process.cpuUsage();
    snapshot = service.refresh();
    durations.push(Number(process.hrtime.bigint() - started) / 1e6);
    const cpuUsed = process.cpuUsage(cpuStarted);
    cpu.push((cpuUsed.user + cpuUsed.system) / 1000);
  }
  if (process.env.BUSFARE_BENCH_TRACE) log(`wall ms: ${durations.map((value) => value.toFixed(0)).join(' ')}\ncpu ms: ${cpu.map((value) => value.toFixed(0)).join(' ')}`);
  const predictions = snapshot.vehicles.reduce((sum, vehicle) => sum + vehicle.stops.length, 0);
  const decoded = decodeRealtimeFeed(snapshot.feeds.tripUpdates);
  if (snapshot.refreshedAt !== clock || decoded.entity.length !== snapshot.vehicles.length) throw new Error(`the last refresh failed: feed of ${snapshot.refreshedAt} with ${decoded.entity.length} entities, expected ${clock} with ${snapshot.vehicles.length}`);
  log(`arrivals: CPU time per refresh ${round(quantile(cpu, 0.5))} ms median, ${round(quantile(cpu, 0.99))} ms p99 (less affected than wall time by other load)`);
  log(`arrivals: ${BUSES} buses, ${snapshot.vehicles.length} with predictions, ${predictions} predictions, feeds ${snapshot.feeds.tripUpdates.length} + ${snapshot.feeds.vehiclePositions.length} bytes, ${REFRESHES} refreshes`);
  return [
    { name: 'arrival_refresh_ms', value: round(quantile(durations, 0.5)), unit: 'ms' },
    { name: 'arrival_refresh_ms.p99', value: round(quantile(durations, 0.99)), unit: 'ms' },
  ];
};

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
