import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@busfare/shared-protocol';
import { type IClientOptions, type MqttClient, connect, connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type BackOffice, createLogger, parseConfig, startBackOffice } from '@busfare/backoffice';
import { terminalsCommand } from '../../backoffice/src/terminals/terminals-command.js';
import { LOCAL_ISSUER_PREFIX, fakeBatch, fakeRecord, testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';

let directory: string;
let database: string;
let backOffice: BackOffice;
const clients: MqttClient[] = [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-identity-security-'));
  database = join(directory, 'clearing.db');
  const config = parseConfig({ db: database, mqtt: { port: 0 }, http: { port: 0 }, localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] });
  backOffice = await startBackOffice(config, { logger: createLogger('test', 'silent'), keyStore: testKeyStore() });
});

afterAll(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => undefined);
  await backOffice?.stop();
  rmSync(directory, { recursive: true, force: true });
});

/** Runs `busfare-backoffice terminals ...` and returns its exit code and stdout. */
async function terminals(...args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  const quiet = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await terminalsCommand([...args, '--db', database]), stdout };
  } finally {
    write.mockRestore();
    quiet.mockRestore();
  }
}

async function provision(terminalId: string): Promise<string> {
  const { code, stdout } = await terminals('add', terminalId);
  expect(code).toBe(0);
  return stdout.trim();
}

/** Connects and returns 'connected' or the broker's refusal. */
function tryConnect(options: IClientOptions): Promise<string> {
  return new Promise((resolve) => {
    const client = connect(backOffice.brokerUrl, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
    client.once('connect', () => {
      client.end(true);
      resolve('connected');
    });
    client.once('error', (error) => {
      client.end(true);
      resolve(error.message);
    });
  });
}

async function connectAs(terminalId: string, secret: string): Promise<MqttClient> {
  const client = await connectAsync(backOffice.brokerUrl, { protocolVersion: 4, clientId: terminalId, username: terminalId, password: secret, reconnectPeriod: 0 });
  clients.push(client);
  return client;
}

describe('terminal identity with provisioned credentials', () => {
  it('admits a provisioned terminal', async () => {
    const secret = await provision('ID-A');

    expect(await tryConnect({ clientId: 'ID-A', username: 'ID-A', password: secret })).toBe('connected');
  });

  it('rejects an unauthenticated client', async () => {
    expect(await tryConnect({ clientId: 'anonymous' })).toMatch(/Not authorized|Bad username or password/i);
    expect(await tryConnect({ clientId: 'ID-A', username: 'ID-A', password: 'guessed' })).toMatch(/Bad username or password/i);
  });

  it('rejects a revoked terminal', async () => {
    const secret = await provision('ID-R');
    expect(await tryConnect({ clientId: 'ID-R', username: 'ID-R', password: secret })).toBe('connected');

    expect((await terminals('remove', 'ID-R')).code).toBe(0);

    expect(await tryConnect({ clientId: 'ID-R', username: 'ID-R', password: secret })).toMatch(/Bad username or password/i);
    expect((await terminals('list')).stdout).not.toContain('ID-R');
  });

  it('rejects a replaced secret', async () => {
    const old = await provision('ID-S');
    const { code, stdout } = await terminals('add', 'ID-S', '--replace');

    expect(code).toBe(0);
    expect(await tryConnect({ clientId: 'ID-S', username: 'ID-S', password: old })).toMatch(/Bad username or password/i);
    expect(await tryConnect({ clientId: 'ID-S', username: 'ID-S', password: stdout.trim() })).toBe('connected');
  });

  it('closes a terminal publishing under another id', async () => {
    const secretA = await provision('ID-P');
    await provision('ID-Q');
    const client = await connectAs('ID-P', secretA);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));

    client.publish(topics.transactions('ID-Q'), fakeBatch('ID-Q', 'spoof', [fakeRecord({ sequence: 1 })]), { qos: 1 });
    await closed;

    expect(backOffice.repository.progress('ID-Q').highestSeen).toBe(0);
  });

  it('refuses a subscription to another terminal acks', async () => {
    const client = await connectAs('ID-A', (await terminals('add', 'ID-A', '--replace')).stdout.trim());

    // The broker answers SUBACK 0x80 (failure), which mqtt.js turns into a rejected promise.
    await expect(client.subscribeAsync(topics.acks('ID-Q'), { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await expect(client.subscribeAsync(topics.acks('+'), { qos: 1 })).rejects.toThrow(/Subscribe error/);
    const granted = await client.subscribeAsync(topics.acks('ID-A'), { qos: 1 });

    expect(granted.map((grant) => grant.qos)).toEqual([1]);
    expect(client.connected).toBe(true);
  });
});
