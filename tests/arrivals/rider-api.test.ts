import GtfsRealtimeBindings from 'gtfs-realtime-bindings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backOfficeConfigSchema } from '../../backoffice/src/config.js';
import { startArrivalService } from '../../backoffice/src/arrivals/realtime/start-arrivals.js';
import { createLogger } from '../../backoffice/src/logger.js';
import { buildConsoleServer } from '../../backoffice/src/web/console-server.js';
import { EIGHT_AM, type RiderFixture, buildRiderFixture } from './rider-fixture.js';

const { FeedMessage } = GtfsRealtimeBindings.transit_realtime;
let fixture: RiderFixture;

beforeAll(() => {
  fixture = buildRiderFixture();
});

afterAll(async () => {
  await fixture.close();
});

describe('ArrivalService', () => {
  it('predicts the bus from stored positions', () => {
    const [vehicle, ...others] = fixture.arrivals.snapshot().vehicles;

    expect(others).toHaveLength(0);
    expect(vehicle).toMatchObject({ vehicleId: 'bus-7', tripId: 'E0800', routeId: '1', directionId: 0 });
    expect(vehicle!.stops.length).toBeGreaterThan(3);
  });

  it('predicts later stops in order within the hour', () => {
    const { vehicles, refreshedAt } = fixture.arrivals.snapshot();
    const times = vehicles[0]!.stops.map((stop) => stop.predictedArrival);

    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThanOrEqual(refreshedAt);
    expect(times.at(-1)! - refreshedAt).toBeLessThanOrEqual(3600);
  });

  it('predicts a slow bus later than the timetable', () => {
    const last = fixture.arrivals.snapshot().vehicles[0]!.stops.at(-1)!;

    expect(last.predictedArrival).toBeGreaterThan(last.scheduledArrival);
  });

  it('takes in a bus waiting at its first stop', () => {
    fixture.repository.storePositions({
      schema: 'busfare.positions/1',
      terminalId: 'T-8',
      vehicleId: 'bus-8',
      fixes: [0, 20, 40].map((offset) => ({ time: new Date((EIGHT_AM + 300 + offset) * 1000).toISOString(), lat: 31.3, lon: 120.6, route: '1', direction: 0 })),
    });
    fixture.clock.now = EIGHT_AM + 360;

    const vehicles = fixture.arrivals.refresh().vehicles;

    expect(vehicles.map((vehicle) => vehicle.vehicleId).sort()).toEqual(['bus-7', 'bus-8']);
    expect(vehicles.find((vehicle) => vehicle.vehicleId === 'bus-8')).toMatchObject({ directionId: 0, tripId: 'E0810', layover: true });
  });

  it('rejects a refresh interval over 30 s', async () => {
    const { ArrivalService } = await import('../../backoffice/src/arrivals/realtime/arrival-service.js');
    expect(() => new ArrivalService({ schedule: fixture.arrivals.schedule, positions: { readAfter: () => ({ fixes: [], cursor: 0 }), close: () => undefined }, logger: createLogger('test', 'silent'), refreshMs: 31_000 })).toThrow(/invalid refreshMs 31000/);
  });
});

describe('arrivals config', () => {
  it.each([
    [{ refreshSeconds: 31 }, 'arrivals.refreshSeconds'],
    [{ refreshSeconds: 0 }, 'arrivals.refreshSeconds'],
    [{ gtfs: '' }, 'arrivals.gtfs'],
    [{ feed: 'x' }, 'arrivals'],
    [{ historyDays: -1 }, 'arrivals.historyDays'],
    [{ historyDays: 1.5 }, 'arrivals.historyDays'],
    [{ historyDays: 367 }, 'arrivals.historyDays'],
    [{ historyDays: '28' }, 'arrivals.historyDays'],
  ])('rejects %j', (arrivals, path) => {
    const result = backOfficeConfigSchema.safeParse({ arrivals });

    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path.join('.')).toBe(path);
  });

  it('starts no predictor without a GTFS folder', () => {
    expect(startArrivalService({ refreshSeconds: 10 }, 'unused.db', createLogger('test', 'silent'))).toBeUndefined();
  });

  it('stops start-up on an unreadable GTFS folder', () => {
    expect(() => startArrivalService({ gtfs: '/nonexistent/feed', refreshSeconds: 10 }, 'unused.db', createLogger('test', 'silent'))).toThrow(/invalid GTFS feed/);
  });
});

describe('rider API', () => {
  it('lists a stop with Chinese name, routes and arrivals', async () => {
    const response = await fixture.app.inject({ url: '/api/rider/stops/s7' });
    const body = response.json();

    expect(response.statusCode).toBe(200);
    expect(body.stop).toMatchObject({ id: 's7', name: '星海街' });
    expect(body.routes).toEqual([
      { id: '1', name: '1', directionId: 0, towards: '金鸡湖' },
      { id: '1', name: '1', directionId: 1, towards: '火车站' },
    ]);
    expect(body.arrivals[0]).toMatchObject({ routeId: '1', vehicleId: 'bus-7', towards: '金鸡湖', tripId: 'E0800' });
    expect(body.arrivals[0].minutes).toBeGreaterThanOrEqual(0);
  });

  it('lists a route with its stops and buses', async () => {
    const response = await fixture.app.inject({ url: '/api/rider/routes/1' });
    const body = response.json();

    expect(response.statusCode).toBe(200);
    expect(body.route).toMatchObject({ id: '1', longName: '火车站—金鸡湖' });
    expect(body.directions[0].stops.map((stop: { name: string }) => stop.name)).toContain('观前街');
    expect(body.vehicles.map((vehicle: { vehicleId: string }) => vehicle.vehicleId)).toContain('bus-7');
  });

  it('lists the arrivals of one bus', async () => {
    const response = await fixture.app.inject({ url: '/api/rider/vehicles/bus-7' });
    const body = response.json();

    expect(response.statusCode).toBe(200);
    expect(body.arrivals.at(-1)).toMatchObject({ stopId: 's9', stopName: '金鸡湖' });
  });

  it.each([
    ['/api/rider/stops/nope', 404, 'stop nope not found'],
    ['/api/rider/routes/42', 404, 'route 42 not found'],
    ['/api/rider/vehicles/bus-99', 404, 'vehicle bus-99 is not on a trip now'],
    ['/api/rider/stops/a%20b', 400, 'invalid id'],
    ['/api/rider/routes/%3Cscript%3E', 400, 'invalid id'],
    [`/api/rider/vehicles/${'x'.repeat(65)}`, 400, 'invalid id'],
  ])('answers %s with %i', async (url, status, message) => {
    const response = await fixture.app.inject({ url });

    expect(response.statusCode).toBe(status);
    expect(response.json().error).toContain(message);
  });

  it('answers 503 without a predictor', async () => {
    const app = buildConsoleServer({ repository: fixture.repository, timezoneOffsetMinutes: 480, logger: createLogger('test', 'silent'), subscribeTaps: () => () => undefined });
    try {
      expect((await app.inject({ url: '/api/rider/stops/s1' })).statusCode).toBe(503);
      expect((await app.inject({ url: '/gtfs-rt/trip-updates' })).statusCode).toBe(503);
      expect((await app.inject({ url: '/rider/stops/s1' })).body).toContain('实时到站信息暂不可用');
    } finally {
      await app.close();
    }
  });
});

describe('rider page', () => {
  it('renders in Chinese by default', async () => {
    const response = await fixture.app.inject({ url: '/rider/stops/s7' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-language']).toBe('zh-CN');
    expect(response.body).toContain('星海街 公交站');
    expect(response.body).toContain('即将到站');
    // An empty inline icon keeps the browser from requesting /favicon.ico, which has no route.
    expect(response.body).toContain('<link rel="icon" href="data:,">');
  });

  it('renders in English on request', async () => {
    const response = await fixture.app.inject({ url: '/rider/stops/s7?lang=en' });

    expect(response.body).toContain('星海街 bus stop');
    expect(response.body).toContain('Next buses');
  });

  it('answers 404 for an unknown stop', async () => {
    const response = await fixture.app.inject({ url: '/rider/stops/s99?lang=en' });

    expect(response.statusCode).toBe(404);
    expect(response.body).toContain('Stop s99 not found');
  });
});

describe('GTFS-realtime', () => {
  it('serves TripUpdates as protobuf', async () => {
    const response = await fixture.app.inject({ url: '/gtfs-rt/trip-updates' });
    const message = FeedMessage.decode(response.rawPayload);
    const update = message.entity.find((entity) => entity.tripUpdate?.vehicle?.id === 'bus-7')!.tripUpdate!;

    expect(response.headers['content-type']).toBe('application/x-protobuf');
    expect(message.header.gtfsRealtimeVersion).toBe('2.0');
    expect(update.trip.tripId).toBe('E0800');
    expect(update.trip.startDate).toBe('20260302');
    expect(update.stopTimeUpdate!.at(-1)!.stopId).toBe('s9');
    expect(Number(update.stopTimeUpdate!.at(-1)!.arrival!.time)).toBeGreaterThan(EIGHT_AM);
  });

  it('serves VehiclePositions as protobuf', async () => {
    const response = await fixture.app.inject({ url: '/gtfs-rt/vehicle-positions' });
    const message = FeedMessage.decode(response.rawPayload);
    const vehicle = message.entity.find((entity) => entity.vehicle?.vehicle?.id === 'bus-7')!.vehicle!;

    expect(vehicle.trip!.routeId).toBe('1');
    expect(vehicle.position!.latitude).toBeCloseTo(31.3, 3);
    expect(Number(message.header.timestamp)).toBe(fixture.arrivals.snapshot().refreshedAt);
  });
});
