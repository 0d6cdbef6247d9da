import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { CHROMIUM, launchChromium } from './chromium.js';
import mqtt from 'mqtt';
import pino from 'pino';
import { type EmbeddedBroker, buildSignedParameterSet, defaultFareTable, publishParameterSet, startEmbeddedBroker } from '@busfare/backoffice';
import { type RoutesBody, generateParameterSigningKeys } from '@busfare/shared-protocol';
import { ALL_BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, SocketReaderHost, SoftwarePsam, createDriverCard } from '@busfare/simulators';
import { type RunningTerminal, startTerminal } from '../../terminal/src/cli/run-command.js';
import { terminalConfigSchema } from '../../terminal/src/runtime/terminal-config.js';
import { makeCard } from '../tap/cards.js';
import { KIOSK_VIEWPORTS, checkKioskLayout } from './kiosk-layout.js';

/** Folder of the screenshots, for a person to look at. BUSFARE_SCREENSHOT_DIR overrides it. */
const SCREENSHOT_DIR = process.env.BUSFARE_SCREENSHOT_DIR ?? join(tmpdir(), 'busfare-terminal-run-screen');
const logger = pino({ level: process.env.BUSFARE_TEST_LOG ?? 'silent' });

const ROUTES: RoutesBody = {
  stops: [
    { id: 'S1', name: '火车站', lat: 28.19, lon: 112.97 },
    { id: 'S2', name: '五一广场', lat: 28.2, lon: 112.98 },
  ],
  routes: [{ id: '12', shortName: '12路', longName: '火车站 - 五一广场', patterns: [{ direction: 0, headsign: '五一广场', stops: ['S1', 'S2'], loop: false }] }],
};

let dir: string | undefined;
let host: SocketReaderHost | undefined;
let broker: EmbeddedBroker | undefined;
let terminal: RunningTerminal | undefined;
let context: BrowserContext | undefined;
let profileDir: string | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'busfare-terminal-run-browser-'));
  host = new SocketReaderHost({ path: join(dir, 'reader.sock'), psam: new SoftwarePsam({ terminalNumber: '000058100095', issuers: ALL_BENCH_ISSUERS }), logger });
  await host.listen();
  broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger });
  const keys = generateParameterSigningKeys();
  const publicKeyFile = join(dir, 'parameters.pub.pem');
  writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  const publisher = await mqtt.connectAsync(broker.url, { clientId: 'terminal-run-browser-publisher' });
  const past = new Date(Date.now() - 60_000).toISOString();
  await publishParameterSet(publisher, buildSignedParameterSet('fare-table', 1, defaultFareTable([BENCH_LOCAL_CITY_CODE]), past, keys.privateKey));
  await publishParameterSet(publisher, buildSignedParameterSet('routes', 1, ROUTES, past, keys.privateKey));
  // The terminal rejects a set signed by another key, and its parameter store raises the alert.
  await publishParameterSet(publisher, buildSignedParameterSet('blacklist', 1, { mode: 'full', entries: [] }, past, generateParameterSigningKeys().privateKey));
  await publisher.endAsync();

  const config = terminalConfigSchema.parse({
    terminalId: 'T-KIOSK',
    vehicleId: 'V-KIOSK',
    dataDir: dir,
    broker: { url: broker.url },
    parameterPublicKeyFile: publicKeyFile,
    reader: { kind: 'socket', path: join(dir, 'reader.sock') },
    driverScreen: { port: 0 },
  });
  terminal = await startTerminal(config, logger);
  profileDir = mkdtempSync(join(tmpdir(), 'busfare-chromium-'));
  context = await launchChromium(profileDir, {
    viewport: KIOSK_VIEWPORTS[0],
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await terminal?.stop();
  await host?.close();
  await broker?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(CHROMIUM))('busfare-terminal run driver screen in Chromium', () => {
  it('runs a shift on the kiosk page', async () => {
    const running = terminal!;
    const page = await context!.newPage();
    await page.goto(running.driverScreenUrl!);

    await expect.poll(() => page.locator('#view-sign-on').isVisible()).toBe(true);
    await expect.poll(() => page.locator('[data-alert="parameters-rejected"]').textContent()).toBe('参数更新无效，继续使用原参数');
    await checkKioskLayout(page, '1-sign-on', ['#driver-number', '#sign-on', '[data-alert="parameters-rejected"]'], SCREENSHOT_DIR);

    const driverCard = createDriverCard({ driverNumber: '8123' });
    expect((await host!.tap(driverCard)).outcome?.driverCard?.action).toBe('signed-on');
    await expect.poll(() => page.locator('#view-service').isVisible()).toBe(true);
    expect(await page.locator('#driver').textContent()).toContain('8123');
    await expect.poll(() => page.locator('#choices button').first().textContent()).toBe('12路 上行 → 五一广场');
    await checkKioskLayout(page, '2-service', ['#choices button'], SCREENSHOT_DIR);
    await page.locator('#choices button').first().click();
    await expect.poll(() => page.locator('#view-duty').isVisible()).toBe(true);
    expect(await page.locator('#route').textContent()).toBe('12路\n上行');

    const fare = await host!.tap(makeCard({ balanceFen: 1000 }));
    expect(fare.outcome?.status).toBe('accepted');
    await expect.poll(() => page.locator('#tap-fare').textContent()).toBe('扣款 2.00元');
    await expect.poll(() => page.locator('#count-accepted').textContent()).toBe('1');
    await checkKioskLayout(page, '3-duty', ['#tap-prompt', '#tap-balance', '#count-amount'], SCREENSHOT_DIR);

    await page.click('#sign-off');
    await page.click('#sign-off');
    await expect.poll(() => page.locator('#view-summary').isVisible()).toBe(true);
    expect(await page.locator('#summary-driver').textContent()).toBe('8123');
    expect(await page.locator('#summary-amount').textContent()).toBe('2.00元');
    await expect.poll(() => page.locator('#summary-sent').textContent(), { timeout: 10_000 }).toBe('班次记录已上传');
    await checkKioskLayout(page, '4-summary', ['#summary-amount', '#summary-sent', '#new-shift'], SCREENSHOT_DIR);
    await page.close();
  }, 60_000);
});
