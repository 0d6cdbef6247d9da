import { EventEmitter } from 'node:events';
import { type TerminalCommand, type TerminalStatus, type TransactionAck, topics } from '@busfare/shared-protocol';
import type Database from 'better-sqlite3';
import { type IClientOptions, type MqttClient, connectAsync } from 'mqtt';
import type { Logger } from '../logger.js';
import { INGEST_CLIENT_ID } from '../broker/service-client-ids.js';
import type { AcceptedTransaction, ClearingRepository, VerificationStatus } from '../store/clearing-repository.js';
import { columnsOf } from '../store/record-columns.js';
import { ingestPositions, ingestShift, ingestStatus } from './telemetry-ingest.js';
import type { GroupedIngestResult, IngestInput, TransactionIngestOutcome, TransactionIngestor } from './transaction-ingest.js';
import type { PayloadCheckWorker } from './payload-check-thread.js';
import { WalGroupSync, type WalLimits } from './wal-group-sync.js';

/**
 * Maximum transaction payloads per commit. Payloads beyond it wait for the next commit. At 500
 * records a payload, 16 payloads take well under a second to check and store, far inside a
 * terminal's acknowledgement timeout (10 s by default).
 */
const MAX_PAYLOADS_PER_COMMIT = 16;
/**
 * Records a commit waits for while payloads are still in the check worker, so that under load a
 * commit stores many records. A commit writes every page it changed to the WAL, and the card-keyed
 * indexes (transactions_asn, card_claims) place their rows at random, so on a large database each
 * record dirties pages of its own. A database of 1,000,000 rows and 100,000
 * cards (16 KiB pages) took 200,000 inserts in commits of 3,000 records at 34 KB of WAL and 186 µs
 * per record. In commits of 12,000 records it took 14 KB and 109 µs.
 */
const GATHER_RECORDS = 8_000;
/** Milliseconds a commit waits at most for GATHER_RECORDS, from the oldest queued payload. Only under load does it delay acknowledgements. */
const GATHER_WAIT_MS = 100;

/** A stored record as the live view shows it. */
export interface LiveTap {
  terminalId: string;
  sequence: number;
  kind: 'purchase' | 'in-doubt' | 'resolution';
  occurredAt: string;
  asn: string;
  cardType: string;
  amountFen: number;
  route: string | null;
  vehicleId: string;
  verification: VerificationStatus;
  outcome: 'debited' | 'not-debited' | null;
}

export interface IngestRejection {
  terminalId: string;
  topic: string;
  sequence: number | null;
  reason: string;
}

/** A transaction batch that was processed, with the terminal's send time and the local receive time. */
export interface BatchReceipt {
  terminalId: string;
  sentAt: string;
  receivedAt: Date;
  ack: TransactionAck;
}

export interface IngestEvents {
  tap: [LiveTap];
  rejected: [IngestRejection];
  ack: [TransactionAck];
  batch: [BatchReceipt];
  /** A terminal status (heartbeat or last will) that was stored, its receive time and retain flag. */
  status: [TerminalStatus, Date, boolean];
}

export interface IngestServiceOptions {
  brokerUrl: string;
  repository: ClearingRepository;
  transactions: TransactionIngestor;
  logger: Logger;
  /** MQTT client id; aedes accepts at most 23 characters by default. */
  clientId?: string;
  username?: string;
  password?: string;
  /** CA certificates (PEM) to trust for an mqtts:// broker in place of the system store. */
  ca?: Buffer;
  /** Wall clock for receive times; defaults to the system clock. */
  now?: () => Date;
  /**
   * Worker thread that checks transaction payloads before this thread stores them. Without it, or
   * once it fails, the checks run in this thread.
   */
  payloadChecks?: PayloadCheckWorker;
  /**
   * The repository's connection. When it is a database file in WAL mode, transaction batches
   * commit without fsync, and their acknowledgements wait for an fdatasync of the WAL on the
   * libuv thread pool (WalGroupSync). Without it every commit flushes in this thread.
   */
  database?: Database.Database;
  /**
   * The wait of a commit for more records while payloads are in the check worker: until `records`
   * are queued or `waitMs` after the oldest. GATHER_RECORDS and GATHER_WAIT_MS unless set.
   */
  gather?: { records: number; waitMs: number };
  /** WAL sizes that pause commits for a closing checkpoint (WalGroupSync); 64 and 128 MB unless set. */
  walLimits?: WalLimits;
}

/**
 * Subscribes to every terminal's transactions, positions and status (MQTT 3.1.1, QoS 1), stores
 * what arrives and publishes an acknowledgement per transaction batch. Transaction batches that
 * are ready in the same turn of the event loop are stored in one write transaction, so they share
 * one synchronous commit, and each batch's acknowledgement is published only after that commit.
 * Under load, while payloads are still in the check worker, a commit waits briefly for more of them.
 * With a check worker, a batch is ready once the worker has checked it.
 * With `database` set, the flush to disk runs off this thread, and acknowledgements still wait
 * for it. The MQTT PUBACK to the broker can precede the commit: a terminal drops records from its
 * outbox on the acknowledgement alone, and re-sends every batch left without one.
 */
export class IngestService extends EventEmitter<IngestEvents> {
  private client: MqttClient | undefined;
  private queued: IngestInput[] = [];
  private flushScheduled = false;
  /** Records in `queued`, and when its oldest payload was queued. */
  private queuedRecords = 0;
  private oldestQueuedMs = 0;
  /** Set while a commit waits for more records (GATHER_RECORDS). */
  private gatherTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Payloads sent to the check worker and not yet queued for storing. */
  private checksInFlight = 0;
  private checksSettled: (() => void) | undefined;
  private walSync: WalGroupSync | undefined;
  /** Position, status and shift messages received while commits pause for a closing checkpoint. */
  private deferredTelemetry: (() => void)[] = [];

  constructor(private readonly options: IngestServiceOptions) {
    super();
  }

  async start(): Promise<void> {
    const { brokerUrl, logger } = this.options;
    const connectOptions: IClientOptions = {
      protocolVersion: 4,
      clientId: this.options.clientId ?? INGEST_CLIENT_ID,
      // A persistent session keeps QoS 1 batches queued in the broker while ingest restarts;
      // terminals resend unacknowledged batches anyway.
      clean: false,
      reconnectPeriod: 1_000,
    };
    if (this.options.username !== undefined) connectOptions.username = this.options.username;
    if (this.options.password !== undefined) connectOptions.password = this.options.password;
    if (this.options.ca !== undefined) connectOptions.ca = this.options.ca;

    const client = await connectAsync(brokerUrl, connectOptions);
    this.client = client;
    if (this.options.database) this.walSync = WalGroupSync.forDatabase(this.options.database, logger, this.options.walLimits);
    client.on('message', (topic, payload, packet) => {
      if (topic.endsWith('/transactions')) this.queueTransactions(topic, payload);
      else this.handleMessage(topic, payload.toString('utf8'), packet.retain);
    });
    client.on('error', (error) => {
      // A socket closed under a client that is ending (EPIPE, ECONNRESET) is part of the shutdown.
      if (this.client !== client) logger.debug({ err: error }, 'MQTT client error in ingest while stopping');
      else logger.error({ err: error }, 'MQTT client error in ingest');
    });
    client.on('reconnect', () => logger.warn({ brokerUrl }, 'ingest reconnecting to the broker'));
    await client.subscribeAsync({ [topics.allTransactions]: { qos: 1 }, [topics.allStatus]: { qos: 1 }, [topics.allPositions]: { qos: 1 }, [topics.allShifts]: { qos: 1 } });
    logger.info({ brokerUrl }, 'ingest subscribed to terminal topics');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.checksInFlight > 0) await new Promise<void>((resolve) => (this.checksSettled = resolve));
    while (this.queued.length > 0) this.flushTransactions();
    // The acknowledgements of the last commits go out once their flush has returned.
    await this.walSync?.close();
    this.walSync = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync();
  }

  /**
   * Keeps a transaction payload for the next commit, which runs once this turn's I/O is read. With
   * a check worker, the payload joins the queue when the worker has checked it. The worker replies
   * in order, so payloads are stored in the order they arrived.
   */
  private queueTransactions(topic: string, payload: Buffer): void {
    // After stop() no acknowledgement can go out, so the terminal sends the batch again anyway.
    if (!this.client || this.stopping) return;
    const checks = this.options.payloadChecks;
    if (!checks?.usable) {
      this.enqueue({ topic, payload: payload.toString('utf8') });
      return;
    }
    this.checksInFlight += 1;
    checks.check(topic, payload).then(
      (checked) => this.afterCheck(checked),
      (error: unknown) => {
        // The payload is checked again in this thread, which stores it or reports the same failure.
        this.options.logger.warn({ err: error, topic }, 'payload check in the worker thread failed, so this thread checks the payload');
        this.afterCheck({ topic, payload: payload.toString('utf8') });
      },
    );
  }

  private afterCheck(input: IngestInput): void {
    this.checksInFlight -= 1;
    this.enqueue(input);
    if (this.checksInFlight === 0) this.checksSettled?.();
  }

  private enqueue(input: IngestInput): void {
    if (this.queued.length === 0) this.oldestQueuedMs = performance.now();
    this.queued.push(input);
    this.queuedRecords += recordCount(input);
    // Replies of the check worker that arrive while a commit blocks this thread are stored
    // together in the next one.
    if (this.gatherTimer && !this.shouldGather()) {
      clearTimeout(this.gatherTimer);
      this.gatherTimer = undefined;
      setImmediate(() => this.flushTransactions());
      return;
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flushTransactions());
  }

  /**
   * True while a commit should wait for more records: payloads are still in the check worker, so
   * more are coming, and the queue is below GATHER_RECORDS and MAX_PAYLOADS_PER_COMMIT. With no
   * check in flight a commit runs at once, so a lone batch is not delayed.
   */
  private shouldGather(): boolean {
    const records = this.options.gather?.records ?? GATHER_RECORDS;
    return !this.stopping && this.checksInFlight > 0 && this.queuedRecords < records && this.queued.length < MAX_PAYLOADS_PER_COMMIT;
  }

  /**
   * Stores up to MAX_PAYLOADS_PER_COMMIT queued payloads in one commit, then acknowledges them once
   * the commit is on disk. A longer queue continues in the next turn of the event loop. While
   * shouldGather() is true, the commit waits instead, up to GATHER_WAIT_MS after the oldest payload.
   * While commits pause for a closing WAL checkpoint, the queue waits for it to return.
   */
  private flushTransactions(): void {
    this.flushScheduled = false;
    if (this.gatherTimer) {
      clearTimeout(this.gatherTimer);
      this.gatherTimer = undefined;
    }
    const pausing = this.walSync;
    if (this.queued.length > 0 && pausing?.writesPaused && !this.stopping) {
      this.flushScheduled = true;
      pausing.whenWritable(() => this.flushTransactions());
      return;
    }
    if (this.queued.length > 0 && this.shouldGather()) {
      const waitMs = (this.options.gather?.waitMs ?? GATHER_WAIT_MS) - (performance.now() - this.oldestQueuedMs);
      if (waitMs > 0) {
        this.flushScheduled = true;
        this.gatherTimer = setTimeout(() => this.flushTransactions(), waitMs);
        return;
      }
    }
    if (this.queued.length > 0) {
      const group = this.queued.splice(0, MAX_PAYLOADS_PER_COMMIT);
      for (const input of group) this.queuedRecords -= recordCount(input);
      if (this.queued.length > 0) this.oldestQueuedMs = performance.now();
      const walSync = this.walSync;
      let results: GroupedIngestResult[] | undefined;
      try {
        results = walSync ? walSync.commitWithoutSync(() => this.options.transactions.ingestMany(group)) : this.options.transactions.ingestMany(group);
      } catch (error) {
        // Nothing was committed or acknowledged, so the terminals send these batches again.
        this.options.logger.error({ err: error, payloads: group.length }, 'failed to store transaction batches');
      }
      if (results) {
        const committed = results;
        const acknowledge = () => this.afterCommit(group, committed);
        if (walSync) walSync.afterSync(acknowledge, (error) => this.options.logger.error({ err: error, payloads: group.length }, 'flushing the WAL failed, so these batches stay unacknowledged and the terminals send them again'));
        else acknowledge();
      }
    }
    if (this.queued.length > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushTransactions());
    }
  }

  /** Reports the results of one commit and publishes its acknowledgements, in arrival order. */
  private afterCommit(group: readonly IngestInput[], results: readonly GroupedIngestResult[]): void {
    results.forEach((result, index) => {
      const { topic } = group[index]!;
      if ('error' in result) this.options.logger.error({ err: result.error, topic }, 'failed to ingest a message');
      else this.afterTransactions(topic, result.outcome);
    });
  }

  /** Processes one message; exposed so a caller can feed payloads without a broker. */
  handleMessage(topic: string, payload: string, retained = false): void {
    try {
      if (topic.endsWith('/transactions')) this.handleTransactions(topic, payload);
      else if (topic.endsWith('/positions')) this.handleTelemetry(topic, payload, ingestPositions, retained, false);
      else if (topic.endsWith('/status')) this.handleTelemetry(topic, payload, ingestStatus, retained, false);
      else if (topic.endsWith('/shifts')) this.handleTelemetry(topic, payload, ingestShift, retained, true);
    } catch (error) {
      // Nothing was acknowledged, so the terminal sends the batch again.
      this.options.logger.error({ err: error, topic }, 'failed to ingest a message');
    }
  }

  private handleTransactions(topic: string, payload: string): void {
    this.afterTransactions(topic, this.options.transactions.ingest(topic, payload));
  }

  /** Reports rejections and publishes the acknowledgement of a committed payload. */
  private afterTransactions(topic: string, outcome: TransactionIngestOutcome): void {
    if (outcome.kind === 'payload-rejected') {
      this.options.logger.warn({ topic, reason: outcome.reason }, 'transaction payload rejected');
      this.emit('rejected', { terminalId: outcome.terminalId, topic, sequence: null, reason: outcome.reason });
      return;
    }

    const { ack, sentAt } = outcome;
    for (const item of ack.rejected) {
      this.options.logger.warn({ terminalId: ack.terminalId, sequence: item.sequence, reason: item.reason }, 'transaction record rejected');
      this.emit('rejected', { terminalId: ack.terminalId, topic, sequence: item.sequence, reason: item.reason });
    }
    this.publishAck(ack);
    this.emit('batch', { terminalId: ack.terminalId, sentAt, receivedAt: this.now(), ack });
    // Live taps feed the console; building them costs time on the ingest path when nobody listens.
    if (this.listenerCount('tap') > 0) for (const item of outcome.stored) this.emit('tap', toLiveTap(item));
  }

  /**
   * Publishes a command to one terminal's commands topic (QoS 1, not retained). Resolves false
   * when ingest is not connected.
   */
  async sendCommand(terminalId: string, command: TerminalCommand): Promise<boolean> {
    const client = this.client;
    if (!client) return false;
    await client.publishAsync(topics.commands(terminalId), JSON.stringify(command), { qos: 1 });
    return true;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /**
   * Stores a position batch, status or shift record. Without `flushEach` the commit skips its
   * fsync: every bus sends positions and a heartbeat every few seconds, and an fsync per message
   * on this thread would cost a city fleet more than its fares do. The flush after the next
   * transaction commit, or the checkpoint worker about a second later, puts them on disk. A power
   * cut before that loses those seconds of positions, and the next heartbeat replaces a lost
   * status. Shift records count money, so they are stored with `flushEach`.
   */
  private handleTelemetry(
    topic: string,
    payload: string,
    ingest: typeof ingestPositions,
    retained: boolean,
    flushEach: boolean,
  ): void {
    const walSync = this.walSync;
    if (walSync && !flushEach && ((walSync.writesPaused && !this.stopping) || this.deferredTelemetry.length > 0)) {
      // Stored once the closing checkpoint returns, in the order received: a commit now would
      // keep SQLite from starting the WAL again. A shift record is stored at once all the same:
      // the terminal let it go at the broker's PUBACK, so it must not wait in memory.
      if (this.deferredTelemetry.length === 0) walSync.whenWritable(() => this.storeDeferredTelemetry());
      this.deferredTelemetry.push(() => this.handleMessage(topic, payload, retained));
      return;
    }
    const store = () => ingest(this.options.repository, topic, payload);
    const outcome = this.walSync && !flushEach ? this.walSync.commitWithoutSync(store) : store();
    if (outcome.kind === 'stored' && outcome.status) this.emit('status', outcome.status, this.now(), retained);
    if (outcome.kind === 'payload-rejected') {
      this.options.logger.warn({ topic, reason: outcome.reason }, 'terminal payload rejected');
      this.emit('rejected', { terminalId: outcome.terminalId, topic, sequence: null, reason: outcome.reason });
    }
  }

  private storeDeferredTelemetry(): void {
    for (const store of this.deferredTelemetry.splice(0)) store();
  }

  private publishAck(ack: TransactionAck): void {
    const client = this.client;
    this.emit('ack', ack);
    if (!client) return;
    client.publish(topics.acks(ack.terminalId), JSON.stringify(ack), { qos: 1 }, (error) => {
      if (error) this.options.logger.error({ err: error, terminalId: ack.terminalId, batchId: ack.batchId }, 'failed to publish an acknowledgement');
    });
  }
}

/** Records in a queued payload; a payload not yet checked counts as one. */
function recordCount(input: IngestInput): number {
  return 'kind' in input && input.kind === 'checked-batch' ? input.accepted.length + input.locks.length + input.rejected.length : 1;
}

export function toLiveTap(item: AcceptedTransaction): LiveTap {
  const columns = columnsOf(item);
  return {
    terminalId: item.terminalId,
    sequence: columns.sequence,
    kind: columns.kind,
    occurredAt: columns.occurredAt,
    asn: columns.asn,
    cardType: columns.cardType,
    amountFen: columns.amountFen,
    route: columns.route,
    vehicleId: columns.vehicleId,
    verification: item.verification,
    outcome: columns.outcome,
  };
}
