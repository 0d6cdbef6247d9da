import type { ObservedTrip } from './observed-trip.js';
import type { HistoryDate, PairHistoryParts } from './travel-history.js';

/** Returns the key of a directed stop pair on one direction of a route. */
export function pairKey(routeId: string, directionId: number, fromStop: string, toStop: string): string {
  return `${routeId}|${directionId}|${fromStop}|${toStop}`;
}

/** The stops of trips with the same route, direction and stop sequence. */
export interface StopSequence {
  routeId: string;
  directionId: number;
  stopIds: readonly string[];
}

/**
 * Trips in typed columns, the input of a PairHistory build. A trip's arrivals are at its
 * sequence's stops, one each, in order, so trip t has as many arrivals as its sequence has stops.
 */
export interface TripColumns {
  sequences: readonly StopSequence[];
  dates: readonly HistoryDate[];
  /** Index into `sequences` of each trip. */
  tripSequence: Int32Array;
  /** Index into `dates` of each trip. */
  tripDate: Uint16Array;
  /** Unix time in seconds of the start of each trip's service day. */
  tripDayStart: Float64Array;
  /** Rows arrivalStart[t] to arrivalStart[t + 1] − 1 of arrivalTime are trip t's arrival times (Unix seconds). */
  arrivalStart: Int32Array;
  arrivalTime: Float64Array;
}

/** Most service dates a history can index in its Uint16Array column. */
const MAX_DATES = 0x10000;

/**
 * Collects trips into columns: dates in the order of their first trip and stop sequences by route,
 * direction and stop ids. Throws a RangeError for more than 65,536 dates.
 */
export function tripColumnsOf(trips: readonly ObservedTrip[]): TripColumns {
  const dates: HistoryDate[] = [];
  const dateIndex = new Map<string, number>();
  const sequences: StopSequence[] = [];
  const sequenceIndex = new Map<string, number>();
  const tripSequence = new Int32Array(trips.length);
  const tripDate = new Uint16Array(trips.length);
  const tripDayStart = new Float64Array(trips.length);
  const arrivalStart = arrivalStartOf(trips.length, (trip) => trips[trip]!.arrivals.length);
  const arrivalTime = new Float64Array(arrivalStart[trips.length]!);

  trips.forEach((trip, tripIndex) => {
    let date = dateIndex.get(trip.serviceDate);
    if (date === undefined) {
      date = dates.length;
      checkDateCount(date, trip.serviceDate);
      dateIndex.set(trip.serviceDate, date);
      dates.push({ serviceDate: trip.serviceDate, dayType: trip.dayType });
    }
    const stopIds = trip.arrivals.map((arrival) => arrival.stopId);
    const key = JSON.stringify([trip.routeId, trip.directionId, ...stopIds]);
    let sequence = sequenceIndex.get(key);
    if (sequence === undefined) {
      sequence = sequences.length;
      sequenceIndex.set(key, sequence);
      sequences.push({ routeId: trip.routeId, directionId: trip.directionId, stopIds });
    }
    tripSequence[tripIndex] = sequence;
    tripDate[tripIndex] = date;
    tripDayStart[tripIndex] = trip.dayStart;
    const start = arrivalStart[tripIndex]!;
    trip.arrivals.forEach((arrival, index) => (arrivalTime[start + index] = arrival.time));
  });
  return { sequences, dates, tripSequence, tripDate, tripDayStart, arrivalStart, arrivalTime };
}

/** Returns the arrivalStart column of trips with the given arrival counts. Throws a RangeError past an Int32Array's range. */
export function arrivalStartOf(tripCount: number, arrivalsOf: (trip: number) => number): Int32Array {
  const arrivalStart = new Int32Array(tripCount + 1);
  let total = 0;
  for (let trip = 0; trip < tripCount; trip += 1) {
    total += arrivalsOf(trip);
    if (total > 0x7fffffff) throw new RangeError(`invalid travel history: more than ${0x7fffffff} arrivals; build it from fewer days`);
    arrivalStart[trip + 1] = total;
  }
  return arrivalStart;
}

/** Throws a RangeError when a history would need date index `date`, past its Uint16Array column. */
export function checkDateCount(date: number, serviceDate: string): void {
  if (date >= MAX_DATES) throw new RangeError(`invalid travel history: more than 65,536 service dates (from ${serviceDate}); build it from fewer days`);
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
export function buildPairColumns(trips: TripColumns, maxRunS: number): PairHistoryParts {
  const { tripSequence, tripDate, tripDayStart, arrivalStart, arrivalTime } = trips;
  const pairs = new PairIndex(trips.sequences);
  let counts: Int32Array = new Int32Array(1024);

  for (let trip = 0; trip < tripSequence.length; trip += 1) {
    const sequence = tripSequence[trip]!;
    const table = pairs.tableOf(sequence);
    forEachRun(arrivalTime, arrivalStart[trip]!, arrivalStart[trip + 1]!, maxRunS, (i, j) => {
      const pair = pairs.pairOf(sequence, table, i, j);
      if (pair >= counts.length) counts = grownCounts(counts, pair + 1);
      counts[pair]! += 1;
    });
  }

  const pairCount = pairs.keys.length;
  const pairStart = new Int32Array(pairCount + 1);
  for (let pair = 0; pair < pairCount; pair += 1) pairStart[pair + 1] = pairStart[pair]! + counts[pair]!;
  const sampleCount = pairStart[pairCount]!;
  const secondsOfDay = new Int32Array(sampleCount);
  const duration = new Float64Array(sampleCount);
  const date = new Uint16Array(sampleCount);
  const next = pairStart.slice(0, pairCount);
  for (const trip of byFirstTimeOfDay(trips)) {
    const table = pairs.tableOf(tripSequence[trip]!);
    const start = arrivalStart[trip]!;
    const size = arrivalStart[trip + 1]! - start;
    const dayStart = tripDayStart[trip]!;
    const tripDateIndex = tripDate[trip]!;
    forEachRun(arrivalTime, start, start + size, maxRunS, (i, j) => {
      const row = next[table[i * size + j]!]!++;
      const fromTime = arrivalTime[start + i]!;
      secondsOfDay[row] = fromTime - dayStart;
      duration[row] = arrivalTime[start + j]! - fromTime;
      date[row] = tripDateIndex;
    });
  }

  for (let pair = 0; pair < pairCount; pair += 1) sortByTimeOfDay(secondsOfDay, duration, date, pairStart[pair]!, pairStart[pair + 1]!);
  return { pairKeys: pairs.keys, pairStart, secondsOfDay, duration, date, dates: trips.dates };
}

/** Returns the trips' indexes ordered by their first stop's time of day, trips with the same time in their order. */
function byFirstTimeOfDay(trips: TripColumns): Int32Array {
  const { tripDayStart, arrivalStart, arrivalTime } = trips;
  const tripCount = tripDayStart.length;
  if (tripCount >= SORT_POSITIONS) return Int32Array.from({ length: tripCount }, (_, index) => index);
  const keys = new Float64Array(tripCount);
  for (let index = 0; index < tripCount; index += 1) {
    const first = arrivalStart[index]! < arrivalStart[index + 1]! ? arrivalTime[arrivalStart[index]!]! : Number.NaN;
    const offsetS = Math.trunc(first - tripDayStart[index]!);
    // A trip without arrivals has no runs, and the sort needs only a rough order, so such a trip and
    // times beyond the packed range take the nearest place in it.
    const shifted = Number.isFinite(offsetS) ? Math.min(2 * SORT_OFFSET_S - 1, Math.max(0, offsetS + SORT_OFFSET_S)) : 0;
    keys[index] = shifted * SORT_POSITIONS + index;
  }
  keys.sort();
  const order = new Int32Array(tripCount);
  for (let position = 0; position < keys.length; position += 1) order[position] = keys[position]! % SORT_POSITIONS;
  return order;
}

/** Calls visit(i, j) for every run from arrival i to a later arrival j of the arrivals in rows start to end − 1 within maxRunS, in order. */
function forEachRun(arrivalTime: Float64Array, start: number, end: number, maxRunS: number, visit: (i: number, j: number) => void): void {
  const size = end - start;
  for (let i = 0; i < size; i += 1) {
    const fromTime = arrivalTime[start + i]!;
    for (let j = i + 1; j < size; j += 1) {
      if (arrivalTime[start + j]! - fromTime > maxRunS) break;
      visit(i, j);
    }
  }
}

/**
 * Numbers the stop pairs of a history in the order of their first sample. Each stop sequence has
 * one table of pair numbers, filled as its trips' runs first need them, so a pair's key string is
 * built once per sequence.
 * NOTE: each distinct stop sequence gets a table of n² numbers for its n arrivals, whatever maxRunS.
 * Detected trips that miss stops give many sequences: 30,000 trips of about 57 stops, each with its
 * own sequence, took about 600 MB while building (a synthetic test). A day-long loop trip of
 * thousands of stops would need far more.
 */
class PairIndex {
  readonly keys: string[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly tables: (Int32Array | undefined)[] = [];

  constructor(private readonly sequences: readonly StopSequence[]) {}

  /** Returns the table of pair numbers of a stop sequence, i · size + j for arrivals i and j; −1 where not yet numbered. */
  tableOf(sequence: number): Int32Array {
    let table = this.tables[sequence];
    if (!table) {
      const size = this.sequences[sequence]!.stopIds.length;
      table = new Int32Array(size * size).fill(-1);
      this.tables[sequence] = table;
    }
    return table;
  }

  pairOf(sequence: number, table: Int32Array, i: number, j: number): number {
    const { routeId, directionId, stopIds } = this.sequences[sequence]!;
    const cell = i * stopIds.length + j;
    let pair = table[cell]!;
    if (pair >= 0) return pair;
    const key = pairKey(routeId, directionId, stopIds[i]!, stopIds[j]!);
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
