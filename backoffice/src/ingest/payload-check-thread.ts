import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { IssuerKeyEntry } from '../keys/key-store.js';
import type { AcceptedTransaction, VerificationStatus } from '../store/clearing-repository.js';
import { PACKED_COLUMN_COUNT, PackedAcceptedTransaction, columnsOf, packColumns, unpackColumns } from '../store/record-columns.js';
import { CLAIM_KEYS_BYTES, carriesClaims, writeClaimKeys } from '../security/claim-keys.js';
import type { BusinessDayRule } from './business-day.js';
import type { CheckedBatch, CheckedPayload } from './payload-check.js';

/** Data the worker thread needs to build its own PayloadChecker. */
export interface PayloadCheckWorkerData {
  keys: IssuerKeyEntry[];
  localIssuerPrefixes: string[];
  businessDay: BusinessDayRule;
}

export interface PayloadCheckRequest {
  id: number;
  topic: string;
  /** The payload as text, or as the received UTF-8 bytes, which the worker decodes. */
  payload: string | Uint8Array;
}

/**
 * Accepted records of a checked batch as columns. Each record travels as its stored JSON text
 * (`JSON.stringify` of the validated record) and the fields that storing it reads, as plain values
 * (packColumns()). The receiving thread parses a text only when something needs the whole record.
 * In a micro-benchmark of 500 records, a structured clone of the record objects cost about 2.5 µs
 * per record to send and 6 µs to receive. Parsing the texts in the receiving thread took about
 * 5 µs per record in a CPU profile of the ingest benchmark.
 *
 * The texts travel as their UTF-8 bytes in one buffer that the message transfers, not copies. The
 * storing thread binds each record's bytes to SQLite as they are, and makes no string of them.
 */
export interface PackedAcceptedRecords {
  /** The UTF-8 texts of all accepted records, one after the other. */
  rawText: Uint8Array;
  /** End offset of each record's text in `rawText`. The next record's text starts there. */
  rawEnds: Uint32Array;
  verifications: VerificationStatus[];
  businessDays: string[];
  /** PACKED_COLUMN_COUNT values per record. */
  columns: (string | number | null)[];
  /**
   * CLAIM_KEYS_BYTES per record: the claim keys of each record that `hasClaimKeys` marks with 1,
   * packed in the worker so the storing thread reads no hex for them.
   */
  claimKeys: Uint8Array;
  hasClaimKeys: Uint8Array;
}

/** A checked payload as the worker sends it: a checked batch carries its accepted records packed. */
export type PackedCheckedPayload = Exclude<CheckedPayload, CheckedBatch> | (Omit<CheckedBatch, 'accepted'> & { accepted: PackedAcceptedRecords });

export type PayloadCheckReply = { id: number; checked: PackedCheckedPayload } | { id: number; error: string };

/** Packs the accepted records of a checked batch into columns. Other payloads pass unchanged. */
export function packCheckedPayload(checked: CheckedPayload): PackedCheckedPayload {
  if (checked.kind !== 'checked-batch') return checked;
  const { accepted } = checked;
  const packed: PackedAcceptedRecords = {
    ...packTexts(accepted.map((item) => item.raw)),
    verifications: new Array<VerificationStatus>(accepted.length),
    businessDays: new Array<string>(accepted.length),
    columns: [],
    claimKeys: Buffer.alloc(accepted.length * CLAIM_KEYS_BYTES),
    hasClaimKeys: new Uint8Array(accepted.length),
  };
  const claimKeys = packed.claimKeys as Buffer;
  accepted.forEach((item, index) => {
    packed.verifications[index] = item.verification;
    packed.businessDays[index] = item.businessDay;
    const columns = columnsOf(item);
    packColumns(columns, packed.columns);
    if (!carriesClaims(columns)) return;
    try {
      writeClaimKeys(columns, claimKeys, index * CLAIM_KEYS_BYTES);
      packed.hasClaimKeys[index] = 1;
    } catch (error) {
      // The storing thread packs the keys again and raises the same error there.
      if (!(error instanceof RangeError)) throw error;
    }
  });
  return { ...checked, accepted: packed };
}

/**
 * Returns the buffers of a packed payload, for the transfer list of the message that carries it.
 * Each is a whole ArrayBuffer of its own (packTexts() and Buffer.alloc()), never a slice of
 * Node's shared Buffer pool.
 */
export function packedBuffers(packed: PackedCheckedPayload): ArrayBuffer[] {
  if (packed.kind !== 'checked-batch') return [];
  const { rawText, rawEnds, claimKeys } = packed.accepted;
  return [rawText.buffer, rawEnds.buffer, claimKeys.buffer].filter((buffer): buffer is ArrayBuffer => buffer instanceof ArrayBuffer);
}

/** Returns the UTF-8 bytes of `texts` in one buffer of its own, and where each text ends. */
function packTexts(texts: readonly string[]): Pick<PackedAcceptedRecords, 'rawText' | 'rawEnds'> {
  const joined = texts.join('');
  const rawText = Buffer.allocUnsafeSlow(Buffer.byteLength(joined));
  rawText.write(joined);
  const rawEnds = new Uint32Array(texts.length);
  // Record texts are nearly always ASCII, and then every character is one byte.
  const ascii = rawText.length === joined.length;
  let end = 0;
  texts.forEach((text, index) => {
    end += ascii ? text.length : Buffer.byteLength(text);
    rawEnds[index] = end;
  });
  return { rawText, rawEnds };
}

/** Rebuilds the accepted records of a packed batch; every record belongs to the batch's terminal. */
export function unpackCheckedPayload(packed: PackedCheckedPayload): CheckedPayload {
  if (packed.kind !== 'checked-batch') return packed;
  const { rawEnds, verifications, businessDays, columns, hasClaimKeys } = packed.accepted;
  // A reply from a worker of another build can lack a field, which reads as length undefined here.
  const count = rawEnds?.length ?? 0;
  const textBytes = packed.accepted.rawText?.length;
  const lengths = [columns?.length, verifications?.length, businessDays?.length, hasClaimKeys?.length, packed.accepted.claimKeys?.length, textBytes];
  const expected = [count * PACKED_COLUMN_COUNT, count, count, count, count * CLAIM_KEYS_BYTES, count === 0 ? 0 : rawEnds[count - 1]];
  if (rawEnds === undefined || lengths.some((length, index) => length !== expected[index]) || !isAscending(rawEnds)) {
    const [columnValues, verificationCount, dayCount, flagCount, keyBytes, text] = lengths.map((length) => length ?? 'no');
    throw new Error(
      `invalid packed batch: ${rawEnds === undefined ? 'no' : count} text ends, ${text} text bytes, ${verificationCount} verifications, ${dayCount} business days, ${columnValues} column values, ${flagCount} claim flags and ${keyBytes} claim key bytes`,
    );
  }
  // A worker message delivers the bytes as a plain Uint8Array; SQLite binds Buffers as BLOBs.
  const claimKeys = asBuffer(packed.accepted.claimKeys);
  const rawText = asBuffer(packed.accepted.rawText);
  const accepted = new Array<AcceptedTransaction>(count);
  for (let index = 0; index < count; index += 1) {
    const record = unpackColumns(columns, index);
    if (hasClaimKeys[index] === 1) record.claimKeys = claimKeys.subarray(index * CLAIM_KEYS_BYTES, (index + 1) * CLAIM_KEYS_BYTES);
    const rawBytes = rawText.subarray(index === 0 ? 0 : rawEnds[index - 1], rawEnds[index]);
    accepted[index] = new PackedAcceptedTransaction(packed.terminalId, record, verifications[index]!, businessDays[index]!, rawBytes);
  }
  return { ...packed, accepted };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isAscending(ends: Uint32Array): boolean {
  for (let index = 1; index < ends.length; index += 1) if (ends[index]! < ends[index - 1]!) return false;
  return true;
}

/** How long a worker may hold checks without replying before it is stopped. */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

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
  /** When the worker last replied, or when a check was posted to an idle worker. */
  private progressAtMs = 0;
  private readonly watchdog: NodeJS.Timeout;

  /**
   * Starts the worker thread. A worker that leaves checks pending for `stallTimeoutMs` without a
   * reply is stopped, so a hung thread cannot hold up ingest. Its checks then run in the caller's thread.
   */
  constructor(script: URL, data: PayloadCheckWorkerData, stallTimeoutMs = DEFAULT_STALL_TIMEOUT_MS) {
    this.worker = new Worker(script, { workerData: data });
    this.worker.on('message', (reply: PayloadCheckReply) => this.settle(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`payload-check worker exited with code ${code}`)));
    this.watchdog = setInterval(() => {
      if (this.pending.size === 0 || Date.now() - this.progressAtMs < stallTimeoutMs) return;
      this.fail(new Error(`payload-check worker timed out: no reply for ${stallTimeoutMs} ms with ${this.pending.size} checks pending`));
      void this.worker.terminate();
    }, Math.max(10, Math.floor(stallTimeoutMs / 4)));
    this.watchdog.unref();
  }

  /** False once the worker failed or was closed. */
  get usable(): boolean {
    return this.failure === undefined;
  }

  /**
   * Checks one payload in the worker. Passing the received bytes leaves their UTF-8 decoding to the
   * worker, which took about 0.6 µs per record of the ingest thread at 500 records a payload.
   */
  check(topic: string, payload: string | Uint8Array): Promise<CheckedPayload> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId;
    this.nextId += 1;
    return new Promise<CheckedPayload>((resolve, reject) => {
      if (this.pending.size === 0) this.progressAtMs = Date.now();
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
    this.progressAtMs = Date.now();
    if ('error' in reply) {
      waiter.reject(new Error(`payload check failed in the worker thread: ${reply.error}`));
      return;
    }
    let checked: CheckedPayload;
    try {
      checked = unpackCheckedPayload(reply.checked);
    } catch (error) {
      waiter.reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    waiter.resolve(checked);
  }

  private fail(error: Error): void {
    clearInterval(this.watchdog);
    this.failure ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
