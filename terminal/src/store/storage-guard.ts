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
 * Minimum growth of free space since SQLite reported the disk full after which new fares are
 * tried again: WAL growth of about 85 tap commits at about 12 KB each. Free space does not show a
 * limit of the file itself (max_page_count), so there a retry can fail with SQLITE_FULL again,
 * and only pruning makes room.
 */
const SPACE_REGAINED_BYTES = MIB;

/**
 * The outbox's policy for a filling disk, wrapped around any TransactionStore:
 * - below `warnFreeBytes` (default 64 MiB): the driver screen shows `storage-low`, and every
 *   acknowledged, settled record is pruned now instead of after the retention period;
 * - below `refuseFreeBytes` (default 8 MiB), or after SQLite reports the disk full: the screen
 *   shows `storage-full` and appendPending throws `storage-full`, so a fare is refused before
 *   DEBIT and no card is debited without a record. Completing, marking in doubt, resolving and
 *   acknowledging go on, because they settle money already taken and need little space.
 * - after SQLite reported the disk full, new fares are taken again once pruning freed pages in
 *   the file. They are also taken again once the file system's free space grew by
 *   SPACE_REGAINED_BYTES (or `refuseFreeBytes` if larger) since that error, for example because
 *   another file was deleted.
 * Unacknowledged records are never deleted to make room.
 */
export class StorageGuardedStore implements TransactionStore {
  private readonly settings;
  private level: StorageLevel = 'ok';
  private checkedAtMs = Number.NEGATIVE_INFINITY;
  private sqliteFull = false;
  /** Free bytes read when SQLite last reported the disk full; undefined when the reading failed. */
  private freeWhenSqliteFull: number | undefined;
  /** Record transitions that failed for want of space, oldest first. */
  private readonly deferred: { name: string; sequence: number | undefined; run: () => unknown }[] = [];

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
    if (this.sqliteFull && this.spaceRegained(free)) {
      this.options.logger.info({ freeBytes: free, freeWhenFull: this.freeWhenSqliteFull }, 'free disk space grew since SQLite reported the disk full, so new fares are taken again');
      this.sqliteFull = false;
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
    if (this.level === 'full') this.throwStorageFull();
    const asn = purchase.card.asn;
    const hadDeferred = this.deferred.length > 0;
    const openBefore = hadDeferred ? this.inner.findOpenInDoubt(asn)?.sequence : undefined;
    if (!this.retryDeferred()) this.throwStorageFull();
    if (hadDeferred) {
      // The tap looked for this card's open in-doubt record before the retry stored it, so a fare
      // now could debit the card a second time. The card's next tap settles that record first.
      const openAfter = this.inner.findOpenInDoubt(asn)?.sequence;
      if (openAfter !== undefined && openAfter !== openBefore) {
        throw new TransactionStoreError('storage-full', `fare rejected: a deferred write has just put record ${openAfter} of card ${asn} in doubt, so the card's next tap settles that record first`);
      }
    }
    return this.write(() => this.inner.appendPending(purchase));
  }

  recordDebit(sequence: number, result: DebitResult): void {
    this.write(() => this.inner.recordDebit(sequence, result));
  }

  complete(sequence: number, result: CompletionResult): TransactionRecord {
    return this.writeOrDefer('complete', sequence, () => this.inner.complete(sequence, result));
  }

  markInDoubt(sequence: number): TransactionRecord {
    return this.writeOrDefer('mark in doubt', sequence, () => this.inner.markInDoubt(sequence));
  }

  maintainWhileIdle(): void {
    this.retryDeferred();
    this.write(() => this.inner.maintainWhileIdle?.());
  }

  /**
   * Recovers pending records, or on a full disk defers that to the next fare and returns 0, so
   * that a terminal restarted on a full disk still starts and shows the alert.
   */
  recoverPending(): number {
    try {
      return this.writeOrDefer('recover pending records', undefined, () => this.inner.recoverPending());
    } catch (error) {
      if (!(error instanceof TransactionStoreError) || error.code !== 'storage-full') throw error;
      return 0;
    }
  }

  findOpenInDoubt(asn: string): OpenInDoubt | undefined {
    // A debit whose in-doubt mark was deferred must be found here, or its card would pay again.
    this.retryDeferred();
    return this.inner.findOpenInDoubt(asn);
  }

  listOpenInDoubt(): OpenInDoubt[] {
    this.retryDeferred();
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
      this.freeWhenSqliteFull = this.readFreeBytes();
      this.setLevel('full', this.freeWhenSqliteFull);
      throw new TransactionStoreError('storage-full', `outbox storage in ${this.options.directory} is full: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Runs a write for a tap that already reached the card: a completion, an in-doubt mark or
   * start-up recovery. When the disk is full it keeps the write for retryDeferred() and throws
   * `storage-full`. Until the retry succeeds the record stays pending, which start-up recovery also settles.
   */
  private writeOrDefer<T>(name: string, sequence: number | undefined, operation: () => T): T {
    try {
      return this.write(operation);
    } catch (error) {
      if (error instanceof TransactionStoreError && error.code === 'storage-full') {
        this.deferred.push({ name, sequence, run: operation });
        this.options.logger.error({ err: error, transition: name, sequence }, 'record transition failed for want of space, so it is retried before the next fare');
      }
      throw error;
    }
  }

  /**
   * Retries the deferred transitions in order, and returns false while one still fails for want
   * of space. A transition that fails otherwise (the record changed meanwhile) is logged and
   * dropped, and start-up recovery settles its record.
   */
  private retryDeferred(): boolean {
    while (this.deferred.length > 0) {
      const next = this.deferred[0]!;
      try {
        this.write(next.run);
        this.options.logger.info({ transition: next.name, sequence: next.sequence }, 'deferred record transition stored');
      } catch (error) {
        if (error instanceof TransactionStoreError && error.code === 'storage-full') return false;
        this.options.logger.error({ err: error, transition: next.name, sequence: next.sequence }, 'deferred record transition failed, so start-up recovery settles the record');
      }
      this.deferred.shift();
    }
    return true;
  }

  private throwStorageFull(): never {
    throw new TransactionStoreError('storage-full', `outbox storage in ${this.options.directory} is full, so new fares are rejected until space is freed or acknowledged records are pruned`);
  }

  private spaceRegained(free: number): boolean {
    if (this.freeWhenSqliteFull === undefined) return false;
    return free - this.freeWhenSqliteFull >= Math.max(SPACE_REGAINED_BYTES, this.settings.refuseFreeBytes);
  }

  private readFreeBytes(): number | undefined {
    try {
      return this.settings.freeBytes(this.options.directory);
    } catch {
      return undefined;
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
