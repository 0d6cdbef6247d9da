import type { DayType } from '../observed-trip.js';
import { type PairHistory, type PairSample, median, pairKey } from '../travel-history.js';
import { FloatRows } from './float-rows.js';
import { Int32RowMap } from './int32-row-map.js';
import { StopSlotCache, slotsOf } from './stop-slot-cache.js';

export interface HistoricalWindow {
  /** Half-width of the time-of-day window in seconds. */
  windowS: number;
  /** Fewest samples of the request's day type before every day type is pooled. */
  minSamples: number;
  /**
   * Half-life in days of a sample's weight, counted back from the last history date; Infinity
   * weighs every day the same (a plain median).
   */
  halfLifeDays?: number;
}

/** Time-of-day cache resolution in seconds: requests within the same slot share one median. */
const CACHE_SLOT_S = 300;
const DAY_MS = 86_400_000;
const DAY_TYPE_INDEX: Record<DayType, number> = { weekday: 0, saturday: 1, sunday: 2 };

/**
 * Median historical travel time of a stop pair around a time of day, weighted by the age of the
 * sample's day when a half-life is set. When the window holds no sample it widens fourfold, then
 * to the whole day; a pair never run returns NaN.
 */
export class HistoricalTravelTimes {
  /**
   * Rows of cachedMedians by pair and slot key (timeSlotKey), under the key slotKey · pairCount +
   * pair. The online predictor keeps the model all day, and typed arrays hold its hundreds of
   * thousands of cached medians with no object or pointer per median.
   */
  private readonly cachedRows = new Int32RowMap();
  private readonly cachedMedians = new FloatRows(1);
  private readonly dateWeights = new Map<string, number>();
  /** The same medians by departure stop, target stop and slot. */
  private readonly fromCache = new StopSlotCache<number>();

  constructor(
    readonly history: PairHistory,
    readonly window: HistoricalWindow,
  ) {
    const halfLife = window.halfLifeDays ?? Infinity;
    const last = history.serviceDates.at(-1);
    if (last !== undefined && Number.isFinite(halfLife)) {
      const lastMs = Date.parse(`${last}T00:00:00Z`);
      for (const date of history.serviceDates) {
        const ageDays = (lastMs - Date.parse(`${date}T00:00:00Z`)) / DAY_MS;
        this.dateWeights.set(date, 0.5 ** (ageDays / halfLife));
      }
    }
  }

  /** Medians from one stop to each target, the same values as median(), cached without building keys. */
  mediansFrom(routeId: string, directionId: number, fromStop: string, targets: readonly string[], secondsOfDay: number, dayType: DayType): number[] {
    const slotKey = timeSlotKey(secondsOfDay, dayType);
    const byTarget = this.fromCache.from(routeId, directionId, fromStop);
    const result = new Array<number>(targets.length);
    for (let index = 0; index < targets.length; index += 1) {
      const target = targets[index]!;
      const slots = slotsOf(byTarget, target);
      let value = slots.get(slotKey);
      if (value === undefined) {
        value = this.median(pairKey(routeId, directionId, fromStop, target), secondsOfDay, dayType);
        slots.set(slotKey, value);
      }
      result[index] = value;
    }
    return result;
  }

  median(key: string, secondsOfDay: number, dayType: DayType): number {
    const pair = this.history.pairIndex(key);
    if (pair === undefined) return Number.NaN;
    const slot = Math.floor(secondsOfDay / CACHE_SLOT_S);
    // A key outside the int32 range, or from a time that is not finite, is computed every time.
    const cacheKey = (slot * 4 + DAY_TYPE_INDEX[dayType]) * this.history.pairCount + pair;
    const cacheable = (cacheKey | 0) === cacheKey;
    const cachedRow = cacheable ? this.cachedRows.get(cacheKey) : undefined;
    if (cachedRow !== undefined) return this.cachedMedians.get(cachedRow, 0);

    const centre = (slot + 0.5) * CACHE_SLOT_S;
    let value = Number.NaN;
    for (const windowS of [this.window.windowS, this.window.windowS * 4, 86_400]) {
      if (this.dateWeights.size > 0) {
        const chosen = samplesNear(this.history.samplesBetween(key, centre - windowS, centre + windowS), dayType, this.window.minSamples);
        if (chosen.length === 0) continue;
        value = this.weightedMedian(chosen);
        break;
      }
      // The plain median needs only the durations, read without building a sample object each.
      const all: number[] = [];
      const sameType: number[] = [];
      this.history.collectDurations(pair, centre - windowS, centre + windowS, dayType, all, sameType);
      const chosen = sameType.length >= this.window.minSamples ? sameType : all;
      if (chosen.length > 0) {
        value = median(chosen);
        break;
      }
    }
    if (!cacheable) return value;
    const row = this.cachedMedians.addRow();
    this.cachedMedians.set(row, 0, value);
    this.cachedRows.set(cacheKey, row);
    return value;
  }

  private weightedMedian(samples: PairSample[]): number {
    samples.sort((a, b) => a.duration - b.duration);
    const weights = samples.map((sample) => this.dateWeights.get(sample.serviceDate) ?? 1);
    const half = weights.reduce((sum, weight) => sum + weight, 0) / 2;
    let cumulative = 0;
    for (let index = 0; index < samples.length; index += 1) {
      cumulative += weights[index]!;
      if (cumulative >= half) return samples[index]!.duration;
    }
    return samples.at(-1)!.duration;
  }
}

/** Returns the key of the cache slot of a time of day and day type: requests with the same key get the same medians. */
export function timeSlotKey(secondsOfDay: number, dayType: DayType): number {
  return Math.floor(secondsOfDay / CACHE_SLOT_S) * 4 + DAY_TYPE_INDEX[dayType];
}

/** Returns the samples of the given day type when at least minSamples are of it, otherwise all of them. */
function samplesNear(samples: PairSample[], dayType: DayType, minSamples: number): PairSample[] {
  const sameType = samples.filter((sample) => sample.dayType === dayType);
  return sameType.length >= minSamples ? sameType : samples;
}
