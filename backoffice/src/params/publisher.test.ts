import { readFileSync } from 'node:fs';
import { canonicalJson, fareTableBodySchema, generateParameterSigningKeys, parameterSetSchema, sha256Hex, topics, verifyParameterSetSignature } from '@busfare/shared-protocol';
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../broker/embedded-broker.js';
import { createLogger } from '../logger.js';
import { defaultFareTable } from './default-fare-table.js';
import { buildSignedParameterSet, publishParameterSet } from './publisher.js';

describe('parameter publisher', () => {
  it('publishes a retained fare table that a late subscriber receives', async () => {
    const broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger: createLogger('test', 'silent') });
    const publisher = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'publisher', reconnectPeriod: 0 });
    const body = defaultFareTable(['9900']);
    try {
      const keys = generateParameterSigningKeys();
      const published = buildSignedParameterSet('fare-table', 3, body, '2025-05-07T00:00:00+08:00', keys.privateKey);
      await publishParameterSet(publisher, published);

      const subscriber = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'late-terminal', reconnectPeriod: 0 });
      const received = new Promise<string>((resolve) => subscriber.once('message', (_topic, payload) => resolve(payload.toString())));
      await subscriber.subscribeAsync(topics.parameters('fare-table'), { qos: 1 });
      const parameterSet = parameterSetSchema.parse(JSON.parse(await received));
      await subscriber.endAsync();

      expect(parameterSet).toEqual(published);
      expect(parameterSet.version).toBe(3);
      expect(parameterSet.bodySha256).toBe(sha256Hex(canonicalJson(body)));
      expect(fareTableBodySchema.parse(parameterSet.body)).toEqual(body);
      expect(verifyParameterSetSignature(parameterSet, keys.publicKey)).toEqual([]);
    } finally {
      await publisher.endAsync();
      await broker.close();
    }
  });

  it('builds the bench fare table', () => {
    const table = defaultFareTable(['9900']);

    expect(table.flatFareFen).toBe(200);
    expect(table.cardTypes.student).toEqual({ allowed: true, ratePercent: 50 });
    expect(table.cardTypes.senior).toEqual({ allowed: true, ratePercent: 0 });
    expect(table.cardTypes['tunion-out-of-town']).toEqual({ allowed: true, ratePercent: 100 });
    expect(table.cardTypeByCode['6']).toBe('monthly');
    expect(table.lowBalanceWarningFen).toBe(500);
  });

  it('rejects a bench fare table without local issuers', () => {
    expect(() => defaultFareTable([])).toThrow();
  });

  it('ships a valid example fare table', () => {
    const example = JSON.parse(readFileSync(new URL('../../examples/fare-table.json', import.meta.url), 'utf8'));

    expect(fareTableBodySchema.safeParse(example).success).toBe(true);
  });
});
