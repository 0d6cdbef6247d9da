import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUSFARE_SETTINGS } from '../evaluation/gtfs-avl-evaluation.js';
import { LiveDay } from '../live-day.js';
import { requestAt } from '../evaluation/replay.js';
import { fitBusfareSettings } from '../models/busfare-fitting.js';
import { BusfareModel } from '../models/busfare-model.js';
import { SignalPhases } from '../models/signal-phases.js';
import type { ObservedTrip } from '../observed-trip.js';
import { FIXTURE_STOPS, FIXTURE_TIME_ZONE, detectedStopsOf, fixtureTrips, randomSource } from '../testing/recorded-trips.js';
import { PairHistory } from '../travel-history.js';
import { DetectedTripStore, DetectedTripStoreError } from './detected-trip-store.js';
import { type RecordedModelBuild, type RecordedModelRequest, assembleRecordedModel, buildRecordedModelParts, recordedModelBuffers } from './recorded-model-parts.js';

const HISTORY_DATES = ['2026-03-02', '2026-03-03', '2026-03-04'];
const TODAY = '2026-03-05';
const settings = DEFAULT_BUSFARE_SETTINGS;

let directory: string;
let storePath: string;
let today: ObservedTrip[];

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-model-parts-'));
  storePath = join(directory, 'detected.sqlite');
  const random = randomSource(11);
  const store = new DetectedTripStore(storePath);
  for (const date of HISTORY_DATES) store.append(detectedStopsOf(fixtureTrips(date, random)));
  store.close();
  today = fixtureTrips(TODAY, random);
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

function requestOf(path: string, serviceDate = TODAY): RecordedModelRequest {
  return { path, serviceDate, historyDays: 28, timeZone: FIXTURE_TIME_ZONE, settings };
}

function storedTrips(): ObservedTrip[] {
  const store = new DetectedTripStore(storePath);
  try {
    return store.tripsBefore(TODAY, 28, FIXTURE_TIME_ZONE);
  } finally {
    store.close();
  }
}

/** Requests from every stop of every third trip of today, with the day's trips up to then as the live day. */
function predictionsOf(model: BusfareModel): number[][] {
  const live = new LiveDay(today);
  const result: number[][] = [];
  today.forEach((trip, index) => {
    if (index % 3 !== 0) return;
    for (let at = 0; at < FIXTURE_STOPS.length - 1; at += 1) {
      result.push(model.predict(requestAt(trip, at, FIXTURE_STOPS.slice(at + 1)), live));
    }
  });
  return result;
}

function modelParts(build: RecordedModelBuild) {
  if (build.kind !== 'model') throw new Error(`expected a model, got ${build.kind}`);
  return build.parts;
}

describe('buildRecordedModelParts', () => {
  it('counts the trips and dates it read', () => {
    const build = buildRecordedModelParts(requestOf(storePath));

    expect(build.kind).toBe('model');
    expect(build.dates).toBe(3);
    expect(build.trips).toBe(storedTrips().length);
  });

  it('finds the signal phases before stop D', () => {
    const signals = modelParts(buildRecordedModelParts(requestOf(storePath))).signals!;

    expect(signals.stopKeys).toContain('0|R|D');
    expect(new SignalPhases(signals, settings.signals).at('R', 0, 'D', 12 * 3600)?.cycleS).toBeCloseTo(90, 0);
  });

  it('fits the settings when none are given', () => {
    const trips = storedTrips();
    const fitted = fitBusfareSettings(trips);
    const { settings: _given, ...request } = requestOf(storePath);

    const parts = modelParts(buildRecordedModelParts(request));

    expect(parts.settings).toStrictEqual(fitted.settings);
    expect(parts.settings.coefficients).not.toStrictEqual(DEFAULT_BUSFARE_SETTINGS.coefficients);
    expect(parts.fit?.validationDates).toEqual(['2026-03-04']);
    expect(parts.fit?.validationMaeS).toStrictEqual(fitted.validationMaeS);
    expect(predictionsOf(assembleRecordedModel(parts))).toStrictEqual(predictionsOf(new BusfareModel(new PairHistory(trips), fitted.settings, trips)));
  });

  it('keeps the settings it is given', () => {
    const parts = modelParts(buildRecordedModelParts(requestOf(storePath)));

    expect(parts.settings).toStrictEqual(settings);
    expect(parts.fit).toBeUndefined();
  });

  it('returns no model for fewer than two dates', () => {
    const build = buildRecordedModelParts(requestOf(storePath, '2026-03-03'));

    expect(build.kind).toBe('too-few-dates');
    expect(build.dates).toBe(1);
  });

  it('rejects a missing store file', () => {
    expect(() => buildRecordedModelParts(requestOf(join(directory, 'missing.sqlite')))).toThrow(DetectedTripStoreError);
  });

  it('rejects a file that is not a store', () => {
    const corrupt = join(directory, 'corrupt.sqlite');
    writeFileSync(corrupt, 'not a database, just text that is long enough to fill a header page');

    expect(() => buildRecordedModelParts(requestOf(corrupt))).toThrow(/detected trips not read from .*corrupt\.sqlite: file is not a database/);
  });
});

describe('assembleRecordedModel', () => {
  it('predicts as a model built in one thread', () => {
    const trips = storedTrips();
    const direct = new BusfareModel(new PairHistory(trips), settings, trips);
    const assembled = assembleRecordedModel(modelParts(buildRecordedModelParts(requestOf(storePath))));

    const expected = predictionsOf(direct);
    expect(expected.length).toBeGreaterThan(100);
    expect(predictionsOf(assembled)).toStrictEqual(expected);
  });

  it('predicts the same after a transfer', async () => {
    const trips = storedTrips();
    const direct = new BusfareModel(new PairHistory(trips), settings, trips);
    const build = buildRecordedModelParts(requestOf(storePath));
    const buffers = recordedModelBuffers(build);
    const channel = new MessageChannel();
    const received = new Promise<RecordedModelBuild>((resolve) => channel.port2.once('message', resolve));

    channel.port1.postMessage(build, buffers);
    const arrived = await received;
    channel.port1.close();

    // Five history columns and five signal columns; a transferred buffer is detached where it was sent from.
    expect(buffers).toHaveLength(10);
    expect(buffers.every((buffer) => buffer.byteLength === 0)).toBe(true);
    expect(predictionsOf(assembleRecordedModel(modelParts(arrived)))).toStrictEqual(predictionsOf(direct));
  });

  it('uses the signal phases and bus ratios', () => {
    // Without them the predictions differ, so the equality above covers both parts.
    const trips = storedTrips();
    const history = new PairHistory(trips);
    const withTerms = predictionsOf(new BusfareModel(history, settings, trips));

    expect(predictionsOf(new BusfareModel(history, settings, { busHistory: new Map(), signals: undefined }))).not.toStrictEqual(withTerms);
    expect(predictionsOf(new BusfareModel(history, settings, { busHistory: new Map(), signals: new SignalPhases(trips, settings.signals) }))).not.toStrictEqual(withTerms);
  });

  it('rejects history columns of different lengths', () => {
    const parts = modelParts(buildRecordedModelParts(requestOf(storePath)));
    parts.history.duration = parts.history.duration.subarray(1);

    expect(() => assembleRecordedModel(parts)).toThrow(/invalid travel history parts: \d+ pair keys, \d+ pair starts, (\d+) times of day, (?!\1)\d+ durations/);
  });

  it('rejects signal columns of different lengths', () => {
    const parts = modelParts(buildRecordedModelParts(requestOf(storePath)));
    parts.signals!.density = parts.signals!.density.subarray(1);

    expect(() => assembleRecordedModel(parts)).toThrow(/invalid signal phase parts: \d+ stops of 25 slots, \d+ cycles, \d+ density starts and \d+ density values/);
  });

  it('rejects bus ratios without their buses', () => {
    const parts = modelParts(buildRecordedModelParts(requestOf(storePath)));
    parts.vehicleIds.pop();

    expect(() => assembleRecordedModel(parts)).toThrow('invalid model parts: 5 buses and 6 history ratios');
  });
});

describe('PairHistory parts', () => {
  it('round-trips every sample', () => {
    const trips = storedTrips();
    const history = new PairHistory(trips);
    const copy = new PairHistory(new PairHistory(trips).toParts());

    expect(copy.pairCount).toBe(history.pairCount);
    expect(copy.serviceDates).toStrictEqual(history.serviceDates);
    for (const [from, to] of [['A', 'B'], ['A', 'E'], ['C', 'D']]) {
      const key = `R|0|${from}|${to}`;
      expect(copy.samples(key)).toStrictEqual(history.samples(key));
      expect(copy.pairIndex(key)).toBe(history.pairIndex(key));
    }
  });

  it('round-trips an empty history', () => {
    const copy = new PairHistory(new PairHistory([]).toParts());

    expect(copy.pairCount).toBe(0);
    expect(copy.samples('R|0|A|B')).toStrictEqual([]);
  });
});
