import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect as connectTcp, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topics } from '@busfare/shared-protocol';
import { type IClientOptions, type MqttClient, connect, connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoAvailable } from '../mosquitto/mosquitto-broker.js';
import { createTestCertificates } from './security-certificates.js';

const EXAMPLES = fileURLToPath(new URL('../../backoffice/examples/mosquitto/', import.meta.url));
const SERVICE_SECRET = 'service-secret-for-this-test';
const SECRETS: Record<string, string> = { 'MQ-A': 'secret-of-terminal-a', 'MQ-B': 'secret-of-terminal-b' };

let directory: string;
let broker: ChildProcess | undefined;
let tlsUrl: string;
let plainUrl: string;
let ca: Buffer;
/** mosquitto's start-up output of the start that listened. */
let startLog: string[] = [];
const clients: MqttClient[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits until 127.0.0.1:port accepts connections; false when the broker exited or time ran out. */
async function waitForPort(port: number, exited: () => boolean, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited()) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connectTcp(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      }).once('error', () => resolve(false));
    });
    if (open) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

async function connectAs(terminalId: string, options: Partial<IClientOptions> = {}): Promise<MqttClient> {
  const client = await connectAsync(tlsUrl, { protocolVersion: 4, clientId: terminalId, username: terminalId, password: SECRETS[terminalId], ca, reconnectPeriod: 0, ...options });
  clients.push(client);
  return client;
}

function connectionOutcome(options: IClientOptions): Promise<string> {
  return new Promise((resolve) => {
    const client = connect(tlsUrl, { protocolVersion: 4, ca, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
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

describe.skipIf(!mosquittoAvailable())('mosquitto example configuration', () => {
  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'busfare-mosquitto-security-'));
    chmodSync(directory, 0o711);
    for (const folder of ['tls', 'mosquitto', 'persistence']) mkdirSync(join(directory, folder));
    const certificates = createTestCertificates(directory, 'broker');
    copyFileSync(certificates.serverCert, join(directory, 'tls', 'server.pem'));
    copyFileSync(certificates.serverKey, join(directory, 'tls', 'server.key'));
    ca = readFileSync(certificates.caCert);
    copyFileSync(join(EXAMPLES, 'acl'), join(directory, 'mosquitto', 'acl'));
    const passwords = join(directory, 'mosquitto', 'passwords');
    execFileSync('mosquitto_passwd', ['-c', '-b', passwords, 'busfare-backoffice', SERVICE_SECRET]);
    for (const [terminalId, secret] of Object.entries(SECRETS)) execFileSync('mosquitto_passwd', ['-b', passwords, terminalId, secret]);

    // Another process can take a port between freePort() and mosquitto's bind, so a start that
    // fails is tried again on fresh ports.
    let tlsPort = 0;
    let plainPort = 0;
    const log: string[] = [];
    for (let attempt = 1; ; attempt += 1) {
      tlsPort = await freePort();
      plainPort = await freePort();
      const config = readFileSync(join(EXAMPLES, 'mosquitto.conf'), 'utf8')
        .replaceAll('/etc/busfare/', `${directory}/`)
        .replace('/var/lib/mosquitto/', `${directory}/persistence/`)
        .replace('listener 8883 0.0.0.0', `listener ${tlsPort} 127.0.0.1`)
        .replace('listener 1883 127.0.0.1', `listener ${plainPort} 127.0.0.1`);
      writeFileSync(join(directory, 'mosquitto.conf'), `${config}log_dest stderr\n`);
      // mosquitto started as root drops to the mosquitto user, which must read these files.
      execFileSync('chown', ['-R', 'mosquitto:', join(directory, 'tls'), join(directory, 'mosquitto'), join(directory, 'persistence')]);

      log.length = 0;
      const child = spawn('/usr/sbin/mosquitto', ['-c', join(directory, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
      broker = child;
      const exited = () => child.exitCode !== null || child.signalCode !== null;
      if ((await waitForPort(tlsPort, exited)) && (await waitForPort(plainPort, exited))) break;
      if (!exited()) {
        const stopped = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await stopped;
      }
      if (attempt === 3) throw new Error(`mosquitto did not listen on ports ${tlsPort} and ${plainPort} after ${attempt} starts: ${log.join('')}`);
    }
    tlsUrl = `mqtts://127.0.0.1:${tlsPort}`;
    plainUrl = `mqtt://127.0.0.1:${plainPort}`;
    startLog = log;
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) await client.endAsync(true).catch(() => undefined);
    if (broker && broker.exitCode === null) {
      const exited = new Promise((resolve) => broker!.once('exit', resolve));
      broker.kill('SIGTERM');
      await exited;
    }
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('opens only its two listeners', () => {
    // A listener setting above the first listener line makes mosquitto open its default listener
    // on port 1883 on every interface.
    const ports = [...startLog.join('').matchAll(/listen socket on port (\d+)/g)].map((match) => Number(match[1]));
    expect(new Set(ports)).toEqual(new Set([Number(new URL(tlsUrl).port), Number(new URL(plainUrl).port)]));
  });

  it('admits a terminal over TLS', async () => {
    const client = await connectAs('MQ-A');

    expect(client.connected).toBe(true);
  });

  it('rejects unknown and unauthenticated clients', async () => {
    expect(await connectionOutcome({ clientId: 'nobody' })).toMatch(/Not authorized|Bad username or password/i);
    expect(await connectionOutcome({ clientId: 'MQ-A', username: 'MQ-A', password: 'guessed' })).toMatch(/Not authorized|Bad username or password/i);
  });

  it('drops a publish under another terminal id', async () => {
    const service = await connectAsync(plainUrl, { protocolVersion: 4, clientId: 'busfare-ingest', username: 'busfare-backoffice', password: SERVICE_SECRET, reconnectPeriod: 0 });
    clients.push(service);
    const received: string[] = [];
    service.on('message', (topic) => received.push(topic));
    await service.subscribeAsync(topics.allTransactions, { qos: 1 });
    const terminal = await connectAs('MQ-A');

    await terminal.publishAsync(topics.transactions('MQ-B'), '{"spoofed":true}', { qos: 1 });
    await terminal.publishAsync(topics.transactions('MQ-A'), '{"own":true}', { qos: 1 });
    await waitFor(() => received.includes(topics.transactions('MQ-A')));

    expect(received).toEqual([topics.transactions('MQ-A')]);
  });

  it('delivers no acks of another terminal', async () => {
    const service = await connectAsync(plainUrl, { protocolVersion: 4, clientId: 'busfare-acks', username: 'busfare-backoffice', password: SERVICE_SECRET, reconnectPeriod: 0 });
    clients.push(service);
    const owner = await connectAs('MQ-A');
    const snoop = await connectAs('MQ-B');
    const ownerReceived: string[] = [];
    const snoopReceived: string[] = [];
    owner.on('message', (topic) => ownerReceived.push(topic));
    snoop.on('message', (topic) => snoopReceived.push(topic));
    await owner.subscribeAsync(topics.acks('MQ-A'), { qos: 1 });
    // mosquitto 2.0.11 grants the SUBACK but checks read access on every delivery.
    await snoop.subscribeAsync([topics.acks('MQ-A'), topics.acks('+')], { qos: 1 }).catch(() => undefined);

    await service.publishAsync(topics.acks('MQ-A'), '{"ack":1}', { qos: 1 });
    await service.publishAsync(topics.acks('MQ-B'), '{"ack":2}', { qos: 1 });
    await waitFor(() => ownerReceived.length === 1);
    await snoop.subscribeAsync(topics.acks('MQ-B'), { qos: 1 });
    await service.publishAsync(topics.acks('MQ-B'), '{"ack":3}', { qos: 1 });
    await waitFor(() => snoopReceived.length > 0);

    expect(ownerReceived).toEqual([topics.acks('MQ-A')]);
    expect(snoopReceived.every((topic) => topic === topics.acks('MQ-B'))).toBe(true);
  });

  it('closes a connection with an oversized packet', async () => {
    const terminal = await connectAs('MQ-A');
    const closed = new Promise<void>((resolve) => terminal.once('close', () => resolve()));

    terminal.publish(topics.transactions('MQ-A'), Buffer.alloc(1024 * 1024 + 1, 0x20), { qos: 1 });
    await closed;

    expect(terminal.connected).toBe(false);
  });
});

async function waitFor(probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
