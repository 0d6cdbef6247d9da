import { EventEmitter } from 'node:events';
import { defaultFareTable } from '@busfare/backoffice';
import { type RoutesBody, fareTableBodySchema, routesBodySchema } from '@busfare/shared-protocol';
import { ALL_BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, InProcessCardReader, PsamTransport, SoftwarePsam } from '@busfare/simulators';
import {
  ApduSecureAccessModule,
  ManualClock,
  MemoryTransactionStore,
  TerminalRuntime,
  type PositionSource,
  type PositionSourceEvents,
} from '@busfare/terminal';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { makeCard, makeM1Card } from './cards.js';
import { PSAM_TERMINAL_NUMBER, startRuntimeTaps } from './tap-fixture.js';

const logger = pino({ level: 'silent' });

/** Route 30 runs north along one meridian, a stop every 0.01° of latitude (about 1.1 km). */
const STOPS = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'].map((id, index) => ({ id, name: `站${index + 1}`, lat: 31 + index * 0.01, lon: 120 }));
const ROUTES: RoutesBody = routesBodySchema.parse({
  stops: STOPS,
  routes: [{ id: '30', shortName: '30路', longName: '一站—六站', patterns: [{ direction: 0, stops: STOPS.map((stop) => stop.id) }] }],
});
/** No stop list in the fare table: the terminal takes the stop order from the routes parameter set. */
const FARE_TABLE = fareTableBodySchema.parse({
  ...defaultFareTable([BENCH_LOCAL_CITY_CODE]),
  sectionRoutes: {
    '30': {
      bands: [
        { maxStops: 2, fareFen: 100 },
        { maxStops: 99, fareFen: 300 },
      ],
    },
  },
});

class ScriptedPositions extends EventEmitter<PositionSourceEvents> implements PositionSource {
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  at(stopIndex: number, clock: ManualClock): void {
    const stop = STOPS[stopIndex]!;
    this.emit('fix', { time: clock.now(), lat: stop.lat, lon: stop.lon, talker: 'GN' });
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startBus(routes: RoutesBody | undefined, route = '30') {
  const clock = new ManualClock(new Date('2026-03-02T08:00:00+08:00'));
  const reader = new InProcessCardReader();
  const positions = new ScriptedPositions();
  const store = new MemoryTransactionStore();
  const runtime = new TerminalRuntime({
    terminalId: 'T030',
    vehicleId: 'V030',
    reader,
    sam: new ApduSecureAccessModule(new PsamTransport(new SoftwarePsam({ terminalNumber: PSAM_TERMINAL_NUMBER, issuers: ALL_BENCH_ISSUERS }))),
    store,
    fareTables: { activeFareTable: () => FARE_TABLE },
    feedback: { show: () => undefined },
    clock,
    logger,
    positions,
    service: { route, direction: 0 },
    routes: () => current,
    utcOffsetMinutes: 480,
  });
  let current = routes;
  const { tap, stop } = await startRuntimeTaps(runtime, reader);
  cleanups.push(stop);
  /** Installs another routes parameter set, as a new version arriving mid-trip would. */
  function replaceRoutes(next: RoutesBody | undefined): void {
    current = next;
  }
  return { runtime, positions, clock, store, tap, replaceRoutes };
}

describe('runtime section-route fares', () => {
  it('prices the band between GPS stops', async () => {
    const bus = await startBus(ROUTES);
    bus.positions.at(1, bus.clock);
    expect(bus.runtime.tripContext().stopId).toBe('S2');
    expect(bus.runtime.stopProgress()).toMatchObject({ currentIndex: 1, next: { id: 'S3' } });

    const card = makeCard({ balanceFen: 1000 });
    const boarding = await bus.tap(card);
    expect(boarding).toMatchObject({ status: 'accepted', promptId: 'please-tap-off', amountFen: 0 });

    bus.clock.advance(15 * 60_000);
    bus.positions.at(5, bus.clock);
    const alighting = await bus.tap(card);
    expect(alighting).toMatchObject({ status: 'accepted', amountFen: 300, balanceFen: 700 });
    expect(card.balanceFen).toBe(700);
  });

  it('charges M1 purses the short band', async () => {
    const bus = await startBus(ROUTES);
    bus.positions.at(0, bus.clock);
    const card = makeM1Card({ balanceFen: 1000 });
    expect((await bus.tap(card)).promptId).toBe('please-tap-off');
    bus.clock.advance(6 * 60_000);
    bus.positions.at(2, bus.clock);
    expect(await bus.tap(card)).toMatchObject({ status: 'accepted', amountFen: 100, balanceFen: 900 });
  });

  it('refuses taps without a known stop', async () => {
    const bus = await startBus(undefined);
    bus.positions.at(1, bus.clock);
    expect(bus.runtime.tripContext().stopId).toBeUndefined();
    const card = makeCard({ balanceFen: 1000 });
    expect(await bus.tap(card)).toMatchObject({ status: 'refused', promptId: 'stop-unknown' });
    expect(card.balanceFen).toBe(1000);
    expect(bus.store.lastSequence()).toBe(0);
  });

  it('keeps the current stop when the routes set is replaced between stops', async () => {
    const bus = await startBus(ROUTES);
    bus.positions.at(1, bus.clock);
    const card = makeCard({ balanceFen: 1000 });
    expect((await bus.tap(card)).promptId).toBe('please-tap-off');

    bus.clock.advance(10 * 60_000);
    bus.positions.at(3, bus.clock);
    // Half-way to the next stop, out of every stop's radius.
    bus.positions.emit('fix', { time: bus.clock.now(), lat: 31.035, lon: 120, talker: 'GN' });
    bus.replaceRoutes(routesBodySchema.parse(structuredClone(ROUTES)));
    expect(bus.runtime.tripContext().stopId).toBe('S4');
    expect(await bus.tap(card)).toMatchObject({ status: 'accepted', amountFen: 100 });
  });

  for (const kind of ['tunion-cpu', 'm1'] as const) {
    it(`alights at the terminus after the direction switch (${kind})`, async () => {
      const bothWays = routesBodySchema.parse({
        stops: STOPS,
        routes: [
          {
            id: '30',
            shortName: '30路',
            longName: '一站—六站',
            patterns: [
              { direction: 0, stops: STOPS.map((stop) => stop.id) },
              { direction: 1, stops: STOPS.map((stop) => stop.id).reverse() },
            ],
          },
        ],
      });
      const bus = await startBus(bothWays);
      bus.positions.at(1, bus.clock);
      const card = kind === 'm1' ? makeM1Card({ balanceFen: 1000 }) : makeCard({ balanceFen: 1000 });
      expect((await bus.tap(card)).promptId).toBe('please-tap-off');

      bus.clock.advance(20 * 60_000);
      bus.positions.at(5, bus.clock);
      // The driver confirms the new direction at the terminus, and the rider taps off after that.
      bus.runtime.setService({ route: '30', direction: 1 });
      expect(bus.runtime.tripContext()).toMatchObject({ direction: 1, stopId: 'S6' });
      const alighting = await bus.tap(card);

      // S2 to S6 is 4 stops, the second band.
      expect(alighting).toMatchObject({ status: 'accepted', promptId: 'fare-paid', amountFen: 300, balanceFen: 700 });
      expect(card.balanceFen).toBe(700);
    });
  }

  it('does not move back to an earlier stop on GPS jitter', async () => {
    const bus = await startBus(ROUTES);
    bus.positions.at(3, bus.clock);
    bus.positions.at(2, bus.clock);
    expect(bus.runtime.tripContext().stopId).toBe('S4');
  });

  it('ignores a one-fix GPS jump ahead', async () => {
    const bus = await startBus(ROUTES);
    bus.positions.at(0, bus.clock);
    bus.clock.advance(3 * 60_000);
    bus.positions.at(1, bus.clock);

    // One fix 3.3 km ahead a second later, as multipath in a street canyon can give.
    bus.clock.advance(1_000);
    bus.positions.at(4, bus.clock);
    expect(bus.runtime.tripContext().stopId).toBe('S2');
    bus.clock.advance(1_000);
    bus.positions.at(1, bus.clock);
    expect(bus.runtime.tripContext().stopId).toBe('S2');

    const card = makeCard({ balanceFen: 1000 });
    expect((await bus.tap(card)).promptId).toBe('please-tap-off');
    bus.clock.advance(15 * 60_000);
    bus.positions.at(5, bus.clock);
    // S2 to S6 is 4 stops, the second band.
    expect(await bus.tap(card)).toMatchObject({ status: 'accepted', amountFen: 300, balanceFen: 700 });
  });

  it('takes fares after a fix off the globe', async () => {
    const bus = await startBus(ROUTES);
    bus.positions.at(1, bus.clock);
    // The gpsd adapter passes on any finite latitude, and a tap record with latitude 95 fails its schema.
    bus.positions.emit('fix', { time: bus.clock.now(), lat: 95, lon: 120, talker: 'gpsd' });

    const card = makeCard({ balanceFen: 1000 });
    expect(await bus.tap(card)).toMatchObject({ status: 'accepted', promptId: 'please-tap-off' });
    expect(bus.runtime.tripContext()).toMatchObject({ stopId: 'S2', lat: STOPS[1]!.lat, lon: STOPS[1]!.lon });
  });

  it('takes a far fix after a long GPS outage', async () => {
    const bus = await startBus(ROUTES);
    bus.positions.at(0, bus.clock);
    bus.clock.advance(6 * 60_000);
    bus.positions.at(4, bus.clock);
    expect(bus.runtime.tripContext().stopId).toBe('S5');
  });

  it('follows a loop route through its terminus and into the next lap', async () => {
    const loop = routesBodySchema.parse({
      stops: STOPS.slice(0, 3),
      routes: [{ id: '40', shortName: '40路', longName: '环线', patterns: [{ direction: 0, stops: ['S1', 'S2', 'S3', 'S1'] }] }],
    });
    const bus = await startBus(loop, '40');
    // Two fixes at each stop, as a bus standing at a stop sends.
    for (const [stopIndex, expected] of [[0, 0], [0, 0], [1, 1], [2, 2], [0, 3], [0, 3], [1, 1]] as const) {
      bus.positions.at(stopIndex, bus.clock);
      expect(bus.runtime.stopProgress().currentIndex, `at ${STOPS[stopIndex]!.id}`).toBe(expected);
    }
  });
});
