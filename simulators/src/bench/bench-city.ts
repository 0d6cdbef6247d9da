import { type KeyObject, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackOffice, MemoryKeyStore, backOfficeConfigSchema, defaultFareTable, importGtfsFeed, routesBodyFromFeed, startBackOffice } from '@busfare/backoffice';
import { type RoutesBody, fromHex, generateParameterSigningKeys } from '@busfare/shared-protocol';
import { type Clock, SOFTWARE_VERSION, type Logger, systemClock } from '@busfare/terminal';
import { type CardMix, type PopulationCard, createCardPopulation } from '../cards/population.js';
import { createBusReplaySource, planBusReplays } from '../gps/route-replay.js';
import { ALL_BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, backofficeTacKeyTable } from '../keys/test-keys.js';
import { backofficeM1KeyRow } from '../psam/m1-keys.js';
import { writeBenchCityFeed } from './bench-arrivals.js';
import { BenchBus } from './bench-bus.js';

/** How long a restarted back office keeps trying to start. */
const OFFICE_RESTART_TIMEOUT_MS = 30_000;
/** Position of the stop page's stop on route 1, direction 0 (sampleStopId()). */
const SAMPLE_STOP_INDEX = 5;

export interface BenchCityOptions {
  buses: number;
  cards: number;
  seed: number;
  mqttPort: number;
  httpPort: number;
  dataDir?: string;
  /** Removes the data folder when the city stops, for runs whose files are not read afterwards. */
  removeDataOnStop?: boolean;
  logger: Logger;
  /** Simulated link latencies of a bus reader, in ms (0 for the fastest runs). */
  cardLatencyMs?: number;
  psamLatencyMs?: number;
  /** Replay real GPS recordings on each bus. */
  gps?: boolean;
  /** An MQTT broker to use in place of the back office's embedded one. */
  externalBrokerUrl?: string;
  /** The back office's user name and password on the external broker, when it checks them. */
  externalBrokerLogin?: { username: string; password: string };
  /** Ed25519 key that signs the parameter sets the back office publishes. */
  parameterSigningKey?: KeyObject;
  /**
   * Port of the first bus's driver page; the others take the next ports, and 0 picks free ports
   * for all. Without it the buses serve no driver page.
   */
  driverScreenPort?: number;
  /** Clock of every terminal; the system clock by default. */
  clock?: Clock;
  /** When the bench fare table and routes take effect (ISO 8601); a minute before the start by default. */
  fareTableEffectiveFrom?: string;
  /** MOHURD, dual-application and M1 cards among the riders' cards; without it every card is T-Union. */
  cardMix?: CardMix;
  /**
   * Seconds between refreshes of the back office's arrival predictions (10 by default). They run
   * when the buses replay GPS, on the city feed of the drive the buses follow.
   */
  arrivalRefreshSeconds?: number;
}

/**
 * A whole bench city in one process: the back office with its embedded broker and console, a
 * fleet of buses with their own terminals, and the population of virtual cards.
 */
export class BenchCity {
  readonly buses: BenchBus[] = [];
  readonly cards: PopulationCard[];
  readonly initialBalanceFen: number;
  readonly dataDir: string;
  /** Signs the back office's parameter sets; every bench terminal pins the public key. */
  readonly parameterKeys: { privateKey: KeyObject; publicKey: KeyObject };
  private backOffice?: BackOffice;
  /** GTFS folder of the city the arrival predictions run on; unset without GPS. */
  private arrivalFeedDir: string | undefined;
  /**
   * The routes parameter set built from the city feed, which the terminals need to name the
   * current and next stop from GPS; unset without GPS.
   */
  private routesBody: RoutesBody | undefined;

  constructor(readonly options: BenchCityOptions) {
    this.dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'busfare-bench-'));
    this.cards = createCardPopulation({ count: options.cards, seed: options.seed, ...(options.cardMix ? { mix: options.cardMix } : {}) });
    this.initialBalanceFen = this.cards.reduce((sum, entry) => sum + entry.card.balanceFen, 0);
    const signingKey = options.parameterSigningKey ?? generateParameterSigningKeys().privateKey;
    this.parameterKeys = { privateKey: signingKey, publicKey: createPublicKey(signingKey) };
  }

  get office(): BackOffice {
    if (!this.backOffice) throw new Error('the bench city is not started');
    return this.backOffice;
  }

  async start(): Promise<void> {
    const { logger } = this.options;
    if (this.options.gps !== false && this.options.buses > 0) {
      this.arrivalFeedDir = join(this.dataDir, 'city-gtfs');
      await writeBenchCityFeed(this.arrivalFeedDir);
      this.routesBody = routesBodyFromFeed(importGtfsFeed(this.arrivalFeedDir));
    }
    this.backOffice = await this.startOffice();

    const replays = this.options.buses > 0 ? planBusReplays(this.options.buses) : [];
    for (let index = 0; index < this.options.buses; index += 1) {
      const number = String(index + 1).padStart(3, '0');
      const terminalId = `T${number}`;
      const login = this.options.externalBrokerUrl === undefined ? { brokerUsername: terminalId, brokerPassword: await this.backOffice.credentials.add(terminalId, { replace: true }) } : {};
      const bus = new BenchBus({
        terminalId,
        ...login,
        vehicleId: `V${number}`,
        route: String(index % 2 === 0 ? 1 : 2),
        direction: (index % 2) as 0 | 1,
        // Driver numbers are decimal, because the terminal reads them from the driver card's number.
        driverId: `8${number}`,
        psamTerminalNumber: `0000581000${number.slice(1)}`.slice(-12),
        psamIssuers: ALL_BENCH_ISSUERS,
        brokerUrl: this.backOffice.brokerUrl,
        dataDir: this.dataDir,
        logger,
        positions: this.options.gps === false ? undefined : createBusReplaySource(replays[index]!),
        cardLatencyMs: this.options.cardLatencyMs,
        psamLatencyMs: this.options.psamLatencyMs,
        softwareVersion: SOFTWARE_VERSION,
        parameterPublicKey: this.parameterKeys.publicKey,
        clock: this.options.clock,
        ...(this.options.driverScreenPort === undefined ? {} : { driverScreenPort: this.options.driverScreenPort === 0 ? 0 : this.options.driverScreenPort + index }),
      });
      this.buses.push(bus);
      await bus.start();
    }
    const clock = this.options.clock ?? systemClock;
    const routesArrived = (bus: BenchBus) => this.routesBody === undefined || bus.parameters.active('routes', clock.now()) !== undefined;
    await waitFor(() => this.buses.every((bus) => bus.ready() && routesArrived(bus)), 15_000, 'every terminal to receive the fare table and the routes');
  }

  /**
   * Id of a stop for a stop page to show; undefined without GPS. Bus V001 starts at route 1's
   * first stop as the run starts, and the city's timetable runs about 2 minutes between stops, so
   * it reaches this one about 10 minutes in and the page lists it from its first predictions. A
   * stop further along lay close to an hour away, at the edge of the page's one-hour window, and
   * the page often listed no bus. Bus V003 comes round to the first stop later in a longer run.
   */
  sampleStopId(): string | undefined {
    const stops = this.routesBody?.routes[0]?.patterns[0]?.stops;
    return stops?.[Math.min(SAMPLE_STOP_INDEX, stops.length - 1)];
  }

  async stop(): Promise<void> {
    for (const bus of this.buses.splice(0)) {
      try {
        await bus.stop();
      } catch (error) {
        this.options.logger.error({ err: error, terminalId: bus.terminalId }, 'failed to stop a bench terminal');
      }
    }
    await this.backOffice?.stop();
    this.backOffice = undefined;
    if (this.options.removeDataOnStop) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /**
   * Stops the back office and starts it again on the same database, as a maintenance restart
   * does. The terminals keep running and re-send whatever was not acknowledged.
   */
  async restartOffice(): Promise<void> {
    await this.backOffice?.stop();
    this.backOffice = undefined;
    // A start fails while the broker is down (a broker restart can overlap this one), so it is
    // tried again each second, as a service manager restarts a failed service.
    const deadline = Date.now() + OFFICE_RESTART_TIMEOUT_MS;
    for (;;) {
      try {
        this.backOffice = await this.startOffice();
        return;
      } catch (error) {
        if (Date.now() >= deadline) throw error;
        this.options.logger.warn({ err: error }, 'back office start failed, trying again in 1 s');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  private async startOffice(): Promise<BackOffice> {
    const { logger } = this.options;
    const config = backOfficeConfigSchema.parse({
      db: join(this.dataDir, 'backoffice.db'),
      mqtt: {
        port: this.options.mqttPort,
        externalUrl: this.options.externalBrokerUrl,
        serviceUsername: this.options.externalBrokerLogin?.username,
        servicePassword: this.options.externalBrokerLogin?.password,
      },
      http: { port: this.options.httpPort },
      localIssuerPrefixes: [BENCH_LOCAL_CITY_CODE],
      ...(this.arrivalFeedDir === undefined ? {} : { arrivals: { gtfs: this.arrivalFeedDir, refreshSeconds: this.options.arrivalRefreshSeconds ?? 10 } }),
    });
    const office = await startBackOffice(config, { logger: logger.child({ service: 'backoffice' }), parameterSigningKey: this.parameterKeys.privateKey, keyStore: new MemoryKeyStore([...backofficeTacKeyTable(), backofficeM1KeyRow()].map((row) => ({ issuerId: row.issuerId, algorithm: row.algorithm, tacMasterKey: fromHex(row.tacMasterKeyHex), test: true }))) });
    const effectiveFrom = this.options.fareTableEffectiveFrom ?? new Date(Date.now() - 60_000).toISOString();
    await office.publishFareTable({ version: 1, body: defaultFareTable([BENCH_LOCAL_CITY_CODE]), effectiveFrom });
    // A restart on the same database finds version 1 with this body stored and publishes nothing new.
    if (this.routesBody) await office.parameters.publish({ kind: 'routes', version: 1, body: this.routesBody, effectiveFrom });
    return office;
  }

  /** Card balance taken by all debits so far: initial balances minus current ones. */
  cardBalanceDecreaseFen(): number {
    return this.initialBalanceFen - this.cards.reduce((sum, entry) => sum + entry.card.balanceFen, 0);
  }

  backlog(): number {
    return this.buses.reduce((sum, bus) => sum + bus.store.backlog(), 0);
  }

  stored(): number {
    return this.buses.reduce((sum, bus) => sum + bus.store.lastSequence(), 0);
  }

  synced(): number {
    return this.buses.reduce((sum, bus) => sum + bus.store.ackedThrough(), 0);
  }
}

export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
