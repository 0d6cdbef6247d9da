import { EventEmitter } from 'node:events';
import { CHINA_UTC_OFFSET_MINUTES, type PositionFix, type RoutesBody, type TripContext } from '@busfare/shared-protocol';
import type { Logger } from 'pino';
import type { CardReader, CardSession } from '../ports/card-reader.js';
import type { Clock } from '../ports/clock.js';
import type { GnssFix, PositionSource } from '../ports/position-source.js';
import type { RiderFeedback } from '../ports/rider-feedback.js';
import type { SecureAccessModule } from '../ports/secure-access-module.js';
import type { TransactionStore } from '../store/transaction-store.js';
import type { CardLockLog } from '../tap/card-blocking.js';
import { DEFAULT_DRIVER_CARD_TYPE_CODES, DEFAULT_DRIVER_NUMBER_DIGITS, type DriverCardHandler } from '../tap/driver-card.js';
import { type BlacklistSource, type FareTableSource, TapProcessor } from '../tap/tap-processor.js';
import type { TapOutcome } from '../tap/tap-outcome.js';
import { ServiceStops } from '../trip/service-stops.js';
import { hasValidPosition, positionReportOf } from './position-report.js';
import type { StopProgress } from '../trip/stop-tracker.js';

/** The part of the uplink the runtime drives. */
export interface RuntimeUplink {
  notify(): void;
  publishPositions(fixes: PositionFix[]): void;
}

export interface TerminalRuntimeOptions {
  terminalId: string;
  vehicleId: string;
  reader: CardReader;
  sam: SecureAccessModule & { counter?: { apdus: number } };
  store: TransactionStore;
  fareTables: FareTableSource;
  feedback: RiderFeedback;
  clock: Clock;
  logger: Logger;
  uplink?: RuntimeUplink;
  positions?: PositionSource;
  /** Route, direction and driver from the driver's sign-on. */
  service?: { route?: string; direction?: 0 | 1; driverId?: string };
  /**
   * The active routes parameter set. With it and GPS the runtime follows the bus from stop to
   * stop, and every tap carries the current stop (tap-on/tap-off routes price by it).
   */
  routes?: () => RoutesBody | undefined;
  /** How often buffered GPS fixes go to the back office. */
  positionFlushMs?: number;
  utcOffsetMinutes?: number;
  /** Cards to refuse and lock, looked up by the rightmost 8 bytes of the card number. */
  blacklist?: BlacklistSource;
  /** Where lock records of blacklisted cards go. */
  lockLog?: CardLockLog;
  /** How long reopenSam() keeps retrying before it leaves the retry to the next tap, in ms. Default 10000. */
  samReopenTimeoutMs?: number;
  /**
   * 'required' (default): start() fails when the SAM does not open. 'retry': start() goes on and
   * keeps opening it as reopenSam() does, for a PSAM slot that may come up after the terminal.
   */
  samStartup?: 'required' | 'retry';
  /**
   * Card-type codes of driver cards (default DEFAULT_DRIVER_CARD_TYPE_CODES) and the digits of the
   * card number that form the driver number (default 8). Driver cards are never debited; they go
   * to the handler that setDriverCardHandler() installs, and are refused while none is installed.
   */
  driverCards?: { typeCodes?: readonly number[]; driverNumberDigits?: number };
}

export interface TerminalRuntimeEvents {
  tap: [TapOutcome, CardSession];
  fix: [GnssFix];
}

/**
 * One card reader's runtime: it serialises taps from the reader through the tap state machine,
 * keeps the trip context (service and last GPS fix) and forwards positions to the uplink.
 */
export class TerminalRuntime extends EventEmitter<TerminalRuntimeEvents> {
  /** Offset of local civil time from UTC, for card dates and the times the driver screen shows. */
  readonly utcOffsetMinutes: number;
  private readonly processor: TapProcessor;
  private readonly stops: ServiceStops;
  private lastFix?: GnssFix;
  /** False while fixes jump, so that a run of jumps logs one warning. */
  private trackingFixes = true;
  /** Fixes dropped for a position off the globe, counted so that the log warns once per 100. */
  private invalidFixes = 0;
  private readonly pendingFixes: PositionFix[] = [];
  private flushTimer?: NodeJS.Timeout;
  private queue: Promise<void> = Promise.resolve();
  private samReopenPending = false;
  private samReopen: Promise<void> | undefined;
  /** Counts reported SAM resets, so a reset during an open that then succeeds is not lost. */
  private samResets = 0;
  private stopped = false;
  private driverCardHandler?: DriverCardHandler;
  private readonly onCard = (session: CardSession) => this.enqueue(session);
  private readonly onFix = (fix: GnssFix) => this.acceptFix(fix);

  constructor(private readonly options: TerminalRuntimeOptions) {
    super();
    this.utcOffsetMinutes = options.utcOffsetMinutes ?? CHINA_UTC_OFFSET_MINUTES;
    this.stops = new ServiceStops(() => options.routes?.());
    this.processor = new TapProcessor({
      store: options.store,
      sam: options.sam,
      fareTables: options.fareTables,
      trip: () => this.tripContext(),
      stopIndex: () => this.stopProgress().currentIndex,
      routeStops: { stops: (route, direction) => this.stops.stopOrder()?.stops(route, direction) },
      clock: options.clock,
      feedback: options.feedback,
      logger: options.logger,
      onRecord: () => options.uplink?.notify(),
      utcOffsetMinutes: this.utcOffsetMinutes,
      blacklist: options.blacklist,
      lockLog: options.lockLog,
      driverCards: {
        typeCodes: options.driverCards?.typeCodes ?? DEFAULT_DRIVER_CARD_TYPE_CODES,
        driverNumberDigits: options.driverCards?.driverNumberDigits ?? DEFAULT_DRIVER_NUMBER_DIGITS,
        handler: () => this.driverCardHandler,
      },
    });
  }

  async start(): Promise<void> {
    this.stopped = false;
    const recovered = this.options.store.recoverPending();
    if (recovered > 0) this.options.logger.warn({ recovered }, 'pending records from an interrupted run recovered: completed where the TAC was stored, in doubt otherwise');
    if (this.options.samStartup === 'retry') {
      await this.options.sam.open().catch((error: Error) => void this.reopenSam(`PSAM did not open at start: ${error.message}`));
    } else {
      await this.options.sam.open();
    }
    this.options.reader.on('card', this.onCard);
    this.options.positions?.on('fix', this.onFix);
    await this.options.reader.start();
    await this.options.positions?.start();
    const flushMs = this.options.positionFlushMs ?? 10_000;
    if (this.options.uplink && this.options.positions) this.flushTimer = setInterval(() => this.flushPositions(), flushMs);
    this.options.logger.info({ ...this.terminalIdUnlessBound(), vehicleId: this.options.vehicleId }, 'terminal started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.options.reader.off('card', this.onCard);
    this.options.positions?.off('fix', this.onFix);
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.queue;
    this.flushPositions();
    await this.options.reader.stop();
    await this.options.positions?.stop();
    this.options.logger.info(this.terminalIdUnlessBound(), 'terminal stopped');
  }

  /** Resolves when every tap already presented has finished. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Installs what a driver card tap does (the driver shift's card sign-on); undefined removes it. */
  setDriverCardHandler(handler: DriverCardHandler | undefined): void {
    this.driverCardHandler = handler;
  }

  setService(service: TerminalRuntimeOptions['service']): void {
    this.options.service = service;
  }

  /** Returns the stop the bus is at or last passed on its service, and the next one. */
  stopProgress(): StopProgress {
    return this.stops.progress(this.options.service ?? {});
  }

  tripContext(): TripContext {
    const service = this.options.service ?? {};
    return {
      vehicleId: this.options.vehicleId,
      route: service.route,
      direction: service.direction,
      stopId: this.stopProgress().current?.id,
      driverId: service.driverId,
      lat: this.lastFix?.lat,
      lon: this.lastFix?.lon,
    };
  }

  /**
   * Opens the SAM again ahead of the next tap. A PSAM is reset when its slot or pcscd comes back
   * from a fault. A reset PSAM has no application selected, so it refuses purchase commands until
   * the terminal selects one again. Taps wait behind the retries. When the retries run out, the
   * next tap tries once more before it is processed.
   */
  reopenSam(reason: string): Promise<void> {
    this.samReopenPending = true;
    this.samResets += 1;
    this.options.logger.warn({ reason }, 'opening the PSAM again');
    // One queued reopen serves every reset reported before it runs.
    if (this.samReopen) return this.samReopen;
    const task = this.queue.then(() => {
      this.samReopen = undefined;
      return this.openSamWithRetries(this.options.samReopenTimeoutMs ?? 10_000);
    });
    this.samReopen = task;
    this.queue = task;
    return task;
  }

  private async openSamWithRetries(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let delayMs = 100;
    for (;;) {
      if (!this.samReopenPending || this.stopped) return;
      const resets = this.samResets;
      try {
        await this.options.sam.open();
        this.options.logger.info('PSAM opened again');
        // A reset reported while this open ran has queued its own reopen, so the flag stays set.
        if (this.samResets === resets) this.samReopenPending = false;
        return;
      } catch (error) {
        if (performance.now() + delayMs > deadline) {
          this.options.logger.error({ err: error }, 'PSAM did not open; the next tap tries again');
          return;
        }
        this.options.logger.debug({ err: error, delayMs }, 'PSAM not ready yet');
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 1000);
    }
  }

  /** Returns the terminal's id for a log line, unless the logger already binds it (pino would print the key twice). */
  private terminalIdUnlessBound(): { terminalId?: string } {
    return 'terminalId' in this.options.logger.bindings() ? {} : { terminalId: this.options.terminalId };
  }

  private enqueue(session: CardSession): void {
    this.queue = this.queue.then(async () => {
      if (this.samReopenPending) await this.openSamWithRetries(0);
      const outcome = await this.processor.process(session);
      this.emit('tap', outcome, session);
    });
  }

  private acceptFix(fix: GnssFix): void {
    // A position off the globe would fail every tap record that carries it, so the fix is dropped.
    if (!hasValidPosition(fix)) {
      this.invalidFixes += 1;
      if (this.invalidFixes % 100 === 1) this.options.logger.warn({ lat: fix.lat, lon: fix.lon, invalidFixes: this.invalidFixes }, 'GPS fix with a latitude or longitude out of range ignored');
      return;
    }
    this.lastFix = fix;
    const tracked = this.stops.update(this.options.service ?? {}, fix.lat, fix.lon, fix.time);
    if (!tracked && this.trackingFixes) {
      this.options.logger.warn({ lat: fix.lat, lon: fix.lon, time: fix.time?.toISOString() }, 'GPS fix jumps farther than a bus can travel, so the stop tracking ignores it');
    }
    this.trackingFixes = tracked;
    this.emit('fix', fix);
    const report = positionReportOf(fix, this.options.service ?? {});
    if (!report) return;
    this.pendingFixes.push(report);
    if (this.pendingFixes.length > 600) this.pendingFixes.splice(0, this.pendingFixes.length - 600);
  }

  private flushPositions(): void {
    if (!this.options.uplink || this.pendingFixes.length === 0) return;
    this.options.uplink.publishPositions(this.pendingFixes.splice(0));
  }
}
