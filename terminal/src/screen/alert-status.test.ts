import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connectAsync } from 'mqtt';
import pino from 'pino';
import {
  BLACKLIST_DELTA_TOPIC_KIND,
  generateParameterSigningKeys,
  signParameterContent,
  terminalStatusSchema,
  topics,
  type TerminalStatus,
} from '@busfare/shared-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { OutdatedParameterCheck } from '../params/outdated-parameter-check.js';
import { ParameterStore } from '../params/parameter-store.js';
import { ManualClock } from '../ports/clock.js';
import type { PositionSource, PositionSourceEvents } from '../ports/position-source.js';
import { ClockCheck } from '../runtime/clock-check.js';
import type { TerminalRuntimeEvents } from '../runtime/terminal-runtime.js';
import { DriverShift } from '../shift/driver-shift.js';
import { ShiftStore } from '../shift/shift-store.js';
import { SqliteTransactionStore } from '../store/sqlite-transaction-store.js';
import { TerminalUplink } from '../uplink/mqtt-uplink.js';
import { AlertRelay } from './alert-relay.js';
import { DriverScreenServer } from './driver-screen-server.js';
import { DriverScreenState } from './driver-screen-state.js';

const logger = pino({ level: 'silent' });
const KEYS = generateParameterSigningKeys();
const TERMINAL_ID = 'T-ALERTS';

class FakePositionSource extends EventEmitter<PositionSourceEvents> implements PositionSource {
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function startBroker(): Promise<string> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  });
  return `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A blacklist delta whose base version the terminal never receives, so it waits. */
function waitingDelta(): Buffer {
  const body = { mode: 'delta', baseVersion: 2, add: ['0000000000000002'], remove: [] };
  return Buffer.from(JSON.stringify(signParameterContent({ kind: 'blacklist', version: 3, effectiveFrom: '2027-01-05T07:00:00Z', publishedAt: '2027-01-05T06:00:00Z', body }, KEYS.privateKey)));
}

describe('alerts on the page and in the status', () => {
  it('shows detector and derived alerts in both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'busfare-alert-status-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const clock = new ManualClock(new Date('2027-01-05T08:00:00Z'));
    const relay = new AlertRelay(logger);

    const transactions = SqliteTransactionStore.open(join(dir, 'transactions.db'), { logger });
    const parameters = ParameterStore.open(join(dir, 'parameters.db'), { logger, publicKey: KEYS.publicKey, clock, driverScreen: relay });
    const shiftStore = ShiftStore.open(join(dir, 'shifts.db'));
    cleanup.push(() => transactions.close(), () => parameters.close(), () => shiftStore.close());

    const brokerUrl = await startBroker();
    const uplink: TerminalUplink = new TerminalUplink({
      terminalId: TERMINAL_ID,
      vehicleId: 'V-ALERTS',
      brokerUrl,
      store: transactions,
      clock,
      logger,
      softwareVersion: '0.0.0-test',
      reconnectPeriodMs: 100,
      statusProvider: () => ({ alerts: relay.statusAlerts() }),
    });

    const shift = new DriverShift({ terminalId: TERMINAL_ID, vehicleId: 'V-ALERTS', store: shiftStore, clock, logger, lastSequence: () => 0, serviceChoices: () => [] });
    const state = new DriverScreenState({
      terminalId: TERMINAL_ID,
      vehicleId: 'V-ALERTS',
      shift,
      clock,
      link: () => ({ connected: uplink.stats().connected, backlog: 0 }),
      parameters: () => parameters.versions(clock.now()),
      hasFareTable: () => false,
    });
    const runtime = new EventEmitter<TerminalRuntimeEvents>();
    const positions = new FakePositionSource();
    state.attach(runtime, { positions });
    relay.forwardTo(state);
    const server = new DriverScreenServer({ state, shift, logger, port: 0 });
    const url = await server.start();
    cleanup.push(() => server.stop());

    const clockCheck = new ClockCheck({ clock, screen: relay, logger, buildDate: '2026-01-01', consecutiveFixes: 3 });
    const parameterCheck = new OutdatedParameterCheck({ store: parameters, clock, screen: relay, logger, linkConnected: () => uplink.stats().connected });
    clockCheck.start(positions);
    parameterCheck.start();
    cleanup.push(() => clockCheck.stop(), () => parameterCheck.stop());

    // Three fixes whose GNSS time is 45 s ahead of the terminal clock.
    for (let i = 0; i < 3; i += 1) {
      const fix = { time: new Date(clock.now().getTime() + 45_000), lat: 31.3, lon: 120.6, talker: 'GN' };
      positions.emit('fix', fix);
      runtime.emit('fix', fix);
      clock.advance(1000);
    }
    expect(parameterCheck.accept(waitingDelta(), { kind: BLACKLIST_DELTA_TOPIC_KIND })).toEqual({ ok: true, waiting: 'blacklist version 2' });
    clock.advance(2 * 3_600_000);
    parameterCheck.check();
    runtime.emit('tap', { status: 'in-doubt', promptId: 'tap-again', asn: '5810000000000001', cardApdus: 5, psamApdus: 2, durationMs: 90 }, {} as never);

    const page = (await (await fetch(new URL('/api/state', url))).json()) as { alerts: Array<{ id: string }> };
    const pageIds = page.alerts.map((alert) => alert.id);
    expect(pageIds).toContain('clock-wrong');
    expect(pageIds).toContain('parameters-outdated');

    const subscriber = await connectAsync(brokerUrl, { clientId: 'status-reader' });
    cleanup.push(() => subscriber.endAsync());
    const statuses: TerminalStatus[] = [];
    subscriber.on('message', (_topic, payload) => statuses.push(terminalStatusSchema.parse(JSON.parse(payload.toString('utf8')))));
    await subscriber.subscribeAsync(topics.status(TERMINAL_ID), { qos: 1 });

    uplink.start();
    cleanup.push(() => uplink.stop());
    // The uplink publishes a status as soon as it connects.
    while (!statuses.some((status) => status.state === 'online')) await new Promise((resolve) => setTimeout(resolve, 10));
    const online = statuses.find((status) => status.state === 'online')!;
    expect(online.alerts?.map((alert) => alert.id)).toEqual(['parameters-missing', 'card-in-doubt', 'clock-wrong', 'gps-lost', 'parameters-outdated']);
    expect(online.alerts?.find((alert) => alert.id === 'gps-lost')).toEqual({ id: 'gps-lost', severity: 'warning', messageId: 'alert.gps-lost' });

    const pageAfter = (await (await fetch(new URL('/api/state', url))).json()) as { alerts: Array<{ id: string }> };
    expect(pageAfter.alerts.map((alert) => alert.id)).toEqual(online.alerts?.map((alert) => alert.id));
  });
});
