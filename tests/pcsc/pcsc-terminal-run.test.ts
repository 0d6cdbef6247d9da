import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import mqtt from 'mqtt';
import pino from 'pino';
import type { CardSession, TapOutcome } from '@busfare/terminal';
import { type EmbeddedBroker, buildSignedParameterSet, defaultFareTable, publishParameterSet, startEmbeddedBroker } from '@busfare/backoffice';
import { type DeviceHealth, generateParameterSigningKeys } from '@busfare/shared-protocol';
import { ALL_BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, SoftwarePsam, VpcdCardConnection } from '@busfare/simulators';
import { type RunningTerminal, startTerminal } from '../../terminal/src/cli/run-command.js';
import { terminalConfigSchema } from '../../terminal/src/runtime/terminal-config.js';
import { makeCard } from '../tap/cards.js';
import { PcscdProcess, insideNamespace, namespaceUnavailableReason, reportNamespaceRun } from './pcsc-namespace.js';

const TESTS = {
  restart: 'busfare-terminal run on PC/SC takes taps before and after a pcscd restart',
} as const;

/** A T=0-only contact ATR (TS 3B, T0 6A: TB1 and TC1 present, ten historical bytes, no TD1). */
const PSAM_ATR = Uint8Array.from(Buffer.from('3B6A000050534D2D42555346415245', 'hex'));
const CARD_SLOT = 'Virtual PCD 00 00';
const PSAM_SLOT = 'Virtual PCD 00 01';
const logger = pino({ level: process.env.BUSFARE_LOG_LEVEL ?? 'silent' });

const unavailable = namespaceUnavailableReason();

describe.skipIf(unavailable !== undefined)('busfare-terminal run with a PC/SC reader', () => {
  if (!insideNamespace()) {
    reportNamespaceRun(fileURLToPath(import.meta.url), Object.values(TESTS), 120);
    return;
  }

  const pcscd = new PcscdProcess();
  let dir: string;
  let broker: EmbeddedBroker;
  let terminal: RunningTerminal | undefined;
  const psamConnection = new VpcdCardConnection(newPsam(), { slot: 1, atr: PSAM_ATR });

  /** Returns a PSAM just powered on: nothing is selected, so it refuses a purchase until the terminal opens it. */
  function newPsam(): SoftwarePsam {
    return new SoftwarePsam({
      terminalNumber: '000058100002',
      issuers: ALL_BENCH_ISSUERS.map((issuer) => ({ issuerId: issuer.issuerId, purchaseMasterKey: issuer.purchaseMasterKey })),
      t0: true,
    });
  }

  /** Resolves at the next reader health report equal to `wanted`. */
  function nextHealth(running: RunningTerminal, wanted: DeviceHealth): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reader health did not become "${wanted}" within 10 s`)), 10_000);
      const listener = (health: DeviceHealth) => {
        if (health !== wanted) return;
        clearTimeout(timer);
        running.reader.off('health', listener);
        resolve();
      };
      running.reader.on('health', listener);
    });
  }

  /** Returns the ids of the alerts that the driver's page shows now. */
  async function screenAlertIds(running: RunningTerminal): Promise<string[]> {
    const response = await fetch(new URL('api/state', running.driverScreenUrl));
    const state = (await response.json()) as { alerts: { id: string }[] };
    return state.alerts.map((alert) => alert.id);
  }

  /** Presents a fresh card to the contactless slot and returns the runtime's outcome once the card left. */
  async function tap(running: RunningTerminal): Promise<TapOutcome> {
    const card = makeCard();
    const connection = new VpcdCardConnection(card);
    const outcome = new Promise<[TapOutcome, CardSession]>((resolve) => running.runtime.once('tap', (...args) => resolve(args)));
    await connection.insert();
    const [result, session] = await outcome;
    // pcscd polls presence about every 400 ms: wait until it saw the removal before the next insert.
    const removed = new Promise<void>((resolve) => running.reader.on('removed', (left) => left.id === session.id && resolve()));
    await connection.remove();
    await removed;
    if (result.status === 'accepted') expect(card.balanceFen).toBe(800);
    return result;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-pcsc-run-'));
    await pcscd.start();
    await psamConnection.insert();
    broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger });
    const keys = generateParameterSigningKeys();
    const publicKeyFile = join(dir, 'parameters.pub.pem');
    writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const publisher = await mqtt.connectAsync(broker.url, { clientId: 'pcsc-run-publisher' });
    const fareTable = buildSignedParameterSet('fare-table', 1, defaultFareTable([BENCH_LOCAL_CITY_CODE]), new Date(Date.now() - 60_000).toISOString(), keys.privateKey);
    await publishParameterSet(publisher, fareTable);
    await publisher.endAsync();

    const config = terminalConfigSchema.parse({
      terminalId: 'T-PCSC',
      vehicleId: 'V-PCSC',
      dataDir: dir,
      broker: { url: broker.url },
      parameterPublicKeyFile: publicKeyFile,
      reader: { kind: 'pcsc', readerName: CARD_SLOT, psamReaderName: `/^${PSAM_SLOT}$/` },
      service: { route: '1', direction: 0 },
      driverScreen: { port: 0 },
    });
    terminal = await startTerminal(config, logger);
    const running = terminal;
    await vi.waitFor(() => expect(running.parameters.activeFareTable(new Date())).toBeDefined(), { timeout: 10_000, interval: 50 });
  }, 30_000);

  afterAll(async () => {
    await terminal?.stop();
    await psamConnection.remove();
    await pcscd.dispose();
    await broker?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(TESTS.restart, async () => {
    const running = terminal!;
    const first = await tap(running);
    expect(first.reason).toBeUndefined();
    expect(first.status).toBe('accepted');

    const down = nextHealth(running, 'down');
    await pcscd.stop();
    await down;
    await vi.waitFor(async () => expect(await screenAlertIds(running)).toContain('reader-service-down'), { timeout: 10_000, interval: 50 });
    const up = nextHealth(running, 'ok');
    await pcscd.start();
    await up;
    await vi.waitFor(async () => expect(await screenAlertIds(running)).not.toContain('reader-service-down'), { timeout: 10_000, interval: 50 });
    // The PSAM's vpcd socket closed with pcscd. A real PSAM is reset by a pcscd restart, so the
    // one put back is a fresh PSAM with no application selected. The terminal must open it itself.
    await psamConnection.remove();
    psamConnection.setCard(newPsam());
    await psamConnection.insert();

    const second = await tap(running);
    expect(second.reason).toBeUndefined();
    expect(second.status).toBe('accepted');
    expect(running.runtime.tripContext().vehicleId).toBe('V-PCSC');
  }, 30_000);
});
