import { describe, expect, it } from 'vitest';
import { LiveDay } from '../live-day.js';
import { type ObservedTrip, dayTypeOf } from '../observed-trip.js';
import { PairHistory } from '../travel-history.js';
import type { PredictionRequest } from './arrival-model.js';
import { BusfareModel, neutralCoefficients } from './busfare-model.js';
import { HistoricalMedianModel } from './historical-median-model.js';
import { HistoricalTravelTimes } from './historical-travel-times.js';
import { KalmanModel } from './kalman-model.js';
import { LastVehicleModel } from './last-vehicle-model.js';

const UTC8 = 8 * 3600;

function trip(id: string, serviceDate: string, startHour: number, runS: number[]): ObservedTrip {
  const dayStart = Date.parse(`${serviceDate}T00:00:00Z`) / 1000 - UTC8;
  let time = dayStart + startHour * 3600;
  const arrivals = [{ stopId: 'A', time }];
  runS.forEach((run, index) => {
    time += run;
    arrivals.push({ stopId: String.fromCharCode(66 + index), time });
  });
  return { id, routeId: 'R', directionId: 0, vehicleId: id, serviceDate, dayType: dayTypeOf(serviceDate), dayStart, arrivals };
}

function requestAt(current: ObservedTrip, index: number, targets: string[]): PredictionRequest {
  return {
    routeId: 'R',
    directionId: 0,
    tripId: current.id,
    vehicleId: current.vehicleId,
    dayType: current.dayType,
    dayStart: current.dayStart,
    arrivalsSoFar: current.arrivals.slice(0, index + 1),
    now: current.arrivals[index]!.time,
    targets,
  };
}

// Three weekdays of history: A→B takes 100, 120 and 140 s at 08:00.
const history = new PairHistory([trip('h1', '2018-03-05', 8, [100, 200]), trip('h2', '2018-03-06', 8, [120, 200]), trip('h3', '2018-03-07', 8, [140, 200])]);
const travelTimes = new HistoricalTravelTimes(history, { windowS: 1800, minSamples: 1 });

describe('HistoricalMedianModel', () => {
  it('predicts the median run at this time of day', () => {
    const bus = trip('bus', '2018-03-08', 8, [300, 300]);

    const predicted = new HistoricalMedianModel(travelTimes).predict(requestAt(bus, 0, ['B', 'C']), new LiveDay([bus]));

    expect(predicted).toEqual([120, 320]);
  });

  it('returns NaN for a pair never run', () => {
    const bus = trip('bus', '2018-03-08', 8, [300]);

    const [predicted] = new HistoricalMedianModel(travelTimes).predict(requestAt(bus, 0, ['Z']), new LiveDay([bus]));

    expect(predicted).toBeNaN();
  });
});

describe('LastVehicleModel', () => {
  it('uses the last bus that ran the pair today', () => {
    const ahead = trip('ahead', '2018-03-08', 7.9, [180, 200]);
    const bus = trip('bus', '2018-03-08', 8, [300]);

    const [predicted] = new LastVehicleModel(travelTimes).predict(requestAt(bus, 0, ['B']), new LiveDay([ahead, bus]));

    expect(predicted).toBe(180);
  });

  it('ignores a bus that reaches the target after now', () => {
    // This bus left A 10 s before the request and reaches B later: it must not be visible.
    const ahead = trip('ahead', '2018-03-08', 8 - 10 / 3600, [500]);
    const bus = trip('bus', '2018-03-08', 8, [300]);

    const [predicted] = new LastVehicleModel(travelTimes).predict(requestAt(bus, 0, ['B']), new LiveDay([ahead, bus]));

    expect(predicted).toBe(120);
  });
});

describe('KalmanModel', () => {
  it('blends the last bus and the historical mean with the filter gain', () => {
    const ahead = trip('ahead', '2018-03-08', 7.9, [180]);
    const bus = trip('bus', '2018-03-08', 8, [300]);

    const [predicted] = new KalmanModel(history, travelTimes).predict(requestAt(bus, 0, ['B']), new LiveDay([ahead, bus]));

    // Mean 120 s, variance 800/3; with the initial error equal to the variance the gain is 2/3.
    expect(predicted).toBeCloseTo(180 / 3 + (2 / 3) * 120, 6);
  });

  it('predicts the historical mean before any bus ran the pair today', () => {
    const bus = trip('bus', '2018-03-08', 8, [300]);

    const [predicted] = new KalmanModel(history, travelTimes).predict(requestAt(bus, 0, ['B']), new LiveDay([bus]));

    expect(predicted).toBeCloseTo(120, 6);
  });
});

describe('BusfareModel', () => {
  const settings = { history: { windowS: 1800, minSamples: 1 }, today: { timeConstantS: 1800, priorWeight: 0 }, ownMaxAgeS: 2400 };

  it('equals the historical median with neutral coefficients', () => {
    const bus = trip('bus', '2018-03-08', 8, [300, 300]);

    const predicted = new BusfareModel(history, { ...settings, coefficients: neutralCoefficients() }).predict(requestAt(bus, 0, ['B', 'C']), new LiveDay([bus]));

    expect(predicted).toEqual([120, 320]);
  });

  it('scales by today when buses ran slower than history', () => {
    // The bus ahead ran A→B in 240 s against a median of 120 s: log ratio ln 2.
    const ahead = trip('ahead', '2018-03-08', 7.9, [240]);
    const bus = trip('bus', '2018-03-08', 8, [300]);
    const coefficients = neutralCoefficients();
    coefficients['0-5'] = { today: 1, own: 0 };

    const [predicted] = new BusfareModel(history, { ...settings, coefficients }).predict(requestAt(bus, 0, ['B']), new LiveDay([ahead, bus]));

    const age = bus.arrivals[0]!.time - ahead.arrivals[1]!.time;
    expect(age).toBeGreaterThan(0);
    expect(predicted).toBeCloseTo(240, 6);
  });
});
