import {
  CHINA_UTC_OFFSET_MINUTES,
  MemoryRecentTaps,
  type RecentTaps,
  StatusWordError,
  formatCardDateTime,
  type CardIdentity,
  type FareTableBody,
  type RouteStopLookup,
  type TripContext,
} from '@busfare/shared-protocol';
import type { Logger } from 'pino';
import { CardIoError } from '../ports/card-reader.js';
import type { CardSession } from '../ports/card-reader.js';
import type { Clock } from '../ports/clock.js';
import type { RiderFeedback } from '../ports/rider-feedback.js';
import type { SecureAccessModule } from '../ports/secure-access-module.js';
import { TransactionStoreError } from '../store/store-errors.js';
import type { TransactionStore } from '../store/transaction-store.js';
import { type CardLockLog, OutboxCardLockLog, blockApplication } from './card-blocking.js';
import { type DriverCardPolicy, readDriverCard } from './driver-card.js';
import { purchaseFromPurse } from './epurse-purchase.js';
import { type CardBoarding, decideTapFare, isDatedAfterClock, readsCardBoarding, sectionRouteOf } from './fare-decision.js';
import { settleInDoubt } from './in-doubt-settlement.js';
import { type PurseApplicationKind, type PurseCardFacts, selectPurseApplication } from './select-application.js';
import type { TapOutcome, TapResult } from './tap-outcome.js';
import { readCardBoarding } from './transit-record.js';
import { runM1Tap } from './m1/m1-tap.js';

/** Where the active fare table comes from (the parameter store). */
export interface FareTableSource {
  activeFareTable(now: Date): FareTableBody | undefined;
}

/** The active blacklist, keyed by the rightmost 8 bytes of the ASN as 16 upper-case hex digits. */
export interface BlacklistSource {
  has(asn8Hex: string): boolean;
}

export interface TapProcessorOptions {
  store: TransactionStore;
  sam: SecureAccessModule & { counter?: { apdus: number } };
  fareTables: FareTableSource;
  trip: () => TripContext;
  clock: Clock;
  feedback: RiderFeedback;
  logger: Logger;
  /** Called after a record becomes durable, so the uplink can send it soon. */
  onRecord?: () => void;
  /** Offset of local civil time from UTC for card dates (China: 480). */
  utcOffsetMinutes?: number;
  /** Cards to refuse and lock; default none. */
  blacklist?: BlacklistSource;
  /** Where lock records of blacklisted cards go besides the outbox and the log; default: nowhere else. */
  lockLog?: CardLockLog;
  /**
   * Which purse a card with both a T-Union and a MOHURD application pays from. Default: the fare
   * table's `preferredApplication`, else T-Union.
   */
  preferredApplication?: PurseApplicationKind;
  /** Stop index of the bus on its route pattern, for tap-on/tap-off fares when the trip names no stop id. */
  stopIndex?: () => number | undefined;
  /** Stop order of tap-on/tap-off routes whose fare table rules list no stops (the routes parameter set). */
  routeStops?: RouteStopLookup;
  /** Memory of recent taps per card for the fare engine; in memory by default. */
  recentTaps?: RecentTaps;
  /** Driver card settings. Driver cards go to the driver shift and are never debited. Without them every card is a rider's. */
  driverCards?: DriverCardPolicy;
}

export class TapAbort extends Error {
  constructor(readonly outcome: TapResult) {
    super(outcome.reason ?? outcome.status);
  }
}

/**
 * Quiet time after a tap before the outbox does its housekeeping. Riders tap a second or more
 * apart, so this falls between taps.
 */
const IDLE_MAINTENANCE_MS = 250;

/**
 * The tap state machine. MIFARE Classic purses take the M1 flow (runM1Tap). PBOC e-purse cards
 * (T-Union and MOHURD cards, phone applets and dual-application cards): select (PPSE, T-Union,
 * MOHURD) → EF15 from the FCI → settle an open in-doubt record of this card, if any → read the
 * card's boarding when the fare table has a tap-on/tap-off route → decide the fare → lock a blacklisted card → purchase
 * (ordinary or composite, with the MOHURD verify step). Feedback is given only once the record
 * is durable. A CPU card of a local issuer whose card-type code marks a driver card leaves the
 * flow after the in-doubt settlement and goes to the driver shift. A driver card is never debited.
 */
export class TapProcessor {
  private readonly recentTaps: RecentTaps;
  private readonly lockLog: CardLockLog;
  private idleTimer?: NodeJS.Timeout;

  constructor(private readonly options: TapProcessorOptions) {
    this.recentTaps = options.recentTaps ?? new MemoryRecentTaps();
    this.lockLog = new OutboxCardLockLog(options.store, options.logger, options.lockLog, options.onRecord);
  }

  async process(session: CardSession): Promise<TapOutcome> {
    const { clock, feedback, sam } = this.options;
    clearTimeout(this.idleTimer);
    const started = clock.monotonicMs();
    const card = { apdus: 0 };
    const psamStart = sam.counter?.apdus ?? 0;
    let result: TapResult;
    try {
      result = await this.run(session, card);
    } catch (error) {
      result = error instanceof TapAbort ? error.outcome : this.unexpected(error);
    }
    const outcome: TapOutcome = {
      ...result,
      cardApdus: card.apdus,
      psamApdus: (sam.counter?.apdus ?? 0) - psamStart,
      durationMs: clock.monotonicMs() - started,
    };
    feedback.show({ promptId: outcome.promptId, cardType: outcome.cardType, amountFen: outcome.amountFen, balanceFen: outcome.balanceFen });
    this.options.logger.debug({ tap: outcome }, 'tap finished');
    this.scheduleIdleMaintenance();
    return outcome;
  }

  /** Lets the outbox do its housekeeping once no card has come for IDLE_MAINTENANCE_MS. */
  private scheduleIdleMaintenance(): void {
    const { store, logger } = this.options;
    if (!store.maintainWhileIdle) return;
    this.idleTimer = setTimeout(() => {
      try {
        store.maintainWhileIdle?.();
      } catch (error) {
        logger.warn({ err: error }, 'outbox housekeeping between taps failed; SQLite checkpoints at a later commit');
      }
    }, IDLE_MAINTENANCE_MS);
    this.idleTimer.unref();
  }

  private async run(session: CardSession, counter: { apdus: number }): Promise<TapResult> {
    const { clock, store, sam } = this.options;
    const now = clock.now();
    const fareTable = this.options.fareTables.activeFareTable(now);
    const noFareTable: TapResult = { status: 'failed', promptId: 'terminal-fault', reason: 'no active fare table' };
    const signOnRequired: TapResult = { status: 'refused', promptId: 'driver-sign-on-required', reason: 'no driver is signed on' };
    if (session.protocol === 'mifare-classic') {
      // NOTE: M1 driver cards are not recognised: an M1 card takes the fare path whatever its card-type code.
      // An M1 card rejected for want of a driver keeps any torn record in doubt until its next tap.
      if (!this.acceptsRiderTaps()) return signOnRequired;
      if (!fareTable) return noFareTable;
      return runM1Tap(session, counter, {
        sam,
        store,
        clock,
        logger: this.options.logger,
        onRecord: this.options.onRecord,
        utcOffsetMinutes: this.offset,
        step: (action) => this.step(action),
        fareTable,
        trip: this.options.trip(),
        isBlacklisted: (asn) => this.options.blacklist?.has(asn8Hex(asn)) ?? false,
        recentTaps: this.recentTaps,
        stopIndex: this.options.stopIndex?.(),
        routeStops: this.options.routeStops,
        lockLog: this.lockLog,
      });
    }

    const preferred = this.options.preferredApplication ?? fareTable?.preferredApplication ?? 'tunion';
    const selection = await this.step(() => selectPurseApplication(session, counter, { preferred }));
    if (selection.status === 'blocked') {
      return { status: 'refused', promptId: 'invalid-card', reason: `application blocked (SW ${selection.sw.toString(16)})`, application: selection.application };
    }
    if (selection.status === 'not-found') return { status: 'refused', promptId: 'invalid-card', reason: 'no supported application on the card' };
    const { facts, application } = selection;

    const open = store.findOpenInDoubt(facts.asn);
    if (open) {
      const settled = await settleInDoubt(session, counter, open, {
        store,
        now: () => clock.now(),
        onRecord: this.options.onRecord,
        warn: (details, message) => this.options.logger.warn(details, message),
        step: (action) => this.step(action),
      });
      if (settled) return { ...settled, application };
    }
    // Driver sign-on needs no fare table, so a driver can sign on before the parameters arrive.
    // Card-type codes are the issuing city's own, so once the table names the local issuers, a
    // card of another city is a rider's whatever its code.
    const driverCards = this.options.driverCards;
    const localIssuer = !fareTable || fareTable.localIssuerPrefixes.some((prefix) => facts.issuerId.toUpperCase().startsWith(prefix));
    if (driverCards?.typeCodes.includes(facts.cardTypeCode) && localIssuer) return { ...this.tapDriverCard(driverCards, facts, application, now), application };
    if (!this.acceptsRiderTaps()) return { ...signOnRequired, asn: facts.asn, application };
    // Settling a torn tap needs no fare, so it runs even while no fare table is in force.
    if (!fareTable) return { ...noFareTable, asn: facts.asn, application };

    const trip = this.options.trip();
    const section = sectionRouteOf(fareTable, trip);
    const cardBoardingRead = readsCardBoarding(fareTable, trip);
    let boarding: CardBoarding | undefined;
    if (cardBoardingRead) boarding = await this.step(() => readCardBoarding(session, counter, application, this.offset));
    if (boarding && isDatedAfterClock(boarding.boardedAt, now)) {
      this.options.logger.warn({ asn: facts.asn, boardedAt: boarding.boardedAt.toISOString() }, "card boarding dated after the terminal's clock; the card boards or pays afresh");
    }

    const decision = decideTapFare({
      fareTable,
      card: facts,
      today: formatCardDateTime(now, this.offset).slice(0, 8),
      now,
      trip,
      blacklisted: this.options.blacklist?.has(asn8Hex(facts.asn)) ?? false,
      cardBoardingRead,
      boarding,
      stopIndex: this.options.stopIndex?.(),
      recentTaps: this.recentTaps,
      routeStops: this.options.routeStops,
      utcOffsetMinutes: this.offset,
    });
    if (decision.kind === 'refuse') {
      const refused: TapResult = { status: 'refused', promptId: decision.promptId, reason: decision.reason, asn: facts.asn, cardType: decision.cardType, application };
      if (decision.blockCard) await this.lock(session, counter, application, facts, trip);
      return refused;
    }

    if (sam.useApplication) await sam.useApplication(application);
    const identity: CardIdentity = { application, medium: selection.medium, asn: facts.asn, issuerId: facts.issuerId, cardType: decision.cardType };
    const result = await purchaseFromPurse(session, counter, {
      sam,
      store,
      clock,
      logger: this.options.logger,
      onRecord: this.options.onRecord,
      utcOffsetMinutes: this.offset,
      step: (action) => this.step(action),
      identity,
      facts,
      decision,
      fareTable,
      trip,
      section,
      stopIndex: this.options.stopIndex?.(),
    });
    if (result.status === 'accepted' && decision.remember) this.recentTaps.remember(facts.asn, decision.remember);
    return { ...result, application };
  }

  /** Hands a driver card to the driver shift. An invalid card, or any card on a terminal without a shift, is refused. */
  private tapDriverCard(policy: DriverCardPolicy, facts: PurseCardFacts, application: PurseApplicationKind, now: Date): TapResult {
    // A driver card reported lost cannot sign on. It is not locked on the card, because a lock
    // record goes to fare clearing, and driver cards take no part in fares.
    if (this.options.blacklist?.has(asn8Hex(facts.asn))) {
      return { status: 'refused', promptId: 'card-blacklisted', reason: 'driver card is on the blacklist', asn: facts.asn, driverCard: { action: 'rejected' } };
    }
    const today = formatCardDateTime(now, this.offset).slice(0, 8);
    const reading = readDriverCard(facts, application, policy.driverNumberDigits, today);
    if (!reading.valid) return { status: 'refused', promptId: reading.promptId, reason: reading.reason, asn: facts.asn, driverCard: { action: 'rejected' } };
    const handler = policy.handler();
    if (!handler) {
      return { status: 'refused', promptId: 'driver-sign-on-unavailable', reason: 'driver card tapped on a terminal that keeps no driver shift', asn: facts.asn, driverCard: { action: 'rejected', driverId: reading.card.driverId } };
    }
    return { ...handler.tapDriverCard(reading.card), asn: facts.asn };
  }

  /** Returns whether rider cards may pay: true unless the driver shift rejects them while no driver is signed on. */
  private acceptsRiderTaps(): boolean {
    return this.options.driverCards?.handler()?.acceptsRiderTaps() ?? true;
  }

  /** Locks a blacklisted card's application and keeps a lock record; the tap stays refused either way. */
  private async lock(session: CardSession, counter: { apdus: number }, application: PurseApplicationKind, facts: Parameters<typeof blockApplication>[3], trip: TripContext): Promise<void> {
    const { sam, logger } = this.options;
    let result: { locked: boolean; reason?: string };
    try {
      if (sam.useApplication) await sam.useApplication(application);
      result = await blockApplication(session, counter, sam, facts);
    } catch (error) {
      result = { locked: false, reason: (error as Error).message };
    }
    const record = {
      occurredAt: this.options.clock.now().toISOString(),
      application,
      asn: facts.asn,
      issuerId: facts.issuerId,
      psamTerminalNumber: Buffer.from(sam.terminalNumber).toString('hex').toUpperCase(),
      vehicleId: trip.vehicleId,
      locked: result.locked,
      reason: result.reason,
    };
    this.lockLog.append({ ...record, trip });
    logger.warn({ lock: record }, result.locked ? 'blacklisted card locked' : 'blacklisted card could not be locked');
  }

  /** Runs a card step; card I/O errors and garbled responses before DEBIT end the tap with "请重刷". */
  private async step<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof CardIoError) throw new TapAbort({ status: 'failed', promptId: 'tap-again', reason: `card I/O: ${error.message}` });
      const name = (error as Error).name;
      if (name === 'MalformedResponseError' || name === 'TlvError' || error instanceof StatusWordError || error instanceof RangeError || error instanceof TypeError) {
        throw new TapAbort({ status: 'failed', promptId: 'card-read-error', reason: (error as Error).message });
      }
      throw error;
    }
  }

  private unexpected(error: unknown): TapResult {
    const name = (error as Error | undefined)?.name;
    if (name === 'SecureAccessModuleError') {
      this.options.logger.error({ err: error }, 'PSAM failure during a tap');
      return { status: 'failed', promptId: 'terminal-fault', reason: (error as Error).message };
    }
    if (error instanceof CardIoError) return { status: 'failed', promptId: 'tap-again', reason: error.message };
    if (error instanceof TransactionStoreError && error.code === 'storage-full') {
      // The outbox is full. It refuses a new record before DEBIT, so tapping again cannot help
      // until space returns, and the rider is not asked to.
      // NOTE: an M1 completion that fails after DECREMENT also ends here. The store retries it, but
      // the rider is shown the fault prompt although the fare was taken.
      this.options.logger.error({ err: error }, 'tap failed because the outbox storage is full');
      return { status: 'failed', promptId: 'terminal-fault', reason: error.message };
    }
    this.options.logger.error({ err: error }, 'unexpected error during a tap');
    return { status: 'failed', promptId: 'card-read-error', reason: (error as Error)?.message ?? String(error) };
  }

  private get offset(): number {
    return this.options.utcOffsetMinutes ?? CHINA_UTC_OFFSET_MINUTES;
  }
}

function asn8Hex(asn: string): string {
  return asn.padStart(20, '0').slice(-16).toUpperCase();
}
