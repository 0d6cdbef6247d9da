import { describe, expect, it } from 'vitest';
import { LiveDay } from '../live-day.js';
import { type ObservedTrip, dayTypeOf } from '../observed-trip.js';
import { PairHistory } from '../travel-history.js';
import { requestAt } from '../evaluation/replay.js';
import { HORIZON_BANDS, horizonBandOf } from '../evaluation/horizon-bands.js';
import { BUSFARE_FEATURES, type BusfareFeature, BusfareModel, SHORT_HORIZON_TERMS, neutralCoefficients } from './busfare-model.js';
import { fitBusfareSettings } from './busfare-fitting.js';
import { HistoricalMedianModel } from './historical-median-model.js';
import { HistoricalTravelTimes } from './historical-travel-times.js';
import { DEFAULT_SIGNAL_PHASE_SETTINGS } from './signal-phases.js';
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
  const settings = {
    history: { windowS: 1800, minSamples: 1 },
    narrowWindowS: 900,
    wideWindowS: 3600,
    today: { timeConstantS: 1800, priorWeight: 0 },
    todayLong: { timeConstantS: 7200, priorWeight: 0 },
    busHistoryPriorRuns: 0,
    busTodayPriorRuns: 0,
    busRecent: { timeConstantS: 1800, priorWeight: 0 },
    signals: DEFAULT_SIGNAL_PHASE_SETTINGS,
    signalScale: 0,
    signalCarry: 0,
  };
  const only = (feature: BusfareFeature, weight: number) => {
    const coefficients = neutralCoefficients();
    for (const band of HORIZON_BANDS) coefficients[band] = { ...coefficients[band], [feature]: weight };
    return coefficients;
  };

  it('equals the historical median with neutral coefficients', () => {
    const bus = trip('bus', '2018-03-08', 8, [300, 300]);

    const predicted = new BusfareModel(history, { ...settings, coefficients: neutralCoefficients() }).predict(requestAt(bus, 0, ['B', 'C']), new LiveDay([bus]));

    expect(predicted).toEqual([120, 320]);
  });

  it('scales by today when buses ran slower than history', () => {
    // The bus ahead ran A→B in 240 s against a median of 120 s: log ratio ln 2.
    const ahead = trip('ahead', '2018-03-08', 7.9, [240]);
    const bus = trip('bus', '2018-03-08', 8, [300]);

    const [predicted] = new BusfareModel(history, { ...settings, coefficients: only('routeToday', 1) }).predict(requestAt(bus, 0, ['B']), new LiveDay([ahead, bus]));

    const age = bus.arrivals[0]!.time - ahead.arrivals[1]!.time;
    expect(age).toBeGreaterThan(0);
    expect(predicted).toBeCloseTo(240, 6);
  });

  it('scales by the own runs today', () => {
    // Earlier today this bus ran A→B in 60 s (median 120 s), another bus in 240 s.
    const earlier = { ...trip('earlier', '2018-03-08', 7.5, [60]), vehicleId: 'bus' };
    const other = trip('other', '2018-03-08', 7.6, [240]);
    const bus = trip('bus', '2018-03-08', 8, [300]);

    const [predicted] = new BusfareModel(history, { ...settings, coefficients: only('busToday', 1) }).predict(requestAt(bus, 0, ['B']), new LiveDay([earlier, other, bus]));

    expect(predicted).toBeCloseTo(60, 6);
  });

  it('weighs recent own runs more', () => {
    // This bus ran A→B in 60 s from 06:00 and in 240 s from 07:48, against a median of 120 s.
    const early = { ...trip('early', '2018-03-08', 6, [60]), vehicleId: 'bus' };
    const late = { ...trip('late', '2018-03-08', 7.8, [240]), vehicleId: 'bus' };
    const bus = trip('bus', '2018-03-08', 8, [300]);
    const live = new LiveDay([early, late, bus]);
    const now = bus.arrivals[0]!.time;

    const [predicted] = new BusfareModel(history, { ...settings, coefficients: only('busRecent', 1) }).predict(requestAt(bus, 0, ['B']), live);
    const [dayMean] = new BusfareModel(history, { ...settings, coefficients: only('busToday', 1) }).predict(requestAt(bus, 0, ['B']), live);

    const weightEarly = Math.exp(-(now - early.arrivals[1]!.time) / 1800);
    const weightLate = Math.exp(-(now - late.arrivals[1]!.time) / 1800);
    const recent = (weightEarly * Math.log(0.5) + weightLate * Math.log(2)) / (weightEarly + weightLate);
    expect(predicted).toBeCloseTo(120 * Math.exp(recent), 6);
    expect(predicted).toBeGreaterThan(200);
    expect(dayMean).toBeCloseTo(120, 6);
  });

  it('scales by the bus history ratio', () => {
    // Bus h1 ran A→B in 100 s and B→C in 200 s, against medians of 120 s and 200 s.
    const historyTrips = [trip('h1', '2018-03-05', 8, [100, 200]), trip('h2', '2018-03-06', 8, [120, 200]), trip('h3', '2018-03-07', 8, [140, 200])];
    const bus = { ...trip('today', '2018-03-08', 8, [300]), vehicleId: 'h1' };
    const model = new BusfareModel(history, { ...settings, coefficients: only('busHistory', 1) }, historyTrips);

    const [predicted] = model.predict(requestAt(bus, 0, ['B']), new LiveDay([bus]));
    const [unknownBus] = model.predict(requestAt({ ...bus, vehicleId: 'new' }, 0, ['B']), new LiveDay([bus]));

    expect(predicted).toBeCloseTo(120 * Math.exp(Math.log(100 / 120) / 2), 6);
    expect(unknownBus).toBe(120);
  });

  it('predicts what its feature rows give', () => {
    const coefficients = neutralCoefficients();
    HORIZON_BANDS.forEach((band, index) => {
      coefficients[band] = { intercept: 0.01 * index, routeToday: 0.3, routeTodayLong: 0.1, narrowWindow: 0.2, wideWindow: 0.3, everyDayType: 0.4, busHistory: 0.5, busToday: 0.6, busRecent: 0.7 };
    });
    const historyTrips = [trip('h1', '2018-03-05', 8, [100, 200]), trip('h2', '2018-03-06', 8, [120, 200]), trip('h3', '2018-03-07', 8, [140, 200])];
    const ahead = { ...trip('ahead', '2018-03-08', 7.9, [200, 260]), vehicleId: 'h1' };
    const bus = { ...trip('bus', '2018-03-08', 8, [300, 300]), vehicleId: 'h1' };
    const model = new BusfareModel(history, { ...settings, coefficients }, historyTrips);
    const request = requestAt(bus, 0, ['B', 'C']);
    const live = new LiveDay([ahead, bus]);

    const predicted = model.predict(request, live);
    const { base, rows } = model.features(request, live);

    base.forEach((h, index) => {
      const weights = BUSFARE_FEATURES.map((feature) => coefficients[horizonBandOf(h)!][feature]);
      const exponent = rows[index]!.reduce((sum, value, feature) => sum + value * weights[feature]!, 0);
      expect(predicted[index]).toBeCloseTo(h * Math.exp(exponent), 9);
    });
    expect(predicted[0]).not.toBe(base[0]);
  });

  it('returns NaN for an unknown pair', () => {
    const bus = trip('bus', '2018-03-08', 8, [300]);

    const [predicted] = new BusfareModel(history, { ...settings, coefficients: only('intercept', 0.5) }).predict(requestAt(bus, 0, ['Z']), new LiveDay([bus]));

    expect(predicted).toBeNaN();
  });
});

describe('fitBusfareSettings', () => {
  it('stays neutral on a single date', () => {
    const fit = fitBusfareSettings([trip('h1', '2018-03-05', 8, [100, 200])]);

    expect(fit.validationDates).toEqual([]);
    expect(fit.settings.coefficients).toEqual(neutralCoefficients());
  });

  it('learns a steady bus effect', () => {
    // Eight weekdays, on which bus "slow" takes 1.5 times as long as bus "fast" on every run.
    const trips: ObservedTrip[] = [];
    const dates = ['2018-03-05', '2018-03-06', '2018-03-07', '2018-03-08', '2018-03-09', '2018-03-12', '2018-03-13', '2018-03-14'];
    dates.forEach((date, day) => {
      for (let hour = 7; hour < 19; hour += 0.25) {
        const jitter = 1 + 0.02 * Math.sin(day * 7 + hour * 13);
        trips.push({ ...trip(`${date}/fast/${hour}`, date, hour, [100, 100, 100].map((run) => Math.round(run * jitter))), vehicleId: 'fast' });
        trips.push({ ...trip(`${date}/slow/${hour}`, date, hour + 0.1, [150, 150, 150].map((run) => Math.round(run * jitter))), vehicleId: 'slow' });
      }
    });

    const fit = fitBusfareSettings(trips);

    expect(fit.validationDates).toEqual(['2018-03-13', '2018-03-14']);
    expect(fit.pooledBands).toEqual(['5-10', '10-20', '20-30']);
    expect(fit.validationMaeS['0-5']!).toBeLessThan(fit.historicalMaeS['0-5']! / 2);
    expect(fit.settings.coefficients['0-5'].busHistory + fit.settings.coefficients['0-5'].busToday + fit.settings.coefficients['0-5'].busRecent).toBeGreaterThan(0.5);
    for (const band of HORIZON_BANDS) {
      for (const [feature, bands] of Object.entries(SHORT_HORIZON_TERMS)) {
        if (!bands.includes(band)) expect(fit.settings.coefficients[band][feature as BusfareFeature]).toBe(0);
      }
    }
  });

  it('fits short-horizon terms in their bands', () => {
    // Every bus runs its trips before 08:00 at one speed and later ones 1.3 times slower or faster,
    // alternating by day, so the bus's latest runs predict its next ones better than its day's mean.
    const trips: ObservedTrip[] = [];
    const dates = ['2018-03-05', '2018-03-06', '2018-03-07', '2018-03-08', '2018-03-09', '2018-03-12', '2018-03-13', '2018-03-14'];
    dates.forEach((date, day) => {
      const factor = day % 2 === 0 ? 1.3 : 1 / 1.3;
      for (const bus of ['b1', 'b2', 'b3']) {
        for (let hour = 7; hour < 19; hour += 0.5) {
          const offset = ['b1', 'b2', 'b3'].indexOf(bus) * 0.15;
          const runs = Array.from({ length: 8 }, (_, index) => Math.round((60 + 10 * index) * (hour < 8 ? 1 : factor) * (1 + 0.03 * Math.sin(day * 5 + hour * 11 + index))));
          trips.push({ ...trip(`${date}/${bus}/${hour}`, date, hour + offset, runs), vehicleId: bus });
        }
      }
    });

    const fit = fitBusfareSettings(trips);

    expect(fit.pooledBands).not.toContain('0-5');
    expect(fit.validationMaeS['0-5']!).toBeLessThan(fit.historicalMaeS['0-5']! / 2);
    expect(fit.settings.coefficients['0-5'].busRecent).toBeGreaterThan(0.2);
    expect(fit.settings.coefficients['5-10'].busRecent).toBeGreaterThan(0.2);
    expect(fit.settings.coefficients['10-20'].busRecent).toBe(0);
    expect(fit.settings.coefficients['20-30'].busRecent).toBe(0);
  });
});
