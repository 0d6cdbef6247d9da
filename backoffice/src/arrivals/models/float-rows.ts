const INITIAL_ROWS = 64;

/**
 * Rows of `width` doubles in one growable Float64Array. Caches that keep a row index (a small
 * integer) in place of a number keep no heap-allocated number per entry, and none for a full
 * garbage collection to mark.
 */
export class FloatRows {
  private data: Float64Array;
  private count = 0;

  constructor(readonly width: number) {
    if (!(Number.isInteger(width) && width > 0)) throw new RangeError(`invalid row width ${width}: expected a positive integer`);
    this.data = new Float64Array(width * INITIAL_ROWS);
  }

  get length(): number {
    return this.count;
  }

  /** Appends a row of zeros and returns its index. */
  addRow(): number {
    if ((this.count + 1) * this.width > this.data.length) {
      const data = new Float64Array(this.data.length * 2);
      data.set(this.data);
      this.data = data;
    }
    this.count += 1;
    return this.count - 1;
  }

  get(row: number, column: number): number {
    return this.data[row * this.width + column]!;
  }

  set(row: number, column: number, value: number): void {
    this.data[row * this.width + column] = value;
  }
}
