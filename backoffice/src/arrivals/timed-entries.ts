const INITIAL_CAPACITY = 8;

/**
 * Entries of (item, index, time) in time order, as three typed columns. Item and index are
 * integers below 2^31 that the owner gives a meaning to, such as a trip's number and an arrival's
 * index in that trip. A service day has hundreds of thousands of entries, and typed columns add
 * neither an object nor a pointer per entry for a full garbage collection to mark.
 */
export class TimedEntries {
  private count = 0;
  private items = new Int32Array(INITIAL_CAPACITY);
  private indexes = new Int32Array(INITIAL_CAPACITY);
  private times = new Float64Array(INITIAL_CAPACITY);

  get length(): number {
    return this.count;
  }

  item(position: number): number {
    return this.items[position]!;
  }

  index(position: number): number {
    return this.indexes[position]!;
  }

  time(position: number): number {
    return this.times[position]!;
  }

  /** Returns the position of the first entry later than `time`, or the length when there is none. */
  upperBound(time: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.times[middle]! <= time) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Inserts an entry after every entry at or before its time, so equal times keep insertion order, and returns its position. */
  insert(item: number, index: number, time: number): number {
    const at = this.upperBound(time);
    const length = this.count;
    this.reserve(length + 1);
    this.items.copyWithin(at + 1, at, length);
    this.indexes.copyWithin(at + 1, at, length);
    this.times.copyWithin(at + 1, at, length);
    this.items[at] = item;
    this.indexes[at] = index;
    this.times[at] = time;
    this.count += 1;
    return at;
  }

  /** Appends an entry, whose time must not be earlier than the last entry's. */
  push(item: number, index: number, time: number): void {
    const length = this.count;
    this.reserve(length + 1);
    this.items[length] = item;
    this.indexes[length] = index;
    this.times[length] = time;
    this.count += 1;
  }

  private reserve(size: number): void {
    if (size <= this.times.length) return;
    const capacity = Math.max(size, this.times.length * 2);
    this.items = grown(this.items, capacity);
    this.indexes = grown(this.indexes, capacity);
    const times = new Float64Array(capacity);
    times.set(this.times);
    this.times = times;
  }
}

function grown(column: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const result = new Int32Array(capacity);
  result.set(column);
  return result;
}
