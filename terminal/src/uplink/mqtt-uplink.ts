import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import {
  MAX_BATCH_RECORDS,
  POSITION_BATCH_SCHEMA,
  TERMINAL_STATUS_SCHEMA,
  terminalCommandSchema,
  topics,
  transactionAckSchema,
  type PositionFix,
  type ShiftRecord,
  type TerminalCommand,
  type TerminalStatus,
} from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { TransactionStore } from '../store/transaction-store.js';
import { BatchWindow } from './batch-window.js';
import { LogLimiter } from './log-limiter.js';
import { handleParameterMessage, parameterKindFromTopic, type ParameterSink } from './parameter-subscriber.js';
import { buildStatus, type StatusDetails } from './status-message.js';

export interface TerminalUplinkOptions {
  terminalId: string;
  vehicleId: string;
  /** mqtt://127.0.0.1:1883 and the like. */
  brokerUrl: string;
  username?: string;
  password?: string;
  /**
   * CA certificates (PEM) for an mqtts:// broker URL. They replace the system trust store, so the
   * terminal accepts only a broker certificate issued by this CA.
   */
  ca?: Buffer | string;
  /** MQTT client id; defaults to the terminal id, so a restarted process replaces its old session. */
  clientId?: string;
  store: TransactionStore;
  clock?: Clock;
  logger: Logger;
  /** Records per batch, 1..MAX_BATCH_RECORDS. */
  batchSize?: number;
  /** Unacknowledged batches allowed at once. */
  maxInFlightBatches?: number;
  /** Milliseconds without an acknowledgement before re-sending from the first unacknowledged record. */
  ackTimeoutMs?: number;
  /** Milliseconds between status messages. */
  statusIntervalMs?: number;
  /** Milliseconds an acknowledged record is kept before pruning, counted from its occurredAt. */
  retentionMs?: number;
  /** Milliseconds between prune runs. */
  pruneIntervalMs?: number;
  /** Milliseconds notify() waits so that several taps go in one batch. */
  notifyDelayMs?: number;
  /** Milliseconds between reconnect attempts. */
  reconnectPeriodMs?: number;
  softwareVersion: string;
  statusProvider?: () => StatusDetails;
  /** When given, retained parameter sets are fed to it and its versions go into the status. */
  parameters?: ParameterSink;
}

export interface UplinkStats {
  connected: boolean;
  batchesSent: number;
  recordsSent: number;
  resends: number;
  acksReceived: number;
  acksIgnored: number;
  invalidMessages: number;
  ackedThrough: number;
  backlog: number;
  inFlightBatches: number;
  positionBatchesSent: number;
  positionFixesDropped: number;
}

const MAX_FIXES_PER_MESSAGE = 600;

/**
 * The terminal's MQTT link to the back office (MQTT 3.1.1, clean sessions). It sends the outbox
 * in acknowledged batches, publishes a retained status with an `offline` last will, executes
 * operator commands, publishes positions and passes parameter sets to the parameter store.
 * Delivery does not rely on broker sessions: every (re)connect re-sends from ackedThrough.
 */
export class TerminalUplink {
  private readonly clock: Clock;
  private readonly logger: Logger;
  /** Set from stop() until the connection is closed, so the close is not reported as a drop. */
  private stopping = false;
  private readonly limiter: LogLimiter;
  private readonly window: BatchWindow;
  private readonly settings: Required<Pick<TerminalUplinkOptions, 'batchSize' | 'maxInFlightBatches' | 'ackTimeoutMs' | 'statusIntervalMs' | 'retentionMs' | 'pruneIntervalMs' | 'notifyDelayMs' | 'reconnectPeriodMs'>>;
  private client: MqttClient | undefined;
  private connected = false;
  private statusTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private notifyTimer: NodeJS.Timeout | undefined;
  private invalidMessages = 0;
  private positionBatchesSent = 0;
  private positionFixesDropped = 0;

  constructor(private readonly options: TerminalUplinkOptions) {
    this.clock = options.clock ?? systemClock;
    // Callers usually bind terminalId already; a second binding would print the key twice.
    this.logger = 'terminalId' in options.logger.bindings() ? options.logger : options.logger.child({ terminalId: options.terminalId });
    this.limiter = new LogLimiter(this.logger, this.clock);
    this.settings = {
      batchSize: options.batchSize ?? 200,
      maxInFlightBatches: options.maxInFlightBatches ?? 4,
      ackTimeoutMs: options.ackTimeoutMs ?? 10_000,
      statusIntervalMs: options.statusIntervalMs ?? 30_000,
      retentionMs: options.retentionMs ?? 7 * 24 * 3600_000,
      pruneIntervalMs: options.pruneIntervalMs ?? 3600_000,
      notifyDelayMs: options.notifyDelayMs ?? 50,
      reconnectPeriodMs: options.reconnectPeriodMs ?? 1000,
    };
    const { batchSize, maxInFlightBatches } = this.settings;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_RECORDS) {
      throw new RangeError(`batchSize must be an integer from 1 to ${MAX_BATCH_RECORDS}, got ${batchSize}`);
    }
    if (!Number.isInteger(maxInFlightBatches) || maxInFlightBatches < 1) {
      throw new RangeError(`maxInFlightBatches must be a positive integer, got ${maxInFlightBatches}`);
    }

    this.window = new BatchWindow({
      terminalId: options.terminalId,
      store: options.store,
      clock: this.clock,
      logger: this.logger,
      limiter: this.limiter,
      batchSize,
      maxInFlightBatches,
      ackTimeoutMs: this.settings.ackTimeoutMs,
      publish: (batchId, payload) => this.publishBatch(batchId, payload),
    });
  }

  /** Connects and keeps reconnecting until stop(). */
  start(): void {
    if (this.client) return;
    const { terminalId, brokerUrl } = this.options;
    const clientOptions: IClientOptions = {
      protocolVersion: 4,
      clean: true,
      clientId: this.options.clientId ?? terminalId,
      reconnectPeriod: this.settings.reconnectPeriodMs,
      connectTimeout: 10_000,
      resubscribe: false,
      will: {
        topic: topics.status(terminalId),
        payload: Buffer.from(JSON.stringify(this.offlineStatus())),
        qos: 1,
        retain: true,
      },
      ...(this.options.username === undefined ? {} : { username: this.options.username }),
      ...(this.options.password === undefined ? {} : { password: this.options.password }),
      ...(this.options.ca === undefined ? {} : { ca: this.options.ca, rejectUnauthorized: true }),
    };

    this.logger.info({ brokerUrl }, 'uplink starting');
    const client = connect(brokerUrl, clientOptions);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', (error) => this.limiter.warn('mqtt-error', { err: error, brokerUrl }, 'MQTT connection error'));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));

    this.statusTimer = setInterval(() => this.onStatusTick(), this.settings.statusIntervalMs);
    this.statusTimer.unref();
    this.pruneTimer = setInterval(() => this.prune(), this.settings.pruneIntervalMs);
    this.pruneTimer.unref();
    this.prune();
  }

  /** Publishes the `offline` status when connected, then closes the connection. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    for (const timer of [this.statusTimer, this.pruneTimer, this.notifyTimer]) if (timer) clearTimeout(timer);
    this.statusTimer = this.pruneTimer = this.notifyTimer = undefined;

    if (this.connected) {
      try {
        await client.publishAsync(topics.status(this.options.terminalId), JSON.stringify(this.offlineStatus()), { qos: 1, retain: true });
      } catch (error) {
        this.logger.warn({ err: error }, 'failed to publish offline status');
      }
    }
    this.window.pause();
    await client.endAsync(!this.connected);
    this.client = undefined;
    this.connected = false;
    this.stopping = false;
    this.logger.info('uplink stopped');
  }

  /** Asks for new records to be sent soon; several calls within notifyDelayMs send once. */
  notify(): void {
    if (this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      this.window.pump();
    }, this.settings.notifyDelayMs);
  }

  /**
   * Publishes GPS fixes at QoS 0. While offline they are dropped and counted, because positions
   * are only useful live. Returns whether they were handed to the connection.
   */
  publishPositions(fixes: PositionFix[]): boolean {
    if (fixes.length === 0) return true;
    const client = this.client;
    if (!client || !this.connected) {
      this.positionFixesDropped += fixes.length;
      return false;
    }
    for (let start = 0; start < fixes.length; start += MAX_FIXES_PER_MESSAGE) {
      const message = {
        schema: POSITION_BATCH_SCHEMA,
        terminalId: this.options.terminalId,
        vehicleId: this.options.vehicleId,
        fixes: fixes.slice(start, start + MAX_FIXES_PER_MESSAGE),
      };
      client.publish(topics.positions(this.options.terminalId), JSON.stringify(message), { qos: 0 });
      this.positionBatchesSent += 1;
    }
    return true;
  }

  /**
   * Publishes a driver's shift record at QoS 1 on `terminals/{id}/shifts`. Resolves when the
   * broker acknowledges it and rejects when the link is down, so the caller keeps it to resend.
   */
  async publishShift(record: ShiftRecord): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) throw new Error(`uplink of ${this.options.terminalId} is not connected`);
    await client.publishAsync(topics.shifts(this.options.terminalId), JSON.stringify(record), { qos: 1 });
  }

  /** Publishes the current status now (when connected). */
  reportStatus(): void {
    const client = this.client;
    if (!client || !this.connected) return;
    let status: TerminalStatus;
    try {
      const { store } = this.options;
      status = buildStatus({
        ...this.identity(),
        state: 'online',
        at: this.clock.now(),
        backlog: store.backlog(),
        lastSequence: store.lastSequence(),
        details: this.statusDetails(),
      });
    } catch (error) {
      this.limiter.warn('status-invalid', { err: error }, 'failed to build status message');
      return;
    }
    client.publish(topics.status(this.options.terminalId), JSON.stringify(status), { qos: 1, retain: true });
  }

  stats(): UplinkStats {
    const { counters } = this.window;
    return {
      connected: this.connected,
      batchesSent: counters.batchesSent,
      recordsSent: counters.recordsSent,
      resends: counters.resends,
      acksReceived: counters.acksReceived,
      acksIgnored: counters.acksIgnored,
      invalidMessages: this.invalidMessages,
      ackedThrough: this.options.store.ackedThrough(),
      backlog: this.options.store.backlog(),
      inFlightBatches: this.window.inFlightBatches(),
      positionBatchesSent: this.positionBatchesSent,
      positionFixesDropped: this.positionFixesDropped,
    };
  }

  private onConnect(): void {
    const client = this.client;
    if (!client) return;
    this.connected = true;
    const { terminalId } = this.options;
    this.logger.info({ ackedThrough: this.options.store.ackedThrough(), backlog: this.options.store.backlog() }, 'uplink connected');

    const subscriptions: Record<string, { qos: 1 }> = {
      [topics.acks(terminalId)]: { qos: 1 },
      [topics.commands(terminalId)]: { qos: 1 },
    };
    if (this.options.parameters) subscriptions[topics.parameters('+')] = { qos: 1 };
    client.subscribe(subscriptions, (error) => {
      if (error) this.logger.error({ err: error, terminalId }, 'subscribe failed, so acknowledgements will not arrive until the next reconnect');
    });

    this.reportStatus();
    this.window.start();
  }

  private onClose(): void {
    if (this.connected && !this.stopping) this.logger.warn('uplink disconnected, reconnecting');
    this.connected = false;
    this.window.pause();
  }

  private onMessage(topic: string, payload: Buffer): void {
    const { terminalId } = this.options;
    if (topic === topics.acks(terminalId)) {
      this.onAck(payload);
    } else if (topic === topics.commands(terminalId)) {
      this.onCommand(payload);
    } else {
      const kind = parameterKindFromTopic(topic);
      if (kind !== undefined && this.options.parameters) {
        if (handleParameterMessage(kind, payload, this.options.parameters, this.logger, this.limiter)) this.reportStatus();
      }
    }
  }

  private onAck(payload: Buffer): void {
    const parsed = transactionAckSchema.safeParse(parseJson(payload));
    if (!parsed.success) {
      this.ignoreInvalid('ack-invalid', parsed.error.issues, 'ignored invalid acknowledgement');
      return;
    }
    if (parsed.data.terminalId !== this.options.terminalId) {
      this.invalidMessages += 1;
      this.limiter.warn('ack-foreign', { ackTerminalId: parsed.data.terminalId, terminalId: this.options.terminalId }, 'ignored acknowledgement for another terminal');
      return;
    }
    this.window.handleAck(parsed.data);
  }

  private onCommand(payload: Buffer): void {
    const parsed = terminalCommandSchema.safeParse(parseJson(payload));
    if (!parsed.success) {
      this.ignoreInvalid('command-invalid', parsed.error.issues, 'ignored invalid command');
      return;
    }
    const command: TerminalCommand = parsed.data;
    this.logger.info({ commandId: command.id, command: command.command }, 'command received');
    switch (command.command) {
      case 'upload-now':
        this.window.pump();
        break;
      case 'report-status':
        this.reportStatus();
        break;
      case 'resend':
        this.window.resendRange(command.fromSequence, command.toSequence);
        break;
    }
  }

  private ignoreInvalid(key: string, issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>, message: string): void {
    this.invalidMessages += 1;
    const problems = issues.slice(0, 5).map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`);
    this.limiter.warn(key, { problems }, message);
  }

  private onStatusTick(): void {
    this.reportStatus();
    this.window.pump();
  }

  private prune(): void {
    const cutOff = new Date(this.clock.now().getTime() - this.settings.retentionMs);
    try {
      const pruned = this.options.store.pruneAcknowledged(cutOff);
      if (pruned > 0) this.logger.info({ pruned, cutOff: cutOff.toISOString() }, 'pruned acknowledged records');
    } catch (error) {
      this.logger.error({ err: error }, 'pruning acknowledged records failed');
    }
  }

  private publishBatch(batchId: string, payload: string): void {
    this.client?.publish(topics.transactions(this.options.terminalId), payload, { qos: 1 }, (error) => {
      if (error) this.limiter.warn('batch-publish-failed', { err: error, batchId }, 'failed to publish batch, it is re-sent after reconnect');
    });
  }

  private statusDetails(): StatusDetails {
    const details: StatusDetails = this.options.statusProvider?.() ?? {};
    if (!details.parameters && this.options.parameters) details.parameters = this.options.parameters.versions(this.clock.now());
    return details;
  }

  private identity(): { terminalId: string; vehicleId: string; softwareVersion: string } {
    const { terminalId, vehicleId, softwareVersion } = this.options;
    return { terminalId, vehicleId, softwareVersion };
  }

  /** The offline status. As the last will, its `at` is the time start() ran, because the broker sends it unchanged. */
  private offlineStatus(): TerminalStatus {
    return { schema: TERMINAL_STATUS_SCHEMA, ...this.identity(), state: 'offline', at: this.clock.now().toISOString() };
  }
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}
