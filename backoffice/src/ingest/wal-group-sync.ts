import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { Logger } from '../logger.js';
import { WalCheckpointer } from './wal-checkpointer.js';

/**
 * Milliseconds between checkpoints in the worker thread while commits come. The WAL file keeps its
 * largest size after a checkpoint, so its size does not show how much is left to copy, and the
 * checkpoints run by time instead. A PASSIVE checkpoint with nothing new to copy returns at once.
 */
const CHECKPOINT_INTERVAL_MS = 1_000;
/**
 * Size to which SQLite truncates the WAL file when it starts the WAL again (journal_size_limit), so
 * that a file larger than MAX_WAL_BYTES means the WAL itself grew that far.
 */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/**
 * WAL file size at which commits pause for a closing checkpoint even without a worker checkpoint
 * just finished. SQLite starts the WAL again only after a checkpoint copied every frame, which a
 * worker checkpoint running beside steady commits never does, so this bounds the WAL under
 * sustained load.
 */
const MAX_WAL_BYTES = 2 * WAL_SIZE_LIMIT_BYTES;
/**
 * Maximum pause of commits for a closing checkpoint. After it commits go on, and the WAL keeps
 * growing until a later closing checkpoint completes. A stalled disk therefore delays
 * acknowledgements by at most this much on account of the checkpoint.
 */
const MAX_CLOSING_PAUSE_MS = 2_000;

/** When a closing checkpoint starts and how long commits wait for it; tests set small values. */
export interface WalLimits {
  /** After a worker checkpoint, a WAL file larger than this starts a closing checkpoint. */
  restartBytes: number;
  /** A WAL file larger than this starts one at any time. */
  maxBytes: number;
  /** Maximum pause of commits; MAX_CLOSING_PAUSE_MS unless set. */
  maxPauseMs?: number;
}

interface SyncWaiter {
  release: () => void;
  fail: (error: Error) => void;
}

/**
 * Group commit for ingest with the fsync off the ingest thread. A commit runs with
 * synchronous=NORMAL, so SQLite writes its WAL frames without fsync and returns at once. Then
 * fdatasync of the WAL file runs on the libuv thread pool, and only when it has returned are the
 * commit's acknowledgements released. A commit is therefore on disk before its acknowledgement,
 * as with synchronous=FULL. Commits made while one fdatasync runs share the next one, and waiters
 * are released in the order they were added.
 *
 * The connection's automatic checkpoints are turned off, and a worker thread checkpoints the WAL
 * (maybeCheckpoint() starts one at most once a second). Commits go on meanwhile, so the worker
 * does not copy the last frames, and SQLite starts the WAL again only after a checkpoint copied
 * every frame. Once the WAL file has grown past 64 MB, the next worker checkpoint is therefore
 * followed by a closing one: commits pause (`writesPaused`), the worker copies the frames written
 * since, and the first commit after it starts the WAL again. A closing checkpoint also starts
 * whenever the WAL file exceeds 128 MB. The ingest thread goes on receiving and checking payloads
 * meanwhile, where a checkpoint of its own would block it for the copy and two fsyncs. When the
 * worker thread fails, the connection gets its automatic checkpoints back, and commits checkpoint
 * in the ingest thread as before.
 */
export class WalGroupSync {
  private readonly walPath: string;
  private walDescriptor: number | undefined;
  private readonly autoCheckpointPages: number;
  private readonly journalSizeLimit: number;
  private checkpointer: WalCheckpointer | undefined;
  private readonly timer: NodeJS.Timeout;
  private waiting: SyncWaiter[] = [];
  private syncing: SyncWaiter[] | undefined;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private lastCheckpointMs = Number.NEGATIVE_INFINITY;
  /** Set when a worker checkpoint finished, so the ingest thread copies the frames written since. */
  private catchUpDue = false;
  /** The first failed flush; every waiter after it fails. */
  private failure: Error | undefined;
  /** Set while commits wait for a closing checkpoint, with what runs once they may go on. */
  private closing: { resumes: (() => void)[]; timer: NodeJS.Timeout } | undefined;

  /** Returns a group sync for a database file, or undefined for an in-memory database, which has no WAL. */
  static forDatabase(db: Database.Database, logger: Logger, limits?: WalLimits): WalGroupSync | undefined {
    if (db.memory || db.name === '') return undefined;
    if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return undefined;
    return new WalGroupSync(db, logger, limits ?? { restartBytes: WAL_SIZE_LIMIT_BYTES, maxBytes: MAX_WAL_BYTES });
  }

  private constructor(
    private readonly db: Database.Database,
    private readonly logger: Logger,
    private readonly limits: WalLimits,
  ) {
    this.walPath = `${db.name}-wal`;
    this.autoCheckpointPages = Number(db.pragma('wal_autocheckpoint', { simple: true }));
    this.journalSizeLimit = Number(db.pragma('journal_size_limit', { simple: true }));
    try {
      this.checkpointer = new WalCheckpointer(db.name);
      db.pragma('wal_autocheckpoint = 0');
      db.pragma(`journal_size_limit = ${limits.restartBytes}`);
    } catch (error) {
      logger.warn({ err: error, path: db.name }, 'failed to start the WAL checkpoint worker, so commits checkpoint in the ingest thread');
    }
    this.timer = setInterval(() => this.maybeCheckpoint(), CHECKPOINT_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * True while commits wait for a closing checkpoint. A commit made meanwhile is stored and safe,
   * but it keeps SQLite from starting the WAL again this time.
   */
  get writesPaused(): boolean {
    return this.closing !== undefined;
  }

  /** Runs `resume` at once when commits may run, else once the closing checkpoint has returned. */
  whenWritable(resume: () => void): void {
    if (this.closing) this.closing.resumes.push(resume);
    else resume();
  }

  /** Runs `commit`, one write transaction, with synchronous=NORMAL: its WAL frames are written but not flushed. */
  commitWithoutSync<T>(commit: () => T): T {
    this.db.pragma('synchronous = NORMAL');
    try {
      return commit();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  /**
   * Calls `release` once every commit made so far is on disk, or `fail` when the flush failed
   * and so nothing may be acknowledged. Callbacks run in the order they were added.
   */
  afterSync(release: () => void, fail: (error: Error) => void): void {
    this.waiting.push({ release, fail });
    if (!this.syncing) this.startSync();
    this.maybeCheckpoint();
  }

  /** Resolves when no flush is waiting or running. */
  idle(): Promise<void> {
    if (!this.syncing && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Waits for the flushes under way, stops the checkpoint worker and gives the connection back its
   * automatic checkpoints. The caller still owns the connection.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.endClosingPause();
    await this.idle();
    await this.checkpointer?.close();
    this.checkpointer = undefined;
    if (this.walDescriptor !== undefined) closeSync(this.walDescriptor);
    this.walDescriptor = undefined;
    this.restoreAutoCheckpoint();
  }

  private startSync(): void {
    const group = this.waiting;
    this.waiting = [];
    this.syncing = group;
    let descriptor: number;
    try {
      descriptor = this.descriptor();
    } catch (error) {
      // The file could not be opened, so nothing was flushed or lost: only this group fails.
      this.finishSync(group, error instanceof Error ? error : new Error(String(error)), false);
      return;
    }
    fdatasync(descriptor, (error) => this.finishSync(group, error ?? undefined, true));
  }

  private finishSync(group: SyncWaiter[], error: Error | undefined, flushed: boolean): void {
    this.syncing = undefined;
    if (error && flushed && !this.failure) {
      // After a failed fdatasync, Linux may have dropped the dirty pages it could not write, and a
      // later successful flush does not bring them back. No commit since can be trusted to be on
      // disk, so every later waiter fails too, until a restart replays the WAL.
      this.failure = error;
      this.logger.error({ err: error, path: this.walPath }, 'fdatasync of the WAL failed, so no acknowledgement goes out until the back office restarts');
    }
    const failure = this.failure ?? error;
    for (const waiter of group) {
      try {
        if (failure) waiter.fail(failure);
        else waiter.release();
      } catch (error) {
        // One failed callback must not withhold the acknowledgements of the rest of the group.
        this.logger.error({ err: error, path: this.walPath }, 'a callback after the WAL flush failed');
      }
    }
    // A waiter's callback may have added a waiter and so started the next flush already.
    if (this.syncing) return;
    if (this.waiting.length > 0) {
      this.startSync();
      return;
    }
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /**
   * Returns a descriptor of the WAL file. fdatasync on it flushes what SQLite wrote through its own
   * descriptor, because both refer to the same file. It is opened again when the file was replaced,
   * for example after every connection closed and SQLite deleted the WAL.
   */
  private descriptor(): number {
    if (this.walDescriptor !== undefined && fstatSync(this.walDescriptor).ino === statSync(this.walPath).ino) return this.walDescriptor;
    if (this.walDescriptor !== undefined) closeSync(this.walDescriptor);
    this.walDescriptor = undefined;
    this.walDescriptor = openSync(this.walPath, 'r');
    return this.walDescriptor;
  }

  private maybeCheckpoint(): void {
    const checkpointer = this.checkpointer;
    if (this.closed || !checkpointer) return;
    if (!checkpointer.usable) {
      this.logger.error({ path: this.db.name }, 'WAL checkpoint worker stopped, so commits checkpoint in the ingest thread from now on');
      this.checkpointer = undefined;
      this.restoreAutoCheckpoint();
      return;
    }
    if (checkpointer.running || this.closing) return;
    const now = performance.now();
    const intervalPassed = now - this.lastCheckpointMs >= CHECKPOINT_INTERVAL_MS;
    const walBytes = this.walFileBytes();
    // Past maxBytes a closing checkpoint also starts at most once an interval (intervalPassed),
    // because a reader on an old snapshot keeps each one from the end of the WAL.
    if ((this.catchUpDue && walBytes > this.limits.restartBytes) || (walBytes > this.limits.maxBytes && intervalPassed)) {
      this.catchUpDue = false;
      this.startClosingCheckpoint(checkpointer, walBytes);
      return;
    }
    if (!intervalPassed) return;
    this.lastCheckpointMs = now;
    checkpointer.checkpoint().then(() => (this.catchUpDue = true), (error: unknown) => this.checkpointFailed(checkpointer, error));
  }

  /**
   * Pauses commits and has the worker copy the frames written since its last checkpoint. With no
   * commit beside it, the checkpoint reaches the end of the WAL, and the next commit starts the
   * WAL from its beginning. A reader still on an older snapshot can keep it from the end; the WAL
   * then goes on growing until a later closing checkpoint.
   */
  private startClosingCheckpoint(checkpointer: WalCheckpointer, walBytes: number): void {
    const pauseMs = this.limits.maxPauseMs ?? MAX_CLOSING_PAUSE_MS;
    const timer = setTimeout(() => {
      this.logger.warn({ path: this.db.name, walBytes, pauseMs }, 'closing WAL checkpoint still running, so commits go on');
      this.endClosingPause();
    }, pauseMs);
    this.closing = { resumes: [], timer };
    this.lastCheckpointMs = performance.now();
    checkpointer.checkpoint().then(
      (result) => {
        if (result.checkpointed < result.log) this.logger.warn({ path: this.db.name, walBytes, ...result }, 'closing WAL checkpoint left frames behind, so the WAL goes on growing');
        this.endClosingPause();
      },
      (error: unknown) => {
        this.endClosingPause();
        this.checkpointFailed(checkpointer, error);
      },
    );
  }

  private endClosingPause(): void {
    const closing = this.closing;
    if (!closing) return;
    this.closing = undefined;
    clearTimeout(closing.timer);
    for (const resume of closing.resumes) resume();
  }

  private checkpointFailed(checkpointer: WalCheckpointer, error: unknown): void {
    if (this.closed) return;
    if (checkpointer.usable) {
      // The worker runs on, and SQLite refused only this checkpoint (on a full disk, say). The
      // frames stay in the WAL, and the next interval tries again.
      this.logger.error({ err: error, path: this.db.name }, 'WAL checkpoint in the worker thread failed, so the next one tries again');
      return;
    }
    this.logger.error({ err: error, path: this.db.name }, 'WAL checkpoint in the worker thread failed, so commits checkpoint in the ingest thread from now on');
    this.checkpointer = undefined;
    this.restoreAutoCheckpoint();
    void checkpointer.close();
  }

  private walFileBytes(): number {
    try {
      return statSync(this.walPath).size;
    } catch {
      return 0;
    }
  }

  private restoreAutoCheckpoint(): void {
    if (!this.db.open) return;
    this.db.pragma(`wal_autocheckpoint = ${Math.trunc(this.autoCheckpointPages)}`);
    this.db.pragma(`journal_size_limit = ${Math.trunc(this.journalSizeLimit)}`);
  }
}
