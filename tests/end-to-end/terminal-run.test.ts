import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import mqtt from 'mqtt';
import pino from 'pino';
import {
  type BackOffice,
  type EmbeddedBroker,
  MemoryKeyStore,
  backOfficeConfigSchema,
  buildSignedParameterSet,
  defaultFareTable,
  publishParameterSet,
  startBackOffice,
  startEmbeddedBroker,
} from '@busfare/backoffice';
import { type RoutesBody, type ShiftRecord, TranslatedError, fromHex, generateParameterSigningKeys, shiftRecordSchema, topics } from '@busfare/shared-protocol';
import { ALL_BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, SocketReaderHost, SoftwarePsam, backofficeTacKeyTable, createDriverCard } from '@busfare/simulators';
import type { DriverScreenSnapshot } from '@busfare/terminal';
import { type RunningTerminal, startTerminal } from '../../terminal/src/cli/run-command.js';
import { terminalConfigSchema } from '../../terminal/src/runtime/terminal-config.js';
import { makeCard } from '../tap/cards.js';

const TERMINAL_ID = 'T-RUN';
const logger = pino({ level: process.env.BUSFARE_TEST_LOG ?? 'silent' });

const ROUTES: RoutesBody = {
  stops: [
    { id: 'S1', name: '火车站', lat: 28.19, lon: 112.97 },
    { id: 'S2', name: '五一广场', lat: 28.2, lon: 112.98 },
  ],
  routes: [
    {
      id: '12',
      shortName: '12路',
      longName: '火车站 - 五一广场',
      patterns: [
        { direction: 0, headsign: '五一广场', stops: ['S1', 'S2'], loop: false },
        { direction: 1, headsign: '火车站', stops: ['S2', 'S1'], loop: false },
      ],
    },
  ],
};

let dir: string;
let host: SocketReaderHost;
/** While set, the reader's PSAM returns 6A82 (file not found) to every command, as a blank PSAM does. */
let psamBroken = false;
let signingKeys: ReturnType<typeof generateParameterSigningKeys>;
let publicKeyFile: string;
/** The terminal's broker URL and login. */
let brokerLogin: { url: string; username?: string; password?: string };
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'busfare-terminal-run-'));
  psamBroken = false;
  const psam = new SoftwarePsam({ terminalNumber: '000058100093', issuers: ALL_BENCH_ISSUERS });
  host = new SocketReaderHost({ path: join(dir, 'reader.sock'), psam: { process: (command) => (psamBroken ? Uint8Array.of(0x6a, 0x82) : psam.process(command)) }, logger });
  await host.listen();
  signingKeys = generateParameterSigningKeys();
  publicKeyFile = join(dir, 'parameters.pub.pem');
  writeFileSync(publicKeyFile, signingKeys.publicKey.export({ type: 'spki', format: 'pem' }));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the real terminal on the socket reader, with its driver's page on a free port. */
async function start(driverScreen: Record<string, unknown> = {}): Promise<RunningTerminal> {
  const config = terminalConfigSchema.parse({
    terminalId: TERMINAL_ID,
    vehicleId: 'V-RUN',
    dataDir: dir,
    broker: brokerLogin,
    parameterPublicKeyFile: publicKeyFile,
    reader: { kind: 'socket', path: join(dir, 'reader.sock') },
    service: { route: '12', direction: 0 },
    driverScreen: { port: 0, ...driverScreen },
  });
  const terminal = await startTerminal(config, logger);
  cleanups.push(() => terminal.stop());
  await vi.waitFor(
    () => {
      expect(terminal.parameters.activeFareTable(new Date())).toBeDefined();
      expect(terminal.parameters.versions(new Date()).active.routes).toBe(1);
      expect(terminal.uplink.stats().connected).toBe(true);
    },
    { timeout: 10_000, interval: 50 },
  );
  return terminal;
}

async function screenState(terminal: RunningTerminal): Promise<DriverScreenSnapshot> {
  const response = await fetch(new URL('api/state', terminal.driverScreenUrl));
  expect(response.status).toBe(200);
  return (await response.json()) as DriverScreenSnapshot;
}

async function post(terminal: RunningTerminal, path: string, body: unknown): Promise<Response> {
  return fetch(new URL(path, terminal.driverScreenUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('busfare-terminal run with a back office', () => {
  let office: BackOffice;

  beforeEach(async () => {
    const config = backOfficeConfigSchema.parse({ db: join(dir, 'office.db'), mqtt: { port: 0 }, http: { port: 0 }, localIssuerPrefixes: [BENCH_LOCAL_CITY_CODE] });
    const keyStore = new MemoryKeyStore(backofficeTacKeyTable().map((row) => ({ issuerId: row.issuerId, algorithm: row.algorithm, tacMasterKey: fromHex(row.tacMasterKeyHex), test: true })));
    office = await startBackOffice(config, { logger, parameterSigningKey: signingKeys.privateKey, keyStore });
    cleanups.push(() => office.stop());
    const past = new Date(Date.now() - 60_000).toISOString();
    await office.publishFareTable({ version: 1, body: defaultFareTable([BENCH_LOCAL_CITY_CODE]), effectiveFrom: past });
    await office.parameters.publish({ kind: 'routes', body: ROUTES, effectiveFrom: past });
    brokerLogin = { url: office.brokerUrl, username: TERMINAL_ID, password: await office.credentials.add(TERMINAL_ID) };
  });

  it('runs a driver shift from card sign-on to clearing', async () => {
    const terminal = await start();
    expect(terminal.driverScreenUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(terminal.driverScreenUrl!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await screenState(terminal)).shift).toBeNull();

    // The driver signs on by tapping the staff card on the rider's reader.
    const driverCard = createDriverCard({ driverNumber: '8123' });
    const signOn = await host.tap(driverCard);
    expect(signOn.outcome?.status).toBe('accepted');
    expect(signOn.outcome?.driverCard).toEqual({ action: 'signed-on', driverId: '8123' });
    expect(signOn.debitSent).toBe(false);
    const signedOn = await screenState(terminal);
    expect(signedOn.shift?.driverId).toBe('8123');
    expect(signedOn.shift?.serviceConfirmed).toBe(false);
    expect(signedOn.serviceChoices.map((choice) => `${choice.route}/${choice.direction}`)).toEqual(['12/0', '12/1']);
    expect(signedOn.lastTap?.driverCard?.action).toBe('signed-on');

    // The driver confirms route 12 towards 火车站 on the screen.
    const confirm = await post(terminal, 'api/shift/service', { route: '12', direction: 1 });
    expect(confirm.status).toBe(200);
    expect(terminal.runtime.tripContext()).toMatchObject({ route: '12', direction: 1, driverId: '8123' });

    const rider = makeCard();
    const fare = await host.tap(rider);
    expect(fare.outcome?.status).toBe('accepted');
    const riding = await screenState(terminal);
    expect(riding.lastTap?.status).toBe('accepted');
    expect(riding.shift?.counters.accepted).toBe(1);
    expect(riding.shift?.counters.amountFen).toBe(fare.outcome?.amountFen);

    // The driver's own card tapped during the shift only arms the sign-off, so the shift stays open.
    const again = await host.tap(driverCard);
    expect(again.outcome?.promptId).toBe('driver-tap-again-to-sign-off');
    expect(terminal.driver.shift.current()?.driverId).toBe('8123');

    const signOff = await post(terminal, 'api/shift/sign-off', {});
    expect(signOff.status).toBe(200);
    const record = shiftRecordSchema.parse(await signOff.json());
    expect(record.terminalId).toBe(TERMINAL_ID);
    expect(record.driverId).toBe('8123');
    expect(record.route).toBe('12');
    expect(record.direction).toBe(1);
    expect(record.counters.accepted).toBe(1);
    expect(record.counters.amountFen).toBe(fare.outcome?.amountFen);
    expect(record.firstSequence).toBe(fare.outcome?.sequence);
    expect(record.lastSequence).toBe(fare.outcome?.sequence);
    await vi.waitFor(async () => expect((await screenState(terminal)).lastShift?.sentAt).not.toBeNull(), { timeout: 10_000, interval: 50 });
    expect((await screenState(terminal)).shift).toBeNull();

    // Clearing reconciles the shift's counters against the records of its sequence range.
    await vi.waitFor(() => expect(office.repository.shiftReconciliations(10)[0]?.clearedRecords).toBe(1), { timeout: 10_000, interval: 50 });
    const reconciled = office.repository.shiftReconciliations(10)[0]!;
    expect(reconciled.shiftId).toBe(record.shiftId);
    expect(reconciled.driverId).toBe('8123');
    expect(reconciled.reportedAccepted).toBe(1);
    expect(reconciled.clearedAmountFen).toBe(fare.outcome?.amountFen);
    expect(reconciled.differenceFen).toBe(0);
  });
});

describe('busfare-terminal run with a bare broker', () => {
  let broker: EmbeddedBroker;
  let publisher: mqtt.MqttClient;

  beforeEach(async () => {
    broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger });
    cleanups.push(() => broker.close());
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'terminal-run-publisher' });
    cleanups.push(() => publisher.endAsync());
    const past = new Date(Date.now() - 60_000).toISOString();
    await publishParameterSet(publisher, buildSignedParameterSet('fare-table', 1, defaultFareTable([BENCH_LOCAL_CITY_CODE]), past, signingKeys.privateKey));
    await publishParameterSet(publisher, buildSignedParameterSet('routes', 1, ROUTES, past, signingKeys.privateKey));
    brokerLogin = { url: broker.url };
  });

  /** Collects the shift records the terminal publishes. */
  async function subscribeShifts(): Promise<ShiftRecord[]> {
    const records: ShiftRecord[] = [];
    const subscriber = await mqtt.connectAsync(broker.url, { clientId: 'terminal-run-shifts' });
    cleanups.push(() => subscriber.endAsync());
    subscriber.on('message', (_topic, payload) => records.push(shiftRecordSchema.parse(JSON.parse(payload.toString()))));
    await subscriber.subscribeAsync(topics.shifts(TERMINAL_ID), { qos: 1 });
    return records;
  }

  it('signs off by a second card tap', async () => {
    const terminal = await start({ signOffTapWindowSeconds: 3 });
    const shifts = await subscribeShifts();
    const driverCard = createDriverCard({ driverNumber: '8123' });
    expect((await host.tap(driverCard)).outcome?.driverCard?.action).toBe('signed-on');
    expect((await host.tap(driverCard)).outcome?.driverCard?.action).toBe('sign-off-armed');
    // A tap within 2 s of the first counts as the same presentation, so the next one waits.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await host.tap(driverCard)).outcome?.driverCard?.action).toBe('signed-off');

    await vi.waitFor(() => expect(shifts).toHaveLength(1), { timeout: 10_000, interval: 50 });
    expect(shifts[0]!.driverId).toBe('8123');
    expect(shifts[0]!.firstSequence).toBeNull();
    expect(terminal.driver.shift.current()).toBeUndefined();
  });

  it('shows parameter rejections on the driver screen', async () => {
    const terminal = await start();
    const forged = buildSignedParameterSet('fare-table', 2, defaultFareTable([BENCH_LOCAL_CITY_CODE]), new Date().toISOString(), generateParameterSigningKeys().privateKey);
    await publishParameterSet(publisher, forged);
    await vi.waitFor(async () => expect((await screenState(terminal)).alerts.map((alert) => alert.id)).toContain('parameters-rejected'), { timeout: 10_000, interval: 50 });
  });

  it('rejects rider cards before sign-on when configured', async () => {
    await start({ riderTapsWithoutShift: 'reject' });
    const rider = makeCard();
    const withoutShift = await host.tap(rider);
    expect(withoutShift.outcome?.status).toBe('refused');
    expect(withoutShift.debitSent).toBe(false);
    expect(rider.balanceFen).toBe(1000);

    expect((await host.tap(createDriverCard({ driverNumber: '42' }))).outcome?.driverCard?.action).toBe('signed-on');
    expect((await host.tap(rider)).outcome?.status).toBe('accepted');
  });

  it('keeps the shift without a page', async () => {
    const terminal = await start({ enabled: false });
    expect(terminal.driverScreenUrl).toBeUndefined();
    expect((await host.tap(createDriverCard({ driverNumber: '7' }))).outcome?.driverCard?.action).toBe('signed-on');
    expect(terminal.driver.shift.current()?.driverId).toBe('7');
  });

  it('fails on a busy page port', async () => {
    const portHolder: Server = createServer();
    await new Promise<void>((resolve) => portHolder.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => portHolder.close(() => resolve())));
    const port = (portHolder.address() as { port: number }).port;

    const failure = await start({ port }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TranslatedError);
    expect((failure as TranslatedError).message).toMatch(new RegExp(`failed to start the driver screen on 127\\.0\\.0\\.1:${port}: .*set driverScreen\\.port to a free port`));
    expect((failure as TranslatedError).textIn('zh')).toMatch(new RegExp(`^无法在 127\\.0\\.0\\.1:${port} 上启动司机屏：.*；请把 driverScreen\\.port 设为空闲端口$`));
    expect(host.connected).toBe(false);
    // The failed start closed its stores, so the next start opens the same files.
    const terminal = await start();
    expect(terminal.driverScreenUrl).toBeDefined();
  });

  it('stops everything when the PSAM fails', async () => {
    const probe: Server = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    psamBroken = true;
    await expect(start({ port })).rejects.toThrow(/PSAM start-up failed/);
    await expect(fetch(`http://127.0.0.1:${port}/api/state`)).rejects.toThrow();
    await vi.waitFor(() => expect(host.connected).toBe(false), { timeout: 5_000, interval: 20 });

    psamBroken = false;
    const terminal = await start();
    expect((await host.tap(makeCard())).outcome?.status).toBe('accepted');
    expect((await screenState(terminal)).alerts.map((alert) => alert.id)).not.toContain('psam-fault');
  });
});
