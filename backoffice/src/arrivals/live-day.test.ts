import { describe, expect, it } from 'vitest';
import { LiveDay, type Run } from './live-day.js';
import { HistoricalTravelTimes } from './models/historical-travel-times.js';
import { TodayRatio } from './models/today-ratio.js';
import { VehicleDayRatio } from './models/vehicle-ratio.js';
import { type ObservedTrip, dayTypeOf } from './observed-trip.js';
import { PairHistory } from './travel-history.js';

const DATE = '2018-03-08';
const DAY_START = Date.parse(`${DATE}T00:00:00Z`) / 1000 - 8 * 3600;

function trip(id: string, routeId: string, startHour: number, runS: number[]): ObservedTrip {
  let time = DAY_START + startHour * 3600;
  const arrivals = [{ stopId: 'A', time }];
  runS.forEach((run, index) => {
    time += run;
    arrivals.push({ stopId: String.fromCharCode(66 + index), time });
  });
  return { id, routeId, directionId: 0, vehicleId: id, serviceDate: DATE, dayType: dayTypeOf(DATE), dayStart: DAY_START, arrivals };
}

const complete = [trip('t1', 'R', 8, [100, 130, 90]), trip('t2', 'R', 8.01, [150, 80, 140]), trip('t3', 'S', 8, [60, 60, 60]), trip('t4', 'R', 8.03, [95, 300])];

/** Builds a day from the same trips appended one arrival at a time, interleaved in time order. */
function appended(): LiveDay {
  const live = new LiveDay();
  const shells = complete.map((entry) => ({ ...entry, arrivals: [] as ObservedTrip['arrivals'] }));
  const steps = complete.flatMap((entry, tripIndex) => entry.arrivals.map((arrival) => ({ tripIndex, arrival })));
  steps.sort((a, b) => a.arrival.time - b.arrival.time);
  // Swapping two neighbours delivers one arrival after a later one, as a late fix does.
  [steps[3], steps[4]] = [steps[4]!, steps[3]!];
  for (const { tripIndex, arrival } of steps) live.append(shells[tripIndex]!, arrival);
  return live;
}

function runsOf(live: LiveDay, routeId: string): Run[] {
  const runs = live.runsInOrder(routeId);
  return Array.from({ length: runs.length }, (_, index) => runs.run(index));
}

describe('LiveDay.append', () => {
  it('answers like a day built from the whole trips', () => {
    const whole = new LiveDay(complete);
    const grown = appended();
    const now = DAY_START + 8 * 3600 + 400;
    expect([...grown.runsCompleted(now, -Infinity)]).toEqual([...whole.runsCompleted(now, -Infinity)]);
    expect(grown.recentTraversals('R', 0, 'A', 'C', now, 5)).toEqual(whole.recentTraversals('R', 0, 'A', 'C', now, 5));
    expect(runsOf(grown, 'R')).toEqual(runsOf(whole, 'R'));
    const routeRuns = grown.runsInOrder('R');
    expect(Array.from({ length: routeRuns.length }, (_, index) => routeRuns.arrival(index))).toEqual(runsOf(whole, 'R').map((run) => run.arrival));
    expect(grown.runsInOrder('S')).toHaveLength(3);
  });

  it('counts revisions per route and reports the first run an append changed', () => {
    const live = new LiveDay();
    const first = { ...complete[0]!, arrivals: [] as ObservedTrip['arrivals'] };
    const second = { ...complete[1]!, arrivals: [] as ObservedTrip['arrivals'] };
    live.append(first, complete[0]!.arrivals[0]!);
    live.append(first, complete[0]!.arrivals[1]!);
    live.append(first, complete[0]!.arrivals[2]!);
    expect(live.revision('R')).toBe(2);
    expect(live.revision('S')).toBe(0);
    live.append(second, complete[1]!.arrivals[0]!);
    live.append(second, complete[1]!.arrivals[1]!);
    // t2 reaches B (08:00:36 + 150 s) before t1 reaches C, so its run sorts first.
    expect(live.firstChangedRunSince('R', 2)).toBe(1);
    expect(live.firstChangedRunSince('R', 3)).toBe(live.runsInOrder('R').length);
  });
});

describe('LiveDay arrivals', () => {
  it('keeps appended arrivals itself', () => {
    const live = new LiveDay();
    const shell = { ...complete[0]!, arrivals: [] as ObservedTrip['arrivals'] };
    for (const arrival of complete[0]!.arrivals) live.append(shell, { ...arrival });
    expect(shell.arrivals).toEqual([]);
    expect(live.arrivalsOf(shell)).toEqual(complete[0]!.arrivals);
    expect(live.arrivalsOf(shell, 2)).toEqual(complete[0]!.arrivals.slice(0, 2));
    expect(live.arrivalsOf(complete[1]!)).toEqual([]);
  });

  it('returns the arrivals of a trip built by the constructor', () => {
    const live = new LiveDay(complete);
    expect(live.arrivalsOf(complete[3]!)).toEqual(complete[3]!.arrivals);
  });

  it('departs a loop from its last arrival at the stop', () => {
    // A loop A → B → A → C: the run from A to C starts at the second arrival at A.
    const start = DAY_START + 9 * 3600;
    const loop: ObservedTrip = { ...complete[0]!, id: 'loop', arrivals: [] };
    const arrivals = [
      { stopId: 'A', time: start },
      { stopId: 'B', time: start + 100 },
      { stopId: 'A', time: start + 250 },
      { stopId: 'C', time: start + 400 },
    ];
    const grown = new LiveDay();
    for (const arrival of arrivals) grown.append(loop, arrival);
    const whole = new LiveDay([{ ...loop, arrivals }]);
    for (const live of [grown, whole]) {
      expect(live.recentTraversals('R', 0, 'A', 'C', start + 400, 5)).toEqual([{ tripId: 'loop', vehicleId: 't1', departure: start + 250, arrival: start + 400 }]);
      // B comes before the last arrival at A, so no run from A reaches it.
      expect(live.recentTraversals('R', 0, 'A', 'B', start + 400, 5)).toEqual([]);
    }
  });
});

describe('TodayRatio on a growing day', () => {
  it('gives the same ratio as on the whole day after every append', () => {
    const history = new PairHistory([{ ...trip('h', 'R', 8, [100, 100, 100]), serviceDate: '2018-03-07', dayType: 'weekday', dayStart: DAY_START - 86_400, arrivals: trip('h', 'R', 8, [100, 100, 100]).arrivals.map((arrival) => ({ ...arrival, time: arrival.time - 86_400 })) }]);
    const travelTimes = new HistoricalTravelTimes(history, { windowS: 1800, minSamples: 1 });
    const settings = { timeConstantS: 600, priorWeight: 1 };
    const grown = appended();
    const incremental = new TodayRatio(travelTimes, settings);
    const now = DAY_START + 8 * 3600 + 600;
    // Read the ratio once before the last append, so the next read must extend the kept sums.
    const last = new LiveDay();
    const shell = { ...complete[3]!, arrivals: [] as ObservedTrip['arrivals'] };
    last.append(shell, complete[3]!.arrivals[0]!);
    last.append(shell, complete[3]!.arrivals[1]!);
    incremental.logRatio(last, 'R', now);
    last.append(shell, complete[3]!.arrivals[2]!);
    expect(incremental.logRatio(last, 'R', now)).toBeCloseTo(new TodayRatio(travelTimes, settings).logRatio(new LiveDay([complete[3]!]), 'R', now), 12);
    expect(incremental.logRatio(grown, 'R', now)).toBeCloseTo(new TodayRatio(travelTimes, settings).logRatio(new LiveDay(complete), 'R', now), 12);
    expect(incremental.logRatio(grown, 'R', now)).not.toBe(0);
  });
});

describe('VehicleDayRatio on a growing day', () => {
  it('matches the whole day per bus', () => {
    const yesterday = trip('h', 'R', 8, [100, 100, 100]);
    const history = new PairHistory([{ ...yesterday, serviceDate: '2018-03-07', dayStart: DAY_START - 86_400, arrivals: yesterday.arrivals.map((arrival) => ({ ...arrival, time: arrival.time - 86_400 })) }]);
    const travelTimes = new HistoricalTravelTimes(history, { windowS: 1800, minSamples: 1 });
    const incremental = new VehicleDayRatio(travelTimes, 2);
    const now = DAY_START + 8 * 3600 + 600;
    const grown = new LiveDay();
    const shells = complete.map((entry) => ({ ...entry, arrivals: [] as ObservedTrip['arrivals'] }));
    const steps = complete.flatMap((entry, tripIndex) => entry.arrivals.map((arrival) => ({ tripIndex, arrival })));
    steps.sort((a, b) => a.arrival.time - b.arrival.time);
    [steps[3], steps[4]] = [steps[4]!, steps[3]!];
    for (const { tripIndex, arrival } of steps) {
      grown.append(shells[tripIndex]!, arrival);
      // Reading after every append makes each later read extend the kept sums.
      incremental.logRatio(grown, 'R', 't1', now);
    }
    const whole = new VehicleDayRatio(travelTimes, 2);
    for (const vehicleId of ['t1', 't2', 't4']) {
      expect(incremental.logRatio(grown, 'R', vehicleId, now)).toBeCloseTo(whole.logRatio(new LiveDay(complete), 'R', vehicleId, now), 12);
    }
    // t2 ran 150, 80 and 140 s against 100 s each: (ln 1.5 + ln 0.8 + ln 1.4) / (3 + 2).
    expect(incremental.logRatio(grown, 'R', 't2', now)).toBeCloseTo((Math.log(1.5) + Math.log(0.8) + Math.log(1.4)) / 5, 12);
    expect(incremental.logRatio(grown, 'R', 'nobody', now)).toBe(0);
    expect(incremental.logRatio(grown, 'R', 't2', DAY_START)).toBe(0);
  });

  it('matches the recent ratio per bus', () => {
    const yesterday = trip('h', 'R', 8, [100, 100, 100]);
    const history = new PairHistory([{ ...yesterday, serviceDate: '2018-03-07', dayStart: DAY_START - 86_400, arrivals: yesterday.arrivals.map((arrival) => ({ ...arrival, time: arrival.time - 86_400 })) }]);
    const travelTimes = new HistoricalTravelTimes(history, { windowS: 1800, minSamples: 1 });
    const recent = { timeConstantS: 300, priorWeight: 1 };
    const incremental = new VehicleDayRatio(travelTimes, 2, recent);
    const grown = appended();
    const now = DAY_START + 8 * 3600 + 600;
    for (const vehicleId of ['t1', 't2', 't4']) {
      expect(incremental.recentLogRatio(grown, 'R', vehicleId, now)).toBeCloseTo(new VehicleDayRatio(travelTimes, 2, recent).recentLogRatio(new LiveDay(complete), 'R', vehicleId, now), 12);
    }
    // t2 ran 150, 80 and 140 s against 100 s each, reaching B, C and D at 150, 230 and 370 s past 08:00:36.
    const start = DAY_START + 8.01 * 3600;
    const runs = [
      [Math.log(1.5), start + 150],
      [Math.log(0.8), start + 230],
      [Math.log(1.4), start + 370],
    ] as const;
    const weights = runs.map(([, arrival]) => Math.exp(-(now - arrival) / 300));
    const expected = runs.reduce((sum, [ratio], index) => sum + weights[index]! * ratio, 0) / (weights.reduce((sum, weight) => sum + weight, 0) + 1);
    expect(incremental.recentLogRatio(grown, 'R', 't2', now)).toBeCloseTo(expected, 12);
    expect(incremental.recentLogRatio(grown, 'R', 'nobody', now)).toBe(0);
    expect(incremental.recentLogRatio(grown, 'R', 't2', DAY_START)).toBe(0);
    // Without recent settings the recent ratio is the day's mean.
    const plain = new VehicleDayRatio(travelTimes, 2);
    expect(plain.recentLogRatio(grown, 'R', 't2', now)).toBeCloseTo(plain.logRatio(grown, 'R', 't2', now), 12);
  });
});
