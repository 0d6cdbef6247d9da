import type { ModelKind } from './model-builds.js';

/**
 * Order in which waiting builds get the slot. Every date predicts from the timetable model until
 * the learned model arrives, so the timetable build goes first.
 */
const BUILD_ORDER: readonly ModelKind[] = ['timetable', 'recorded'];

interface Waiting {
  kind: ModelKind;
  grant: (release: () => void) => void;
  /** Removes the wait from the queue and resolves it with undefined. Its signal's abort calls this. */
  withdraw: () => void;
}

/**
 * One build slot that the model builds of a back office share, so at most one model worker runs
 * at a time. Each worker thread has a heap of its own while it builds, so two builds at once need
 * both heaps.
 *
 * A free slot goes to a waiting build once the current event-loop turn ends, so builds requested
 * in the same turn get it in BUILD_ORDER rather than in the order of their requests. Builds of
 * the same kind get it in the order of their requests.
 * NOTE: a running build is never interrupted. A timetable build requested while a learned build
 * runs waits for it, which with 28 days of a 1,000-bus city may take minutes (an estimate), and
 * the date predicts from the previous date's timetable model meanwhile.
 */
export class BuildSlot {
  private readonly waiting: Waiting[] = [];
  private inUse = false;
  private grantTimer: NodeJS.Immediate | undefined;

  /**
   * Waits for the slot and resolves with the function that frees it, which the holder must call
   * once its build ends. Resolves with undefined, without the slot, when `signal` aborts first.
   */
  acquire(kind: ModelKind, signal: AbortSignal): Promise<(() => void) | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiting: Waiting = {
        kind,
        grant: (release) => {
          signal.removeEventListener('abort', waiting.withdraw);
          resolve(release);
        },
        withdraw: () => {
          const index = this.waiting.indexOf(waiting);
          if (index >= 0) this.waiting.splice(index, 1);
          resolve(undefined);
        },
      };
      signal.addEventListener('abort', waiting.withdraw, { once: true });
      this.waiting.push(waiting);
      this.scheduleGrant();
    });
  }

  /** Whether a build has the slot. */
  get busy(): boolean {
    return this.inUse;
  }

  private scheduleGrant(): void {
    if (this.inUse || this.grantTimer || this.waiting.length === 0) return;
    this.grantTimer = setImmediate(() => {
      this.grantTimer = undefined;
      this.grantNext();
    });
  }

  private grantNext(): void {
    if (this.inUse || this.waiting.length === 0) return;
    let next = 0;
    for (let index = 1; index < this.waiting.length; index += 1) {
      if (BUILD_ORDER.indexOf(this.waiting[index]!.kind) < BUILD_ORDER.indexOf(this.waiting[next]!.kind)) next = index;
    }
    const [waiting] = this.waiting.splice(next, 1);
    this.inUse = true;
    let released = false;
    // A second call of the same release function must not free the slot of a later holder.
    waiting!.grant(() => {
      if (released) return;
      released = true;
      this.inUse = false;
      this.scheduleGrant();
    });
  }
}
