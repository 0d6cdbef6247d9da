import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { startEmbeddedBroker } from './embedded-broker.js';

const logger = createLogger('test', 'silent');

describe('embedded broker', () => {
  it('picks a free port and relays a QoS 1 message', async () => {
    const broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger });
    const client = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'relay', reconnectPeriod: 0 });
    try {
      expect(broker.port).toBeGreaterThan(0);
      expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
      await client.subscribeAsync('busfare/v1/test', { qos: 1 });
      const received = new Promise<string>((resolve) => client.once('message', (_topic, payload) => resolve(payload.toString())));
      await client.publishAsync('busfare/v1/test', 'hello', { qos: 1 });
      expect(await received).toBe('hello');
    } finally {
      await client.endAsync();
      await broker.close();
    }
  });

  it('applies a replaced authenticate hook', async () => {
    const broker = await startEmbeddedBroker({
      port: 0,
      host: '127.0.0.1',
      logger,
      authenticate: (_client, username, _password, done) => done(null, username === 'T-1'),
    });
    try {
      await expect(connectAsync(broker.url, { protocolVersion: 4, clientId: 'intruder', username: 'nobody', reconnectPeriod: 0 })).rejects.toThrow(/Not authorized|Bad username/i);
      const allowed = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'T-1', username: 'T-1', reconnectPeriod: 0 });
      await allowed.endAsync();
    } finally {
      await broker.close();
    }
  });

  it('fails when the port is taken', async () => {
    const first = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger });
    try {
      await expect(startEmbeddedBroker({ port: first.port, host: '127.0.0.1', logger })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });

  it('closes twice without error', async () => {
    const broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger });
    await broker.close();
    await expect(broker.close()).resolves.toBeUndefined();
  });
});
