import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type ModelBuild, type ModelKind, type ModelRequest, type ModelWorkerData, buildModelParts } from './model-builds.js';

/** The worker's only message: the build, or the error that stopped it. */
export type ModelReply = { build: ModelBuild<ModelKind> } | { error: string };

/** Builds the parts of one kind of model, one build at a time. */
export interface ModelBuilder<K extends ModelKind> {
  /** Builds one service date's parts. Rejects when the build fails or the builder is closed. */
  build(request: ModelRequest<K>): Promise<ModelBuild<K>>;
  /** Stops a running build, which then rejects, and every later one. */
  close(): Promise<void>;
}

/** Raised for a build that close() stopped. */
export class BuilderClosedError extends Error {
  override readonly name = 'BuilderClosedError';
}

/**
 * Maximum time a worker may take to reply (ms). A learned model of 7 days of a 1,000-bus city took about
 * 2 minutes to fit and build, so only a worker that hangs (a loop, a heap thrashing at its limit)
 * reaches this. It is then stopped and its build fails, so the kind's one build slot is free again
 * and the date is built again after the retry delay rather than never.
 */
export const BUILD_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * Returns the built worker script beside the running bundle (the `model-worker` entry of the tsup
 * builds), or undefined when running from the TypeScript sources, where it does not exist.
 */
export function bundledModelScript(): URL | undefined {
  const script = new URL('./model-worker.js', import.meta.url);
  return script.protocol === 'file:' && existsSync(fileURLToPath(script)) ? script : undefined;
}

/**
 * Runs each build in a new worker thread, which exits after it replies, so the heap that reading
 * and building take is freed with the thread. A build settles once its thread has exited, so the
 * next worker of a shared BuildSlot starts after that heap is gone, unless an uncaught error in
 * the thread, the timeout or close() ends it first. The parts arrive with their ArrayBuffers
 * transferred, not copied.
 */
export class WorkerModelBuilder<K extends ModelKind> implements ModelBuilder<K> {
  private running: { worker: Worker; reject: (error: Error) => void } | undefined;
  private closed = false;

  constructor(
    private readonly script: URL,
    private readonly kind: K,
    private readonly timeoutMs = BUILD_TIMEOUT_MS,
  ) {}

  build(request: ModelRequest<K>): Promise<ModelBuild<K>> {
    if (this.closed) return Promise.reject(new BuilderClosedError('arrival model builder closed'));
    if (this.running) return Promise.reject(new Error(`arrival model build of ${request.serviceDate} requested while another build runs`));
    return new Promise<ModelBuild<K>>((resolve, reject) => {
      const workerData = { kind: this.kind, request } as ModelWorkerData;
      const worker = new Worker(this.script, { workerData });
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.running = undefined;
        outcome();
      };
      let replied: (() => void) | undefined;
      // A reply that came before the timeout counts even when the thread has not exited yet.
      const timer = setTimeout(() => {
        settle(replied ?? (() => reject(new Error(`arrival model worker timed out after ${this.timeoutMs / 1000} s without a reply and was stopped`))));
        void worker.terminate();
      }, this.timeoutMs);
      timer.unref();
      this.running = { worker, reject: (error) => settle(() => reject(error)) };
      worker.on('message', (reply: unknown) => {
        replied ??= () => settleReply(reply, (build) => resolve(build as ModelBuild<K>), reject);
        void worker.terminate();
      });
      // An error after the reply, while the thread ends, does not undo the build.
      worker.on('error', (error) => {
        if (!replied) settle(() => reject(error));
      });
      worker.on('exit', (code) => settle(replied ?? (() => reject(new Error(`arrival model worker exited with code ${code} before it replied`)))));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const running = this.running;
    if (!running) return;
    running.reject(new BuilderClosedError('arrival model builder closed during a build'));
    await running.worker.terminate();
  }
}

/**
 * Resolves with the build of a worker's reply, or rejects with its error. A reply of another shape,
 * such as one from a worker script of another build, rejects too, because a throw in the message
 * listener would be an uncaught exception.
 */
function settleReply(reply: unknown, resolve: (build: ModelBuild<ModelKind>) => void, reject: (error: Error) => void): void {
  const fields = typeof reply === 'object' && reply !== null ? (reply as Partial<Record<'build' | 'error', unknown>>) : {};
  if (typeof fields.build === 'object' && fields.build !== null) resolve(fields.build as ModelBuild<ModelKind>);
  else if (typeof fields.error === 'string') reject(new Error(`arrival model build failed in the worker thread: ${fields.error}`));
  else reject(new Error(`invalid reply from the arrival model worker thread: ${describeReply(reply)}; expected a build or an error message`));
}

function describeReply(reply: unknown): string {
  if (typeof reply !== 'object' || reply === null) return String(reply).slice(0, 80);
  return `an object with keys ${Object.keys(reply).slice(0, 10).join(', ') || 'none'}`;
}

/**
 * Runs each build in the calling thread, after the current event-loop turn, so the refresh that
 * requested it completes first. The build then blocks that thread for as long as it takes. For
 * unit tests and runs from the TypeScript sources, where no worker script is built.
 */
export class InThreadModelBuilder<K extends ModelKind> implements ModelBuilder<K> {
  private running: { timer: NodeJS.Immediate; reject: (error: Error) => void } | undefined;
  private closed = false;

  constructor(private readonly kind: K) {}

  build(request: ModelRequest<K>): Promise<ModelBuild<K>> {
    if (this.closed) return Promise.reject(new BuilderClosedError('arrival model builder closed'));
    return new Promise<ModelBuild<K>>((resolve, reject) => {
      const timer = setImmediate(() => {
        this.running = undefined;
        try {
          resolve(buildModelParts({ kind: this.kind, request } as ModelWorkerData).build as ModelBuild<K>);
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      this.running = { timer, reject };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (!this.running) return;
    clearImmediate(this.running.timer);
    this.running.reject(new BuilderClosedError('arrival model builder closed before the build ran'));
    this.running = undefined;
  }
}
