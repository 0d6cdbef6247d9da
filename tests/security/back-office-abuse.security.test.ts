import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TERMINAL_COMMAND_SCHEMA, TERMINAL_STATUS_SCHEMA, TX_BATCH_SCHEMA, type TerminalCommand, type TerminalStatus, type TransactionAck, topics, transactionAckSchema } from '@busfare/shared-protocol';
import { type IClientOptions, type MqttClient, connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackOffice, type SqliteClearingRepository, createLogger, parseConfig, startBackOffice } from '@busfare/backoffice';
import { LOCAL_ISSUER_PREFIX, fakeBatch, fakeRecord, testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';

let directory: string;
let backOffice: BackOffice;
const secrets = new Map<string, string>();
const clients: MqttClient[] = [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-abuse-security-'));
  const config = parseConfig({ db: join(directory, 'clearing.db'), mqtt: { port: 0 }, http: { port: 0 }, localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] });
  backOffice = await startBackOffice(config, { logger: createLogger('test', 'silent'), keyStore: testKeyStore() });
});

afterAll(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => undefined);
  await backOffice?.stop();
  rmSync(directory, { recursive: true, force: true });
});

async function register(terminalId: string): Promise<string> {
  const secret = await backOffice.credentials.add(terminalId, { replace: true });
  secrets.set(terminalId, secret);
  return secret;
}

async function connectAs(terminalId: string, overrides: Partial<IClientOptions> = {}): Promise<MqttClient> {
  const client = await connectAsync(backOffice.brokerUrl, {
    protocolVersion: 4,
    clientId: terminalId,
    username: terminalId,
    password: secrets.get(terminalId) ?? 'none',
    reconnectPeriod: 0,
    clean: true,
    ...overrides,
  });
  clients.push(client);
  return client;
}

/** Publishes one batch and resolves with its acknowledgement, or undefined when the connection closes first. */
function sendBatch(client: MqttClient, terminalId: string, batchId: string, payload: string, options: { retain?: boolean } = {}): Promise<TransactionAck | undefined> {
  return new Promise((resolve) => {
    const settle = (ack: TransactionAck | undefined) => {
      client.off('message', onMessage);
      client.off('close', onClose);
      resolve(ack);
    };
    const onMessage = (topic: string, message: Buffer) => {
      if (topic !== topics.acks(terminalId)) return;
      const ack = transactionAckSchema.parse(JSON.parse(message.toString('utf8')));
      if (ack.batchId === batchId) settle(ack);
    };
    const onClose = () => settle(undefined);
    client.on('message', onMessage);
    client.once('close', onClose);
    client.publish(topics.transactions(terminalId), payload, { qos: 1, retain: options.retain ?? false });
  });
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function status(terminalId: string, state: TerminalStatus['state'], at: Date, extra: Partial<TerminalStatus> = {}): string {
  return JSON.stringify({ schema: TERMINAL_STATUS_SCHEMA, terminalId, state, at: at.toISOString(), softwareVersion: '0.1.0', ...extra });
}

function storedStatus(terminalId: string): TerminalStatus | undefined {
  return backOffice.repository.latestStatuses().find((item) => item.terminalId === terminalId);
}

describe('terminal status in the clearing database', () => {
  it('stores a last will older than the heartbeat', async () => {
    await register('ST-WILL');
    // The terminal uplink builds its will once, at start, so the will's time precedes every heartbeat.
    const startedAt = new Date(Date.now() - 60_000);
    const client = await connectAs('ST-WILL', { will: { topic: topics.status('ST-WILL'), payload: Buffer.from(status('ST-WILL', 'offline', startedAt)), qos: 1, retain: true } });
    await client.publishAsync(topics.status('ST-WILL'), status('ST-WILL', 'online', new Date(), { lastSequence: 3, backlog: 0 }), { qos: 1, retain: true });
    await waitFor(() => (storedStatus('ST-WILL')?.state === 'online' ? true : undefined));

    client.stream.destroy();

    await waitFor(() => (backOffice.fleet.get('ST-WILL')?.state === 'offline' ? true : undefined));
    expect(storedStatus('ST-WILL')?.state).toBe('offline');
    expect(storedStatus('ST-WILL')?.lastSequence).toBe(3);
  });

  it('replaces a status dated in the future', async () => {
    await register('ST-AHEAD');
    const client = await connectAs('ST-AHEAD');
    await client.publishAsync(topics.status('ST-AHEAD'), status('ST-AHEAD', 'online', new Date(Date.now() + 24 * 3600_000), { lastSequence: 1, backlog: 1 }), { qos: 1, retain: true });
    await client.publishAsync(topics.status('ST-AHEAD'), status('ST-AHEAD', 'online', new Date(), { lastSequence: 9, backlog: 0 }), { qos: 1, retain: true });

    const latest = await waitFor(() => (storedStatus('ST-AHEAD')?.lastSequence === 9 ? storedStatus('ST-AHEAD') : undefined), 2_000).catch(() => storedStatus('ST-AHEAD'));

    expect(latest?.lastSequence).toBe(9);
    expect(latest?.backlog).toBe(0);
  });

  it('reconciles with the status after a clock jump back', async () => {
    await register('ST-BACK');
    const client = await connectAs('ST-BACK');
    await client.subscribeAsync(topics.acks('ST-BACK'), { qos: 1 });
    const records = [1, 2, 3].map((sequence) => fakeRecord({ terminalId: 'ST-BACK', sequence }));
    expect((await sendBatch(client, 'ST-BACK', 'back-1', fakeBatch('ST-BACK', 'back-1', records)))?.ackedThrough).toBe(3);
    await client.publishAsync(topics.status('ST-BACK'), status('ST-BACK', 'online', new Date(), { lastSequence: 5, backlog: 2 }), { qos: 1, retain: true });
    // The clock jumps back a day. The terminal has handed out two more sequences since.
    await client.publishAsync(topics.status('ST-BACK'), status('ST-BACK', 'online', new Date(Date.now() - 24 * 3600_000), { lastSequence: 7, backlog: 4 }), { qos: 1, retain: true });
    await waitFor(() => (backOffice.fleet.get('ST-BACK')?.lastSequence === 7 ? true : undefined));

    const row = backOffice.reconcile().find((item) => item.terminalId === 'ST-BACK');

    expect(row?.reportedLastSequence).toBe(7);
    expect(row?.reportedBacklog).toBe(4);
    expect(row?.state).toBe('awaiting-upload');
  });
});

describe('terminal credentials during a connection', () => {
  it('closes a revoked terminal at its next publish', async () => {
    await register('CR-GONE');
    const client = await connectAs('CR-GONE');
    await client.subscribeAsync(topics.acks('CR-GONE'), { qos: 1 });
    expect((await sendBatch(client, 'CR-GONE', 'gone-1', fakeBatch('CR-GONE', 'gone-1', [fakeRecord({ terminalId: 'CR-GONE', sequence: 1 })])))?.ackedThrough).toBe(1);

    backOffice.credentials.remove('CR-GONE');
    const ack = await sendBatch(client, 'CR-GONE', 'gone-2', fakeBatch('CR-GONE', 'gone-2', [fakeRecord({ terminalId: 'CR-GONE', sequence: 2 })]));

    expect(ack).toBeUndefined();
    expect(backOffice.repository.progress('CR-GONE').highestSeen).toBe(1);
  });

  it('closes a connection made with a replaced secret', async () => {
    await register('CR-OLD');
    const client = await connectAs('CR-OLD');
    await client.subscribeAsync(topics.acks('CR-OLD'), { qos: 1 });

    await register('CR-OLD');
    const ack = await sendBatch(client, 'CR-OLD', 'old-1', fakeBatch('CR-OLD', 'old-1', [fakeRecord({ terminalId: 'CR-OLD', sequence: 1 })]));

    expect(ack).toBeUndefined();
    expect(backOffice.repository.progress('CR-OLD').highestSeen).toBe(0);
  });

  it('delivers nothing to a revoked terminal', async () => {
    await register('CR-DEAF');
    const client = await connectAs('CR-DEAF');
    await client.subscribeAsync(topics.commands('CR-DEAF'), { qos: 1 });
    const commands: string[] = [];
    client.on('message', (topic, message) => {
      if (topic === topics.commands('CR-DEAF')) commands.push(message.toString('utf8'));
    });
    const command = (id: string): TerminalCommand => ({ schema: TERMINAL_COMMAND_SCHEMA, id, issuedAt: new Date().toISOString(), command: 'report-status' });
    await backOffice.ingest.sendCommand('CR-DEAF', command('before'));
    await waitFor(() => (commands.length === 1 ? true : undefined));

    backOffice.credentials.remove('CR-DEAF');
    await backOffice.ingest.sendCommand('CR-DEAF', command('after'));
    // A second subscriber on the same broker shows when the command has gone out.
    await register('CR-PEER');
    const peer = await connectAs('CR-PEER');
    await peer.subscribeAsync(topics.commands('CR-PEER'), { qos: 1 });
    const peerCommand = new Promise<void>((resolve) => peer.once('message', () => resolve()));
    await backOffice.ingest.sendCommand('CR-PEER', command('peer'));
    await peerCommand;

    expect(commands.map((text) => JSON.parse(text).id)).toEqual(['before']);
  });

  it('refuses a subscription after revocation', async () => {
    await register('CR-SUB');
    const client = await connectAs('CR-SUB');
    backOffice.credentials.remove('CR-SUB');

    await expect(client.subscribeAsync(topics.commands('CR-SUB'), { qos: 1 })).rejects.toThrow(/Subscribe error/);
  });
});

describe('terminal ids of back-office clients', () => {
  for (const serviceClientId of ['busfare-ingest', 'busfare-params']) {
    it(`refuses a terminal named ${serviceClientId}`, async () => {
      await register(serviceClientId);

      await expect(connectAs(serviceClientId)).rejects.toThrow(/Not authorized/i);

      // Ingest kept its session, so another terminal's batch is still acknowledged.
      await register('SV-OTHER');
      const other = await connectAs('SV-OTHER');
      await other.subscribeAsync(topics.acks('SV-OTHER'), { qos: 1 });
      const batchId = `other-${serviceClientId}`;
      const sequence = serviceClientId === 'busfare-ingest' ? 1 : 2;
      const ack = await sendBatch(other, 'SV-OTHER', batchId, fakeBatch('SV-OTHER', batchId, [fakeRecord({ terminalId: 'SV-OTHER', sequence })]));
      expect(ack?.stored).toBe(1);
      await other.endAsync();
    });
  }
});

describe('topics a terminal may not use', () => {
  it('refuses a retained transaction batch', async () => {
    await register('TP-RET');
    const client = await connectAs('TP-RET');
    await client.subscribeAsync(topics.acks('TP-RET'), { qos: 1 });

    const ack = await sendBatch(client, 'TP-RET', 'ret-1', fakeBatch('TP-RET', 'ret-1', [fakeRecord({ terminalId: 'TP-RET', sequence: 1 })]), { retain: true });

    expect(ack).toBeUndefined();
    expect(backOffice.repository.progress('TP-RET').highestSeen).toBe(0);
  });

  for (const filter of ['#', '$SYS/#', 'busfare/v1/terminals/+/commands', 'busfare/v1/terminals/TP-WILD/#']) {
    it(`refuses a subscription to ${filter}`, async () => {
      await register('TP-WILD');
      const client = await connectAs('TP-WILD');

      await expect(client.subscribeAsync(filter, { qos: 1 })).rejects.toThrow(/Subscribe error/);
      expect(client.connected).toBe(true);
      await client.endAsync();
    });
  }

  it('drops a last will on another terminal status', async () => {
    await register('TP-VICTIM');
    await register('TP-WILLER');
    const victim = await connectAs('TP-VICTIM');
    await victim.publishAsync(topics.status('TP-VICTIM'), status('TP-VICTIM', 'online', new Date()), { qos: 1, retain: true });
    await waitFor(() => (storedStatus('TP-VICTIM')?.state === 'online' ? true : undefined));
    const willer = await connectAs('TP-WILLER', { will: { topic: topics.status('TP-VICTIM'), payload: Buffer.from(status('TP-VICTIM', 'offline', new Date())), qos: 1, retain: true } });
    await willer.publishAsync(topics.status('TP-WILLER'), status('TP-WILLER', 'online', new Date()), { qos: 1 });

    willer.stream.destroy();
    // The broker publishes the old connection's will before it admits the next one, so once the
    // next connection's status is stored, the will has been handled.
    const again = await connectAs('TP-WILLER');
    await again.publishAsync(topics.status('TP-WILLER'), status('TP-WILLER', 'online', new Date(), { backlog: 7 }), { qos: 1 });
    await waitFor(() => (storedStatus('TP-WILLER')?.backlog === 7 ? true : undefined));

    expect(backOffice.fleet.get('TP-VICTIM')?.state).toBe('online');
    expect(storedStatus('TP-VICTIM')?.state).toBe('online');
  });

  it('stores a QoS 2 batch once', async () => {
    await register('TP-QOS2');
    const client = await connectAs('TP-QOS2');
    await client.subscribeAsync(topics.acks('TP-QOS2'), { qos: 1 });
    const acks: TransactionAck[] = [];
    client.on('message', (topic, message) => {
      if (topic === topics.acks('TP-QOS2')) acks.push(transactionAckSchema.parse(JSON.parse(message.toString('utf8'))));
    });

    const payload = fakeBatch('TP-QOS2', 'q2-1', [fakeRecord({ terminalId: 'TP-QOS2', sequence: 1 }), fakeRecord({ terminalId: 'TP-QOS2', sequence: 2 })]);
    await client.publishAsync(topics.transactions('TP-QOS2'), payload, { qos: 2 });
    await client.publishAsync(topics.transactions('TP-QOS2'), payload, { qos: 2 });
    await waitFor(() => (acks.length === 2 ? true : undefined));

    expect(acks.map((ack) => ack.stored)).toEqual([2, 0]);
    expect(acks.map((ack) => ack.ackedThrough)).toEqual([2, 2]);
  });
});

describe('hostile JSON in a transaction batch', () => {
  const terminalId = 'HJ-1';
  let client: MqttClient;
  let batchCount = 0;

  beforeAll(async () => {
    await register(terminalId);
    client = await connectAs(terminalId);
    await client.subscribeAsync(topics.acks(terminalId), { qos: 1 });
  });

  /** Builds a batch text from record texts, so records can carry keys JSON.stringify would not write. */
  function rawBatch(batchId: string, recordTexts: string[], envelopeExtra = ''): string {
    return `{"schema":"${TX_BATCH_SCHEMA}","terminalId":"${terminalId}","batchId":"${batchId}","sentAt":"${new Date().toISOString()}"${envelopeExtra},"records":[${recordTexts.join(',')}]}`;
  }

  function recordText(sequence: number, extraKeys = ''): string {
    const text = JSON.stringify(fakeRecord({ terminalId, sequence }));
    return extraKeys === '' ? text : `${text.slice(0, -1)},${extraKeys}}`;
  }

  function nextBatchId(): string {
    batchCount += 1;
    return `hj-${batchCount}`;
  }

  /** Returns the clearing database, which startBackOffice always opens as a SqliteClearingRepository. */
  function database() {
    return (backOffice.repository as SqliteClearingRepository).database;
  }

  function storedText(sequence: number): string | undefined {
    const row = database().prepare<[string, number], { raw_json: string }>('SELECT raw_json FROM transactions WHERE terminal_id = ? AND sequence = ?').get(terminalId, sequence);
    return row?.raw_json;
  }

  function rejectedReasons(sequence: number): string[] {
    return database()
      .prepare<[string, number], { reason: string }>('SELECT reason FROM rejected WHERE terminal_id = ? AND sequence = ?')
      .all(terminalId, sequence)
      .map((row) => row.reason);
  }

  it('ignores prototype keys in the envelope and records', async () => {
    const batchId = nextBatchId();
    const payload = rawBatch(batchId, [recordText(1, '"__proto__":{"kind":"in-doubt","polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}')], ',"__proto__":{"polluted":"yes"}');

    const ack = await sendBatch(client, terminalId, batchId, payload);

    expect(ack?.ackedThrough).toBe(1);
    expect(ack?.stored).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(storedText(1)).not.toMatch(/__proto__|constructor|polluted/);
    expect(backOffice.repository.findTransaction(terminalId, 1)?.kind).toBe('purchase');
  });

  it('rejects a deeply nested record and stores its neighbours', async () => {
    const batchId = nextBatchId();
    const depth = 200_000;
    const payload = rawBatch(batchId, [recordText(2), `${'['.repeat(depth)}${']'.repeat(depth)}`, recordText(3)]);

    const ack = await sendBatch(client, terminalId, batchId, payload);

    expect(ack?.stored).toBe(2);
    expect(ack?.ackedThrough).toBe(3);
  });

  it('stores a record with a deeply nested unknown key without it', async () => {
    const batchId = nextBatchId();
    const depth = 200_000;
    const payload = rawBatch(batchId, [recordText(4, `"extra":${'['.repeat(depth)}${']'.repeat(depth)}`)]);

    const ack = await sendBatch(client, terminalId, batchId, payload);

    expect(ack?.stored).toBe(1);
    expect(storedText(4)).not.toContain('extra');
  });

  it('rejects a 900 kB vehicle id with a short reason', async () => {
    const batchId = nextBatchId();
    const record = fakeRecord({ terminalId, sequence: 5 });
    record.trip.vehicleId = 'V'.repeat(900_000);

    const ack = await sendBatch(client, terminalId, batchId, rawBatch(batchId, [JSON.stringify(record)]));

    expect(ack?.ackedThrough).toBe(5);
    expect(ack?.rejected.map((item) => item.sequence)).toEqual([5]);
    expect(rejectedReasons(5)[0]?.length).toBeLessThan(1_000);
  });

  it('keeps the last of duplicate keys', async () => {
    const batchId = nextBatchId();
    const text = recordText(7);
    // The first "sequence" key is 6 and the last one, from recordText, is 7.
    const payload = rawBatch(batchId, [`{"sequence":6,${text.slice(1)}`]);

    const ack = await sendBatch(client, terminalId, batchId, payload);

    expect(ack?.stored).toBe(1);
    expect(storedText(7)).toBeDefined();
    expect(storedText(6)).toBeUndefined();
    expect(ack?.missing).toEqual([{ from: 6, to: 6 }]);
  });

  it('leaves a sequence given as a string unacknowledged', async () => {
    const batchId = nextBatchId();
    const record = { ...fakeRecord({ terminalId, sequence: 6 }), sequence: '6' };

    const ack = await sendBatch(client, terminalId, batchId, rawBatch(batchId, [JSON.stringify(record)]));

    expect(ack?.ackedThrough).toBe(5);
    expect(ack?.rejected).toEqual([]);
    expect(ack?.missing).toEqual([{ from: 6, to: 6 }]);
  });

  for (const sequence of [0, -1, 1.5, 2 ** 53, Number.MAX_VALUE]) {
    it(`leaves sequence ${sequence} out of the acknowledgement`, async () => {
      const batchId = nextBatchId();
      const record = { ...fakeRecord({ terminalId, sequence: 8 }), sequence };

      const ack = await sendBatch(client, terminalId, batchId, rawBatch(batchId, [JSON.stringify(record)]));

      expect(ack?.stored).toBe(0);
      expect(ack?.rejected).toEqual([]);
      expect(backOffice.repository.progress(terminalId).highestSeen).toBe(7);
    });
  }

  it('acknowledges a gap up to the largest safe sequence', async () => {
    await register('HJ-MAX');
    const other = await connectAs('HJ-MAX');
    await other.subscribeAsync(topics.acks('HJ-MAX'), { qos: 1 });
    const record = { ...fakeRecord({ terminalId: 'HJ-MAX', sequence: 10, kind: 'in-doubt' }), sequence: Number.MAX_SAFE_INTEGER };

    const ack = await sendBatch(other, 'HJ-MAX', 'max-1', fakeBatch('HJ-MAX', 'max-1', [fakeRecord({ terminalId: 'HJ-MAX', sequence: 1 }), record]));

    expect(ack?.stored).toBe(2);
    expect(ack?.ackedThrough).toBe(1);
    expect(ack?.missing).toEqual([{ from: 2, to: Number.MAX_SAFE_INTEGER - 1 }]);
    await other.endAsync();
  });

  it('rejects a payload whose terminal id uses full-width letters', async () => {
    const rejected = new Promise<string>((resolve) => backOffice.ingest.once('rejected', (item) => resolve(item.reason)));

    client.publish(topics.transactions(terminalId), fakeBatch('ＨＪ-1', 'hj-wide', [fakeRecord({ terminalId, sequence: 9 })]), { qos: 1 });

    expect(await rejected).toMatch(/terminalId|terminal id/);
    expect(backOffice.repository.progress(terminalId).highestSeen).toBe(7);
  });
});
