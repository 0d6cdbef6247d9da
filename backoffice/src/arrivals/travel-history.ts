import type { DayType, ObservedTrip } from './observed-trip.js';

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

/** Returns the key of a directed stop pair on one direction of a route. */
export function pairKey(routeId: string, directionId: number, fromStop: string, toStop: string): string {
  return `${routeId}|${directionId}|${fromStop}|${toStop}`;
}

interface HistoryDate {
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
    const parts = isPairHistoryParts(trips) ? checkedParts(trips) : buildPairColumns(trips, maxRunS);
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

/**
 * Collects every pair's samples of the trips, runs longer than maxRunS left out, into columns sorted
 * by pair and time of day. Pairs come in the order of their first sample. A pair's samples with the
 * same time of day come in the order of their trips' first stop times of day, then of the trips.
 *
 * A history has tens of millions of samples (two days of a 1,000-bus city give 23 million), so
 * the samples are counted in a first pass and written straight into the columns in a second. A
 * pair's key is built once per stop sequence rather than once per sample. The second pass takes the
 * trips in the order of their first stop's time of day, so each pair's samples arrive nearly sorted.
 */
function buildPairColumns(trips: readonly ObservedTrip[], maxRunS: number): PairHistoryParts {
  const dates: HistoryDate[] = [];
  const dateIndex = new Map<string, number>();
  const tripDates = new Uint16Array(trips.length);
  const pairs = new PairIndex();
  const tripPairs = new Array<Int32Array>(trips.length);
  let counts: Int32Array = new Int32Array(1024);

  trips.forEach((trip, tripIndex) => {
    let date = dateIndex.get(trip.serviceDate);
    if (date === undefined) {
      date = dates.length;
      if (date > 0xffff) throw new RangeError(`invalid travel history: more than 65,536 service dates (from ${trip.serviceDate}); build it from fewer days`);
      dateIndex.set(trip.serviceDate, date);
      dates.push({ serviceDate: trip.serviceDate, dayType: trip.dayType });
    }
    tripDates[tripIndex] = date;
    const table = pairs.tableOf(trip);
    tripPairs[tripIndex] = table;
    forEachRun(trip, maxRunS, (i, j) => {
      const pair = pairs.pairOf(trip, table, i, j);
      if (pair >= counts.length) counts = grownCounts(counts, pair + 1);
      counts[pair]! += 1;
    });
  });

  const pairCount = pairs.keys.length;
  const pairStart = new Int32Array(pairCount + 1);
  for (let pair = 0; pair < pairCount; pair += 1) pairStart[pair + 1] = pairStart[pair]! + counts[pair]!;
  const sampleCount = pairStart[pairCount]!;
  const secondsOfDay = new Int32Array(sampleCount);
  const duration = new Float64Array(sampleCount);
  const date = new Uint16Array(sampleCount);
  const next = pairStart.slice(0, pairCount);
  for (const tripIndex of byFirstTimeOfDay(trips)) {
    const trip = trips[tripIndex]!;
    const table = tripPairs[tripIndex]!;
    const { arrivals } = trip;
    const size = arrivals.length;
    forEachRun(trip, maxRunS, (i, j) => {
      const row = next[table[i * size + j]!]!++;
      secondsOfDay[row] = arrivals[i]!.time - trip.dayStart;
      duration[row] = arrivals[j]!.time - arrivals[i]!.time;
      date[row] = tripDates[tripIndex]!;
    });
  }

  for (let pair = 0; pair < pairCount; pair += 1) sortByTimeOfDay(secondsOfDay, duration, date, pairStart[pair]!, pairStart[pair + 1]!);
  return { pairKeys: pairs.keys, pairStart, secondsOfDay, duration, date, dates };
}

/** Returns the trips' indexes ordered by their first stop's time of day, trips with the same time in their order. */
function byFirstTimeOfDay(trips: readonly ObservedTrip[]): Int32Array {
  const keys = new Float64Array(trips.length);
  trips.forEach((trip, index) => {
    const offsetS = Math.trunc((trip.arrivals[0]?.time ?? Number.NaN) - trip.dayStart);
    // A trip without arrivals has no runs, and the sort needs only a rough order, so such a trip and
    // times beyond the packed range take the nearest place in it.
    const shifted = Number.isFinite(offsetS) ? Math.min(2 * SORT_OFFSET_S - 1, Math.max(0, offsetS + SORT_OFFSET_S)) : 0;
    keys[index] = shifted * SORT_POSITIONS + index;
  });
  if (trips.length >= SORT_POSITIONS) return Int32Array.from(trips.keys());
  keys.sort();
  const order = new Int32Array(trips.length);
  for (let position = 0; position < keys.length; position += 1) order[position] = keys[position]! % SORT_POSITIONS;
  return order;
}

/** Calls visit(i, j) for every run from arrival i to a later arrival j of a trip within maxRunS, in order. */
function forEachRun(trip: ObservedTrip, maxRunS: number, visit: (i: number, j: number) => void): void {
  const { arrivals } = trip;
  for (let i = 0; i < arrivals.length; i += 1) {
    const fromTime = arrivals[i]!.time;
    for (let j = i + 1; j < arrivals.length; j += 1) {
      if (arrivals[j]!.time - fromTime > maxRunS) break;
      visit(i, j);
    }
  }
}

/**
 * Numbers the stop pairs of a history in the order of their first sample. Trips with the same route,
 * direction and stop sequence share one table of pair numbers, filled as their runs first need them,
 * so a pair's key string is built once per sequence.
 * NOTE: each distinct stop sequence gets a table of n² numbers for its n arrivals, whatever maxRunS.
 * Detected trips that miss stops give many sequences: 30,000 trips of about 57 stops, each with its
 * own sequence, took about 600 MB while building (a synthetic test). A day-long loop trip of
 * thousands of stops would need far more.
 */
class PairIndex {
  readonly keys: string[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly tables = new Map<string, Int32Array>();

  /** Returns the table of pair numbers of the trip's stop sequence, i · size + j for arrivals i and j; −1 where not yet numbered. */
  tableOf(trip: ObservedTrip): Int32Array {
    const sequence = JSON.stringify([trip.routeId, trip.directionId, ...trip.arrivals.map((arrival) => arrival.stopId)]);
    let table = this.tables.get(sequence);
    if (!table) {
      table = new Int32Array(trip.arrivals.length * trip.arrivals.length).fill(-1);
      this.tables.set(sequence, table);
    }
    return table;
  }

  pairOf(trip: ObservedTrip, table: Int32Array, i: number, j: number): number {
    const cell = i * trip.arrivals.length + j;
    let pair = table[cell]!;
    if (pair >= 0) return pair;
    const key = pairKey(trip.routeId, trip.directionId, trip.arrivals[i]!.stopId, trip.arrivals[j]!.stopId);
    pair = this.byKey.get(key) ?? -1;
    if (pair < 0) {
      pair = this.keys.length;
      this.keys.push(key);
      this.byKey.set(key, pair);
    }
    table[cell] = pair;
    return pair;
  }
}

function grownCounts(counts: Int32Array, size: number): Int32Array {
  const grown = new Int32Array(Math.max(size, counts.length * 2));
  grown.set(counts);
  return grown;
}

/** Seconds of day are shifted by this before they are packed into a sort key, so that negative ones sort too. */
const SORT_OFFSET_S = 2 ** 20;
/** A sort key is (secondsOfDay + SORT_OFFSET_S) · SORT_POSITIONS + position, exact in a double. */
const SORT_POSITIONS = 2 ** 26;

/**
 * Sorts rows start to end − 1 of the three columns by time of day, rows with the same time of day
 * kept in their order. The keys pack the time of day and the row's position into one double, so a
 * numeric sort of a Float64Array replaces a sort with a comparator.
 */
function sortByTimeOfDay(secondsOfDay: Int32Array, duration: Float64Array, date: Uint16Array, start: number, end: number): void {
  const count = end - start;
  if (insertionSorted(secondsOfDay, duration, date, start, end, 8 * count)) return;
  const keys = new Float64Array(count);
  let packable = count < SORT_POSITIONS;
  for (let position = 0; position < count && packable; position += 1) {
    const shifted = secondsOfDay[start + position]! + SORT_OFFSET_S;
    packable = shifted >= 0 && shifted < 2 * SORT_OFFSET_S;
    keys[position] = shifted * SORT_POSITIONS + position;
  }
  let order: ArrayLike<number>;
  if (packable) {
    keys.sort();
    const positions = new Int32Array(count);
    for (let position = 0; position < count; position += 1) positions[position] = keys[position]! % SORT_POSITIONS;
    order = positions;
  } else {
    // Times of day beyond ±12 days: a stable sort with a comparator.
    order = Array.from({ length: count }, (_, position) => position).sort((a, b) => secondsOfDay[start + a]! - secondsOfDay[start + b]!);
  }
  const seconds = secondsOfDay.slice(start, end);
  const durations = duration.slice(start, end);
  const dates = date.slice(start, end);
  for (let position = 0; position < count; position += 1) {
    const from = order[position]!;
    secondsOfDay[start + position] = seconds[from]!;
    duration[start + position] = durations[from]!;
    date[start + position] = dates[from]!;
  }
}

/**
 * Sorts rows start to end − 1 by time of day with a stable insertion sort, which is fast on the
 * nearly sorted rows buildPairColumns() writes. Gives up once it has moved rows more than maxMoves
 * places in all and returns false, leaving the rows in a stable partial order.
 */
function insertionSorted(secondsOfDay: Int32Array, duration: Float64Array, date: Uint16Array, start: number, end: number, maxMoves: number): boolean {
  let moves = 0;
  for (let row = start + 1; row < end; row += 1) {
    const seconds = secondsOfDay[row]!;
    if (secondsOfDay[row - 1]! <= seconds) continue;
    const rowDuration = duration[row]!;
    const rowDate = date[row]!;
    let to = row;
    while (to > start && secondsOfDay[to - 1]! > seconds) {
      secondsOfDay[to] = secondsOfDay[to - 1]!;
      duration[to] = duration[to - 1]!;
      date[to] = date[to - 1]!;
      to -= 1;
    }
    secondsOfDay[to] = seconds;
    duration[to] = rowDuration;
    date[to] = rowDate;
    moves += row - to;
    if (moves > maxMoves) return false;
  }
  return true;
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
