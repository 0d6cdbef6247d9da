import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The counts that one `PRAGMA wal_checkpoint(PASSIVE)` returns. */
export interface CheckpointResult {
  /** 1 when another connection kept the checkpoint from running, else 0. */
  busy: number;
  /** Frames in the WAL. */
  log: number;
  /** Frames copied into the database file. */
  checkpointed: number;
}

interface CheckpointReply {
  result?: CheckpointResult;
  error?: string;
}

/**
 * Source of the worker thread. It opens its own connection to the database file and runs a PASSIVE
 * checkpoint per message. The source is evaluated rather than bundled as a file, and it loads
 * better-sqlite3 from the absolute path that the main thread resolved.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('synchronous = FULL');
parentPort.on('message', () => {
  let reply;
  try {
    reply = { result: db.pragma('wal_checkpoint(PASSIVE)')[0] };
  } catch (error) {
    reply = { error: error instanceof Error ? error.name + ': ' + error.message : String(error) };
  }
  parentPort.postMessage(reply);
});
`;

/**
 * Runs WAL checkpoints of a SQLite database file in a worker thread with a connection of its own,
 * so that most of the copying of the WAL into the database file, and its fsync, leave the ingest
 * thread. A
 * PASSIVE checkpoint waits for no reader or writer, so ingest keeps committing meanwhile. With
 * synchronous=FULL SQLite flushes the WAL before copying and the database file after, and starts
 * the WAL again only after such a complete checkpoint.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private waiting: { resolve: (result: CheckpointResult) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(path: string) {
    const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driverPath } });
    this.worker.on('message', (reply: CheckpointReply) => this.settle(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`WAL checkpoint worker exited with code ${code}`)));
    // An idle checkpointer must not keep the process alive.
    this.worker.unref();
  }

  /** False once the worker failed or was closed. */
  get usable(): boolean {
    return this.failure === undefined;
  }

  /** True while a checkpoint runs. */
  get running(): boolean {
    return this.waiting !== undefined;
  }

  /** Runs one PASSIVE checkpoint. Rejects when one is already running or the worker failed. */
  checkpoint(): Promise<CheckpointResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiting) return Promise.reject(new Error('a WAL checkpoint is already running'));
    return new Promise<CheckpointResult>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.worker.ref();
      this.worker.postMessage('checkpoint');
    });
  }

  /** Stops the worker and closes its connection; a running checkpoint rejects. */
  async close(): Promise<void> {
    this.fail(new Error('WAL checkpoint worker closed'));
    await this.worker.terminate();
  }

  private settle(reply: CheckpointReply): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    this.worker.unref();
    if (!waiting) return;
    if (reply.result) waiting.resolve(reply.result);
    else waiting.reject(new Error(`WAL checkpoint failed in the worker thread: ${reply.error ?? 'no reason given'}`));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }
}
