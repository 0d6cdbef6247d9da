import { statfsSync } from 'node:fs';
import type { LockRecord, OutboxRecord, TransactionRecord } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import type { DriverScreen } from '../ports/driver-screen.js';
import type { CompletionResult, DebitResult, ResolutionProof } from './record-transitions.js';
import { isStorageFullError } from './sqlite-file.js';
import { TransactionStoreError } from './store-errors.js';
import type { OpenInDoubt, PendingLock, PendingPurchase, ReadyRecordText, StoredRecord, TransactionStore } from './transaction-store.js';

export interface StorageGuardOptions {
  /** Folder of the outbox file; its file system is the one measured. */
  directory: string;
  screen: DriverScreen;
  logger: Logger;
  /** Below this many free bytes the driver is warned and acknowledged records are pruned at once. */
  warnFreeBytes?: number;
  /** Below this many free bytes new fares are refused, so that taps already under way can finish. */
  refuseFreeBytes?: number;
  /** Milliseconds a free-space reading is reused. */
  checkIntervalMs?: number;
  /** Free bytes of the directory's file system; statfs by default. */
  freeBytes?: (directory: string) => number;
  monotonicMs?: () => number;
  now?: () => Date;
}

export type StorageLevel = 'ok' | 'low' | 'full';

const MIB = 1024 * 1024;

/**
 * The outbox's policy for a filling disk, wrapped around any TransactionStore:
 * - below `warnFreeBytes` (default 64 MiB): the driver screen shows `storage-low`, and every
 *   acknowledged, settled record is pruned now instead of after the retention period;
 * - below `refuseFreeBytes` (default 8 MiB), or after SQLite reports the disk full: the screen
 *   shows `storage-full` and appendPending throws `storage-full`, so a fare is refused before
 *   DEBIT and no card is debited without a record. Completing, marking in doubt, resolving and
 *   acknowledging go on, because they settle money already taken and need little space.
 * Unacknowledged records are never deleted to make room.
 */
export class StorageGuardedStore implements TransactionStore {
  private readonly settings;
  private level: StorageLevel = 'ok';
  private checkedAtMs = Number.NEGATIVE_INFINITY;
  private sqliteFull = false;

  constructor(
    private readonly inner: TransactionStore,
    private readonly options: StorageGuardOptions,
  ) {
    this.settings = {
      warnFreeBytes: options.warnFreeBytes ?? 64 * MIB,
      refuseFreeBytes: options.refuseFreeBytes ?? 8 * MIB,
      checkIntervalMs: options.checkIntervalMs ?? 1_000,
      freeBytes: options.freeBytes ?? statfsFreeBytes,
      monotonicMs: options.monotonicMs ?? (() => performance.now()),
      now: options.now ?? (() => new Date()),
    };
    if (this.settings.refuseFreeBytes > this.settings.warnFreeBytes) {
      throw new RangeError(`refuseFreeBytes (${this.settings.refuseFreeBytes}) must not exceed warnFreeBytes (${this.settings.warnFreeBytes})`);
    }
  }

  /** Measures free space now, prunes when it runs low, and returns the storage level. */
  check(): StorageLevel {
    this.checkedAtMs = this.settings.monotonicMs();
    let free: number;
    try {
      free = this.settings.freeBytes(this.options.directory);
    } catch (error) {
      this.options.logger.warn({ err: error, directory: this.options.directory }, 'failed to read free disk space, so keeping the last storage level');
      return this.level;
    }
    if (free < this.settings.warnFreeBytes || this.sqliteFull) {
      // Pruning frees pages inside the file, so SQLite can write again after SQLITE_FULL.
      if (this.pruneForSpace() > 0) this.sqliteFull = false;
    }
    let level: StorageLevel = 'ok';
    if (free < this.settings.warnFreeBytes) level = 'low';
    if (free < this.settings.refuseFreeBytes || this.sqliteFull) level = 'full';
    this.setLevel(level, free);
    return level;
  }

  storageLevel(): StorageLevel {
    return this.level;
  }

  appendPending(purchase: PendingPurchase): number {
    if (this.settings.monotonicMs() - this.checkedAtMs >= this.settings.checkIntervalMs || this.level !== 'ok') this.check();
    if (this.level === 'full') {
      throw new TransactionStoreError('storage-full', `outbox storage in ${this.options.directory} is full, so new fares are refused until records are acknowledged and pruned`);
    }
    return this.write(() => this.inner.appendPending(purchase));
  }

  recordDebit(sequence: number, result: DebitResult): void {
    this.write(() => this.inner.recordDebit(sequence, result));
  }

  complete(sequence: number, result: CompletionResult): TransactionRecord {
    return this.write(() => this.inner.complete(sequence, result));
  }

  markInDoubt(sequence: number): TransactionRecord {
    return this.write(() => this.inner.markInDoubt(sequence));
  }

  maintainWhileIdle(): void {
    this.write(() => this.inner.maintainWhileIdle?.());
  }

  recoverPending(): number {
    return this.write(() => this.inner.recoverPending());
  }

  findOpenInDoubt(asn: string): OpenInDoubt | undefined {
    return this.inner.findOpenInDoubt(asn);
  }

  listOpenInDoubt(): OpenInDoubt[] {
    return this.inner.listOpenInDoubt();
  }

  appendResolution(inDoubtSequence: number, outcome: 'debited' | 'not-debited', proof: ResolutionProof): TransactionRecord {
    return this.write(() => this.inner.appendResolution(inDoubtSequence, outcome, proof));
  }

  appendLock(lock: PendingLock): LockRecord {
    return this.write(() => this.inner.appendLock(lock));
  }

  readReady(afterSequence: number, limit: number): OutboxRecord[] {
    return this.inner.readReady(afterSequence, limit);
  }

  readReadyText(afterSequence: number, limit: number): ReadyRecordText[] {
    return this.inner.readReadyText(afterSequence, limit);
  }

  acknowledge(throughSequence: number): void {
    this.write(() => this.inner.acknowledge(throughSequence));
    // Acknowledged records can now be pruned, which is what a full outbox waits for.
    if (this.level !== 'ok') this.check();
  }

  ackedThrough(): number {
    return this.inner.ackedThrough();
  }

  lastSequence(): number {
    return this.inner.lastSequence();
  }

  backlog(): number {
    return this.inner.backlog();
  }

  pruneAcknowledged(olderThan: Date): number {
    return this.inner.pruneAcknowledged(olderThan);
  }

  get(sequence: number): StoredRecord | undefined {
    return this.inner.get(sequence);
  }

  close(): void {
    this.inner.close();
  }

  private write<T>(operation: () => T): T {
    try {
      return operation();
    } catch (error) {
      if (!isStorageFullError(error)) throw error;
      this.sqliteFull = true;
      this.setLevel('full', undefined);
      throw new TransactionStoreError('storage-full', `outbox storage in ${this.options.directory} is full: ${(error as Error).message}`, { cause: error });
    }
  }

  private pruneForSpace(): number {
    try {
      // Every acknowledged record whose occurredAt is before tomorrow: all of them, whatever the retention.
      const pruned = this.inner.pruneAcknowledged(new Date(this.settings.now().getTime() + 24 * 3600_000));
      if (pruned > 0) this.options.logger.warn({ pruned }, 'storage low, so pruned every acknowledged record before its retention period ended');
      return pruned;
    } catch (error) {
      this.options.logger.error({ err: error }, 'pruning acknowledged records to free storage failed');
      return 0;
    }
  }

  private setLevel(level: StorageLevel, freeBytes: number | undefined): void {
    if (level === this.level) return;
    const { screen, logger } = this.options;
    const previous = this.level;
    this.level = level;
    if (level === 'ok') {
      screen.clearAlert('storage-low');
      screen.clearAlert('storage-full');
      logger.info({ freeBytes, previous }, 'outbox storage is back to normal');
      return;
    }
    if (level === 'low') {
      screen.clearAlert('storage-full');
      screen.raiseAlert({ id: 'storage-low', severity: 'warning', messageId: 'alert.storage-low' });
      logger.warn({ freeBytes, warnFreeBytes: this.settings.warnFreeBytes }, 'outbox storage is low');
      return;
    }
    screen.clearAlert('storage-low');
    screen.raiseAlert({ id: 'storage-full', severity: 'critical', messageId: 'alert.storage-full' });
    logger.error({ freeBytes, refuseFreeBytes: this.settings.refuseFreeBytes }, 'outbox storage is full, so new fares are refused');
  }
}

function statfsFreeBytes(directory: string): number {
  const stats = statfsSync(directory);
  return stats.bavail * stats.bsize;
}
