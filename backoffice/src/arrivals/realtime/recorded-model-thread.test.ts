import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { build } from 'esbuild';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importGtfsFeed } from '../../gtfs/gtfs-feed.js';
import { DEFAULT_BUSFARE_SETTINGS } from '../evaluation/gtfs-avl-evaluation.js';
import { LiveDay } from '../live-day.js';
import type { PredictionRequest } from '../models/arrival-model.js';
import { type TripSchedule, buildTripSchedule } from '../matching/trip-patterns.js';
import type { VehicleFix } from '../matching/vehicle-events.js';
import { QueuedPositions } from '../testing/queued-positions.js';
import { FIXTURE_STOPS, FIXTURE_TIME_ZONE, detectedStopsOf, fixtureTrips, randomSource } from '../testing/recorded-trips.js';
import { driveFixes } from '../testing/synthetic-drive.js';
import { writeSyntheticFeed } from '../testing/synthetic-route.js';
import { ArrivalService, type ArrivalServiceOptions } from './arrival-service.js';
import { DetectedTripStore } from './detected-trip-store.js';
import { type RecordedModelRequest, assembleRecordedModel, buildRecordedModelParts } from './recorded-model-parts.js';
import { BuilderClosedError, WorkerModelBuilder, bundledRecordedModelScript } from './recorded-model-thread.js';

/** 2026-03-02 08:00 in China Standard Time, when trip E0800 of the synthetic feed leaves. */
const EIGHT_AM = Date.UTC(2026, 2, 2, 0, 0, 0) / 1000;
const DAY_S = 86_400;
const TODAY = '2026-03-05';

let directory: string;
let script: URL;
let fixtureStore: string;

// The worker runs as built JavaScript, as in the tsup bundles, so the test builds it from the
// sources first. better-sqlite3 stays external, as in the bundles, and resolves through a link to
// the repository's node_modules.
beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-model-worker-'));
  symlinkSync(fileURLToPath(new URL('../../../../node_modules', import.meta.url)), join(directory, 'node_modules'), 'dir');
  const outfile = join(directory, 'recorded-model-worker.js');
  await build({
    entryPoints: [fileURLToPath(new URL('./recorded-model-worker.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3'],
    tsconfig: fileURLToPath(new URL('../../../../tsconfig.base.json', import.meta.url)),
    logLevel: 'silent',
  });
  script = pathToFileURL(outfile);

  fixtureStore = join(directory, 'fixture.sqlite');
  const random = randomSource(3);
  const store = new DetectedTripStore(fixtureStore);
  for (const date of ['2026-03-02', '2026-03-03', '2026-03-04']) store.append(detectedStopsOf(fixtureTrips(date, random)));
  store.close();
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

function requestOf(path: string): RecordedModelRequest {
  return { path, serviceDate: TODAY, historyDays: 28, timeZone: FIXTURE_TIME_ZONE, settings: DEFAULT_BUSFARE_SETTINGS };
}

function scriptWith(name: string, source: string): URL {
  const path = join(directory, name);
  writeFileSync(path, source);
  return pathToFileURL(path);
}

describe('WorkerModelBuilder', () => {
  it('builds the parts the calling thread builds', async () => {
    const builder = new WorkerModelBuilder(script);
    const inWorker = await builder.build(requestOf(fixtureStore));
    const inThread = buildRecordedModelParts(requestOf(fixtureStore));
    await builder.close();
    if (inWorker.kind !== 'model' || inThread.kind !== 'model') throw new Error('expected models');
    const request: PredictionRequest = { routeId: 'R', directionId: 0, tripId: 't', vehicleId: 'bus-1', dayType: 'weekday', dayStart: EIGHT_AM + 3 * DAY_S - 8 * 3600, arrivalsSoFar: [{ stopId: 'A', time: EIGHT_AM + 3 * DAY_S + 4 * 3600 }], now: EIGHT_AM + 3 * DAY_S + 4 * 3600, targets: FIXTURE_STOPS.slice(1) };

    expect(inWorker.trips).toBe(inThread.trips);
    expect(inWorker.parts.history.duration).toStrictEqual(inThread.parts.history.duration);
    expect(inWorker.parts.signals?.stopKeys).toStrictEqual(inThread.parts.signals?.stopKeys);
    expect(assembleRecordedModel(inWorker.parts).predict(request, new LiveDay())).toStrictEqual(assembleRecordedModel(inThread.parts).predict(request, new LiveDay()));
  });

  it('rejects a build from a corrupt store', async () => {
    const corrupt = join(directory, 'corrupt.sqlite');
    writeFileSync(corrupt, 'not a database, just text that is long enough to fill a header page');
    const builder = new WorkerModelBuilder(script);

    await expect(builder.build(requestOf(corrupt))).rejects.toThrow(/^arrival model build failed in the worker thread: DetectedTripStoreError: detected trips not read from .*corrupt\.sqlite: file is not a database$/);
    await builder.close();
  });

  it('rejects a build from a missing store', async () => {
    const builder = new WorkerModelBuilder(script);

    await expect(builder.build(requestOf(join(directory, 'missing.sqlite')))).rejects.toThrow(/DetectedTripStoreError: detected trips not read from .*missing\.sqlite/);
    await builder.close();
  });

  it('rejects a build whose worker fails to start', async () => {
    const builder = new WorkerModelBuilder(scriptWith('broken-worker.mjs', "throw new Error('worker start-up failed');\n"));

    await expect(builder.build(requestOf(fixtureStore))).rejects.toThrow('worker start-up failed');
    await builder.close();
  });

  it('rejects a build whose worker exits without a reply', async () => {
    const builder = new WorkerModelBuilder(scriptWith('exiting-worker.mjs', 'process.exit(3);\n'));

    await expect(builder.build(requestOf(fixtureStore))).rejects.toThrow('arrival model worker exited with code 3 before it replied');
    await builder.close();
  });

  it('rejects a reply of another shape', async () => {
    // A worker script of another build could reply with anything, and the build must reject rather than throw in the listener.
    for (const [name, reply] of [['null-reply', 'null'], ['text-reply', "'done'"], ['empty-build', '{ build: null }'], ['numeric-error', '{ error: 7 }']]) {
      const builder = new WorkerModelBuilder(scriptWith(`${name}-worker.mjs`, `import { parentPort } from 'node:worker_threads';\nparentPort.postMessage(${reply});\n`));

      await expect(builder.build(requestOf(fixtureStore)), name).rejects.toThrow(/^invalid reply from the arrival model worker thread: /);
      await builder.close();
    }
  });

  it('stops a running build on close', async () => {
    // The worker never replies, and appends to a file every 5 ms while it runs.
    const heartbeat = join(directory, 'heartbeat');
    const builder = new WorkerModelBuilder(scriptWith('silent-worker.mjs', `import { appendFileSync } from 'node:fs';\nsetInterval(() => appendFileSync(${JSON.stringify(heartbeat)}, 'x'), 5);\n`));

    const rejected = expect(builder.build(requestOf(fixtureStore))).rejects.toThrow(BuilderClosedError);
    while (!existsSync(heartbeat)) await delay(5);
    await builder.close();
    const beatsAtClose = statSync(heartbeat).size;
    await delay(100);

    await rejected;
    expect(statSync(heartbeat).size).toBe(beatsAtClose);
    await expect(builder.build(requestOf(fixtureStore))).rejects.toThrow(BuilderClosedError);
  });

  it('finds no built script beside the sources', () => {
    expect(bundledRecordedModelScript()).toBeUndefined();
  });
});

/** Fixes of bus-7 on eastbound trip E0800, `dayOffset` days after 2026-03-02, up to `untilS` into the trip. */
function drive(dayOffset: number, speedMps: number, untilS = Infinity): VehicleFix[] {
  const start = EIGHT_AM + dayOffset * DAY_S;
  return driveFixes({ vehicleId: 'bus-7', start, directionId: 0, speedMps, dwellS: 20, fixEveryS: 15, signOn: { routeId: '1', directionId: 0 } }).filter((fix) => fix.time <= start + untilS);
}

describe('arrival service with the model worker', () => {
  let schedule: TripSchedule;
  let storePath: string;
  /** Unix time of the services' clock. */
  let now: number;

  function serviceWith(options: Partial<ArrivalServiceOptions>, logs: { level: number; msg: string; err?: { message: string }; serviceDate?: string }[] = []): { service: ArrivalService; positions: QueuedPositions } {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line));
        done();
      },
    });
    const positions = new QueuedPositions();
    const service = new ArrivalService({ schedule, positions, logger: pino({ level: 'info' }, sink), refreshMs: 30_000, now: () => now, ...options });
    return { service, positions };
  }

  /** Returns bus-7's last predicted stop after a refresh that reads `fixes`. */
  function lastStop(service: ArrivalService, positions: QueuedPositions, fixes: VehicleFix[]) {
    positions.pending = fixes;
    return service.refresh().vehicles.find((vehicle) => vehicle.vehicleId === 'bus-7')!.stops.at(-1)!;
  }

  beforeAll(() => {
    writeSyntheticFeed(join(directory, 'feed'));
    schedule = buildTripSchedule(importGtfsFeed(join(directory, 'feed')));
    storePath = join(directory, 'clearing-detected-trips.sqlite');
    // Two days on which bus-7 runs the whole trip at 3 m/s, well behind the timetable.
    const recorder = serviceWith({ detectedTrips: new DetectedTripStore(storePath), historyDays: 28, recordedModelScript: null });
    for (const day of [0, 1]) {
      now = EIGHT_AM + day * DAY_S + 12 * 3600;
      recorder.positions.pending = drive(day, 3);
      recorder.service.refresh();
    }
    recorder.service.stop();
    // On the third day bus-7 has run five minutes of the same trip.
    now = EIGHT_AM + 2 * DAY_S + 300;
  });

  it('switches from the timetable to the learned model', async () => {
    const logs: { level: number; msg: string }[] = [];
    const learned = serviceWith({ detectedTrips: new DetectedTripStore(storePath), historyDays: 28, recordedModelScript: script }, logs);
    const timetable = serviceWith({});

    const expected = lastStop(timetable.service, timetable.positions, drive(2, 8, 300));
    const beforeBuild = lastStop(learned.service, learned.positions, drive(2, 8, 300));
    await learned.service.recordedModels!.idle();
    const afterBuild = lastStop(learned.service, learned.positions, []);
    learned.service.stop();
    timetable.service.stop();

    expect(beforeBuild).toStrictEqual(expected);
    expect(afterBuild.stopId).toBe(expected.stopId);
    expect(afterBuild.predictedArrival - expected.predictedArrival).toBeGreaterThan(120);
    expect(logs.map((line) => line.msg)).toContain('arrival model learned from detected trips');
  });

  it('keeps the timetable model when the worker fails', async () => {
    const logs: { level: number; msg: string; err?: { message: string }; serviceDate?: string }[] = [];
    const failing = serviceWith({ detectedTrips: new DetectedTripStore(storePath), historyDays: 28, recordedModelScript: scriptWith('failing-worker.mjs', "throw new Error('worker start-up failed');\n") }, logs);
    const timetable = serviceWith({});

    const expected = lastStop(timetable.service, timetable.positions, drive(2, 8, 300));
    lastStop(failing.service, failing.positions, drive(2, 8, 300));
    await failing.service.recordedModels!.idle();
    const afterFailure = lastStop(failing.service, failing.positions, []);
    failing.service.stop();
    timetable.service.stop();

    expect(afterFailure).toStrictEqual(expected);
    const errors = logs.filter((line) => line.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toBe('arrival model not built from detected trips; the date predicts from the timetable');
    expect(errors[0]!.serviceDate).toBe('2026-03-04');
    expect(errors[0]!.err?.message).toBe('worker start-up failed');
  });

  it('stops the worker with the service', async () => {
    const logs: { level: number; msg: string }[] = [];
    const stopping = serviceWith({ detectedTrips: new DetectedTripStore(storePath), historyDays: 28, recordedModelScript: scriptWith('endless-worker.mjs', 'setInterval(() => {}, 1000);\n') }, logs);

    lastStop(stopping.service, stopping.positions, drive(2, 8, 300));
    // The build starts after the refresh's event-loop turn.
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs.map((line) => line.msg).filter((message) => message.startsWith('building the arrival model'))).toHaveLength(1);
    stopping.service.stop();
    await stopping.service.recordedModels!.idle();

    expect(stopping.service.recordedModels!.modelFor('2026-03-04')).toBeUndefined();
    expect(logs.filter((line) => line.level >= 50)).toStrictEqual([]);
  });
});
