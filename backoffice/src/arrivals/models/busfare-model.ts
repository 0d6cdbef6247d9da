import { HORIZON_BANDS, type HorizonBand, horizonBandOf } from '../evaluation/horizon-bands.js';
import type { LiveDay } from '../live-day.js';
import type { DayType, ObservedTrip } from '../observed-trip.js';
import { type PairHistory, pairKey } from '../travel-history.js';
import type { ArrivalModel, PredictionRequest } from './arrival-model.js';
import { type HistoricalWindow, HistoricalTravelTimes, timeSlotKey } from './historical-travel-times.js';
import { DEFAULT_SIGNAL_PHASE_SETTINGS, type PhaseDensity, type SignalPhaseSettings, SignalPhases, moveTowardsPhases } from './signal-phases.js';
import { FloatRows } from './float-rows.js';
import { keepRouteOrder } from './route-order.js';
import { StopSlotCache, slotsOf } from './stop-slot-cache.js';
import { TodayRatio, type TodayRatioSettings } from './today-ratio.js';
import { VehicleDayRatio, vehicleHistoryLogRatios } from './vehicle-ratio.js';

/**
 * The terms of busfare's log-linear correction, in the order of a feature row:
 * - `intercept`: 1, a constant correction per band.
 * - `routeToday`, `routeTodayLong`: today's log ratio of the route with the short and the long
 *   time constant.
 * - `narrowWindow`, `wideWindow`, `everyDayType`: log(H′ / H) for the median H′ of a narrower and a
 *   wider time-of-day window and of every day type pooled, so the fit blends the estimates.
 * - `busHistory`: the bus's shrunk mean log ratio in the history.
 * - `busToday`: the bus's shrunk mean log ratio over its runs so far today.
 * - `busRecent`: the same with each run's weight decaying with its age, a short-horizon term.
 */
export const BUSFARE_FEATURES = ['intercept', 'routeToday', 'routeTodayLong', 'narrowWindow', 'wideWindow', 'everyDayType', 'busHistory', 'busToday', 'busRecent'] as const;
export type BusfareFeature = (typeof BUSFARE_FEATURES)[number];

/**
 * Terms fitted only in the bands of H listed; their coefficient is 0 in every other band. Fitted in
 * every band, `busRecent` made the 20-30 minute band of one Suzhou route worse on validation days.
 */
export const SHORT_HORIZON_TERMS: Partial<Record<BusfareFeature, readonly HorizonBand[]>> = { busRecent: ['0-5', '5-10'] };
export type BusfareCoefficients = Record<BusfareFeature, number>;

/** The fixed part of busfare: which estimates and ratios the features are made of. */
export interface BusfareStructure {
  /** Window of the historical median H that the correction scales. */
  history: HistoricalWindow;
  /** Half-widths in seconds of the narrower and the wider window. */
  narrowWindowS: number;
  wideWindowS: number;
  today: TodayRatioSettings;
  todayLong: TodayRatioSettings;
  /** Runs of prior weight (log ratio 0) in the bus's history and today means. */
  busHistoryPriorRuns: number;
  busTodayPriorRuns: number;
  /** Decay and prior weight of the bus's recent log ratio. */
  busRecent: TodayRatioSettings;
  /** Search settings for stops whose arrivals repeat with a traffic signal's cycle in the recorded history. */
  signals: SignalPhaseSettings;
}

export interface BusfareSettings extends BusfareStructure {
  /** Coefficients per band of the historical travel time H. */
  coefficients: Record<HorizonBand, BusfareCoefficients>;
  /**
   * k of the spread k·√T seconds assumed around a prediction of T seconds when it is moved towards
   * the target stop's usual arrival phases; 0 leaves predictions where the coefficients put them.
   */
  signalScale: number;
  /** Share of a target's move towards its phases that also shifts the later targets of the request. */
  signalCarry: number;
}

/** Inputs of one request: H per target and each target's feature row (BUSFARE_FEATURES order). */
export interface BusfareFeatures {
  /** Historical travel time to each target in seconds (NaN where the pair was never run). */
  base: number[];
  rows: Float64Array[];
}

export const DEFAULT_BUSFARE_STRUCTURE: BusfareStructure = {
  history: { windowS: 30 * 60, minSamples: 5 },
  narrowWindowS: 15 * 60,
  wideWindowS: 60 * 60,
  today: { timeConstantS: 30 * 60, priorWeight: 4 },
  todayLong: { timeConstantS: 120 * 60, priorWeight: 4 },
  busHistoryPriorRuns: 50,
  busTodayPriorRuns: 10,
  busRecent: { timeConstantS: 30 * 60, priorWeight: 2 },
  signals: DEFAULT_SIGNAL_PHASE_SETTINGS,
};

const MAX_LOG_RATIO = 1;
const FEATURE_COUNT = BUSFARE_FEATURES.length;

/**
 * busfare's predictor. The travel time to a target is the historical median H of that stop pair at
 * this time of day and day type, corrected in log space: H · exp(β · x). x contains the route's
 * log ratio of actual to historical run times today (two time constants), the log ratios of three
 * other historical estimates to H, and how this bus ran against history before, today and over
 * its runs of the last half hour. β is set per band of H by a least-absolute-deviations fit on
 * held-out training dates. Where buses reach the target stop at the same phases of a cycle every
 * day (a fixed-time traffic signal before it), the prediction then moves towards those phases.
 */
export class BusfareModel implements ArrivalModel {
  readonly name = 'busfare';
  readonly travelTimes: HistoricalTravelTimes;
  private readonly narrow: HistoricalTravelTimes;
  private readonly wide: HistoricalTravelTimes;
  private readonly everyDayType: HistoricalTravelTimes;
  private readonly today: TodayRatio;
  private readonly todayLong: TodayRatio;
  private readonly busDay: VehicleDayRatio;
  private readonly busHistory: ReadonlyMap<string, number>;
  private readonly weights: Record<HorizonBand, Float64Array>;
  /**
   * Rows of historicalTermValues (H and the historical part of the exponent) by departure stop,
   * target stop and time slot. A row index in place of a small array per entry keeps the cache,
   * which grows all day in the online predictor, free of objects per entry.
   */
  private readonly historicalTerms = new StopSlotCache<number>();
  private readonly historicalTermValues = new FloatRows(2);
  private readonly signals: SignalPhases | undefined;
  /** Each stop's phase densities by time-of-day slot (null: none), by route direction. */
  private readonly signalStops = new Map<string, Map<string, readonly (PhaseDensity | undefined)[] | null>>();

  /**
   * `historyTrips`, the trips `history` was built from, give each bus's history ratio, which is 0
   * without them, and the signal phases. In their place, `learnRecordedTerms()` of the same history,
   * settings and trips gives the same model.
   */
  constructor(
    history: PairHistory,
    readonly settings: BusfareSettings,
    historyTrips: readonly ObservedTrip[] | RecordedTerms = [],
  ) {
    this.travelTimes = new HistoricalTravelTimes(history, settings.history);
    this.narrow = new HistoricalTravelTimes(history, { ...settings.history, windowS: settings.narrowWindowS });
    this.wide = new HistoricalTravelTimes(history, { ...settings.history, windowS: settings.wideWindowS });
    this.everyDayType = new HistoricalTravelTimes(history, { ...settings.history, minSamples: Infinity });
    this.today = new TodayRatio(this.travelTimes, settings.today);
    this.todayLong = new TodayRatio(this.travelTimes, settings.todayLong);
    this.busDay = new VehicleDayRatio(this.travelTimes, settings.busTodayPriorRuns, settings.busRecent);
    const terms = Array.isArray(historyTrips) ? learnRecordedTerms(history, settings, historyTrips, this.travelTimes) : (historyTrips as RecordedTerms);
    this.busHistory = terms.busHistory;
    this.weights = Object.fromEntries(HORIZON_BANDS.map((band) => [band, Float64Array.from(BUSFARE_FEATURES, (feature) => settings.coefficients[band][feature])])) as Record<HorizonBand, Float64Array>;
    this.signals = terms.signals;
  }

  predict(request: PredictionRequest, live: LiveDay): number[] {
    const { routeId, directionId, targets, dayType, vehicleId, now } = request;
    const fromStop = request.arrivalsSoFar.at(-1)!.stopId;
    const secondsOfDay = now - request.dayStart;
    const slotKey = timeSlotKey(secondsOfDay, dayType);
    const today = this.today.logRatio(live, routeId, now);
    const todayLong = this.todayLong.logRatio(live, routeId, now);
    const busHistory = this.busHistory.get(vehicleId) ?? 0;
    const busToday = this.busDay.logRatio(live, routeId, vehicleId, now);
    const busRecent = this.busDay.recentLogRatio(live, routeId, vehicleId, now);
    const byTarget = this.historicalTerms.from(routeId, directionId, fromStop);
    const signalStops = this.signals && this.signalStopsOf(routeId, directionId);

    const result = new Array<number>(targets.length);
    for (let index = 0; index < targets.length; index += 1) {
      const target = targets[index]!;
      const slots = slotsOf(byTarget, target);
      let row = slots.get(slotKey);
      if (row === undefined) {
        row = this.historicalTermsOf(pairKey(routeId, directionId, fromStop, target), secondsOfDay, dayType);
        slots.set(slotKey, row);
      }
      const h = this.historicalTermValues.get(row, 0);
      const w = this.weights[horizonBandOf(h) ?? '20-30'];
      // The live terms in BUSFARE_FEATURES order, added to the cached historical ones.
      result[index] = h * Math.exp(this.historicalTermValues.get(row, 1) + w[1]! * today + w[2]! * todayLong + w[6]! * busHistory + w[7]! * busToday + w[8]! * busRecent);
    }
    keepRouteOrder(result);
    if (signalStops) {
      moveTowardsPhases(result, secondsOfDay, this.settings.signalScale, this.settings.signalCarry, (index, arrivalSecondsOfDay) => this.phasesAt(signalStops, routeId, directionId, targets[index]!, arrivalSecondsOfDay));
    }
    return result;
  }

  private signalStopsOf(routeId: string, directionId: number): Map<string, readonly (PhaseDensity | undefined)[] | null> {
    const key = `${directionId}|${routeId}`;
    let stops = this.signalStops.get(key);
    if (!stops) this.signalStops.set(key, (stops = new Map()));
    return stops;
  }

  /** Returns the target's phase density at a second of day, through a cache that builds no key per call. */
  private phasesAt(stops: Map<string, readonly (PhaseDensity | undefined)[] | null>, routeId: string, directionId: number, stopId: string, secondsOfDay: number): PhaseDensity | undefined {
    let slots = stops.get(stopId);
    if (slots === undefined) {
      slots = this.signals!.slotsOf(routeId, directionId, stopId) ?? null;
      stops.set(stopId, slots);
    }
    return slots?.[Math.floor(secondsOfDay / this.settings.signals.slotS)];
  }

  /**
   * Stores H and the part of β · x that depends only on the pair and the time slot in a new row of
   * historicalTermValues, and returns the row. That part is the intercept and the three median
   * ratios, weighted by the coefficients of H's band.
   */
  private historicalTermsOf(key: string, secondsOfDay: number, dayType: DayType): number {
    const h = this.travelTimes.median(key, secondsOfDay, dayType);
    const w = this.weights[horizonBandOf(h) ?? '20-30'];
    const narrow = logRatio(this.narrow.median(key, secondsOfDay, dayType), h);
    const wide = logRatio(this.wide.median(key, secondsOfDay, dayType), h);
    const pooled = logRatio(this.everyDayType.median(key, secondsOfDay, dayType), h);
    const row = this.historicalTermValues.addRow();
    this.historicalTermValues.set(row, 0, h);
    this.historicalTermValues.set(row, 1, w[0]! + w[3]! * narrow + w[4]! * wide + w[5]! * pooled);
    return row;
  }

  /** Each target's feature row, in BUSFARE_FEATURES order, as predict() uses it. */
  features(request: PredictionRequest, live: LiveDay): BusfareFeatures {
    const { base, narrow, wide, pooled, shared } = this.estimates(request, live);
    const rows = base.map((h, index) =>
      Float64Array.of(1, shared.today, shared.todayLong, logRatio(narrow[index]!, h), logRatio(wide[index]!, h), logRatio(pooled[index]!, h), shared.busHistory, shared.busToday, shared.busRecent),
    );
    return { base, rows };
  }

  /** Returns the four medians per target and the terms shared by every target of the request. */
  private estimates(request: PredictionRequest, live: LiveDay) {
    const { routeId, directionId, targets, dayType, vehicleId, now } = request;
    const fromStop = request.arrivalsSoFar.at(-1)!.stopId;
    const secondsOfDay = now - request.dayStart;
    return {
      base: this.travelTimes.mediansFrom(routeId, directionId, fromStop, targets, secondsOfDay, dayType),
      narrow: this.narrow.mediansFrom(routeId, directionId, fromStop, targets, secondsOfDay, dayType),
      wide: this.wide.mediansFrom(routeId, directionId, fromStop, targets, secondsOfDay, dayType),
      pooled: this.everyDayType.mediansFrom(routeId, directionId, fromStop, targets, secondsOfDay, dayType),
      shared: {
        today: this.today.logRatio(live, routeId, now),
        todayLong: this.todayLong.logRatio(live, routeId, now),
        busHistory: this.busHistory.get(vehicleId) ?? 0,
        busToday: this.busDay.logRatio(live, routeId, vehicleId, now),
        busRecent: this.busDay.recentLogRatio(live, routeId, vehicleId, now),
      },
    };
  }
}

/** The terms a BusfareModel learns from recorded trips besides their pair history. */
export interface RecordedTerms {
  /** Each bus's shrunk mean log ratio in the history; a bus that is absent reads as 0. */
  busHistory: ReadonlyMap<string, number>;
  signals: SignalPhases | undefined;
}

/**
 * Learns each bus's history ratio and the signal phases from the trips that `history` was built
 * from: the slow part of building a BusfareModel, which a worker thread can do apart from the model.
 * `travelTimes` must be `history`'s medians in the window of `settings.history`.
 */
export function learnRecordedTerms(history: PairHistory, settings: BusfareSettings, trips: readonly ObservedTrip[], travelTimes = new HistoricalTravelTimes(history, settings.history)): RecordedTerms {
  return {
    busHistory: vehicleHistoryLogRatios(trips, travelTimes, settings.busHistoryPriorRuns),
    // Only recorded trips show signal phases, because timetable times would show their own rounding as a cycle.
    signals: settings.signalScale > 0 && trips.length > 0 ? new SignalPhases(trips, settings.signals) : undefined,
  };
}

/** Coefficients that leave the historical median unchanged in every band. */
export function neutralCoefficients(): Record<HorizonBand, BusfareCoefficients> {
  return Object.fromEntries(HORIZON_BANDS.map((band) => [band, coefficientsOf(new Float64Array(FEATURE_COUNT))])) as Record<HorizonBand, BusfareCoefficients>;
}

/** Names a coefficient vector in BUSFARE_FEATURES order, rounded to 4 decimals. */
export function coefficientsOf(vector: Float64Array): BusfareCoefficients {
  return Object.fromEntries(BUSFARE_FEATURES.map((feature, index) => [feature, Math.round(vector[index]! * 1e4) / 1e4])) as BusfareCoefficients;
}

/** Returns log(estimate / base) clamped to ±1, or 0 where either is missing. */
function logRatio(estimate: number, base: number): number {
  if (!(estimate > 0 && base > 0)) return 0;
  return Math.max(-MAX_LOG_RATIO, Math.min(MAX_LOG_RATIO, Math.log(estimate / base)));
}
