import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@busfare/shared-protocol';
import { type MqttClient, connectAsync } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { TerminalCredentialStore } from '../terminals/credential-store.js';
import { type EmbeddedBroker, startEmbeddedBroker } from './embedded-broker.js';
import { terminalAccessHooks } from './terminal-access.js';

const logger = createLogger('test', 'silent');
const service = { username: 'busfare-backoffice', secret: 'service-secret' };

let directory: string;
let credentials: TerminalCredentialStore;
let broker: EmbeddedBroker;
const clients: MqttClient[] = [];

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-revalidation-'));
  credentials = new TerminalCredentialStore(join(directory, 'clearing.db'));
  broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger, revalidateIntervalMs: 50, ...terminalAccessHooks({ credentials, services: [service], logger }) });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true).catch(() => undefined);
  await broker.close();
  credentials.close();
  rmSync(directory, { recursive: true, force: true });
});

async function connectListening(clientId: string, password: string): Promise<{ client: MqttClient; closed: Promise<void> }> {
  const client = await connectAsync(broker.url, { protocolVersion: 4, clientId, username: clientId, password, reconnectPeriod: 0, clean: true });
  clients.push(client);
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  return { client, closed };
}

function settled(promise: Promise<void>, ms: number): Promise<boolean> {
  return Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
}

describe('revalidation of open connections', () => {
  it('closes a terminal that only listens once its secret is removed elsewhere', async () => {
    const registered = await connectListening('RV-KEEP', await credentials.add('RV-KEEP'));
    const removed = await connectListening('RV-GONE', await credentials.add('RV-GONE'));
    await removed.client.subscribeAsync(topics.commands('RV-GONE'), { qos: 1 });
    expect(await settled(removed.closed, 200)).toBe(false);

    // `busfare-backoffice terminals remove` runs in another process with its own connection.
    const other = new TerminalCredentialStore(join(directory, 'clearing.db'), { access: 'existing' });
    other.remove('RV-GONE');
    other.close();

    expect(await settled(removed.closed, 2_000)).toBe(true);
    expect(await settled(registered.closed, 200)).toBe(false);
  });

  it('closes a connection made with a secret that was replaced since', async () => {
    const old = await connectListening('RV-OLD', await credentials.add('RV-OLD'));
    await credentials.add('RV-OLD', { replace: true });
    expect(await settled(old.closed, 2_000)).toBe(true);
  });

  it('keeps the back office service connection', async () => {
    const own = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'busfare-ingest', username: service.username, password: service.secret, reconnectPeriod: 0 });
    clients.push(own);
    const closed = new Promise<void>((resolve) => own.once('close', () => resolve()));
    expect(await settled(closed, 300)).toBe(false);
  });
});
