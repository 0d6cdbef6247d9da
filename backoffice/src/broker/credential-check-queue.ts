/**
 * Runs terminal credential checks one at a time, with a bounded queue. A check is an scrypt hash
 * of about 16 MiB that runs on the libuv thread pool, where ingest's fdatasync of the WAL runs
 * too. Unbounded, a storm of CONNECTs with a wrong secret filled both cores and that pool. In a
 * test on a 2-core machine, 50 such clients reconnected in a loop against the embedded broker.
 * A connected terminal's acknowledgements then took 1 to 2 s in place of about 0.1 s, and about
 * 0.1 s again with this queue. One check at a time leaves the ingest thread a core and the pool free
 * threads, at the cost of admitting reconnecting terminals one scrypt after another.
 */
export class CredentialCheckQueue {
  private running = false;
  private readonly waiting: (() => void)[] = [];

  /** `maxWaiting` is how many checks may wait behind the running one. */
  constructor(private readonly maxWaiting: number) {
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) throw new RangeError(`maxWaiting must be a non-negative integer, got ${maxWaiting}`);
  }

  /** Runs `check` once no other check runs. Returns undefined, and runs nothing, when the queue is full. */
  run<T>(check: () => Promise<T>): Promise<T> | undefined {
    if (this.running && this.waiting.length >= this.maxWaiting) return undefined;
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running = true;
        let pending: Promise<T>;
        try {
          pending = check();
        } catch (error) {
          pending = Promise.reject(error);
        }
        pending.then(resolve, reject).finally(() => this.next());
      };
      if (this.running) this.waiting.push(start);
      else start();
    });
  }

  private next(): void {
    this.running = false;
    this.waiting.shift()?.();
  }
}
