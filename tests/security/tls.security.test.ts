import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics, transactionAckSchema } from '@busfare/shared-protocol';
import { connect, connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackOffice, ConfigError, createLogger, parseConfig, startBackOffice } from '@busfare/backoffice';
import { MemoryTransactionStore, TerminalUplink } from '@busfare/terminal';
import { LOCAL_ISSUER_PREFIX, fakeBatch, fakeRecord, testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';
import { type CertificateFiles, createTestCertificates } from './security-certificates.js';

let directory: string;
let certificates: CertificateFiles;
let rogue: CertificateFiles;
let backOffice: BackOffice;
let secret: string;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-tls-security-'));
  certificates = createTestCertificates(directory, 'site');
  rogue = createTestCertificates(directory, 'rogue');
  const config = parseConfig({
    db: join(directory, 'clearing.db'),
    mqtt: { port: 0, tls: { cert: certificates.serverCert, key: certificates.serverKey, ca: certificates.caCert } },
    http: { port: 0, tls: { cert: certificates.serverCert, key: certificates.serverKey } },
    localIssuerPrefixes: [LOCAL_ISSUER_PREFIX],
  });
  backOffice = await startBackOffice(config, { logger: createLogger('test', 'silent'), keyStore: testKeyStore() });
  secret = await backOffice.credentials.add('TLS1');
});

afterAll(async () => {
  await backOffice?.stop();
  rmSync(directory, { recursive: true, force: true });
});

function httpsStatus(url: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('TLS transport', () => {
  it('serves MQTT over TLS', async () => {
    expect(backOffice.brokerUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);

    const client = await connectAsync(backOffice.brokerUrl, { protocolVersion: 4, clientId: 'TLS1', username: 'TLS1', password: secret, ca: readFileSync(certificates.caCert), reconnectPeriod: 0 });
    try {
      await client.subscribeAsync(topics.acks('TLS1'), { qos: 1 });
      const ack = new Promise<string>((resolve) => client.once('message', (_topic, payload) => resolve(payload.toString('utf8'))));
      await client.publishAsync(topics.transactions('TLS1'), fakeBatch('TLS1', 'tls-1', [fakeRecord({ sequence: 1 })]), { qos: 1 });

      expect(transactionAckSchema.parse(JSON.parse(await ack))).toMatchObject({ ackedThrough: 1, stored: 1 });
    } finally {
      await client.endAsync();
    }
  });

  it('rejects a broker outside the pinned CA', async () => {
    await expect(
      connectAsync(backOffice.brokerUrl, { protocolVersion: 4, clientId: 'TLS1', username: 'TLS1', password: secret, ca: readFileSync(rogue.caCert), reconnectPeriod: 0, connectTimeout: 5_000 }),
    ).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('rejects plain MQTT on the TLS port', async () => {
    const plainUrl = backOffice.brokerUrl.replace('mqtts://', 'mqtt://');

    const client = connect(plainUrl, { protocolVersion: 4, clientId: 'TLS1', username: 'TLS1', password: secret, reconnectPeriod: 0, connectTimeout: 5_000 });
    const outcome = await new Promise<string>((resolve) => {
      client.once('connect', () => resolve('connected'));
      client.once('close', () => resolve('closed'));
      client.once('error', () => resolve('error'));
    });
    client.end(true);

    expect(outcome).not.toBe('connected');
  });

  it('connects the terminal uplink with a pinned CA', async () => {
    const uplink = new TerminalUplink({
      terminalId: 'TLS1',
      vehicleId: 'BUS-TLS',
      brokerUrl: backOffice.brokerUrl,
      username: 'TLS1',
      password: secret,
      ca: readFileSync(certificates.caCert),
      store: new MemoryTransactionStore(),
      logger: createLogger('test', 'silent'),
      softwareVersion: 'test',
      reconnectPeriodMs: 100,
    });
    uplink.start();
    try {
      await waitFor(() => (uplink.stats().connected ? true : undefined));
      expect(uplink.stats().connected).toBe(true);
    } finally {
      await uplink.stop();
    }
  });

  it('serves the console over HTTPS', async () => {
    expect(backOffice.consoleUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);

    expect(await httpsStatus(`${backOffice.consoleUrl}api/healthz`, readFileSync(certificates.caCert))).toBe(200);
    await expect(httpsStatus(`${backOffice.consoleUrl}api/healthz`, readFileSync(rogue.caCert))).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('rejects plain listeners off loopback', () => {
    expect(() => parseConfig({ mqtt: { host: '0.0.0.0' } })).toThrow(ConfigError);
    expect(() => parseConfig({ mqtt: { host: '0.0.0.0' } })).toThrow(/plain MQTT listens on 127.0.0.1 only/);
    expect(() => parseConfig({ http: { host: '192.0.2.1' } })).toThrow(/plain HTTP listens on 127.0.0.1 only/);
    expect(parseConfig({ mqtt: { host: '0.0.0.0', tls: { cert: 'c.pem', key: 'k.pem' } } }).mqtt.host).toBe('0.0.0.0');
  });
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
