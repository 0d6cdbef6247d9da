import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { RoutesBody } from '@busfare/shared-protocol';
import type { Clock, PositionSource } from '@busfare/terminal';
import {
  ApduSecureAccessModule,
  BUILD_DATE,
  ClockCheck,
  DriverScreenService,
  OutdatedParameterCheck,
  ParameterStore,
  RecordingRiderFeedback,
  SqliteTransactionStore,
  TerminalRuntime,
  TerminalUplink,
  systemClock,
  type Logger,
  type TapOutcome,
  type CardSession,
  type DriverAlert,
} from '@busfare/terminal';
import type { ApduCard } from '../cards/apdu-card.js';
import { createDriverCard } from '../cards/driver-card.js';
import type { PsamIssuerKey } from '../psam/software-psam.js';
import { SoftwarePsam } from '../psam/software-psam.js';
import { PsamTransport } from '../psam/psam-transport.js';
import { InProcessCardReader } from '../reader/in-process-reader.js';
import type { TearPlan } from './rider-flow.js';

export interface BenchBusOptions {
  terminalId: string;
  vehicleId: string;
  route: string;
  direction: 0 | 1;
  /** Driver number, 1-8 decimal digits without a leading zero: the bench taps a driver card with it at start. */
  driverId: string;
  /** 6-byte PSAM terminal number, hex. */
  psamTerminalNumber: string;
  psamIssuers: readonly PsamIssuerKey[];
  brokerUrl: string;
  /** MQTT credentials of the terminal, when the broker checks them. */
  brokerUsername?: string;
  brokerPassword?: string;
  dataDir: string;
  logger: Logger;
  positions?: PositionSource;
  /** Simulated link latencies of a bus reader (card APDU, PSAM APDU), in ms. */
  cardLatencyMs?: number;
  psamLatencyMs?: number;
  softwareVersion: string;
  /**
   * Port of the driver's page (0 picks a free one); without it the bus serves no page but still
   * keeps the driver's shift, which the driver card tapped at start opens.
   */
  driverScreenPort?: number;
  /** The back office's parameter-signing public key, pinned as at provisioning. */
  parameterPublicKey: KeyObject;
  /** The terminal's clock; the system clock by default, a ManualClock for simulated days. */
  clock?: Clock;
}

/**
 * One simulated bus: an in-process reader with virtual cards, a software PSAM, the terminal's
 * own SQLite outbox and parameter store, its MQTT uplink and its GPS source, all wired the way a
 * real validator is.
 */
export class BenchBus {
  readonly reader: InProcessCardReader;
  readonly store: SqliteTransactionStore;
  readonly parameters: ParameterStore;
  readonly uplink: TerminalUplink;
  readonly runtime: TerminalRuntime;
  readonly feedback = new RecordingRiderFeedback();
  readonly driver: DriverScreenService;
  /** The checks behind the clock-wrong and parameters-outdated alerts on the driver's screen. */
  readonly clockCheck: ClockCheck;
  readonly parameterCheck: OutdatedParameterCheck;
  /** The driver's staff card, tapped at start to sign on. */
  readonly driverCard: ApduCard;
  /** URL of the driver's page once started, when the bus serves one. */
  driverScreenUrl?: string;
  private readonly waiters = new Map<CardSession, (outcome: TapOutcome) => void>();

  constructor(readonly options: BenchBusOptions) {
    const logger = options.logger.child({ terminalId: options.terminalId });
    this.driverCard = createDriverCard({ driverNumber: options.driverId });
    this.reader = new InProcessCardReader({ name: `${options.terminalId} reader`, apduLatencyMs: options.cardLatencyMs ?? 0 });
    const psam = new SoftwarePsam({ terminalNumber: options.psamTerminalNumber, issuers: options.psamIssuers });
    const sam = new ApduSecureAccessModule(new PsamTransport(psam, { latencyMs: options.psamLatencyMs ?? 0 }));
    this.store = SqliteTransactionStore.open(join(options.dataDir, `${options.terminalId}-transactions.db`), { logger });
    this.parameters = ParameterStore.open(join(options.dataDir, `${options.terminalId}-parameters.db`), { logger, publicKey: options.parameterPublicKey, clock: options.clock ?? systemClock });
    // The driver's screen is built after the uplink, so the checks reach it through this forwarder.
    const screen = { raiseAlert: (alert: DriverAlert) => this.driver.state.raiseAlert(alert), clearAlert: (id: string) => this.driver.state.clearAlert(id) };
    const clock = options.clock ?? systemClock;
    this.parameterCheck = new OutdatedParameterCheck({ store: this.parameters, clock, screen, logger, linkConnected: () => this.uplink.stats().connected });
    // A simulated clock starts on days before this build. The check takes that first day as the
    // build date, so that it does not flag the simulation itself as a wrong clock.
    const buildDate = options.clock ? clock.now().toISOString().slice(0, 10) : BUILD_DATE;
    this.clockCheck = new ClockCheck({ clock, screen, logger, buildDate });
    this.uplink = new TerminalUplink({
      terminalId: options.terminalId,
      vehicleId: options.vehicleId,
      brokerUrl: options.brokerUrl,
      username: options.brokerUsername,
      password: options.brokerPassword,
      store: this.store,
      logger,
      softwareVersion: options.softwareVersion,
      parameters: this.parameterCheck,
      statusProvider: () => ({ backlog: this.store.backlog(), lastSequence: this.store.lastSequence(), parameters: this.parameters.versions(new Date()), alerts: this.driver.state.currentAlerts() }),
    });
    this.runtime = new TerminalRuntime({
      terminalId: options.terminalId,
      vehicleId: options.vehicleId,
      reader: this.reader,
      sam,
      store: this.store,
      fareTables: { activeFareTable: (now) => this.parameters.activeFareTable(now)?.body },
      blacklist: this.parameters.blacklistLookup(),
      feedback: this.feedback,
      clock: options.clock ?? systemClock,
      logger,
      uplink: this.uplink,
      positions: options.positions,
      service: { route: options.route, direction: options.direction, driverId: options.driverId },
      routes: () => this.parameters.active('routes', (options.clock ?? systemClock).now())?.body as RoutesBody | undefined,
    });
    this.driver = new DriverScreenService({
      terminalId: options.terminalId,
      vehicleId: options.vehicleId,
      shiftDbPath: join(options.dataDir, `${options.terminalId}-shifts.db`),
      runtime: this.runtime,
      reader: this.reader,
      positions: options.positions,
      transactions: this.store,
      parameters: this.parameters,
      uplink: this.uplink,
      defaultService: { route: options.route, direction: options.direction },
      clock: options.clock ?? systemClock,
      logger,
      port: options.driverScreenPort ?? null,
    });
    this.parameters.attachDriverScreen(this.driver.state);
    this.runtime.on('tap', (outcome, session) => {
      const waiter = this.waiters.get(session);
      if (waiter) {
        this.waiters.delete(session);
        waiter(outcome);
      }
    });
  }

  get terminalId(): string {
    return this.options.terminalId;
  }

  async start(): Promise<void> {
    this.clockCheck.start(this.options.positions);
    this.parameterCheck.start();
    this.uplink.start();
    await this.runtime.start();
    this.driverScreenUrl = await this.driver.start();
    // The driver signs on with the staff card, as on a bus, and confirms the scheduled service on the screen.
    if (!this.driver.shift.current()) {
      const outcome = await this.tap(this.driverCard);
      if (outcome.driverCard?.action !== 'signed-on') {
        throw new Error(`driver ${this.options.driverId} could not sign on to ${this.options.terminalId} by card: ${outcome.promptId} (${outcome.reason ?? 'no reason given'})`);
      }
    }
    if (!this.driver.shift.current()?.serviceConfirmed) this.driver.shift.confirmService(this.options.route, this.options.direction);
  }

  async stop(): Promise<void> {
    this.clockCheck.stop();
    this.parameterCheck.stop();
    await this.runtime.stop();
    await this.driver.stop();
    await this.uplink.stop();
    this.store.close();
    this.parameters.close();
  }

  /** Whether the terminal holds an active fare table and can take fares. */
  ready(now = new Date()): boolean {
    return this.parameters.activeFareTable(now) !== undefined;
  }

  /** Presents a card until the terminal has decided, then takes it away; tears it when planned. */
  tap(card: ApduCard, tear?: TearPlan): Promise<TapOutcome> {
    if (tear) this.reader.tearAt(tear.apduIndex, tear.phase);
    else this.reader.cancelTear();
    return new Promise<TapOutcome>((resolve) => {
      const session = this.reader.present(card);
      this.waiters.set(session, (outcome) => {
        this.reader.remove();
        resolve(outcome);
      });
    });
  }
}
