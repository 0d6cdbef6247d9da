import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUSFARE_SETTINGS } from '../evaluation/gtfs-avl-evaluation.js';
import { LiveDay } from '../live-day.js';
import { BusfareModel } from '../models/busfare-model.js';
import { FIXTURE_TIME_ZONE, detectedStopsOf, fixtureTrips, randomSource } from '../testing/recorded-trips.js';
import { PairHistory } from '../travel-history.js';
import { DetectedTripStore } from './detected-trip-store.js';
import { type RecordedModelBuild, type RecordedModelRequest, buildRecordedModelParts } from './recorded-model-parts.js';
import { BuilderClosedError, InThreadModelBuilder, type ModelBuilder } from './model-thread.js';
import { RETRY_AFTER_S, RecordedModels, type RecordedModelsOptions } from './recorded-models.js';

const HISTORY_DATES = ['2026-03-02', '2026-03-03', '2026-03-04'];
const TODAY = '2026-03-05';
const NOON = Date.UTC(2026, 2, 5, 4) / 1000;

interface LogLine {
  level: number;
  msg: string;
  serviceDate?: string;
  err?: { message: string };
}

/** A builder whose builds the test settles by hand. */
class ControlledBuilder implements ModelBuilder<'recorded'> {
  readonly builds: { request: RecordedModelRequest; resolve: (build: RecordedModelBuild) => void; reject: (error: Error) => void }[] = [];
  closed = false;

  build(request: RecordedModelRequest): Promise<RecordedModelBuild> {
    return new Promise((resolve, reject) => this.builds.push({ request, resolve, reject }));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

let directory: string;
let storePath: string;
let logs: LogLine[];
let now: number;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-recorded-models-'));
  storePath = join(directory, 'detected.sqlite');
  const random = randomSource(5);
  const store = new DetectedTripStore(storePath);
  for (const date of HISTORY_DATES) store.append(detectedStopsOf(fixtureTrips(date, random)));
  store.close();
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

beforeEach(() => {
  logs = [];
  now = NOON;
});

function modelsWith(builder: ModelBuilder<'recorded'>, warm?: RecordedModelsOptions['warm']): RecordedModels {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return new RecordedModels({ builder, storePath: () => storePath, historyDays: 28, timeZone: FIXTURE_TIME_ZONE, settings: DEFAULT_BUSFARE_SETTINGS, logger: pino({ level: 'info' }, sink), now: () => now, ...(warm ? { warm } : {}) });
}

/** Lets settled builds apply and the builds that modelFor() requested start. */
async function nextTurn(): Promise<void> {
  for (let turn = 0; turn < 3; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

function errorsLogged(): LogLine[] {
  return logs.filter((line) => line.level >= 50);
}

describe('RecordedModels in the calling thread', () => {
  it('predicts from the timetable until the model is built', async () => {
    const models = modelsWith(new InThreadModelBuilder('recorded'));

    expect(models.modelFor(TODAY)).toBeUndefined();
    await models.idle();
    const model = models.modelFor(TODAY);

    expect(model).toBeInstanceOf(BusfareModel);
    expect(logs.map((line) => line.msg)).toContain('arrival model learned from detected trips');
    expect(errorsLogged()).toStrictEqual([]);
  });

  it('builds the model of the stored trips', async () => {
    const models = modelsWith(new InThreadModelBuilder('recorded'));
    const store = new DetectedTripStore(storePath);
    const trips = store.tripsBefore(TODAY, 28, FIXTURE_TIME_ZONE);
    store.close();
    const direct = new BusfareModel(new PairHistory(trips), DEFAULT_BUSFARE_SETTINGS, trips);
    const request = { routeId: 'R', directionId: 0, tripId: 't', vehicleId: 'bus-2', dayType: trips[0]!.dayType, dayStart: NOON - 12 * 3600, arrivalsSoFar: [{ stopId: 'A', time: NOON }], now: NOON, targets: ['B', 'C', 'D', 'E'] };

    models.modelFor(TODAY);
    await models.idle();

    expect(models.modelFor(TODAY)!.predict(request, new LiveDay())).toStrictEqual(direct.predict(request, new LiveDay()));
  });

  it('keeps a date with one recorded date on the timetable', async () => {
    const models = modelsWith(new InThreadModelBuilder('recorded'));

    models.modelFor('2026-03-03');
    await models.idle();

    expect(models.modelFor('2026-03-03')).toBeUndefined();
    await models.idle();
    expect(logs.filter((line) => line.msg.startsWith('building'))).toHaveLength(1);
    expect(logs.map((line) => line.msg)).toContain('too few dates of detected trips; the date predicts from the timetable');
  });

  it('starts no build after stop', async () => {
    const builder = new InThreadModelBuilder('recorded');
    const models = modelsWith(builder);

    models.modelFor(TODAY);
    await models.stop();
    await models.idle();

    expect(models.modelFor(TODAY)).toBeUndefined();
    await expect(builder.build({ path: storePath, serviceDate: TODAY, historyDays: 28, timeZone: FIXTURE_TIME_ZONE, settings: DEFAULT_BUSFARE_SETTINGS })).rejects.toThrow(BuilderClosedError);
    expect(logs.filter((line) => line.msg.startsWith('building'))).toStrictEqual([]);
  });
});

describe('RecordedModels scheduling', () => {
  const built = (serviceDate: string): RecordedModelBuild => buildRecordedModelParts({ path: storePath, serviceDate, historyDays: 28, timeZone: FIXTURE_TIME_ZONE, settings: DEFAULT_BUSFARE_SETTINGS });

  it('builds the newest requested date first', async () => {
    const builder = new ControlledBuilder();
    const models = modelsWith(builder);

    models.modelFor('2026-03-04');
    models.modelFor(TODAY);
    await nextTurn();

    expect(builder.builds.map((build) => build.request.serviceDate)).toStrictEqual([TODAY]);
  });

  it('runs one build at a time', async () => {
    const builder = new ControlledBuilder();
    const models = modelsWith(builder);

    models.modelFor(TODAY);
    await nextTurn();
    models.modelFor('2026-03-04');
    models.modelFor(TODAY);
    await nextTurn();
    expect(builder.builds).toHaveLength(1);

    builder.builds[0]!.resolve(built(TODAY));
    await nextTurn();
    expect(models.modelFor(TODAY)).toBeInstanceOf(BusfareModel);
    expect(builder.builds.map((build) => build.request.serviceDate)).toStrictEqual([TODAY, '2026-03-04']);
  });

  it('drops a model of a date no longer current', async () => {
    const builder = new ControlledBuilder();
    const models = modelsWith(builder);

    models.modelFor(TODAY);
    await nextTurn();
    // Two days later the build of TODAY completes.
    models.modelFor('2026-03-07');
    builder.builds[0]!.resolve(built(TODAY));
    await nextTurn();

    expect(models.modelFor(TODAY)).toBeUndefined();
    expect(logs.map((line) => line.msg)).toContain('arrival model built for a date no longer current; dropped');
    expect(builder.builds.map((build) => build.request.serviceDate)).toStrictEqual([TODAY, '2026-03-07']);
  });

  it('keeps the model of the day before', async () => {
    const builder = new ControlledBuilder();
    const models = modelsWith(builder);

    models.modelFor(TODAY);
    await nextTurn();
    builder.builds[0]!.resolve(built(TODAY));
    await nextTurn();
    models.modelFor('2026-03-06');

    expect(models.modelFor(TODAY)).toBeInstanceOf(BusfareModel);
  });

  it('logs a failed build and retries it later', async () => {
    const builder = new ControlledBuilder();
    const models = modelsWith(builder);

    models.modelFor(TODAY);
    await nextTurn();
    builder.builds[0]!.reject(new Error('worker ran out of memory'));
    await nextTurn();

    expect(models.modelFor(TODAY)).toBeUndefined();
    const [error] = errorsLogged();
    expect(error?.msg).toBe('arrival model not built from detected trips; the date predicts from the timetable');
    expect(error?.serviceDate).toBe(TODAY);
    expect(error?.err?.message).toBe('worker ran out of memory');

    now += RETRY_AFTER_S - 1;
    models.modelFor(TODAY);
    await nextTurn();
    expect(builder.builds).toHaveLength(1);

    now += 1;
    models.modelFor(TODAY);
    await nextTurn();
    expect(builder.builds).toHaveLength(2);
  });

  it('logs parts that do not fit together', async () => {
    const builder = new ControlledBuilder();
    const models = modelsWith(builder);

    models.modelFor(TODAY);
    await nextTurn();
    const build = built(TODAY);
    if (build.kind === 'model') build.parts.vehicleIds.pop();
    builder.builds[0]!.resolve(build);
    await nextTurn();

    expect(models.modelFor(TODAY)).toBeUndefined();
    expect(errorsLogged()[0]?.err?.message).toMatch(/^invalid model parts: \d+ buses and \d+ history ratios$/);
  });

  it('logs a build that is not an object', async () => {
    const builder = new ControlledBuilder();
    const models = modelsWith(builder);

    models.modelFor(TODAY);
    await nextTurn();
    builder.builds[0]!.resolve(null as unknown as RecordedModelBuild);
    await nextTurn();

    await expect(models.idle()).resolves.toBeUndefined();
    expect(models.modelFor(TODAY)).toBeUndefined();
    expect(errorsLogged()).toHaveLength(1);
    expect(errorsLogged()[0]?.msg).toBe('arrival model not built from detected trips; the date predicts from the timetable');
    now += RETRY_AFTER_S;
    models.modelFor(TODAY);
    await nextTurn();
    expect(builder.builds).toHaveLength(2);
  });

  it('applies no build that completes after stop', async () => {
    const builder = new ControlledBuilder();
    const models = modelsWith(builder);

    models.modelFor(TODAY);
    await nextTurn();
    await models.stop();
    builder.builds[0]!.resolve(built(TODAY));
    await nextTurn();

    expect(builder.closed).toBe(true);
    expect(models.modelFor(TODAY)).toBeUndefined();
    await nextTurn();
    expect(builder.builds).toHaveLength(1);
  });

  it('applies a model once its caches are warm', async () => {
    const builder = new ControlledBuilder();
    let warmed: (() => void) | undefined;
    const warming: string[] = [];
    const models = modelsWith(builder, (serviceDate) => {
      warming.push(serviceDate);
      return new Promise((resolve) => (warmed = resolve));
    });

    models.modelFor(TODAY);
    await nextTurn();
    builder.builds[0]!.resolve(built(TODAY));
    await nextTurn();

    expect(warming).toEqual([TODAY]);
    expect(models.modelFor(TODAY)).toBeUndefined();
    warmed!();
    await models.idle();
    expect(models.modelFor(TODAY)).toBeInstanceOf(BusfareModel);
    expect(builder.builds).toHaveLength(1);
  });

  it('applies no model warmed after stop', async () => {
    const builder = new ControlledBuilder();
    let warmed: (() => void) | undefined;
    const models = modelsWith(builder, () => new Promise((resolve) => (warmed = resolve)));

    models.modelFor(TODAY);
    await nextTurn();
    builder.builds[0]!.resolve(built(TODAY));
    await nextTurn();
    await models.stop();
    warmed!();
    await models.idle();

    expect(models.modelFor(TODAY)).toBeUndefined();
    expect(logs.map((line) => line.msg)).not.toContain('arrival model learned from detected trips');
  });

  it('discards a model that fails to predict', async () => {
    const builder = new ControlledBuilder();
    const models = modelsWith(builder);
    models.modelFor(TODAY);
    await nextTurn();
    builder.builds[0]!.resolve(built(TODAY));
    await models.idle();
    expect(models.modelFor(TODAY)).toBeInstanceOf(BusfareModel);

    models.discard(TODAY, new RangeError('invalid pair index'));
    models.discard(TODAY, new RangeError('invalid pair index'));

    expect(models.modelFor(TODAY)).toBeUndefined();
    expect(errorsLogged().map((line) => line.msg)).toEqual(['arrival model learned from detected trips failed to predict; the date predicts from the timetable']);
    await nextTurn();
    expect(builder.builds).toHaveLength(1);
    now += RETRY_AFTER_S;
    models.modelFor(TODAY);
    await nextTurn();
    expect(builder.builds).toHaveLength(2);
  });

  it('starts no build without a store', async () => {
    const builder = new ControlledBuilder();
    const models = new RecordedModels({ builder, storePath: () => undefined, historyDays: 28, timeZone: FIXTURE_TIME_ZONE, settings: DEFAULT_BUSFARE_SETTINGS, logger: pino({ level: 'silent' }), now: () => now });

    expect(models.modelFor(TODAY)).toBeUndefined();
    await nextTurn();
    expect(builder.builds).toStrictEqual([]);
  });
});
