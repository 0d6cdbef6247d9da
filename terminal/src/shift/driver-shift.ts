import { EventEmitter } from 'node:events';
import { SHIFT_RECORD_SCHEMA, driverIdSchema, type ShiftRecord } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import type { Clock } from '../ports/clock.js';
import type { TapOutcome } from '../tap/tap-outcome.js';
import type { ShiftRecordSender } from './shift-record-sender.js';
import { countTap, emptyShiftCounters } from './shift-counters.js';
import type { OpenShift, ShiftStore, StoredShiftRecord } from './shift-store.js';

/** A route and direction the driver may sign on to, from the routes parameters. */
export interface ServiceChoice {
  route: string;
  direction: 0 | 1;
  routeName?: string;
  headsign?: string;
}

/** Channel of a sign-on or sign-off: the screen (number keypad, sign-off button) or the driver card. */
export type SignOnMethod = 'screen' | 'card';

export type ShiftErrorCode = 'invalid-driver' | 'already-signed-on' | 'not-signed-on' | 'unknown-service';

/** A sign-on, confirmation or sign-off that the shift's state does not allow. */
export class ShiftError extends Error {
  constructor(
    readonly code: ShiftErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ShiftError';
  }
}

export interface DriverShiftOptions {
  terminalId: string;
  vehicleId: string;
  store: ShiftStore;
  /** Delivers finished shift records; without one they stay in the store. */
  sender?: ShiftRecordSender;
  clock: Clock;
  logger: Logger;
  /** Highest sequence the terminal's transaction store has written. */
  lastSequence: () => number;
  serviceChoices: () => ServiceChoice[];
  /** Called with the trip service whenever sign-on, confirmation or sign-off changes it. */
  onService?: (service: { route?: string; direction?: 0 | 1; driverId?: string } | undefined) => void;
  /** Milliseconds between attempts to send records still waiting (default 30 s). */
  retryIntervalMs?: number;
  /** Milliseconds after a tap before the open shift's counters are saved (default 5 s). */
  saveDelayMs?: number;
}

/** Milliseconds one send may take before the record waits for the next attempt. */
const SEND_TIMEOUT_MS = 10_000;

export interface DriverShiftEvents {
  change: [];
}

/**
 * One terminal's driver shift: sign-on with a driver number, confirmation of route and direction,
 * counters of every tap, and at sign-off a shift record that is stored and sent to the back office
 * until the broker takes it. The record's sequence range covers every record the terminal wrote
 * between sign-on and sign-off, so clearing can reconcile the counters against them.
 */
export class DriverShift extends EventEmitter<DriverShiftEvents> {
  private open?: OpenShift;
  private retryTimer?: NodeJS.Timeout;
  private saveTimer?: NodeJS.Timeout;
  private flushing?: Promise<number>;

  constructor(private readonly options: DriverShiftOptions) {
    super();
  }

  /** Restores a shift that was open when the terminal stopped and sends records still waiting. */
  start(): void {
    this.open = this.options.store.loadOpen();
    if (this.open) {
      this.options.logger.info({ shiftId: this.open.shiftId, driverId: this.open.driverId }, 'restored the open driver shift');
      this.applyService();
    }
    this.retryTimer = setInterval(() => void this.flush(), this.options.retryIntervalMs ?? 30_000);
    this.retryTimer.unref();
    void this.flush();
  }

  async stop(): Promise<void> {
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    this.saveNow();
    await this.flushing;
  }

  current(): OpenShift | undefined {
    return this.open;
  }

  /** Routes and directions the driver may confirm, from the active parameters. */
  serviceChoices(): ServiceChoice[] {
    return this.options.serviceChoices();
  }

  latestRecord(): StoredShiftRecord | undefined {
    return this.options.store.latest();
  }

  /** Opens a shift that starts now. The log line records `method`. */
  signOn(driverId: string, method: SignOnMethod = 'screen'): OpenShift {
    if (!driverIdSchema.safeParse(driverId).success) throw new ShiftError('invalid-driver', `invalid driver number "${driverId}": expected 1-16 letters, digits, "_" or "-"`);
    if (this.open) throw new ShiftError('already-signed-on', `driver ${this.open.driverId} is signed on; sign off first`);
    const startedAt = this.options.clock.now();
    this.open = {
      shiftId: this.newShiftId(startedAt),
      driverId,
      startedAt: startedAt.toISOString(),
      serviceConfirmed: false,
      firstSequence: this.options.lastSequence() + 1,
      lastSequence: null,
      counters: emptyShiftCounters(),
    };
    this.options.store.saveOpen(this.open);
    this.options.logger.info({ shiftId: this.open.shiftId, driverId, method }, 'driver signed on');
    this.applyService();
    this.emit('change');
    return this.open;
  }

  confirmService(route: string, direction: 0 | 1): OpenShift {
    const open = this.requireOpen();
    const choice = this.serviceChoices().find((entry) => entry.route === route && entry.direction === direction);
    if (!choice) throw new ShiftError('unknown-service', `route "${route}" direction ${direction} is not in the routes parameters`);
    open.route = route;
    open.direction = direction;
    open.serviceConfirmed = true;
    this.options.store.saveOpen(open);
    this.options.logger.info({ shiftId: open.shiftId, route, direction }, 'driver confirmed the service');
    this.applyService();
    this.emit('change');
    return open;
  }

  /**
   * Counts a tap in the open shift. Taps while no driver is signed on count in no shift, and
   * driver card taps count in none, because they are not fare transactions.
   */
  recordTap(outcome: TapOutcome): void {
    if (!this.open || outcome.driverCard) return;
    countTap(this.open.counters, outcome);
    this.scheduleSave();
    this.emit('change');
  }

  /**
   * Returns the terminal id and the start second. The id keys the stored record and the back
   * office's copy. So a shift that starts in the second of a stored one takes the next free second.
   * That happens after a sign-off and a new sign-on within a second, or after a clock set back.
   */
  private newShiftId(startedAt: Date): string {
    let idMs = startedAt.getTime();
    while (this.options.store.hasRecord(`${this.options.terminalId}-${compactUtc(new Date(idMs))}`)) idMs += 1000;
    return `${this.options.terminalId}-${compactUtc(new Date(idMs))}`;
  }

  /** Ends the shift, stores its record and starts sending it; returns the record. The log line records `method`. */
  signOff(method: SignOnMethod = 'screen'): ShiftRecord {
    const open = this.requireOpen();
    const endedAt = this.options.clock.now();
    const lastSequence = this.options.lastSequence();
    const wroteRecords = open.firstSequence !== null && lastSequence >= open.firstSequence;
    const record: ShiftRecord = {
      schema: SHIFT_RECORD_SCHEMA,
      terminalId: this.options.terminalId,
      vehicleId: this.options.vehicleId,
      shiftId: open.shiftId,
      driverId: open.driverId,
      ...(open.route === undefined ? {} : { route: open.route }),
      ...(open.direction === undefined ? {} : { direction: open.direction }),
      startedAt: open.startedAt,
      endedAt: new Date(Math.max(endedAt.getTime(), Date.parse(open.startedAt))).toISOString(),
      firstSequence: wroteRecords ? open.firstSequence : null,
      lastSequence: wroteRecords ? lastSequence : null,
      counters: open.counters,
    };
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.options.store.finish(record);
    this.open = undefined;
    this.options.logger.info({ shiftId: record.shiftId, driverId: record.driverId, method, taps: record.counters.taps, amountFen: record.counters.amountFen }, 'driver signed off');
    this.applyService();
    this.emit('change');
    void this.flush();
    return record;
  }

  /**
   * Sends every stored record still waiting; resolves with the number this pass sent. A call during a
   * running pass chains one more pass, so a record finished meanwhile is not left for the timer.
   */
  flush(): Promise<number> {
    const previous = this.flushing ?? Promise.resolve(0);
    const next = previous
      .then(() => this.sendWaiting())
      .catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'failed to read shift records waiting to be sent');
        return 0;
      });
    this.flushing = next;
    void next.then(() => {
      if (this.flushing === next) this.flushing = undefined;
    });
    return next;
  }

  private async sendWaiting(): Promise<number> {
    const { sender, store, logger } = this.options;
    if (!sender) return 0;
    let sent = 0;
    for (const record of store.unsent()) {
      try {
        await withTimeout(sender.send(record), SEND_TIMEOUT_MS, `timed out after ${SEND_TIMEOUT_MS} ms sending shift ${record.shiftId}`);
      } catch (error) {
        logger.warn({ err: error, shiftId: record.shiftId }, 'failed to send a shift record; it is sent again later');
        break;
      }
      store.markSent(record.shiftId, this.options.clock.now());
      sent += 1;
    }
    if (sent > 0) this.emit('change');
    return sent;
  }

  private requireOpen(): OpenShift {
    if (!this.open) throw new ShiftError('not-signed-on', 'no driver is signed on');
    return this.open;
  }

  private applyService(): void {
    const open = this.open;
    this.options.onService?.(open ? { driverId: open.driverId, route: open.route, direction: open.direction } : undefined);
  }

  // NOTE: counters of the last few seconds before a power cut are lost; clearing finds the
  // difference when it reconciles the shift against the records of its sequence range.
  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.saveNow(), this.options.saveDelayMs ?? 5_000);
    this.saveTimer.unref();
  }

  private saveNow(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (this.open) this.options.store.saveOpen(this.open);
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function compactUtc(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
