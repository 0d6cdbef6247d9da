const INITIAL_CAPACITY = 1024;

/**
 * A hash map from int32 keys to row numbers, kept in two typed arrays (open addressing with
 * linear probing). A Map with hundreds of thousands of entries is a table of that many slots,
 * which every full garbage collection scans. The collector does not scan typed arrays.
 */
export class Int32RowMap {
  private keys = new Int32Array(INITIAL_CAPACITY);
  /** Row + 1 of each slot, or 0 for an empty slot. */
  private rows = new Int32Array(INITIAL_CAPACITY);
  private shift = 32 - Math.log2(INITIAL_CAPACITY);
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: number): number | undefined {
    const mask = this.keys.length - 1;
    for (let slot = this.slotOf(key); ; slot = (slot + 1) & mask) {
      const stored = this.rows[slot]!;
      if (stored === 0) return undefined;
      if (this.keys[slot] === key) return stored - 1;
    }
  }

  /** Sets the row of an int32 key. The row must be an integer from 0 to 2^31 − 2. */
  set(key: number, row: number): void {
    if ((key | 0) !== key) throw new RangeError(`invalid key ${key}: expected an int32`);
    if (!(Number.isInteger(row) && row >= 0 && row < 0x7fffffff)) throw new RangeError(`invalid row ${row}: expected an integer from 0 to 2^31 − 2`);
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    this.place(key, row + 1);
  }

  private place(key: number, storedRow: number): void {
    const mask = this.keys.length - 1;
    let slot = this.slotOf(key);
    while (this.rows[slot] !== 0 && this.keys[slot] !== key) slot = (slot + 1) & mask;
    if (this.rows[slot] === 0) this.count += 1;
    this.keys[slot] = key;
    this.rows[slot] = storedRow;
  }

  /** Fibonacci hashing: the top bits of key · 2^32/φ. */
  private slotOf(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }

  private grow(): void {
    const { keys, rows } = this;
    this.keys = new Int32Array(keys.length * 2);
    this.rows = new Int32Array(rows.length * 2);
    this.shift -= 1;
    this.count = 0;
    for (let slot = 0; slot < keys.length; slot += 1) if (rows[slot] !== 0) this.place(keys[slot]!, rows[slot]!);
  }
}
