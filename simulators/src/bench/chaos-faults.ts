import { type EmbeddedBroker, startEmbeddedBroker, type BrokerAccessHooks } from '@busfare/backoffice';
import { topics } from '@busfare/shared-protocol';
import type { Logger } from '@busfare/terminal';
import { type MqttClient, connectAsync } from 'mqtt';
import type { SeededRandom } from '../cards/seeded-random.js';
import type { ChaosBus } from './chaos-bus.js';

/** The bench's own MQTT broker, which the fault schedule restarts on the same port. */
export class RestartableBroker {
  private broker: EmbeddedBroker | undefined;
  port = 0;
  restarts = 0;

  constructor(
    private readonly hooks: BrokerAccessHooks,
    private readonly logger: Logger,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.broker = await startEmbeddedBroker({ port: this.port, host: '127.0.0.1', logger: this.logger, ...this.hooks });
    this.port = this.broker.port;
  }

  async stop(): Promise<void> {
    await this.broker?.close();
    this.broker = undefined;
  }

  /** Stops the broker (every session and queued message is lost) and starts it after downMs. */
  async restart(downMs: number): Promise<void> {
    this.restarts += 1;
    this.logger.info({ downMs }, 'restarting the broker');
    await this.stop();
    await sleep(downMs);
    await this.start();
  }
}

/**
 * Publishes copies of recently sent transaction batches again, as a broker or network that
 * delivers a message twice would. It connects with a service account, because a terminal may
 * publish only under its own id.
 */
export class DuplicateDelivery {
  private client: MqttClient | undefined;
  private readonly recent: { topic: string; payload: Buffer }[] = [];
  duplicatesSent = 0;

  constructor(
    private readonly brokerUrl: string,
    private readonly login: { username: string; password: string },
  ) {}

  async start(): Promise<void> {
    const client = await connectAsync(this.brokerUrl, { protocolVersion: 4, clientId: 'chaos-duplicates', clean: true, reconnectPeriod: 500, ...this.login });
    this.client = client;
    client.on('message', (topic, payload) => {
      this.recent.push({ topic, payload: Buffer.from(payload) });
      if (this.recent.length > 40) this.recent.shift();
    });
    // Subscribed again after every reconnect, because a restarted broker has lost every session.
    client.on('connect', () => void client.subscribeAsync(topics.allTransactions, { qos: 1 }).catch(() => undefined));
    await client.subscribeAsync(topics.allTransactions, { qos: 1 });
  }

  /** Publishes one of the recent batches again; returns whether one was sent. */
  replayOne(random: SeededRandom): boolean {
    const client = this.client;
    if (!client?.connected || this.recent.length === 0) return false;
    const message = this.recent[random.integer(0, this.recent.length - 1)]!;
    client.publish(message.topic, message.payload, { qos: 1 });
    this.duplicatesSent += 1;
    return true;
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true);
    this.client = undefined;
  }
}

export interface FaultScheduleOptions {
  durationMs: number;
  buses: readonly ChaosBus[];
  broker: RestartableBroker;
  duplicates: DuplicateDelivery;
  /** Restarts the back office on the same database. */
  restartOffice: () => Promise<void>;
  random: SeededRandom;
  logger: Logger;
}

export interface FaultCounters {
  terminalKills: number;
  debitKills: number;
  brokerRestarts: number;
  officeRestarts: number;
  linkCuts: number;
  linkStalls: number;
  linkSlowdowns: number;
  duplicateDeliveries: number;
  clockJumps: number;
}

/**
 * Injects faults over the run. Terminal processes are killed with SIGKILL, half of them right
 * after the card processed DEBIT and before the terminal received the response, and restarted,
 * some with a clock jump. The broker and the back office restart, each bus's proxy cuts, stalls
 * and slows its link, and transaction batches are delivered twice. When run() resolves, every
 * fault has stopped and every terminal is running again.
 */
export class FaultSchedule {
  private stopped = false;
  readonly counters: FaultCounters = { terminalKills: 0, debitKills: 0, brokerRestarts: 0, officeRestarts: 0, linkCuts: 0, linkStalls: 0, linkSlowdowns: 0, duplicateDeliveries: 0, clockJumps: 0 };
  private readonly tasks: Promise<void>[] = [];

  constructor(private readonly options: FaultScheduleOptions) {}

  async run(): Promise<void> {
    const { durationMs } = this.options;
    const started = Date.now();
    const until = started + durationMs;
    // Spaced so that a 120 s run has at least 10 kills, 2 broker restarts and 10 link cuts.
    this.tasks.push(this.every(durationMs / 15, until, () => this.killTerminal()));
    this.tasks.push(this.every(durationMs / 14, until, () => this.cutLink()));
    this.tasks.push(this.every(durationMs / 10, until, () => this.degradeLink()));
    this.tasks.push(this.every(durationMs / 20, until, async () => {
      if (this.options.duplicates.replayOne(this.options.random)) this.counters.duplicateDeliveries += 1;
    }));
    this.tasks.push(this.at(started + durationMs * 0.3, () => this.restartBroker()));
    this.tasks.push(this.at(started + durationMs * 0.45, () => this.restartOffice()));
    this.tasks.push(this.at(started + durationMs * 0.65, () => this.restartBroker()));
    this.tasks.push(this.at(started + durationMs * 0.85, () => this.restartBroker()));
    await Promise.all(this.tasks);
    this.stopped = true;
    for (const bus of this.options.buses) {
      bus.killAtNextDebit = false;
      // The clock is set right again, as a depot check would, before the final settlement.
      if (bus.process.running && bus.process.clockOffsetMs !== 0) await bus.process.stop();
      if (!bus.process.running) bus.process.start({ clockOffsetMs: 0 });
    }
  }

  private async every(periodMs: number, until: number, action: () => Promise<void>): Promise<void> {
    const { random } = this.options;
    await sleep(random.integer(0, Math.round(periodMs)));
    while (!this.stopped && Date.now() + periodMs / 2 < until) {
      await this.guard(action);
      await sleep(Math.round(periodMs * (0.7 + 0.6 * random.next())));
    }
  }

  private async at(time: number, action: () => Promise<void>): Promise<void> {
    await sleep(Math.max(0, time - Date.now()));
    if (!this.stopped) await this.guard(action);
  }

  private async guard(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.options.logger.error({ err: error }, 'fault injection step failed');
    }
  }

  private async killTerminal(): Promise<void> {
    const { random, buses } = this.options;
    const running = buses.filter((bus) => bus.process.running && !bus.killAtNextDebit);
    if (running.length === 0) return;
    const bus = running[random.integer(0, running.length - 1)]!;
    if (random.next() < 0.5) {
      // Killed by the reader when the next DEBIT has reached the card; plain kill if no tap comes.
      const debitKillsBefore = bus.debitKills;
      bus.killAtNextDebit = true;
      const deadline = Date.now() + 4_000;
      while (bus.killAtNextDebit && Date.now() < deadline) await sleep(50);
      if (bus.debitKills > debitKillsBefore) {
        this.counters.debitKills += 1;
      } else {
        bus.killAtNextDebit = false;
        await bus.process.kill9();
      }
    } else {
      await bus.process.kill9();
    }
    await waitUntil(() => !bus.process.running, 2_000);
    this.counters.terminalKills += 1;
    await sleep(random.integer(300, 1_500));
    const jump = random.next() < 0.3;
    if (jump) this.counters.clockJumps += 1;
    // A terminal whose RTC was reset or drifted: minutes off, which the back office flags.
    const clockOffsetMs = jump ? random.integer(-600, 600) * 1_000 : 0;
    bus.process.start({ clockOffsetMs });
  }

  private async cutLink(): Promise<void> {
    const { random, buses } = this.options;
    const bus = buses[random.integer(0, buses.length - 1)]!;
    bus.proxy.cut(random.integer(500, 3_000));
    this.counters.linkCuts += 1;
  }

  private async degradeLink(): Promise<void> {
    const { random, buses } = this.options;
    const bus = buses[random.integer(0, buses.length - 1)]!;
    if (random.next() < 0.5) {
      bus.proxy.stall(random.integer(1_000, 4_000));
      this.counters.linkStalls += 1;
    } else {
      bus.proxy.slow(random.integer(20, 200), random.integer(2_000, 5_000));
      this.counters.linkSlowdowns += 1;
    }
  }

  private async restartBroker(): Promise<void> {
    await this.options.broker.restart(this.options.random.integer(500, 2_000));
    // Retained parameter sets are gone with the broker's memory; terminals keep theirs on disk.
    this.counters.brokerRestarts += 1;
  }

  private async restartOffice(): Promise<void> {
    this.options.logger.info('restarting the back office');
    await this.options.restartOffice();
    this.counters.officeRestarts += 1;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(20);
}
