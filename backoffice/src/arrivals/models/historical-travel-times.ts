import type { DayType } from '../observed-trip.js';
import { type PairHistory, type PairSample, lowerBound, median } from '../travel-history.js';

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

/**
 * Median historical travel time of a stop pair around a time of day, weighted by the age of the
 * sample's day when a half-life is set. When the window holds no sample it widens fourfold, then
 * to the whole day; a pair never run returns NaN.
 */
export class HistoricalTravelTimes {
  private readonly cache = new Map<string, number>();
  private readonly dateWeights = new Map<string, number>();

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

  median(key: string, secondsOfDay: number, dayType: DayType): number {
    const slot = Math.floor(secondsOfDay / CACHE_SLOT_S);
    const cacheKey = `${key}#${dayType}#${slot}`;
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined) return cached;

    const samples = this.history.samples(key);
    const centre = (slot + 0.5) * CACHE_SLOT_S;
    let value = Number.NaN;
    for (const windowS of [this.window.windowS, this.window.windowS * 4, 86_400]) {
      const chosen = samplesNear(samples, centre, windowS, dayType, this.window.minSamples);
      if (chosen.length > 0) {
        value = this.dateWeights.size > 0 ? this.weightedMedian(chosen) : median(chosen.map((sample) => sample.duration));
        break;
      }
    }
    this.cache.set(cacheKey, value);
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

/**
 * Returns the samples within windowS of secondsOfDay, of the given day type when at least
 * minSamples of that type are there, otherwise of every day type.
 */
function samplesNear(samples: readonly PairSample[], secondsOfDay: number, windowS: number, dayType: DayType, minSamples: number): PairSample[] {
  const sameType: PairSample[] = [];
  const every: PairSample[] = [];
  for (let index = lowerBound(samples, secondsOfDay - windowS); index < samples.length; index += 1) {
    const sample = samples[index]!;
    if (sample.secondsOfDay > secondsOfDay + windowS) break;
    every.push(sample);
    if (sample.dayType === dayType) sameType.push(sample);
  }
  return sameType.length >= minSamples ? sameType : every;
}
