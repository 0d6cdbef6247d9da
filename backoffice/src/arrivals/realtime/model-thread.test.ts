import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importGtfsFeed } from '../../gtfs/gtfs-feed.js';
import { DEFAULT_BUSFARE_SETTINGS } from '../evaluation/gtfs-avl-evaluation.js';
import { LiveDay } from '../live-day.js';
import type { PredictionRequest } from '../models/arrival-model.js';
import { type TripSchedule, buildTripSchedule } from '../matching/trip-patterns.js';
import type { VehicleFix } from '../matching/vehicle-events.js';
import { buildModelWorkerScript } from '../testing/model-worker-script.js';
import { QueuedPositions } from '../testing/queued-positions.js';
import { FIXTURE_STOPS, FIXTURE_TIME_ZONE, detectedStopsOf, fixtureTrips, randomSource } from '../testing/recorded-trips.js';
import { driveFixes } from '../testing/synthetic-drive.js';
import { writeSyntheticFeed } from '../testing/synthetic-route.js';
import { ArrivalService, type ArrivalServiceOptions } from './arrival-service.js';
import { DetectedTripStore } from './detected-trip-store.js';
import { type RecordedModelRequest, assembleRecordedModel, buildRecordedModelParts } from './recorded-model-parts.js';
import { BuilderClosedError, WorkerModelBuilder, bundledModelScript } from './model-thread.js';
import { RETRY_AFTER_S } from './dated-models.js';

/** 2026-03-02 08:00 in China Standard Time, when trip E0800 of the synthetic feed leaves. */
const EIGHT_AM = Date.UTC(2026, 2, 2, 0, 0, 0) / 1000;
const DAY_S = 86_400;
const TODAY = '2026-03-05';

let directory: string;
let script: URL;
let fixtureStore: string;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-model-worker-'));
  script = await buildModelWorkerScript(directory);

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

async function nextTurns(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

function scriptWith(name: string, source: string): URL {
  const path = join(directory, name);
  writeFileSync(path, source);
  return pathToFileURL(path);
}

describe('WorkerModelBuilder', () => {
  it('builds the parts the calling thread builds', async () => {
    const builder = new WorkerModelBuilder(script, 'recorded');
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
    const builder = new WorkerModelBuilder(script, 'recorded');

    await expect(builder.build(requestOf(corrupt))).rejects.toThrow(/^arrival model build failed in the worker thread: DetectedTripStoreError: detected trips not read from .*corrupt\.sqlite: file is not a database$/);
    await builder.close();
  });

  it('rejects a build from a missing store', async () => {
    const builder = new WorkerModelBuilder(script, 'recorded');

    await expect(builder.build(requestOf(join(directory, 'missing.sqlite')))).rejects.toThrow(/DetectedTripStoreError: detected trips not read from .*missing\.sqlite/);
    await builder.close();
  });

  it('rejects a build whose worker fails to start', async () => {
    const builder = new WorkerModelBuilder(scriptWith('broken-worker.mjs', "throw new Error('worker start-up failed');\n"), 'recorded');

    await expect(builder.build(requestOf(fixtureStore))).rejects.toThrow('worker start-up failed');
    await builder.close();
  });

  it('rejects a build whose worker exits without a reply', async () => {
    const builder = new WorkerModelBuilder(scriptWith('exiting-worker.mjs', 'process.exit(3);\n'), 'recorded');

    await expect(builder.build(requestOf(fixtureStore))).rejects.toThrow('arrival model worker exited with code 3 before it replied');
    await builder.close();
  });

  it('rejects a reply of another shape', async () => {
    // A worker script of another build could reply with anything, and the build must reject rather than throw in the listener.
    for (const [name, reply] of [['null-reply', 'null'], ['text-reply', "'done'"], ['empty-build', '{ build: null }'], ['numeric-error', '{ error: 7 }']]) {
      const builder = new WorkerModelBuilder(scriptWith(`${name}-worker.mjs`, `import { parentPort } from 'node:worker_threads';\nparentPort.postMessage(${reply});\n`), 'recorded');

      await expect(builder.build(requestOf(fixtureStore)), name).rejects.toThrow(/^invalid reply from the arrival model worker thread: /);
      await builder.close();
    }
  });

  it('stops a running build on close', async () => {
    // The worker never replies, and appends to a file every 5 ms while it runs.
    const heartbeat = join(directory, 'heartbeat');
    const builder = new WorkerModelBuilder(scriptWith('silent-worker.mjs', `import { appendFileSync } from 'node:fs';\nsetInterval(() => appendFileSync(${JSON.stringify(heartbeat)}, 'x'), 5);\n`), 'recorded');

    const rejected = expect(builder.build(requestOf(fixtureStore))).rejects.toThrow(BuilderClosedError);
    while (!existsSync(heartbeat)) await delay(5);
    await builder.close();
    const beatsAtClose = statSync(heartbeat).size;
    await delay(100);

    await rejected;
    expect(statSync(heartbeat).size).toBe(beatsAtClose);
    await expect(builder.build(requestOf(fixtureStore))).rejects.toThrow(BuilderClosedError);
  });

  it('stops a worker that times out', async () => {
    const heartbeat = join(directory, 'hung-heartbeat');
    const builder = new WorkerModelBuilder(scriptWith('hung-worker.mjs', `import { appendFileSync } from 'node:fs';\nsetInterval(() => appendFileSync(${JSON.stringify(heartbeat)}, 'x'), 5);\n`), 'recorded', 300);

    await expect(builder.build(requestOf(fixtureStore))).rejects.toThrow(/^arrival model worker timed out after 0.3 s without a reply and was stopped$/);
    await delay(100);
    const beatsAfterStop = statSync(heartbeat).size;
    await delay(100);

    expect(statSync(heartbeat).size).toBe(beatsAfterStop);
    // The slot is free again, so the next build starts rather than being rejected as concurrent.
    await expect(builder.build(requestOf(fixtureStore))).rejects.toThrow(/timed out/);
    await builder.close();
  });

  it('settles a build once its worker has exited', async () => {
    // The worker replies and then keeps running, appending to a file every 5 ms.
    const heartbeat = join(directory, 'replied-heartbeat');
    const builder = new WorkerModelBuilder(scriptWith('lingering-worker.mjs', `import { appendFileSync } from 'node:fs';\nimport { parentPort } from 'node:worker_threads';\nappendFileSync(${JSON.stringify(heartbeat)}, 'x');\nparentPort.postMessage({ error: 'no model' });\nsetInterval(() => appendFileSync(${JSON.stringify(heartbeat)}, 'x'), 5);\n`), 'recorded');

    await expect(builder.build(requestOf(fixtureStore))).rejects.toThrow('arrival model build failed in the worker thread: no model');
    const beatsAtReply = statSync(heartbeat).size;
    await delay(100);

    expect(statSync(heartbeat).size).toBe(beatsAtReply);
    await builder.close();
  });

  it('keeps a reply when the timeout fires before exit', async () => {
    // The worker replies and then blocks for 3 s in a child process, which terminate() cannot cut
    // short, so the 1.5 s timeout fires after the reply and before the thread exits.
    const blocking = join(directory, 'blocking');
    const source = [
      "import { execFileSync } from 'node:child_process';",
      "import { writeFileSync } from 'node:fs';",
      "import { parentPort } from 'node:worker_threads';",
      "parentPort.postMessage({ error: 'no model' });",
      `writeFileSync(${JSON.stringify(blocking)}, '');`,
      "execFileSync('sleep', ['3']);",
    ].join('\n');
    const builder = new WorkerModelBuilder(scriptWith('slow-exit-worker.mjs', source), 'recorded', 1500);

    const built = builder.build(requestOf(fixtureStore));
    // The reply is handled only once the worker blocks, so terminate() comes too late to stop it.
    const deadline = Date.now() + 1000;
    while (!existsSync(blocking) && Date.now() < deadline);
    const settleBy = Date.now() + 50;
    while (Date.now() < settleBy);

    await expect(built).rejects.toThrow('arrival model build failed in the worker thread: no model');
    await builder.close();
  });

  it('finds no built script beside the sources', () => {
    expect(bundledModelScript()).toBeUndefined();
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
    const recorder = serviceWith({ detectedTrips: new DetectedTripStore(storePath), historyDays: 28, modelScript: null });
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
    const learned = serviceWith({ detectedTrips: new DetectedTripStore(storePath), historyDays: 28, modelScript: script }, logs);
    const timetable = serviceWith({});
    const runningTimes = serviceWith({ modelScript: null, timetableModel: () => undefined });

    const expected = lastStop(timetable.service, timetable.positions, drive(2, 8, 300));
    const fromRunningTimes = lastStop(runningTimes.service, runningTimes.positions, drive(2, 8, 300));
    // The first refresh has neither model yet, so it predicts from the timetable's running times.
    const beforeBuild = lastStop(learned.service, learned.positions, drive(2, 8, 300));
    await learned.service.recordedModels!.idle();
    await learned.service.timetableModels!.idle();
    const afterBuild = lastStop(learned.service, learned.positions, []);
    learned.service.stop();
    timetable.service.stop();
    runningTimes.service.stop();

    expect(beforeBuild).toStrictEqual(fromRunningTimes);
    expect(afterBuild.stopId).toBe(expected.stopId);
    expect(afterBuild.predictedArrival - expected.predictedArrival).toBeGreaterThan(120);
    expect(logs.map((line) => line.msg)).toContain('arrival model learned from detected trips');
  });

  it('keeps the timetable model when the worker fails', async () => {
    const logs: { level: number; msg: string; err?: { message: string }; serviceDate?: string }[] = [];
    // The script fails the learned model's builds and builds the timetable models.
    const failingScript = scriptWith('failing-recorded-worker.mjs', `import { workerData } from 'node:worker_threads';\nif (workerData.kind === 'recorded') throw new Error('worker start-up failed');\nawait import(${JSON.stringify(script.href)});\n`);
    const failing = serviceWith({ detectedTrips: new DetectedTripStore(storePath), historyDays: 28, modelScript: failingScript }, logs);
    const timetable = serviceWith({});

    const expected = lastStop(timetable.service, timetable.positions, drive(2, 8, 300));
    lastStop(failing.service, failing.positions, drive(2, 8, 300));
    await failing.service.recordedModels!.idle();
    await failing.service.timetableModels!.idle();
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
    // The script never replies to the learned model's build and builds the timetable models.
    const endlessRecorded = scriptWith('endless-recorded-worker.mjs', `import { workerData } from 'node:worker_threads';\nif (workerData.kind === 'recorded') setInterval(() => {}, 1000);\nelse await import(${JSON.stringify(script.href)});\n`);
    const stopping = serviceWith({ detectedTrips: new DetectedTripStore(storePath), historyDays: 28, modelScript: endlessRecorded }, logs);
    const learnedBuilds = () => logs.map((line) => line.msg).filter((message) => message.startsWith('building the arrival model'));

    lastStop(stopping.service, stopping.positions, drive(2, 8, 300));
    // The learned build starts once the timetable build has freed the build slot.
    await stopping.service.timetableModels!.idle();
    for (let turn = 0; turn < 100 && learnedBuilds().length === 0; turn += 1) await delay(5);
    expect(learnedBuilds()).toHaveLength(1);
    stopping.service.stop();
    await stopping.service.recordedModels!.idle();

    expect(stopping.service.recordedModels!.modelFor('2026-03-04')).toBeUndefined();
    expect(logs.filter((line) => line.level >= 50)).toStrictEqual([]);
  });

  it('runs one model worker at a time', async () => {
    const logs: { level: number; msg: string }[] = [];
    // Each worker notes its start and end, 200 ms apart, in a file, and then fails its build.
    const notes = join(directory, 'worker-notes');
    writeFileSync(notes, '');
    const noting = scriptWith(
      'noting-worker.mjs',
      `import { appendFileSync } from 'node:fs';\nimport { setTimeout } from 'node:timers/promises';\nimport { parentPort, workerData } from 'node:worker_threads';\nappendFileSync(${JSON.stringify(notes)}, \`start \${workerData.kind}\\n\`);\nawait setTimeout(200);\nappendFileSync(${JSON.stringify(notes)}, \`end \${workerData.kind}\\n\`);\nparentPort.postMessage({ error: 'no model' });\n`,
    );
    const both = serviceWith({ detectedTrips: new DetectedTripStore(storePath), historyDays: 28, modelScript: noting }, logs);

    lastStop(both.service, both.positions, drive(2, 8, 300));
    await both.service.timetableModels!.idle();
    await both.service.recordedModels!.idle();
    both.service.stop();

    expect(readFileSync(notes, 'utf8').trim().split('\n')).toStrictEqual(['start timetable', 'end timetable', 'start recorded', 'end recorded']);
    // A failed build frees the slot too.
    expect(logs.filter((line) => line.level >= 50)).toHaveLength(2);
  });

  it('stops a timetable build with the service', async () => {
    const logs: { level: number; msg: string }[] = [];
    const stopping = serviceWith({ modelScript: scriptWith('endless-timetable-worker.mjs', 'setInterval(() => {}, 1000);\n') }, logs);

    const beforeStop = lastStop(stopping.service, stopping.positions, drive(2, 8, 300));
    // The build requests the slot after the refresh's event-loop turn and gets it a turn later.
    await nextTurns(2);
    expect(logs.map((line) => line.msg).filter((message) => message.startsWith('building the timetable arrival model'))).toHaveLength(1);
    stopping.service.stop();
    await stopping.service.timetableModels!.idle();

    expect(beforeStop.stopId).toBe('s9');
    expect(stopping.service.timetableModels!.modelFor('2026-03-04')).toBeUndefined();
    expect(logs.filter((line) => line.level >= 50)).toStrictEqual([]);
  });

  it('predicts from running times until the timetable model lands', async () => {
    const logs: { level: number; msg: string }[] = [];
    const worker = serviceWith({ modelScript: script }, logs);
    const timetable = serviceWith({});
    const runningTimes = serviceWith({ modelScript: null, timetableModel: () => undefined });

    const expected = lastStop(timetable.service, timetable.positions, drive(2, 8, 300));
    const fromRunningTimes = lastStop(runningTimes.service, runningTimes.positions, drive(2, 8, 300));
    const beforeBuild = lastStop(worker.service, worker.positions, drive(2, 8, 300));
    await worker.service.timetableModels!.idle();
    const afterBuild = lastStop(worker.service, worker.positions, []);
    worker.service.stop();
    timetable.service.stop();
    runningTimes.service.stop();

    // The model corrects the running times by how bus-7 ran today, so the two predictions differ.
    expect(fromRunningTimes.predictedArrival).not.toBe(expected.predictedArrival);
    expect(beforeBuild).toStrictEqual(fromRunningTimes);
    expect(afterBuild).toStrictEqual(expected);
    expect(logs.map((line) => line.msg)).toContain('timetable arrival model built');
  });

  it('keeps the previous date\'s timetable model at a new date', async () => {
    const logs: { level: number; msg: string }[] = [];
    const worker = serviceWith({ modelScript: script }, logs);
    const timetable = serviceWith({});
    // Both services track bus-7 through the same days, so only their models can differ.
    lastStop(timetable.service, timetable.positions, drive(2, 8, 300));
    lastStop(worker.service, worker.positions, drive(2, 8, 300));
    await worker.service.timetableModels!.idle();
    const previousModel = worker.service.timetableModels!.modelFor('2026-03-04');

    try {
      now = EIGHT_AM + 3 * DAY_S + 300;
      const expected = lastStop(timetable.service, timetable.positions, drive(3, 8, 300));
      const atNewDate = lastStop(worker.service, worker.positions, drive(3, 8, 300));
      const whileBuilding = worker.service.timetableModels!.modelFor('2026-03-05');
      await worker.service.timetableModels!.idle();
      const newModel = worker.service.timetableModels!.modelFor('2026-03-05');
      const afterBuild = lastStop(worker.service, worker.positions, []);

      expect(previousModel).toBeDefined();
      expect(whileBuilding).toBe(previousModel);
      expect(newModel).toBeDefined();
      expect(newModel).not.toBe(previousModel);
      // Every day of the synthetic feed has the same timetable, so both dates' models predict the same.
      expect(atNewDate).toStrictEqual(expected);
      expect(afterBuild).toStrictEqual(expected);
    } finally {
      now = EIGHT_AM + 2 * DAY_S + 300;
      worker.service.stop();
      timetable.service.stop();
    }
  });

  it('retries a failed timetable build', async () => {
    const logs: { level: number; msg: string; err?: { message: string }; serviceDate?: string }[] = [];
    // The script fails its first timetable build and builds every later one.
    const marker = join(directory, 'timetable-failed-once');
    const failingOnce = scriptWith(
      'failing-once-worker.mjs',
      `import { existsSync, writeFileSync } from 'node:fs';\nimport { workerData } from 'node:worker_threads';\nif (workerData.kind === 'timetable' && !existsSync(${JSON.stringify(marker)})) {\n  writeFileSync(${JSON.stringify(marker)}, '');\n  throw new Error('timetable build failed');\n}\nawait import(${JSON.stringify(script.href)});\n`,
    );
    const retrying = serviceWith({ modelScript: failingOnce }, logs);
    const runningTimes = serviceWith({ modelScript: null, timetableModel: () => undefined });
    const buildsStarted = () => logs.filter((line) => line.msg.startsWith('building the timetable arrival model')).length;
    const models = retrying.service.timetableModels!;

    const expected = lastStop(runningTimes.service, runningTimes.positions, drive(2, 8, 300));
    lastStop(retrying.service, retrying.positions, drive(2, 8, 300));
    await models.idle();
    const afterFailure = lastStop(retrying.service, retrying.positions, []);
    const failedAt = now;
    try {
      now = failedAt + RETRY_AFTER_S - 1;
      const beforeRetry = models.modelFor('2026-03-04');
      await models.idle();
      const buildsBeforeRetry = buildsStarted();
      now = failedAt + RETRY_AFTER_S;
      models.modelFor('2026-03-04');
      await models.idle();

      expect(afterFailure).toStrictEqual(expected);
      const errors = logs.filter((line) => line.level >= 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.msg).toBe('timetable arrival model not built; the date predicts from the previous date\'s model or the running times');
      expect(errors[0]!.serviceDate).toBe('2026-03-04');
      expect(errors[0]!.err?.message).toBe('timetable build failed');
      expect(beforeRetry).toBeUndefined();
      expect(buildsBeforeRetry).toBe(1);
      expect(buildsStarted()).toBe(2);
      expect(models.modelFor('2026-03-04')).toBeDefined();
      expect(logs.map((line) => line.msg)).toContain('timetable arrival model built');
    } finally {
      now = failedAt;
      retrying.service.stop();
      runningTimes.service.stop();
    }
  });
});
