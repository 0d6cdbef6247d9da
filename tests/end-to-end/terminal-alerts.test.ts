import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BLACKLIST_DELTA_TOPIC_KIND,
  generateParameterSigningKeys,
  signParameterContent,
  terminalStatusSchema,
  topics,
  type TerminalStatus,
} from '@busfare/shared-protocol';
import { ALL_BENCH_ISSUERS, SocketReaderHost, SoftwarePsam } from '@busfare/simulators';
import type { DriverScreenSnapshot } from '@busfare/terminal';
import { startTerminal } from '../../terminal/src/cli/run-command.js';
import { terminalConfigSchema } from '../../terminal/src/runtime/terminal-config.js';

const TERMINAL_ID = 'T-ALERT';
const logger = pino({ level: process.env.BUSFARE_TEST_LOG ?? 'silent' });
/** The terminal clock reads 2001-01-01, as after an RTC battery failure: before any build date. */
const DEAD_RTC_OFFSET_MS = Date.parse('2001-01-01T00:00:00Z') - Date.now();

let dir: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'busfare-terminal-alerts-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function startBroker(): Promise<string> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  });
  return `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('busfare-terminal run alerts', () => {
  it('reports a wrong clock and outdated parameters', async () => {
    const keys = generateParameterSigningKeys();
    const publicKeyFile = join(dir, 'parameters.pub.pem');
    writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const psam = new SoftwarePsam({ terminalNumber: '000058100094', issuers: ALL_BENCH_ISSUERS });
    const host = new SocketReaderHost({ path: join(dir, 'reader.sock'), psam: { process: (command) => psam.process(command) }, logger });
    await host.listen();
    cleanups.push(() => host.close());

    // A retained blacklist delta whose base list never arrives, so it waits past its grace.
    const brokerUrl = await startBroker();
    const back = await mqtt.connectAsync(brokerUrl, { clientId: 'back-office' });
    cleanups.push(() => back.endAsync());
    const body = { mode: 'delta', baseVersion: 1, add: ['0000000000000002'], remove: [] };
    const delta = signParameterContent({ kind: 'blacklist', version: 2, effectiveFrom: '2000-06-01T00:00:00Z', publishedAt: '2000-06-01T00:00:00Z', body }, keys.privateKey);
    await back.publishAsync(topics.parameters(BLACKLIST_DELTA_TOPIC_KIND), JSON.stringify(delta), { qos: 1, retain: true });
    const statuses: TerminalStatus[] = [];
    back.on('message', (_topic, payload) => statuses.push(terminalStatusSchema.parse(JSON.parse(payload.toString('utf8')))));
    await back.subscribeAsync(topics.status(TERMINAL_ID), { qos: 1 });

    const config = terminalConfigSchema.parse({
      terminalId: TERMINAL_ID,
      vehicleId: 'V-ALERT',
      dataDir: dir,
      broker: { url: brokerUrl },
      parameterPublicKeyFile: publicKeyFile,
      reader: { kind: 'socket', path: join(dir, 'reader.sock') },
      driverScreen: { port: 0 },
      uplink: { statusIntervalMs: 200 },
      clockOffsetMs: DEAD_RTC_OFFSET_MS,
      alerts: { parameterGraceMinutes: 0 },
    });
    const terminal = await startTerminal(config, logger);
    cleanups.push(() => terminal.stop());

    const expected = ['parameters-missing', 'clock-wrong', 'parameters-outdated'];
    await vi.waitFor(
      async () => {
        const state = (await (await fetch(new URL('api/state', terminal.driverScreenUrl))).json()) as DriverScreenSnapshot;
        expect(state.alerts.map((alert) => alert.id)).toEqual(expected);
      },
      { timeout: 10_000, interval: 50 },
    );
    await vi.waitFor(() => expect(statuses.at(-1)?.alerts?.map((alert) => alert.id)).toEqual(expected), { timeout: 10_000, interval: 50 });
    expect(terminal.alertChecks.clock.state().beforeBuildDate).toBe(true);
  });
});
