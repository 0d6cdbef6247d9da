import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { IssuerKeyEntry } from '../keys/key-store.js';
import type { BusinessDayRule } from './business-day.js';
import type { CheckedPayload } from './payload-check.js';

/** Data the worker thread needs to build its own PayloadChecker. */
export interface PayloadCheckWorkerData {
  keys: IssuerKeyEntry[];
  localIssuerPrefixes: string[];
  businessDay: BusinessDayRule;
}

export interface PayloadCheckRequest {
  id: number;
  topic: string;
  payload: string;
}

export type PayloadCheckReply = { id: number; checked: CheckedPayload } | { id: number; error: string };

/**
 * Returns the built worker script beside the running bundle (the `payload-check-worker` entry of
 * the tsup builds), or undefined when running from the TypeScript sources, where it does not exist.
 */
export function bundledPayloadCheckScript(): URL | undefined {
  const script = new URL('./payload-check-worker.js', import.meta.url);
  return script.protocol === 'file:' && existsSync(fileURLToPath(script)) ? script : undefined;
}

/**
 * A worker thread that runs PayloadChecker, so that JSON parsing, record validation and TAC
 * checks of transaction payloads use the second core while the ingest thread stores records.
 * Replies come back in the order of the requests. After the worker fails or is closed, every
 * pending and later check rejects, and callers check the payload in their own thread instead.
 */
export class PayloadCheckWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (checked: CheckedPayload) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor(script: URL, data: PayloadCheckWorkerData) {
    this.worker = new Worker(script, { workerData: data });
    this.worker.on('message', (reply: PayloadCheckReply) => this.settle(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`payload-check worker exited with code ${code}`)));
  }

  /** False once the worker failed or was closed. */
  get usable(): boolean {
    return this.failure === undefined;
  }

  check(topic: string, payload: string): Promise<CheckedPayload> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId;
    this.nextId += 1;
    return new Promise<CheckedPayload>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: PayloadCheckRequest = { id, topic, payload };
      this.worker.postMessage(request);
    });
  }

  /** Stops the worker. Checks still pending reject. */
  async close(): Promise<void> {
    this.fail(new Error('payload-check worker closed'));
    await this.worker.terminate();
  }

  private settle(reply: PayloadCheckReply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if ('error' in reply) waiter.reject(new Error(`payload check failed in the worker thread: ${reply.error}`));
    else waiter.resolve(reply.checked);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
