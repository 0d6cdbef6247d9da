import { EventEmitter } from 'node:events';
import { type TransactionAck, topics } from '@busfare/shared-protocol';
import { type IClientOptions, type MqttClient, connectAsync } from 'mqtt';
import type { Logger } from '../logger.js';
import type { AcceptedTransaction, ClearingRepository, VerificationStatus } from '../store/clearing-repository.js';
import { ingestPositions, ingestStatus } from './telemetry-ingest.js';
import type { TransactionIngestor } from './transaction-ingest.js';

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

export interface IngestEvents {
  tap: [LiveTap];
  rejected: [IngestRejection];
  ack: [TransactionAck];
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
}

/**
 * Subscribes to every terminal's transactions, positions and status (MQTT 3.1.1, QoS 1), stores
 * what arrives and publishes an acknowledgement per transaction batch. Records are stored before
 * the MQTT PUBACK is sent, because the handler runs synchronously in the message event.
 */
export class IngestService extends EventEmitter<IngestEvents> {
  private client: MqttClient | undefined;

  constructor(private readonly options: IngestServiceOptions) {
    super();
  }

  async start(): Promise<void> {
    const { brokerUrl, logger } = this.options;
    const connectOptions: IClientOptions = {
      protocolVersion: 4,
      clientId: this.options.clientId ?? 'busfare-ingest',
      // A persistent session keeps QoS 1 batches queued in the broker while ingest restarts;
      // terminals resend unacknowledged batches anyway.
      clean: false,
      reconnectPeriod: 1_000,
    };
    if (this.options.username !== undefined) connectOptions.username = this.options.username;
    if (this.options.password !== undefined) connectOptions.password = this.options.password;

    const client = await connectAsync(brokerUrl, connectOptions);
    this.client = client;
    client.on('message', (topic, payload) => this.handleMessage(topic, payload.toString('utf8')));
    client.on('error', (error) => logger.error({ err: error }, 'MQTT client error in ingest'));
    client.on('reconnect', () => logger.warn({ brokerUrl }, 'ingest reconnecting to the broker'));
    await client.subscribeAsync({ [topics.allTransactions]: { qos: 1 }, [topics.allStatus]: { qos: 1 }, [topics.allPositions]: { qos: 1 } });
    logger.info({ brokerUrl }, 'ingest subscribed to terminal topics');
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync();
  }

  /** Processes one message; exposed so a caller can feed payloads without a broker. */
  handleMessage(topic: string, payload: string): void {
    try {
      if (topic.endsWith('/transactions')) this.handleTransactions(topic, payload);
      else if (topic.endsWith('/positions')) this.handleTelemetry(topic, payload, ingestPositions);
      else if (topic.endsWith('/status')) this.handleTelemetry(topic, payload, ingestStatus);
    } catch (error) {
      // Nothing was acknowledged, so the terminal sends the batch again.
      this.options.logger.error({ err: error, topic }, 'failed to ingest a message');
    }
  }

  private handleTransactions(topic: string, payload: string): void {
    const outcome = this.options.transactions.ingest(topic, payload);
    if (outcome.kind === 'payload-rejected') {
      this.options.logger.warn({ topic, reason: outcome.reason }, 'transaction payload rejected');
      this.emit('rejected', { terminalId: outcome.terminalId, topic, sequence: null, reason: outcome.reason });
      return;
    }

    const { ack } = outcome;
    for (const item of ack.rejected) {
      this.options.logger.warn({ terminalId: ack.terminalId, sequence: item.sequence, reason: item.reason }, 'transaction record rejected');
      this.emit('rejected', { terminalId: ack.terminalId, topic, sequence: item.sequence, reason: item.reason });
    }
    this.publishAck(ack);
    for (const item of outcome.stored) this.emit('tap', toLiveTap(item));
  }

  private handleTelemetry(
    topic: string,
    payload: string,
    ingest: typeof ingestPositions,
  ): void {
    const outcome = ingest(this.options.repository, topic, payload);
    if (outcome.kind === 'payload-rejected') {
      this.options.logger.warn({ topic, reason: outcome.reason }, 'terminal payload rejected');
      this.emit('rejected', { terminalId: outcome.terminalId, topic, sequence: null, reason: outcome.reason });
    }
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

export function toLiveTap(item: AcceptedTransaction): LiveTap {
  const { record } = item;
  return {
    terminalId: item.terminalId,
    sequence: record.sequence,
    kind: record.kind,
    occurredAt: record.occurredAt,
    asn: record.card.asn,
    cardType: record.card.cardType,
    amountFen: record.debit.amountFen,
    route: record.trip.route ?? null,
    vehicleId: record.trip.vehicleId,
    verification: item.verification,
    outcome: record.outcome ?? null,
  };
}
