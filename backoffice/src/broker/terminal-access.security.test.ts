import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TERMINAL_STATUS_SCHEMA, type TerminalCommand, type TransactionAck, terminalCommandSchema, topics, transactionAckSchema } from '@busfare/shared-protocol';
import { type IClientOptions, type MqttClient, connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackOffice, startBackOffice } from '../backoffice.js';
import { parseConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { LOCAL_ISSUER_PREFIX, fakeBatch, fakeRecord, testKeyStore } from '../testing/fake-terminal.js';
import { terminalMayPublish, terminalMaySubscribe } from './terminal-access.js';

let directory: string;
let backOffice: BackOffice;
const secrets = new Map<string, string>();
const clients: MqttClient[] = [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-access-'));
  const config = parseConfig({ db: join(directory, 'clearing.db'), mqtt: { port: 0 }, http: { port: 0 }, localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] });
  backOffice = await startBackOffice(config, { logger: createLogger('test', 'silent'), keyStore: testKeyStore() });
  for (const terminalId of ['TA', 'TB', 'TC']) secrets.set(terminalId, await backOffice.credentials.add(terminalId));
});

afterAll(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => undefined);
  await backOffice?.stop();
  rmSync(directory, { recursive: true, force: true });
});

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

async function connectionError(options: Partial<IClientOptions>): Promise<string> {
  try {
    const client = await connectAs(String(options.clientId ?? 'TA'), options);
    await client.endAsync(true);
  } catch (error) {
    return (error as Error).message;
  }
  return 'connected';
}

function nextMessage(client: MqttClient, topic: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${topic} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (received: string, payload: Buffer) => {
      if (received !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(payload.toString('utf8'));
    };
    client.on('message', onMessage);
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

describe('terminal topic permissions', () => {
  it('allows only own publish topics', () => {
    expect(terminalMayPublish('TA', topics.transactions('TA'))).toBe(true);
    expect(terminalMayPublish('TA', topics.status('TA'))).toBe(true);
    expect(terminalMayPublish('TA', topics.positions('TA'))).toBe(true);
    expect(terminalMayPublish('TA', topics.shifts('TA'))).toBe(true);
    expect(terminalMayPublish('TA', topics.acks('TA'))).toBe(false);
    expect(terminalMayPublish('TA', topics.commands('TA'))).toBe(false);
    expect(terminalMayPublish('TA', topics.transactions('TB'))).toBe(false);
    expect(terminalMayPublish('TA', topics.parameters('fare-table'))).toBe(false);
    expect(terminalMayPublish('T', topics.transactions('TA'))).toBe(false);
  });

  it('allows the retain flag on the status only', () => {
    expect(terminalMayPublish('TA', topics.status('TA'), true)).toBe(true);
    expect(terminalMayPublish('TA', topics.transactions('TA'), true)).toBe(false);
    expect(terminalMayPublish('TA', topics.positions('TA'), true)).toBe(false);
    expect(terminalMayPublish('TA', topics.shifts('TA'), true)).toBe(false);
  });

  it('allows only own subscriptions and parameters', () => {
    expect(terminalMaySubscribe('TA', topics.acks('TA'))).toBe(true);
    expect(terminalMaySubscribe('TA', topics.commands('TA'))).toBe(true);
    expect(terminalMaySubscribe('TA', topics.parameters('+'))).toBe(true);
    expect(terminalMaySubscribe('TA', topics.parameters('fare-table'))).toBe(true);
    expect(terminalMaySubscribe('TA', topics.acks('TB'))).toBe(false);
    expect(terminalMaySubscribe('TA', topics.acks('+'))).toBe(false);
    expect(terminalMaySubscribe('TA', 'busfare/v1/#')).toBe(false);
    expect(terminalMaySubscribe('TA', 'busfare/v1/parameters/#')).toBe(false);
  });
});

describe('embedded broker with terminal credentials', () => {
  it('rejects a wrong secret', async () => {
    expect(await connectionError({ clientId: 'TA', username: 'TA', password: 'wrong' })).toMatch(/Bad username or password|Not authorized/i);
  });

  it('rejects an unknown terminal', async () => {
    expect(await connectionError({ clientId: 'TZ', username: 'TZ', password: 'anything' })).toMatch(/Bad username or password|Not authorized/i);
  });

  it('rejects a client id other than the user name', async () => {
    expect(await connectionError({ clientId: 'TB', username: 'TA', password: secrets.get('TA') })).toMatch(/Not authorized/i);
  });

  it('rejects a connection without credentials', async () => {
    expect(await connectionError({ clientId: 'TA', username: undefined, password: undefined })).toMatch(/Not authorized|Bad username/i);
  });

  it('refuses a subscription to another terminal acks', async () => {
    const a = await connectAs('TA');
    // mqtt.js turns the SUBACK failure code 0x80 into a rejected promise.
    await expect(a.subscribeAsync(topics.acks('TB'), { qos: 1 })).rejects.toThrow(/Subscribe error/);
    expect(a.connected).toBe(true);
    const own = await a.subscribeAsync(topics.acks('TA'), { qos: 1 });
    expect(own[0]?.qos).toBe(1);
    await a.endAsync();
  });

  it('drops a publish under another terminal id', async () => {
    const a = await connectAs('TA');
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    a.publish(topics.transactions('TB'), fakeBatch('TB', 'forged-1', [fakeRecord({ terminalId: 'TB', sequence: 1 })]), { qos: 1 });
    await closed;
    // The forged batch never reached ingest.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(backOffice.repository.findTransaction('TB', 1)).toBeUndefined();
  });

  it('keeps serving other terminals', async () => {
    const b = await connectAs('TB');
    await b.subscribeAsync(topics.acks('TB'), { qos: 1 });
    const ack = nextMessage(b, topics.acks('TB'));
    await b.publishAsync(topics.transactions('TB'), fakeBatch('TB', 'b-1', [fakeRecord({ terminalId: 'TB', sequence: 1 }), fakeRecord({ terminalId: 'TB', sequence: 2 })]), { qos: 1 });
    const parsed: TransactionAck = transactionAckSchema.parse(JSON.parse(await ack));
    expect(parsed.ackedThrough).toBe(2);
    await b.endAsync();
  });
});

describe('gap handling and fleet view', () => {
  it('asks the terminal to re-send a gap', async () => {
    const c = await connectAs('TC');
    await c.subscribeAsync({ [topics.acks('TC')]: { qos: 1 }, [topics.commands('TC')]: { qos: 1 } });
    const command = nextMessage(c, topics.commands('TC'));
    await c.publishAsync(topics.transactions('TC'), fakeBatch('TC', 'c-1', [fakeRecord({ terminalId: 'TC', sequence: 1 }), fakeRecord({ terminalId: 'TC', sequence: 2 })]), { qos: 1 });
    await c.publishAsync(topics.transactions('TC'), fakeBatch('TC', 'c-2', [fakeRecord({ terminalId: 'TC', sequence: 5 })]), { qos: 1 });

    const parsed: TerminalCommand = terminalCommandSchema.parse(JSON.parse(await command));
    expect(parsed.command).toBe('resend');
    if (parsed.command !== 'resend') return;
    expect(parsed.fromSequence).toBe(3);
    expect(parsed.toSequence).toBe(4);
    await c.endAsync();
  });

  it('flags clock drift and reconciles counts', async () => {
    const c = await connectAs('TC');
    const ahead = new Date(Date.now() + 10 * 60_000).toISOString();
    await c.publishAsync(
      topics.status('TC'),
      JSON.stringify({ schema: TERMINAL_STATUS_SCHEMA, terminalId: 'TC', state: 'online', at: ahead, softwareVersion: '0.1.0', backlog: 0, lastSequence: 5 }),
      { qos: 1, retain: true },
    );
    const health = await waitFor(() => {
      const entry = backOffice.fleet.get('TC');
      return entry?.state === 'online' ? entry : undefined;
    });
    expect(health.clockDriftFlagged).toBe(true);
    expect(health.clockDriftMs).toBeGreaterThan(9 * 60_000);

    const reconciliation = backOffice.reconcile().find((row) => row.terminalId === 'TC');
    expect(reconciliation?.storedRecords).toBe(3);
    expect(reconciliation?.clearedRecords).toBe(3);
    expect(reconciliation?.clearedAmountFen).toBe(600);
    expect(reconciliation?.outstanding).toBe(2);
    // The terminal reports an empty backlog, yet sequences 3 and 4 never arrived.
    expect(reconciliation?.state).toBe('mismatch');
    await c.endAsync();
  });

  it('records the last will as offline', async () => {
    const c = await connectAs('TC', {
      will: { topic: topics.status('TC'), payload: Buffer.from(JSON.stringify({ schema: TERMINAL_STATUS_SCHEMA, terminalId: 'TC', state: 'offline', at: new Date().toISOString(), softwareVersion: '0.1.0' })), qos: 1, retain: true },
    });
    c.stream.destroy();
    const health = await waitFor(() => {
      const entry = backOffice.fleet.get('TC');
      return entry?.state === 'offline' ? entry : undefined;
    });
    expect(health.state).toBe('offline');
  });
});
