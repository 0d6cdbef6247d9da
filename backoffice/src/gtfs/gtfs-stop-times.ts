import type { GtfsStopTime } from './gtfs-model.js';

const INITIAL_ROWS = 1024;
/** Largest stop_sequence the table stores (a 32-bit column). */
export const MAX_STOP_SEQUENCE = 0xffff_ffff;

/**
 * The stop times of a feed, by trip, in typed columns. The back office keeps its feed for as long
 * as it runs. In the arrivals benchmark's city, 810,000 stop times as one object each, with their
 * stop id strings, were 1.6 million of the 6.7 million objects that every full garbage collection
 * marked. Here they are a few column buffers that the collector does not scan, and each stop id
 * string is stored once. `get` builds the GtfsStopTime objects of one trip on each call, so
 * callers get fresh, short-lived arrays, and changing them leaves the table unchanged.
 */
export class GtfsStopTimes {
  private readonly tripSlots = new Map<string, number>();
  private readonly tripFirstRow: number[] = [];
  private readonly tripRowCount: number[] = [];
  private readonly stopIds: string[] = [];
  private readonly stopIndexes = new Map<string, number>();
  private rowCount = 0;
  private stopColumn = new Uint32Array(INITIAL_ROWS);
  private sequenceColumn = new Uint32Array(INITIAL_ROWS);
  /** Seconds after the service day's start; NaN where the feed leaves the time out. */
  private arrivalColumn = new Float64Array(INITIAL_ROWS);
  private departureColumn = new Float64Array(INITIAL_ROWS);
  /** shape_dist_traveled; NaN where the feed leaves it out. */
  private distanceColumn = new Float64Array(INITIAL_ROWS);

  constructor(entries: Iterable<readonly [string, readonly GtfsStopTime[]]> = []) {
    for (const [tripId, stopTimes] of entries) this.set(tripId, stopTimes);
  }

  /** Count of trips with stop times. */
  get size(): number {
    return this.tripSlots.size;
  }

  has(tripId: string): boolean {
    return this.tripSlots.has(tripId);
  }

  keys(): IterableIterator<string> {
    return this.tripSlots.keys();
  }

  /** Returns a new array of the trip's stop times in the order they were set; undefined for an unknown trip. */
  get(tripId: string): GtfsStopTime[] | undefined {
    const slot = this.tripSlots.get(tripId);
    if (slot === undefined) return undefined;
    const first = this.tripFirstRow[slot]!;
    const result: GtfsStopTime[] = [];
    for (let row = first; row < first + this.tripRowCount[slot]!; row += 1) result.push(this.stopTimeAt(row));
    return result;
  }

  /**
   * Stores the stop times of a trip, in the given order, in place of any it had. Replaced rows
   * stay in the columns unused, because a feed sets each trip once.
   * Throws RangeError for a stop_sequence that is not an integer from 0 to 2^32 − 1.
   */
  set(tripId: string, stopTimes: readonly GtfsStopTime[]): this {
    for (const stopTime of stopTimes) {
      if (!Number.isInteger(stopTime.sequence) || stopTime.sequence < 0 || stopTime.sequence > MAX_STOP_SEQUENCE) {
        throw new RangeError(`invalid stop_sequence ${stopTime.sequence} of trip ${tripId}: expected an integer from 0 to ${MAX_STOP_SEQUENCE}`);
      }
    }
    this.reserve(this.rowCount + stopTimes.length);
    let slot = this.tripSlots.get(tripId);
    if (slot === undefined) {
      slot = this.tripFirstRow.length;
      this.tripSlots.set(tripId, slot);
      this.tripFirstRow.push(0);
      this.tripRowCount.push(0);
    }
    this.tripFirstRow[slot] = this.rowCount;
    this.tripRowCount[slot] = stopTimes.length;
    for (const stopTime of stopTimes) {
      const row = this.rowCount;
      this.stopColumn[row] = this.stopIndexOf(stopTime.stopId);
      this.sequenceColumn[row] = stopTime.sequence;
      this.arrivalColumn[row] = stopTime.arrivalS ?? Number.NaN;
      this.departureColumn[row] = stopTime.departureS ?? Number.NaN;
      this.distanceColumn[row] = stopTime.distTraveled ?? Number.NaN;
      this.rowCount += 1;
    }
    return this;
  }

  /**
   * Removes a trip's stop times and returns whether it had any. Its rows stay in the columns
   * unused until the table is dropped.
   */
  delete(tripId: string): boolean {
    const slot = this.tripSlots.get(tripId);
    if (slot === undefined) return false;
    this.tripSlots.delete(tripId);
    this.tripRowCount[slot] = 0;
    return true;
  }

  private stopTimeAt(row: number): GtfsStopTime {
    const stopTime: GtfsStopTime = { stopId: this.stopIds[this.stopColumn[row]!]!, sequence: this.sequenceColumn[row]! };
    const arrivalS = this.arrivalColumn[row]!;
    const departureS = this.departureColumn[row]!;
    const distTraveled = this.distanceColumn[row]!;
    if (!Number.isNaN(arrivalS)) stopTime.arrivalS = arrivalS;
    if (!Number.isNaN(departureS)) stopTime.departureS = departureS;
    if (!Number.isNaN(distTraveled)) stopTime.distTraveled = distTraveled;
    return stopTime;
  }

  private stopIndexOf(stopId: string): number {
    let index = this.stopIndexes.get(stopId);
    if (index === undefined) {
      index = this.stopIds.length;
      this.stopIds.push(stopId);
      this.stopIndexes.set(stopId, index);
    }
    return index;
  }

  /** Grows the columns to hold at least `rows` rows, by half again at a time. */
  private reserve(rows: number): void {
    if (rows <= this.stopColumn.length) return;
    const capacity = Math.max(rows, Math.ceil(this.stopColumn.length * 1.5));
    this.stopColumn = grown(this.stopColumn, new Uint32Array(capacity));
    this.sequenceColumn = grown(this.sequenceColumn, new Uint32Array(capacity));
    this.arrivalColumn = grown(this.arrivalColumn, new Float64Array(capacity));
    this.departureColumn = grown(this.departureColumn, new Float64Array(capacity));
    this.distanceColumn = grown(this.distanceColumn, new Float64Array(capacity));
  }
}

function grown<T extends Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
