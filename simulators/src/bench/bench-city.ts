import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackOffice, MemoryKeyStore, backOfficeConfigSchema, defaultFareTable, startBackOffice } from '@busfare/backoffice';
import { fromHex } from '@busfare/shared-protocol';
import { SOFTWARE_VERSION, type Logger } from '@busfare/terminal';
import { type PopulationCard, createCardPopulation } from '../cards/population.js';
import { createBusReplaySource, planBusReplays } from '../gps/route-replay.js';
import { ALL_BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, backofficeTacKeyTable } from '../keys/test-keys.js';
import { BenchBus } from './bench-bus.js';

export interface BenchCityOptions {
  buses: number;
  cards: number;
  seed: number;
  mqttPort: number;
  httpPort: number;
  dataDir?: string;
  logger: Logger;
  /** Simulated link latencies of a bus reader, in ms (0 for the fastest runs). */
  cardLatencyMs?: number;
  psamLatencyMs?: number;
  /** Replay real GPS recordings on each bus. */
  gps?: boolean;
  /** An MQTT broker to use in place of the back office's embedded one. */
  externalBrokerUrl?: string;
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
  private backOffice?: BackOffice;

  constructor(readonly options: BenchCityOptions) {
    this.dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'busfare-bench-'));
    this.cards = createCardPopulation({ count: options.cards, seed: options.seed });
    this.initialBalanceFen = this.cards.reduce((sum, entry) => sum + entry.card.balanceFen, 0);
  }

  get office(): BackOffice {
    if (!this.backOffice) throw new Error('the bench city is not started');
    return this.backOffice;
  }

  async start(): Promise<void> {
    const { logger } = this.options;
    const config = backOfficeConfigSchema.parse({
      db: join(this.dataDir, 'backoffice.db'),
      mqtt: { port: this.options.mqttPort, externalUrl: this.options.externalBrokerUrl },
      http: { port: this.options.httpPort },
      localIssuerPrefixes: [BENCH_LOCAL_CITY_CODE],
    });
    this.backOffice = await startBackOffice(config, { logger: logger.child({ component: 'backoffice' }), keyStore: new MemoryKeyStore(backofficeTacKeyTable().map((row) => ({ issuerId: row.issuerId, algorithm: row.algorithm, tacMasterKey: fromHex(row.tacMasterKeyHex), test: true }))) });
    await this.backOffice.publishFareTable({ version: 1, body: defaultFareTable([BENCH_LOCAL_CITY_CODE]), effectiveFrom: new Date(Date.now() - 60_000).toISOString() });

    const replays = planBusReplays(this.options.buses);
    for (let index = 0; index < this.options.buses; index += 1) {
      const number = String(index + 1).padStart(3, '0');
      const bus = new BenchBus({
        terminalId: `T${number}`,
        vehicleId: `V${number}`,
        route: String(index % 2 === 0 ? 1 : 2),
        direction: (index % 2) as 0 | 1,
        driverId: `D${number}`,
        psamTerminalNumber: `0000581000${number.slice(1)}`.slice(-12),
        psamIssuers: ALL_BENCH_ISSUERS.map((issuer) => ({ issuerId: issuer.issuerId, purchaseMasterKey: issuer.purchaseMasterKey })),
        brokerUrl: this.backOffice.brokerUrl,
        dataDir: this.dataDir,
        logger,
        positions: this.options.gps === false ? undefined : createBusReplaySource(replays[index]!),
        cardLatencyMs: this.options.cardLatencyMs,
        psamLatencyMs: this.options.psamLatencyMs,
        softwareVersion: SOFTWARE_VERSION,
      });
      this.buses.push(bus);
      await bus.start();
    }
    await waitFor(() => this.buses.every((bus) => bus.ready()), 15_000, 'every terminal to receive the fare table');
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
