import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_BATCH_RECORDS, type TransactionAck, topics, transactionAckSchema } from '@busfare/shared-protocol';
import { type MqttClient, connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackOffice, SqliteClearingRepository, TacVerifier, TransactionIngestor, createLogger, parseConfig, startBackOffice } from '@busfare/backoffice';
import { LOCAL_ISSUER_PREFIX, fakeBatch, fakeRecord, testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';

const MAX_PAYLOAD_BYTES = 4096;

let directory: string;
let backOffice: BackOffice;
const secrets = new Map<string, string>();
const clients: MqttClient[] = [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-limits-security-'));
  const config = parseConfig({
    db: join(directory, 'clearing.db'),
    mqtt: { port: 0, limits: { maxPayloadBytes: MAX_PAYLOAD_BYTES, messagesPerSecond: 20, burstMessages: 10 } },
    http: { port: 0 },
    localIssuerPrefixes: [LOCAL_ISSUER_PREFIX],
  });
  backOffice = await startBackOffice(config, { logger: createLogger('test', 'silent'), keyStore: testKeyStore() });
  for (const terminalId of ['FLOOD', 'BIG', 'CALM']) secrets.set(terminalId, await backOffice.credentials.add(terminalId));
});

afterAll(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => undefined);
  await backOffice?.stop();
  rmSync(directory, { recursive: true, force: true });
});

async function connectAs(terminalId: string): Promise<MqttClient> {
  const client = await connectAsync(backOffice.brokerUrl, { protocolVersion: 4, clientId: terminalId, username: terminalId, password: secrets.get(terminalId)!, reconnectPeriod: 0, clean: true });
  clients.push(client);
  await client.subscribeAsync(topics.acks(terminalId), { qos: 1 });
  return client;
}

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()));
}

/** Publishes one batch and resolves with its acknowledgement, or undefined when the connection closes first. */
function sendBatch(client: MqttClient, terminalId: string, batchId: string, payload: string): Promise<TransactionAck | undefined> {
  return new Promise((resolve) => {
    const onMessage = (topic: string, message: Buffer) => {
      if (topic !== topics.acks(terminalId)) return;
      const ack = transactionAckSchema.parse(JSON.parse(message.toString('utf8')));
      if (ack.batchId !== batchId) return;
      client.off('message', onMessage);
      resolve(ack);
    };
    client.on('message', onMessage);
    client.once('close', () => resolve(undefined));
    client.publish(topics.transactions(terminalId), payload, { qos: 1 });
  });
}

/** Resends a batch over new connections until it is acknowledged, as the terminal uplink does. */
async function resendUntilAcknowledged(terminalId: string, batchId: string, payload: string): Promise<TransactionAck> {
  for (let attempt = 1; attempt <= 20; attempt += 1) {
    const client = await connectAs(terminalId);
    const ack = await sendBatch(client, terminalId, batchId, payload);
    if (ack) return ack;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`batch ${batchId} of ${terminalId} was never acknowledged`);
}

describe('broker limits per terminal', () => {
  it('disconnects a flooding terminal and serves others', async () => {
    const flood = await connectAs('FLOOD');
    const calm = await connectAs('CALM');
    const disconnected = closed(flood);

    for (let index = 0; index < 200; index += 1) flood.publish(topics.positions('FLOOD'), '{}', { qos: 0 });
    await disconnected;
    const calmAck = await sendBatch(calm, 'CALM', 'calm-1', fakeBatch('CALM', 'calm-1', [fakeRecord({ terminalId: 'CALM', sequence: 1 })]));

    expect(flood.connected).toBe(false);
    expect(calmAck).toMatchObject({ ackedThrough: 1, stored: 1 });
  });

  it('loses nothing of the flooding terminal', async () => {
    const ack = await resendUntilAcknowledged('FLOOD', 'flood-1', fakeBatch('FLOOD', 'flood-1', [fakeRecord({ terminalId: 'FLOOD', sequence: 1 }), fakeRecord({ terminalId: 'FLOOD', sequence: 2 })]));

    expect(ack).toMatchObject({ ackedThrough: 2, stored: 2 });
    expect(backOffice.repository.findTransaction('FLOOD', 2)?.verification).toBe('verified');
  });

  it('rejects an oversized payload', async () => {
    const big = await connectAs('BIG');
    const calm = await connectAs('CALM');
    const oversized = fakeBatch('BIG', 'big-1', [fakeRecord({ terminalId: 'BIG', sequence: 1 }), 'x'.repeat(MAX_PAYLOAD_BYTES)]);

    expect(Buffer.byteLength(oversized)).toBeGreaterThan(MAX_PAYLOAD_BYTES);
    expect(await sendBatch(big, 'BIG', 'big-1', oversized)).toBeUndefined();
    const calmAck = await sendBatch(calm, 'CALM', 'calm-2', fakeBatch('CALM', 'calm-2', [fakeRecord({ terminalId: 'CALM', sequence: 2 })]));

    expect(calmAck).toMatchObject({ ackedThrough: 2, stored: 1 });
    expect(backOffice.repository.progress('BIG').highestSeen).toBe(0);
    expect(backOffice.repository.recentRejected(100).filter((row) => row.terminalId === 'BIG')).toEqual([]);
  });

  it('stores the resized batch after an oversized one', async () => {
    const ack = await resendUntilAcknowledged('BIG', 'big-2', fakeBatch('BIG', 'big-2', [fakeRecord({ terminalId: 'BIG', sequence: 1 })]));

    expect(ack).toMatchObject({ ackedThrough: 1, stored: 1 });
  });
});

/** Encodes an MQTT remaining length (1-4 bytes, 7 bits each, least significant first). */
function remainingLength(length: number): number[] {
  const bytes: number[] = [];
  let rest = length;
  do {
    const byte = rest % 128;
    rest = Math.floor(rest / 128);
    bytes.push(rest > 0 ? byte | 0x80 : byte);
  } while (rest > 0);
  return bytes;
}

describe('packet size before authentication', () => {
  it('closes a connection declaring a huge packet', async () => {
    const url = new URL(backOffice.brokerUrl);
    const socket = connectTcp(Number(url.port), url.hostname);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));

    // A PUBLISH fixed header that announces 100 MB, sent before any CONNECT, then the first body bytes.
    socket.write(Buffer.from([0x30, ...remainingLength(100 * 1024 * 1024)]));
    socket.write(Buffer.alloc(1024, 0x41));
    await closed;

    expect(socket.destroyed).toBe(true);
  });

  it('serves terminals after a huge packet', async () => {
    const calm = await connectAs('CALM');

    expect(await sendBatch(calm, 'CALM', 'calm-3', fakeBatch('CALM', 'calm-3', [fakeRecord({ terminalId: 'CALM', sequence: 3 })]))).toMatchObject({ ackedThrough: 3, stored: 1 });
  });
});

describe('batch size limit', () => {
  it('rejects a batch over the record limit', () => {
    const repository = new SqliteClearingRepository({ path: join(directory, 'batch-limit.db') });
    try {
      const ingestor = new TransactionIngestor({
        repository,
        verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
        businessDay: { timezoneOffsetMinutes: 480, cutoff: '00:00' },
      });
      const records = Array.from({ length: MAX_BATCH_RECORDS + 1 }, (_, index) => fakeRecord({ terminalId: 'HUGE', sequence: index + 1 }));

      const outcome = ingestor.ingest(topics.transactions('HUGE'), fakeBatch('HUGE', 'huge-1', records));

      expect(outcome.kind).toBe('payload-rejected');
      expect(outcome.kind === 'payload-rejected' ? outcome.reason : '').toMatch(/invalid transaction batch: records/);
      expect(repository.progress('HUGE').highestSeen).toBe(0);
      expect(repository.recentRejected(10)).toHaveLength(1);
    } finally {
      repository.close();
    }
  });
});
