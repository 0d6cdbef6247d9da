import { describe, expect, it } from 'vitest';
import { replayRequests, splitByDate } from '../evaluation/replay.js';
import { LiveDay } from '../live-day.js';
import { type ObservedTrip, dayTypeOf } from '../observed-trip.js';
import { randomSource } from '../testing/recorded-trips.js';
import { PairHistory } from '../travel-history.js';
import { fitBusfareSettings } from './busfare-fitting.js';
import { BusfareModel, DEFAULT_BUSFARE_STRUCTURE, neutralCoefficients } from './busfare-model.js';
import { DEFAULT_SIGNAL_PHASE_SETTINGS, SignalPhases, densityAt, moveTowardsPhases, phaseAdjusted } from './signal-phases.js';

const UTC8 = 8 * 3600;
const CYCLE_S = 97.3;
const GREEN_S = 30;
const DATES = ['2018-03-05', '2018-03-06', '2018-03-07', '2018-03-08', '2018-03-09', '2018-03-12', '2018-03-13', '2018-03-14'];

/**
 * Buses leave A every few minutes from 07:00 to 19:00 and reach B after 60 to 120 s. Between B and
 * C a fixed-time signal (cycle 97.3 s counted from midnight, green for its first 30 s) stops a bus
 * that comes in red until the next green. C is 10 s past the signal. With `signal` false the road
 * to C has no signal and takes about as long on average.
 */
function syntheticTrips(signal: boolean, seed = 7): ObservedTrip[] {
  const random = randomSource(seed);
  const trips: ObservedTrip[] = [];
  for (const date of DATES) {
    const dayStart = Date.parse(`${date}T00:00:00Z`) / 1000 - UTC8;
    for (let leave = 7 * 3600; leave < 19 * 3600; leave += 150 + 150 * random()) {
      const atB = leave + 60 + 60 * random();
      const atSignal = atB + 20 + 80 * random();
      const phase = ((atSignal % CYCLE_S) + CYCLE_S) % CYCLE_S;
      let through = atSignal + 33 * random();
      if (signal) through = phase < GREEN_S ? atSignal : atSignal + CYCLE_S - phase;
      const atC = through + 10;
      const vehicleId = `bus${trips.length % 6}`;
      trips.push({
        id: `${date}/${trips.length}`,
        routeId: 'R',
        directionId: 0,
        vehicleId,
        serviceDate: date,
        dayType: dayTypeOf(date),
        dayStart,
        arrivals: [
          { stopId: 'A', time: Math.round(dayStart + leave) },
          { stopId: 'B', time: Math.round(dayStart + atB) },
          { stopId: 'C', time: Math.round(dayStart + atC) },
        ],
      });
    }
  }
  return trips;
}

describe('SignalPhases', () => {
  it('finds the cycle before a stop', () => {
    const phases = new SignalPhases(syntheticTrips(true));

    const atC = phases.at('R', 0, 'C', 12 * 3600);
    expect(atC).toBeDefined();
    expect(atC!.cycleS).toBeCloseTo(CYCLE_S, 1);
    expect(atC!.concentration).toBeGreaterThan(0.5);
    expect(phases.at('R', 0, 'B', 12 * 3600)).toBeUndefined();
    expect(phases.at('R', 0, 'A', 12 * 3600)).toBeUndefined();
    expect(phases.at('R', 1, 'C', 12 * 3600)).toBeUndefined();
    expect(phases.stopCount).toBe(1);
  });

  it('finds no cycle in arrivals without a signal', () => {
    expect(new SignalPhases(syntheticTrips(false)).stopCount).toBe(0);
  });

  it('finds no cycle in a regular headway', () => {
    // Buses leave A every 120 s with a few seconds' jitter and need 60 to 80 s to B and 40 to
    // 100 s more to C, with no signal: the arrivals repeat with the timetable's headway only.
    const random = randomSource(11);
    const trips: ObservedTrip[] = [];
    for (const date of DATES) {
      const dayStart = Date.parse(`${date}T00:00:00Z`) / 1000 - UTC8;
      for (let leave = 7 * 3600; leave < 19 * 3600; leave += 120) {
        const atA = leave + 5 * random();
        const atB = atA + 60 + 20 * random();
        const atC = atB + 40 + 60 * random();
        trips.push({ id: `${date}/${trips.length}`, routeId: 'R', directionId: 0, vehicleId: `bus${trips.length % 20}`, serviceDate: date, dayType: dayTypeOf(date), dayStart, arrivals: [{ stopId: 'A', time: dayStart + atA }, { stopId: 'B', time: dayStart + atB }, { stopId: 'C', time: dayStart + atC }] });
      }
    }

    expect(new SignalPhases(trips).stopCount).toBe(0);
  });

  it('peaks where the red queue arrives', () => {
    const atC = new SignalPhases(syntheticTrips(true)).at('R', 0, 'C', 12 * 3600)!;
    const mean = atC.density.reduce((sum, value) => sum + value, 0) / atC.density.length;
    expect(mean).toBeCloseTo(1, 6);
    // A green starts at every multiple of 97.3 s after midnight. Buses held in red reach C 10 s
    // into the green, the others 10 to 40 s into it, and none in the rest of the cycle.
    const cycleStart = 43_200 - (43_200 % CYCLE_S);
    expect(densityAt(atC, cycleStart + 10)).toBeGreaterThan(3);
    expect(densityAt(atC, cycleStart + 30)).toBeGreaterThan(0.5);
    expect(densityAt(atC, cycleStart + 70)).toBeLessThan(0.2);
  });

  it('moves a red-time prediction to the green', () => {
    const atC = new SignalPhases(syntheticTrips(true)).at('R', 0, 'C', 12 * 3600)!;
    const cycleStart = 43_200 - (43_200 % CYCLE_S);
    const inRed = cycleStart + 10 + 70;

    const moved = phaseAdjusted(atC, inRed, 20);
    expect(moved - cycleStart).toBeGreaterThan(CYCLE_S + 5);
    expect(moved - cycleStart).toBeLessThan(CYCLE_S + 25);
    // A prediction where most buses arrive stays close to where it was.
    expect(Math.abs(phaseAdjusted(atC, cycleStart + 10, 20) - (cycleStart + 10))).toBeLessThan(3);
  });

  it('carries a share of the move on', () => {
    const atC = new SignalPhases(syntheticTrips(true)).at('R', 0, 'C', 12 * 3600)!;
    const cycleStart = 43_200 - (43_200 % CYCLE_S);
    const now = cycleStart - 100;
    // Target 0 (C) is due in red, 180 s from now; target 1 has no cycle.
    const travelS = [180, 300];

    moveTowardsPhases(travelS, now, 2, 0.5, (index) => (index === 0 ? atC : undefined));

    const move = travelS[0]! - 180;
    expect(move).toBeGreaterThan(10);
    expect(travelS[1]).toBeCloseTo(300 + 0.5 * move, 6);
  });

  it('keeps the targets in order after a move', () => {
    const atC = new SignalPhases(syntheticTrips(true)).at('R', 0, 'C', 12 * 3600)!;
    const cycleStart = 43_200 - (43_200 % CYCLE_S);
    const now = cycleStart - 100;
    // Target 0 (C) is due in red and waits for the next green. Target 1 has no cycle and is due
    // 5 s after C, so carrying half of C's move alone would put it before C.
    const travelS = [180, 185];

    moveTowardsPhases(travelS, now, 2, 0.5, (index) => (index === 0 ? atC : undefined));

    expect(travelS[0]! - 180).toBeGreaterThan(10);
    expect(travelS[1]).toBeGreaterThanOrEqual(travelS[0]!);
  });

  it('moves no target before the request', () => {
    // Arrivals come only in the 10 s before each 100 s cycle starts, so a bus due 3 s from now,
    // 1 s into a cycle, would be moved back into the past.
    const density = Float64Array.from({ length: 100 }, (_, bin) => (bin >= 90 ? 9.55 : 0.05));
    const phases = { cycleS: 100, originS: 0, density, concentration: 0.9 };
    const travelS = [3];

    moveTowardsPhases(travelS, 40_000 - 2, 2, 0.5, () => phases);

    expect(travelS[0]).toBeGreaterThanOrEqual(0);
  });

  it.each([0, -5, Number.NaN, 1e12, Number.POSITIVE_INFINITY])('leaves a prediction finite with spread %s', (scaleS) => {
    const density = Float64Array.from({ length: 100 }, (_, bin) => (bin < 10 ? 9.55 : 0.05));
    const phases = { cycleS: 100, originS: 0, density, concentration: 0.9 };

    const moved = phaseAdjusted(phases, 40_050, scaleS);

    expect(Number.isFinite(moved)).toBe(true);
    // A spread of many cycles weighs every phase alike, so the prediction stays within a cycle.
    expect(Math.abs(moved - 40_050)).toBeLessThanOrEqual(100);
  });

  it.each([
    [{ slotS: 0 }, /slotS 0/],
    [{ minCycleS: 240, maxCycleS: 40 }, /cycle range 240 to 40 s/],
    [{ kernelS: 0 }, /kernelS 0/],
    [{ minArrivals: 0 }, /minArrivals 0/],
    [{ minRayleigh: Number.NaN }, /minRayleigh NaN/],
    [{ uniformShare: 1 }, /uniformShare 1/],
  ])('rejects settings %j', (change, message) => {
    expect(() => new SignalPhases([], { ...DEFAULT_SIGNAL_PHASE_SETTINGS, ...change })).toThrow(message);
  });

  it('skips arrivals with times that are not finite', () => {
    const trips = syntheticTrips(true);
    const broken = trips.slice(0, 20).map((trip, index) => ({ ...trip, id: `broken/${index}`, arrivals: trip.arrivals.map((arrival) => ({ ...arrival, time: index % 2 ? Number.NaN : Number.POSITIVE_INFINITY })) }));

    const phases = new SignalPhases([...broken, ...trips]);

    expect(phases.at('R', 0, 'C', 12 * 3600)!.cycleS).toBeCloseTo(CYCLE_S, 1);
  });

  it('needs enough arrivals and a strong enough cycle', () => {
    const trips = syntheticTrips(true);
    expect(new SignalPhases(trips, { ...DEFAULT_SIGNAL_PHASE_SETTINGS, minArrivals: 100_000 }).stopCount).toBe(0);
    expect(new SignalPhases(trips, { ...DEFAULT_SIGNAL_PHASE_SETTINGS, minRayleigh: 1e9 }).stopCount).toBe(0);
  });
});

describe('busfare with signal phases', () => {
  it('chooses a spread on validation dates', () => {
    const fit = fitBusfareSettings(syntheticTrips(true));

    expect(fit.signalStops).toBe(1);
    expect(fit.settings.signalScale).toBeGreaterThan(0);
    const maeOf = (scale: number, carry: number) => fit.signalMoveMaeS.find((entry) => entry.scale === scale && entry.carry === carry)!.maeS;
    expect(maeOf(fit.settings.signalScale, fit.settings.signalCarry)).toBeLessThan(maeOf(0, 0));
  });

  it('keeps the spread at 0 where no stop has a cycle', () => {
    const fit = fitBusfareSettings(syntheticTrips(false));

    expect(fit.signalStops).toBe(0);
    expect(fit.settings.signalScale).toBe(0);
  });

  it('predicts the stop behind the signal better with the spread than without', () => {
    const { training, test } = splitByDate(syntheticTrips(true), 0.6);
    const history = new PairHistory(training);
    const settings = { ...DEFAULT_BUSFARE_STRUCTURE, coefficients: neutralCoefficients(), signalScale: 2, signalCarry: 0.5 };
    const withPhases = new BusfareModel(history, settings, training);
    const without = new BusfareModel(history, { ...settings, signalScale: 0 }, training);
    let errorWith = 0;
    let errorWithout = 0;
    for (const { request, live, actualS } of replayRequests(test)) {
      const index = request.targets.indexOf('C');
      if (index < 0 || request.targets.length !== 1) continue;
      errorWith += Math.abs(withPhases.predict(request, live)[index]! - actualS[index]!);
      errorWithout += Math.abs(without.predict(request, live)[index]! - actualS[index]!);
    }
    expect(errorWithout).toBeGreaterThan(0);
    expect(errorWith).toBeLessThan(errorWithout * 0.9);
  });

  it('ignores timetable histories', () => {
    const trips = syntheticTrips(true);
    const history = new PairHistory(trips);
    const settings = { ...DEFAULT_BUSFARE_STRUCTURE, coefficients: neutralCoefficients(), signalScale: 2, signalCarry: 0.5 };
    const bus = trips.at(-1)!;
    const request = { routeId: 'R', directionId: 0, tripId: bus.id, vehicleId: bus.vehicleId, dayType: bus.dayType, dayStart: bus.dayStart, arrivalsSoFar: bus.arrivals.slice(0, 2), now: bus.arrivals[1]!.time, targets: ['C'] };
    const live = new LiveDay([bus]);

    // Timetable times rounded to the minute would show a 60 s cycle of their own.
    const timetableOnly = new BusfareModel(history, settings).predict(request, live);
    const plain = new BusfareModel(history, { ...settings, signalScale: 0 }).predict(request, live);
    expect(timetableOnly).toEqual(plain);
  });
});
