import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import pino from 'pino';
import {
  generateParameterSigningKeys,
  signParameterSet,
  canonicalJson,
  PARAMETER_SET_SCHEMA,
  sha256Hex,
  TERMINAL_COMMAND_SCHEMA,
  TX_ACK_SCHEMA,
  terminalStatusSchema,
  topics,
  transactionBatchSchema,
  transactionRecordSchema,
  type TerminalStatus,
  type TransactionAck,
} from '@busfare/shared-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ParameterStore } from '../params/parameter-store.js';
import { SqliteTransactionStore } from '../store/sqlite-transaction-store.js';
import { sampleCompletion, samplePurchase } from '../store/transaction-fixtures.js';
import { TerminalUplink, type TerminalUplinkOptions } from './mqtt-uplink.js';

const TERMINAL_ID = 'T-0001';

/** An aedes broker on 127.0.0.1 that can be stopped and started again on the same port. */
class TestBroker {
  port = 0;
  private server: Server | undefined;
  private broker: Aedes | undefined;
  private readonly sockets = new Set<Socket>();

  async start(): Promise<void> {
    const broker = await Aedes.createBroker();
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.broker = broker;
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    await new Promise<void>((resolve) => this.broker?.close(() => resolve()) ?? resolve());
    this.server = undefined;
    this.broker = undefined;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }
}

interface BackOfficeBehaviour {
  /** Returns false to drop a batch without storing or acknowledging it. */
  accept?: (batchId: string, sequences: number[]) => boolean;
}

/** A minimal ingest: stores sequences, acknowledges the contiguous prefix. */
class FakeBackOffice {
  readonly stored = new Set<number>();
  readonly batches: string[] = [];
  readonly statuses: TerminalStatus[] = [];
  client: MqttClient | undefined;

  constructor(private readonly behaviour: BackOfficeBehaviour = {}) {}

  async connect(url: string): Promise<void> {
    const client = await connectAsync(url, { protocolVersion: 4, clean: true, clientId: 'backoffice', reconnectPeriod: 100 });
    this.client = client;
    client.on('connect', () => void client.subscribe([topics.allTransactions, topics.allStatus], { qos: 1 }));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    await client.subscribeAsync([topics.allTransactions, topics.allStatus], { qos: 1 });
  }

  ackedThrough(): number {
    let through = 0;
    while (this.stored.has(through + 1)) through += 1;
    return through;
  }

  async sendAck(payload: unknown): Promise<void> {
    await this.client!.publishAsync(topics.acks(TERMINAL_ID), typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });
  }

  ack(overrides: Partial<TransactionAck> = {}): TransactionAck {
    const ackedThrough = this.ackedThrough();
    const highest = Math.max(0, ...this.stored);
    const missing = highest > ackedThrough + 1 ? [{ from: ackedThrough + 1, to: Math.min(...[...this.stored].filter((sequence) => sequence > ackedThrough)) - 1 }] : [];
    return { schema: TX_ACK_SCHEMA, terminalId: TERMINAL_ID, ackedThrough, stored: 0, duplicates: 0, rejected: [], missing, ...overrides };
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const message = JSON.parse(payload.toString('utf8')) as unknown;
    if (topic === topics.status(TERMINAL_ID)) {
      this.statuses.push(terminalStatusSchema.parse(message));
      return;
    }
    const batch = transactionBatchSchema.parse(message);
    const sequences = batch.records.map((record) => transactionRecordSchema.parse(record).sequence);
    this.batches.push(batch.batchId);
    if (this.behaviour.accept && !this.behaviour.accept(batch.batchId, sequences)) return;
    for (const sequence of sequences) this.stored.add(sequence);
    void this.sendAck(this.ack({ batchId: batch.batchId, stored: sequences.length }));
  }
}

async function waitFor(condition: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function captureLogger(): { logger: pino.Logger; lines: Array<{ msg: string; level: number }> } {
  const lines: Array<{ msg: string; level: number }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as { msg: string; level: number });
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('TerminalUplink over aedes', () => {
  let dir: string;
  let broker: TestBroker;
  let store: SqliteTransactionStore;
  let backOffice: FakeBackOffice | undefined;
  let uplink: TerminalUplink | undefined;
  let log: ReturnType<typeof captureLogger>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-uplink-'));
    store = SqliteTransactionStore.open(join(dir, 'transactions.db'));
    broker = new TestBroker();
    await broker.start();
    log = captureLogger();
  });

  afterEach(async () => {
    await uplink?.stop();
    await backOffice?.close();
    await broker.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
    uplink = undefined;
    backOffice = undefined;
  });

  function appendCompleted(count: number, occurredAt?: string): void {
    for (let i = 0; i < count; i += 1) {
      const sequence = store.appendPending(samplePurchase(undefined, occurredAt));
      store.complete(sequence, sampleCompletion);
    }
  }

  async function startBackOffice(behaviour?: BackOfficeBehaviour): Promise<FakeBackOffice> {
    backOffice = new FakeBackOffice(behaviour);
    await backOffice.connect(broker.url);
    return backOffice;
  }

  function startUplink(options: Partial<TerminalUplinkOptions> = {}): TerminalUplink {
    uplink = new TerminalUplink({
      terminalId: TERMINAL_ID,
      vehicleId: 'BUS-0001',
      brokerUrl: broker.url,
      store,
      logger: log.logger,
      softwareVersion: '0.1.0-test',
      reconnectPeriodMs: 100,
      notifyDelayMs: 5,
      ...options,
    });
    uplink.start();
    return uplink;
  }

  it('sends, acknowledges and prunes records', async () => {
    const office = await startBackOffice();
    appendCompleted(450, '2026-01-05T08:00:00+08:00');
    const link = startUplink({ batchSize: 100, maxInFlightBatches: 2, retentionMs: 0, pruneIntervalMs: 50 });

    await waitFor(() => store.ackedThrough() === 450, 'every record acknowledged');
    expect(office.stored.size).toBe(450);
    expect(link.stats().backlog).toBe(0);
    expect(link.stats().batchesSent).toBeGreaterThanOrEqual(5);

    await waitFor(() => store.get(450) === undefined, 'acknowledged records pruned');
    expect(store.get(1)).toBeUndefined();
    expect(store.lastSequence()).toBe(450);
  });

  it('sends a record after notify', async () => {
    const office = await startBackOffice();
    const link = startUplink();
    await waitFor(() => link.stats().connected, 'connection');

    appendCompleted(1);
    link.notify();
    link.notify();
    await waitFor(() => store.ackedThrough() === 1, 'the new record acknowledged');
    expect(office.batches).toHaveLength(1);
  });

  it('keeps unacknowledged records', async () => {
    await startBackOffice({ accept: () => false });
    appendCompleted(3);
    const link = startUplink();
    await waitFor(() => link.stats().batchesSent >= 1, 'a batch sent');
    expect(store.ackedThrough()).toBe(0);
    expect(store.backlog()).toBe(3);
    expect(store.get(1)?.acknowledged).toBe(false);
  });

  it('re-sends everything after a broker restart', async () => {
    const office = await startBackOffice();
    appendCompleted(20);
    const link = startUplink({ batchSize: 10 });
    await waitFor(() => store.ackedThrough() === 20, 'first records acknowledged');

    await broker.stop();
    await waitFor(() => !link.stats().connected, 'disconnect');
    appendCompleted(30);
    link.notify();
    await broker.start();

    await waitFor(() => store.ackedThrough() === 50, 'records appended while offline acknowledged');
    expect([...office.stored].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('re-sends a batch after the ack timeout', async () => {
    let dropped = false;
    const office = await startBackOffice({
      accept: () => {
        if (dropped) return true;
        dropped = true;
        return false;
      },
    });
    appendCompleted(5);
    const link = startUplink({ ackTimeoutMs: 200 });

    await waitFor(() => store.ackedThrough() === 5, 'records acknowledged after re-send');
    expect(link.stats().resends).toBeGreaterThanOrEqual(1);
    expect(office.batches.length).toBeGreaterThanOrEqual(2);
  });

  it('re-sends a gap that the back office reports', async () => {
    const office = await startBackOffice({ accept: (_batchId, sequences) => sequences[0] !== 1 || office.batches.length > 1 });
    appendCompleted(10);
    const link = startUplink({ batchSize: 5, ackTimeoutMs: 60_000 });

    await waitFor(() => store.ackedThrough() === 10, 'gap filled');
    expect(link.stats().resends).toBeGreaterThanOrEqual(1);
  });

  it('survives duplicate and malformed acks', async () => {
    const office = await startBackOffice();
    appendCompleted(5);
    const link = startUplink();
    await waitFor(() => store.ackedThrough() === 5, 'records acknowledged');

    await office.sendAck(office.ack());
    await office.sendAck(office.ack());
    await office.sendAck('{"schema": "busfare.tx-ack/1", "ackedThrough": ');
    await office.sendAck({ schema: TX_ACK_SCHEMA, terminalId: TERMINAL_ID, ackedThrough: -1 });
    await office.sendAck(office.ack({ terminalId: 'T-9999', ackedThrough: 5 }));
    await waitFor(() => link.stats().invalidMessages === 3, 'invalid acks counted');

    appendCompleted(5);
    link.notify();
    await waitFor(() => store.ackedThrough() === 10, 'later records acknowledged');
    expect(log.lines.some((line) => line.msg === 'ignored invalid acknowledgement')).toBe(true);
    expect(log.lines.some((line) => line.msg === 'ignored acknowledgement for another terminal')).toBe(true);
  });

  it('ignores an ack beyond the last sequence', async () => {
    const office = await startBackOffice({ accept: () => false });
    appendCompleted(3);
    const link = startUplink();
    await waitFor(() => link.stats().batchesSent >= 1, 'a batch sent');

    await office.sendAck(office.ack({ ackedThrough: 103 }));
    await waitFor(() => link.stats().acksIgnored === 1, 'ack ignored');
    expect(store.ackedThrough()).toBe(0);
    expect(log.lines.some((line) => line.msg === 'ignored acknowledgement beyond the last sequence')).toBe(true);
  });

  it('publishes online and offline status', async () => {
    const office = await startBackOffice();
    appendCompleted(2);
    const link = startUplink({ statusProvider: () => ({ devices: { reader: 'ok', gps: 'degraded' } }) });
    await waitFor(() => office.statuses.some((status) => status.state === 'online'), 'online status');

    const online = office.statuses.find((status) => status.state === 'online')!;
    expect(online.terminalId).toBe(TERMINAL_ID);
    expect(online.softwareVersion).toBe('0.1.0-test');
    expect(online.lastSequence).toBe(2);
    expect(online.devices).toEqual({ reader: 'ok', gps: 'degraded' });

    await link.stop();
    uplink = undefined;
    await waitFor(() => office.statuses.at(-1)?.state === 'offline', 'offline status');
  });

  it('runs upload-now, report-status and resend commands', async () => {
    const office = await startBackOffice();
    appendCompleted(4);
    const link = startUplink();
    await waitFor(() => store.ackedThrough() === 4, 'records acknowledged');
    const batchesBefore = office.batches.length;
    const statusesBefore = office.statuses.length;

    const command = (body: Record<string, unknown>) =>
      office.client!.publishAsync(topics.commands(TERMINAL_ID), JSON.stringify({ schema: TERMINAL_COMMAND_SCHEMA, issuedAt: '2026-01-05T08:00:00+08:00', ...body }), { qos: 1 });
    await command({ id: 'c1', command: 'resend', fromSequence: 2, toSequence: 3 });
    await command({ id: 'c2', command: 'report-status' });
    await command({ id: 'c3', command: 'upload-now' });
    await command({ id: 'c4', command: 'format-disk' });

    await waitFor(() => office.batches.length === batchesBefore + 1, 'resent batch');
    await waitFor(() => office.statuses.length > statusesBefore, 'status report');
    await waitFor(() => link.stats().invalidMessages === 1, 'unknown command ignored');
    expect(office.batches.at(-1)).toMatch(/^2-3-/);
  });

  it('counts positions dropped while offline', async () => {
    const link = startUplink({ brokerUrl: 'mqtt://127.0.0.1:1' });
    const fix = { time: '2026-01-05T08:00:00+08:00', lat: 30.1, lon: 120.2 };
    expect(link.publishPositions([fix, fix])).toBe(false);
    expect(link.stats().positionFixesDropped).toBe(2);
  });

  it('stores a retained parameter set', async () => {
    const keys = generateParameterSigningKeys();
    const parameters = ParameterStore.open(join(dir, 'parameters.db'), { publicKey: keys.publicKey });
    const office = await startBackOffice();
    const body = {
      currency: 'CNY',
      flatFareFen: 200,
      cardTypes: { ordinary: { allowed: true, ratePercent: 100 } },
      cardTypeByCode: { '1': 'ordinary' },
      localIssuerPrefixes: ['3104'],
      lowBalanceWarningFen: 500,
    };
    const set = signParameterSet({ schema: PARAMETER_SET_SCHEMA, kind: 'fare-table', version: 7, effectiveFrom: '2026-01-01T00:00:00+08:00', publishedAt: '2026-01-01T00:00:00+08:00', bodySha256: sha256Hex(canonicalJson(body)), body }, keys.privateKey);
    await office.client!.publishAsync(topics.parameters('fare-table'), JSON.stringify(set), { qos: 1, retain: true });
    await office.client!.publishAsync(topics.parameters('blacklist'), '{"truncated', { qos: 1, retain: true });

    startUplink({ parameters });
    await waitFor(() => parameters.activeFareTable(new Date())?.version === 7, 'fare table stored');
    await waitFor(() => office.statuses.some((status) => status.parameters?.active['fare-table'] === 7), 'status with the parameter version');
    expect(log.lines.some((line) => line.msg === 'rejected parameter set, the last good set stays active')).toBe(true);
    parameters.close();
  });
});
