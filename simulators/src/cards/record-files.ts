/**
 * Record files of a simulated CPU card. In a cyclic file record 1 is always the newest, and the
 * oldest record is overwritten once the file is full.
 */
export class CyclicRecordFile {
  private readonly records: Uint8Array[] = [];

  constructor(
    readonly recordLength: number,
    readonly capacity: number,
  ) {}

  append(record: Uint8Array): void {
    if (record.length !== this.recordLength) throw new RangeError(`record of ${record.length} bytes does not fit a ${this.recordLength}-byte cyclic file`);
    this.records.unshift(record.slice());
    if (this.records.length > this.capacity) this.records.pop();
  }

  /** Returns record `number` (1 = newest), or undefined when it has not been written. */
  read(number: number): Uint8Array | undefined {
    return this.records[number - 1]?.slice();
  }

  get count(): number {
    return this.records.length;
  }
}

/** A file of variable-length records addressed by record identifier (EF1A, EF19). */
export class IdentifiedRecordFile {
  private readonly records = new Map<number, Uint8Array>();

  constructor(readonly maxRecordLength: number) {}

  write(id: number, record: Uint8Array): void {
    if (record.length > this.maxRecordLength) throw new RangeError(`record of ${record.length} bytes exceeds ${this.maxRecordLength} bytes`);
    this.records.set(id, record.slice());
  }

  read(id: number): Uint8Array | undefined {
    return this.records.get(id)?.slice();
  }
}
