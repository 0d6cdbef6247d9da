import type { DayType, ObservedTrip } from './observed-trip.js';
import { type TripColumns, buildPairColumns, tripColumnsOf } from './pair-history-build.js';

export { pairKey } from './pair-history-build.js';

/** One historical run between two stops of a trip. */
export interface PairSample {
  /** Local seconds since midnight at the departure stop. */
  secondsOfDay: number;
  /** Travel time in seconds. */
  duration: number;
  serviceDate: string;
  dayType: DayType;
}

/** Longest stop-to-stop run kept in the history, in seconds. */
const DEFAULT_MAX_RUN_S = 45 * 60;

/** A service date of a history's samples, with its day type. */
export interface HistoryDate {
  serviceDate: string;
  dayType: DayType;
}

/** The columns of a PairHistory (see its fields), as toParts() returns them. */
export interface PairHistoryParts {
  /** Key of each pair (pairKey()), in pair order. */
  pairKeys: readonly string[];
  pairStart: Int32Array;
  secondsOfDay: Int32Array;
  duration: Float64Array;
  date: Uint16Array;
  dates: readonly HistoryDate[];
}

/**
 * Travel times between every pair of stops of every historical trip, runs longer than maxRunS left
 * out, each list sorted by time of day. The samples are kept in typed columns, because a history
 * contains millions of them and the online predictor keeps it for the whole service day. Every
 * pair's samples are one range of the same three columns, so the history is three buffers however
 * many pairs it has (the arrivals benchmark has 21,750 pairs).
 */
export class PairHistory {
  /** Index of each pair's range in pairStart. */
  private readonly pairs = new Map<string, number>();
  /** The samples of pair p are rows pairStart[p] to pairStart[p + 1] − 1. */
  private readonly pairStart: Int32Array;
  private readonly secondsOfDay: Int32Array;
  private readonly duration: Float64Array;
  /** Index into the history's dates. */
  private readonly date: Uint16Array;
  private readonly dates: readonly HistoryDate[];
  readonly serviceDates: readonly string[];

  /** Builds the history from trips, or takes the columns that toParts() of another history returned. */
  constructor(trips: readonly ObservedTrip[] | PairHistoryParts, maxRunS = DEFAULT_MAX_RUN_S) {
    const parts = isPairHistoryParts(trips) ? checkedParts(trips) : buildPairColumns(tripColumnsOf(trips), maxRunS);
    parts.pairKeys.forEach((key, pair) => this.pairs.set(key, pair));
    this.pairStart = parts.pairStart;
    this.secondsOfDay = parts.secondsOfDay;
    this.duration = parts.duration;
    this.date = parts.date;
    this.dates = parts.dates;
    this.serviceDates = this.dates.map((date) => date.serviceDate).sort();
  }

  /**
   * Returns the history's columns, which `new PairHistory(parts)` takes back. The typed arrays are
   * the history's own and each has an ArrayBuffer of its own, so a message can transfer them. The
   * history must not be used after that.
   */
  toParts(): PairHistoryParts {
    return { pairKeys: [...this.pairs.keys()], pairStart: this.pairStart, secondsOfDay: this.secondsOfDay, duration: this.duration, date: this.date, dates: this.dates };
  }

  /** Count of stop pairs with samples; pairIndex() numbers them from 0. */
  get pairCount(): number {
    return this.pairs.size;
  }

  /** Returns the number of a pair from 0 to pairCount − 1, or undefined when the pair was never run. */
  pairIndex(key: string): number | undefined {
    return this.pairs.get(key);
  }

  /**
   * Appends to `all` the durations of one pair's samples whose time of day is within [fromS, toS],
   * in time-of-day order, and to `sameType` those of the samples of that day type. It builds no
   * object per sample, unlike samplesBetween().
   */
  collectDurations(pair: number, fromS: number, toS: number, dayType: DayType, all: number[], sameType: number[]): void {
    const end = this.pairStart[pair + 1]!;
    for (let row = firstAtOrAfter(this.secondsOfDay, this.pairStart[pair]!, end, fromS); row < end; row += 1) {
      if (this.secondsOfDay[row]! > toS) break;
      const duration = this.duration[row]!;
      all.push(duration);
      if (this.dates[this.date[row]!]!.dayType === dayType) sameType.push(duration);
    }
  }

  /** Samples of one pair sorted by time of day; empty when the pair was never run. */
  samples(key: string): PairSample[] {
    return this.samplesBetween(key, -Infinity, Infinity);
  }

  /** Samples of one pair whose time of day is within [fromS, toS], sorted by time of day. */
  samplesBetween(key: string, fromS: number, toS: number): PairSample[] {
    const pair = this.pairs.get(key);
    if (pair === undefined) return [];
    const end = this.pairStart[pair + 1]!;
    const result: PairSample[] = [];
    for (let row = firstAtOrAfter(this.secondsOfDay, this.pairStart[pair]!, end, fromS); row < end; row += 1) {
      const secondsOfDay = this.secondsOfDay[row]!;
      if (secondsOfDay > toS) break;
      const date = this.dates[this.date[row]!]!;
      result.push({ secondsOfDay, duration: this.duration[row]!, serviceDate: date.serviceDate, dayType: date.dayType });
    }
    return result;
  }
}

/**
 * Builds the columns of a history from trips in columns, as `new PairHistory(trips).toParts()`
 * would from the same trips as objects.
 */
export function pairHistoryPartsOf(trips: TripColumns, maxRunS = DEFAULT_MAX_RUN_S): PairHistoryParts {
  return buildPairColumns(trips, maxRunS);
}

function isPairHistoryParts(source: readonly ObservedTrip[] | PairHistoryParts): source is PairHistoryParts {
  return !Array.isArray(source);
}

/** Returns the parts unchanged, or throws a RangeError where their lengths do not fit together. */
function checkedParts(parts: PairHistoryParts): PairHistoryParts {
  const { pairKeys, pairStart, secondsOfDay, duration, date, dates } = parts;
  const samples = secondsOfDay?.length;
  const fits = pairStart?.length === pairKeys?.length + 1 && pairStart[0] === 0 && pairStart[pairKeys.length] === samples && duration?.length === samples && date?.length === samples && Array.isArray(dates);
  if (!fits) throw new RangeError(`invalid travel history parts: ${pairKeys?.length} pair keys, ${pairStart?.length} pair starts, ${samples} times of day, ${duration?.length} durations and ${date?.length} dates of samples`);
  return parts;
}

/** Returns the first row from `start` to `end` − 1 whose value is at least target, or end when none is. */
function firstAtOrAfter(values: Int32Array, start: number, end: number, target: number): number {
  let low = start;
  let high = end;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (values[middle]! < target) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Returns the index of the first sample at or after secondsOfDay. */
export function lowerBound(samples: readonly PairSample[], secondsOfDay: number): number {
  let low = 0;
  let high = samples.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (samples[middle]!.secondsOfDay < secondsOfDay) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Returns the median of the values (the mean of the two middle ones for an even count), NaN when
 * empty. Up to INSERTION_SORT_MAX values it sorts them in place, which allocates nothing. With a
 * NaN among the values the result is unspecified.
 */
export function median(values: number[]): number {
  const count = values.length;
  if (count === 0) return Number.NaN;
  const sorted = count <= INSERTION_SORT_MAX ? insertionSort(values) : Float64Array.from(values).sort();
  const middle = count >> 1;
  return count % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Maximum input length that median() sorts by insertion. In a micro-benchmark on Node.js 20,
 * insertion sort was faster than Array.prototype.sort with a comparator and than a Float64Array's
 * native sort at 50 values and slower at 200, so the switch at 64 is an estimate.
 */
const INSERTION_SORT_MAX = 64;

function insertionSort(values: number[]): number[] {
  for (let index = 1; index < values.length; index += 1) {
    const value = values[index]!;
    let place = index;
    while (place > 0 && values[place - 1]! > value) {
      values[place] = values[place - 1]!;
      place -= 1;
    }
    values[place] = value;
  }
  return values;
}
