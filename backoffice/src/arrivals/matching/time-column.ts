/** Values per shared block: 512 KiB, the arrival and departure times of about 2,000 trips of 15 stops. */
const BLOCK_VALUES = 64 * 1024;

/**
 * Stores many short arrays of times in a few large Float64Array blocks and returns a view of
 * each. The views have no elements of their own, so a full garbage collection marks one small
 * object per array and never scans the times. A block stays in memory while any of its views is
 * alive, because views are never moved or freed.
 */
export class TimeColumn {
  private block = new Float64Array(0);
  private used = 0;

  constructor(private readonly blockValues = BLOCK_VALUES) {
    if (!(Number.isInteger(blockValues) && blockValues > 0)) throw new RangeError(`invalid blockValues ${blockValues}: expected a positive integer`);
  }

  /** Copies the values into the column and returns a view of the copy. */
  append(values: readonly number[]): Float64Array {
    if (this.used + values.length > this.block.length) {
      // An array longer than a block gets a block of its own.
      this.block = new Float64Array(Math.max(this.blockValues, values.length));
      this.used = 0;
    }
    const view = this.block.subarray(this.used, this.used + values.length);
    view.set(values);
    this.used += values.length;
    return view;
  }
}
