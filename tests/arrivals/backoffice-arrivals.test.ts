import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSITION_BATCH_SCHEMA, topics } from '@busfare/shared-protocol';
import GtfsRealtimeBindings from 'gtfs-realtime-bindings';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pointAlong, writeSyntheticFeed } from '../../backoffice/src/arrivals/testing/synthetic-route.js';
import { type BackOffice, startBackOffice } from '../../backoffice/src/backoffice.js';
import { parseConfig } from '../../backoffice/src/config.js';
import { createLogger } from '../../backoffice/src/logger.js';
import { testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';

const { FeedMessage } = GtfsRealtimeBindings.transit_realtime;
let directory: string;
let backOffice: BackOffice;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-bo-arrivals-'));
  // Trips run around the clock, so the bus matches a trip whatever the wall-clock time.
  writeSyntheticFeed(join(directory, 'feed'), { fromHour: 0, toHour: 24 });
  const config = parseConfig({
    db: join(directory, 'clearing.db'),
    mqtt: { port: 0, terminalCredentials: false },
    http: { port: 0 },
    arrivals: { gtfs: join(directory, 'feed'), refreshSeconds: 1 },
  });
  backOffice = await startBackOffice(config, { logger: createLogger('test', 'silent'), keyStore: testKeyStore() });
});

afterAll(async () => {
  await backOffice?.stop();
  rmSync(directory, { recursive: true, force: true });
});

describe('back office with arrivals.gtfs', () => {
  it('publishes a bus sent over MQTT in the GTFS-realtime feed', async () => {
    const terminal = await connectAsync(backOffice.brokerUrl, { protocolVersion: 4, clientId: 'T-7', clean: true });
    const now = Math.floor(Date.now() / 1000);
    const fixes = [0, 1, 2].map((step) => ({ time: new Date((now - 60 + step * 20) * 1000).toISOString(), ...pointAlong(1000 + step * 150), route: '1', direction: 0 }));
    await terminal.publishAsync(topics.positions('T-7'), JSON.stringify({ schema: POSITION_BATCH_SCHEMA, terminalId: 'T-7', vehicleId: 'bus-7', fixes }), { qos: 1 });
    await terminal.endAsync();

    let ids: string[] = [];
    for (let attempt = 0; attempt < 50 && !ids.includes('bus-7'); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const response = await fetch(new URL('gtfs-rt/vehicle-positions', backOffice.consoleUrl));
      ids = FeedMessage.decode(new Uint8Array(await response.arrayBuffer())).entity.map((entity) => entity.vehicle?.vehicle?.id ?? '');
    }

    expect(ids).toContain('bus-7');
  });
});
