import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUSFARE_SETTINGS } from '../evaluation/gtfs-avl-evaluation.js';
import { type TripSchedule, buildTripSchedule } from '../matching/trip-patterns.js';
import { MULTI_ROUTE_TIME_ZONE, multiRouteFeed } from '../testing/multi-route-feed.js';
import { BuildSlot } from './build-slot.js';
import type { ModelBuild, ModelKind, ModelRequest } from './model-builds.js';
import { type ModelBuilder, WorkerModelBuilder } from './model-thread.js';
import { RecordedModels } from './recorded-models.js';
import { TimetableRequests, buildTimetableModelParts } from './timetable-model-parts.js';
import { TimetableModels } from './timetable-models.js';

const TODAY = '2026-03-04';
const NOON = Date.UTC(2026, 2, 4, 4) / 1000;
const DAYS = 7;

interface LogLine {
  level: number;
  msg: string;
  serviceDate?: string;
  err?: { message: string };
}

/** A builder whose builds the test settles by hand. */
class ControlledBuilder<K extends ModelKind> implements ModelBuilder<K> {
  readonly builds: { request: ModelRequest<K>; resolve: (build: ModelBuild<K>) => void; reject: (error: Error) => void }[] = [];

  build(request: ModelRequest<K>): Promise<ModelBuild<K>> {
    return new Promise((resolve, reject) => this.builds.push({ request, resolve, reject }));
  }

  async close(): Promise<void> {}
}

let directory: string;
let schedule: TripSchedule;
let logs: LogLine[];

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-build-slot-'));
  schedule = buildTripSchedule(multiRouteFeed());
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

beforeEach(() => {
  logs = [];
});

async function nextTurns(count = 3): Promise<void> {
  for (let turn = 0; turn < count; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

function logger() {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

/** Timetable and learned models of the multi-route feed that share one build slot. */
function sharedModels(timetableBuilder: ModelBuilder<'timetable'>, recordedBuilder: ModelBuilder<'recorded'>, slot = new BuildSlot()) {
  const common = { slot, logger: logger(), now: () => NOON };
  const timetable = new TimetableModels({ ...common, builder: timetableBuilder, requests: new TimetableRequests(schedule, DAYS), settings: DEFAULT_BUSFARE_SETTINGS });
  // The controlled builder never opens the store, so its path need not exist.
  const recorded = new RecordedModels({ ...common, builder: recordedBuilder, storePath: () => join(directory, 'detected.sqlite'), historyDays: 28, timeZone: MULTI_ROUTE_TIME_ZONE, settings: DEFAULT_BUSFARE_SETTINGS });
  return { slot, timetable, recorded };
}

/** Requests both models of a date as a refresh does: the learned one first, then the timetable one. */
function requestBoth(models: { timetable: TimetableModels; recorded: RecordedModels }, serviceDate = TODAY): void {
  models.recorded.modelFor(serviceDate);
  models.timetable.modelFor(serviceDate);
}

const tooFewDates: ModelBuild<'recorded'> = { kind: 'too-few-dates', trips: 0, dates: 1, readMs: 0, buildMs: 0 };

describe('BuildSlot', () => {
  it('grants a timetable build before a learned build requested first', async () => {
    const slot = new BuildSlot();
    const granted: string[] = [];
    const signal = new AbortController().signal;

    const recorded = slot.acquire('recorded', signal).then((release) => (granted.push('recorded'), release));
    const timetable = slot.acquire('timetable', signal).then((release) => (granted.push('timetable'), release));
    await nextTurns();

    expect(granted).toStrictEqual(['timetable']);
    (await timetable)!();
    await nextTurns();
    expect(granted).toStrictEqual(['timetable', 'recorded']);
    (await recorded)!();
    expect(slot.busy).toBe(false);
  });

  it('grants one holder at a time', async () => {
    const slot = new BuildSlot();
    const signal = new AbortController().signal;
    const first = await slot.acquire('recorded', signal);
    let second: (() => void) | undefined;
    void slot.acquire('recorded', signal).then((release) => (second = release));
    await nextTurns();

    expect(second).toBeUndefined();
    first!();
    await nextTurns();
    expect(second).toBeDefined();
    // A second call of the first holder's release leaves the slot with the second holder.
    first!();
    expect(slot.busy).toBe(true);
    second!();
    expect(slot.busy).toBe(false);
  });

  it('withdraws a waiting build whose signal aborts', async () => {
    const slot = new BuildSlot();
    const holder = await slot.acquire('timetable', new AbortController().signal);
    const stopping = new AbortController();
    const withdrawn = slot.acquire('recorded', stopping.signal);
    let next: (() => void) | undefined;
    void slot.acquire('recorded', new AbortController().signal).then((release) => (next = release));

    stopping.abort();
    await expect(withdrawn).resolves.toBeUndefined();
    holder!();
    await nextTurns();

    expect(next).toBeDefined();
    await expect(slot.acquire('timetable', stopping.signal)).resolves.toBeUndefined();
  });
});

describe('models sharing a build slot', () => {
  it('never build at once', async () => {
    const timetableBuilder = new ControlledBuilder<'timetable'>();
    const recordedBuilder = new ControlledBuilder<'recorded'>();
    const models = sharedModels(timetableBuilder, recordedBuilder);

    requestBoth(models);
    await nextTurns();
    expect(timetableBuilder.builds).toHaveLength(1);
    expect(recordedBuilder.builds).toHaveLength(0);
    // Later refreshes ask again while the timetable build runs.
    requestBoth(models);
    await nextTurns();
    expect(recordedBuilder.builds).toHaveLength(0);

    timetableBuilder.builds[0]!.resolve(buildTimetableModelParts(timetableBuilder.builds[0]!.request));
    await nextTurns();
    expect(recordedBuilder.builds.map((build) => build.request.serviceDate)).toStrictEqual([TODAY]);
    expect(models.slot.busy).toBe(true);

    recordedBuilder.builds[0]!.resolve(tooFewDates);
    await models.recorded.idle();
    await models.timetable.idle();
    expect(models.slot.busy).toBe(false);
    expect(models.timetable.modelFor(TODAY)).toBeDefined();
    expect(logs.filter((line) => line.level >= 50)).toStrictEqual([]);
  });

  it('start the learned build after a failed timetable build', async () => {
    const timetableBuilder = new ControlledBuilder<'timetable'>();
    const recordedBuilder = new ControlledBuilder<'recorded'>();
    const models = sharedModels(timetableBuilder, recordedBuilder);

    requestBoth(models);
    await nextTurns();
    timetableBuilder.builds[0]!.reject(new Error('timetable worker ran out of memory'));
    await nextTurns();

    expect(recordedBuilder.builds).toHaveLength(1);
    expect(logs.filter((line) => line.level >= 50).map((line) => line.err?.message)).toStrictEqual(['timetable worker ran out of memory']);
  });

  it('start the learned build after a timed-out timetable worker', async () => {
    const hung = join(directory, 'hung-worker.mjs');
    writeFileSync(hung, 'setInterval(() => {}, 1000);\n');
    const timetableBuilder = new WorkerModelBuilder(pathToFileURL(hung), 'timetable', 1000);
    const recordedBuilder = new ControlledBuilder<'recorded'>();
    const models = sharedModels(timetableBuilder, recordedBuilder);

    requestBoth(models);
    await nextTurns();
    expect(recordedBuilder.builds).toHaveLength(0);
    await models.timetable.idle();
    await nextTurns();

    expect(recordedBuilder.builds).toHaveLength(1);
    const errors = logs.filter((line) => line.level >= 50);
    expect(errors.map((line) => line.msg)).toStrictEqual(['timetable arrival model not built; the date predicts from the previous date\'s model or the running times']);
    expect(errors[0]!.err?.message).toBe('arrival model worker timed out after 1 s without a reply and was stopped');
    await models.timetable.stop();
    await models.recorded.stop();
  });

  it('start no waiting build after stop', async () => {
    const timetableBuilder = new ControlledBuilder<'timetable'>();
    const recordedBuilder = new ControlledBuilder<'recorded'>();
    const models = sharedModels(timetableBuilder, recordedBuilder);

    requestBoth(models);
    await nextTurns();
    await models.recorded.stop();
    await models.recorded.idle();
    timetableBuilder.builds[0]!.resolve(buildTimetableModelParts(timetableBuilder.builds[0]!.request));
    await models.timetable.idle();
    await nextTurns();

    expect(recordedBuilder.builds).toHaveLength(0);
    expect(models.slot.busy).toBe(false);
    expect(logs.map((line) => line.msg).filter((message) => message.startsWith('building the arrival model'))).toStrictEqual([]);
  });

  it('build the newest date requested during the wait', async () => {
    const timetableBuilder = new ControlledBuilder<'timetable'>();
    const recordedBuilder = new ControlledBuilder<'recorded'>();
    const models = sharedModels(timetableBuilder, recordedBuilder);

    requestBoth(models);
    await nextTurns();
    // The date changes while the learned build waits for the slot.
    models.recorded.modelFor('2026-03-05');
    timetableBuilder.builds[0]!.resolve(buildTimetableModelParts(timetableBuilder.builds[0]!.request));
    await nextTurns();

    expect(recordedBuilder.builds.map((build) => build.request.serviceDate)).toStrictEqual(['2026-03-05']);
  });
});
