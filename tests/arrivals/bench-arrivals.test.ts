import GtfsRealtimeBindings from 'gtfs-realtime-bindings';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchCity, addressLines } from '@busfare/simulators';

const { FeedMessage } = GtfsRealtimeBindings.transit_realtime;

interface VehicleBody {
  vehicleId: string;
  routeId: string;
  tripId: string;
  arrivals: { stopId: string; predictedArrival: string }[];
}

let city: BenchCity;

beforeAll(async () => {
  city = new BenchCity({
    buses: 2,
    cards: 20,
    seed: 11,
    mqttPort: 0,
    httpPort: 0,
    logger: pino({ level: process.env.BUSFARE_TEST_LOG ?? 'silent' }),
    arrivalRefreshSeconds: 1,
    removeDataOnStop: true,
  });
  await city.start();
}, 60_000);

afterAll(async () => {
  await city?.stop();
}, 60_000);

/** Requests a bus from the rider API until the response lists predictions (positions reach the back office in 10 s batches). */
async function predictedVehicle(vehicleId: string, timeoutMs: number): Promise<VehicleBody> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const response = await fetch(new URL(`/api/rider/vehicles/${vehicleId}`, city.office.consoleUrl));
    last = `${response.status} ${await response.clone().text()}`;
    if (response.status === 200) {
      const body = (await response.json()) as VehicleBody;
      if (body.arrivals.length > 0) return body;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`timed out waiting for predictions for ${vehicleId}: last response ${last}`);
}

describe('bench city arrival predictions', () => {
  it('serves predictions for a bench bus on the rider API', async () => {
    const body = await predictedVehicle('V001', 45_000);

    expect(body).toMatchObject({ vehicleId: 'V001', routeId: '1' });
    // The city feed runs each direction as a frequency-based trip: a run is named by its start time.
    expect(body.tripId).toMatch(/^1-0@\d\d:[03]0:00$/);
    expect(body.arrivals[0]!.stopId).toMatch(/^1-\d+$/);
    expect(Date.parse(body.arrivals[0]!.predictedArrival)).toBeGreaterThan(Date.now() - 60_000);
  }, 60_000);

  it('publishes GTFS-realtime feeds that decode with gtfs-realtime-bindings', async () => {
    await predictedVehicle('V001', 45_000);
    const trips = FeedMessage.decode(new Uint8Array(await (await fetch(new URL('/gtfs-rt/trip-updates', city.office.consoleUrl))).arrayBuffer()));
    const positions = FeedMessage.decode(new Uint8Array(await (await fetch(new URL('/gtfs-rt/vehicle-positions', city.office.consoleUrl))).arrayBuffer()));

    const update = trips.entity.find((entity) => entity.tripUpdate?.vehicle?.id === 'V001')?.tripUpdate;
    expect(update?.trip).toMatchObject({ tripId: '1-0', routeId: '1' });
    expect(update?.trip?.startTime).toMatch(/^\d\d:[03]0:00$/);
    expect(update?.stopTimeUpdate?.length).toBeGreaterThan(0);
    const position = positions.entity.find((entity) => entity.vehicle?.vehicle?.id === 'V001')?.vehicle;
    expect(position?.position?.latitude).toBeCloseTo(39.4, 0);
  }, 60_000);
});

describe('bench city routes', () => {
  it('publishes the routes to every terminal', () => {
    for (const bus of city.buses) {
      const routes = bus.parameters.active('routes', new Date());

      expect(routes?.version).toBe(1);
      expect((routes?.body as { routes: { id: string }[] }).routes.map((route) => route.id)).toEqual(['1', '2']);
    }
  });

  it('driver screen names current and next stop', async () => {
    const deadline = Date.now() + 30_000;
    let stops = city.buses[0]!.driver.state.snapshot().stops;
    while ((stops.current === undefined || stops.next === undefined) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      stops = city.buses[0]!.driver.state.snapshot().stops;
    }

    // The city feed names stops "{route long name} {n}", and bus V001 starts at route 1's first stop.
    expect(stops.current).toMatch(/^1路 \d+$/);
    expect(stops.next).toMatch(/^1路 \d+$/);
  }, 40_000);

  it('start-up lines name both GTFS-realtime feeds', () => {
    const line = addressLines(city, '/tmp/bench.log').find((entry) => entry.startsWith('到站预测 Arrivals: '));
    expect(line).toContain(` GTFS-realtime: ${new URL('/gtfs-rt/trip-updates', city.office.consoleUrl).href} ${new URL('/gtfs-rt/vehicle-positions', city.office.consoleUrl).href}`);
  });

  it('start-up lines link a stop page that exists', async () => {
    const line = addressLines(city, '/tmp/bench.log').find((entry) => entry.startsWith('站点页面 Stop page: '));
    expect(line).toBeDefined();
    const url = line!.slice('站点页面 Stop page: '.length);
    const stopId = city.sampleStopId()!;
    expect(stopId).toMatch(/^1-\d+$/);
    expect(stopId).not.toBe('1-1');
    expect(url).toBe(new URL(`/rider/stops/${stopId}`, city.office.consoleUrl).href);

    const response = await fetch(url);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain(`1路 ${stopId.slice(2)}`);
  });

  it('links a stop that the first bus reaches within the page\'s hour', async () => {
    const stopId = city.sampleStopId()!;
    await predictedVehicle('V001', 45_000);
    const body = (await (await fetch(new URL(`/api/rider/stops/${stopId}`, city.office.consoleUrl))).json()) as { arrivals: { vehicleId: string; predictedArrival: string }[] };

    const arrival = body.arrivals.find((entry) => entry.vehicleId === 'V001');
    expect(arrival).toBeDefined();
    expect(Date.parse(arrival!.predictedArrival) - Date.now()).toBeLessThan(30 * 60_000);
  }, 60_000);
});
