/// <reference lib="dom" />
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { CHROMIUM, launchChromium } from './chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenConsole } from '../../backoffice/src/web/console-server.js';
import { type RiderFixture, buildRiderFixture } from '../arrivals/rider-fixture.js';

const HAS_CHROMIUM = existsSync(CHROMIUM);

let fixture: RiderFixture | undefined;
let context: BrowserContext | undefined;
let profileDir: string | undefined;
let baseUrl = '';

beforeAll(async () => {
  if (!HAS_CHROMIUM) return;
  fixture = buildRiderFixture();
  baseUrl = await listenConsole(fixture.app, '127.0.0.1', 0);
  profileDir = mkdtempSync(join(tmpdir(), 'busfare-chromium-'));
  context = await launchChromium(profileDir, {
    viewport: { width: 390, height: 844 },
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await fixture?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

describe.skipIf(!HAS_CHROMIUM)('rider stop page in Chromium', () => {
  it('shows the stop and next bus in Chinese', async () => {
    const page = await context!.newPage();
    await page.goto(`${baseUrl}rider/stops/s7`);

    expect(await page.locator('h1').textContent()).toBe('星海街 公交站');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    const row = page.locator('#arrivals tbody tr').first();
    expect(await row.locator('td').nth(1).textContent()).toBe('金鸡湖');
    expect(await row.locator('.eta').textContent()).toMatch(/^(\d+ 分钟|即将进站)$/);
    expect(await page.locator('#routes li').count()).toBe(2);
    await page.close();
  });

  it('switches to English with the link', async () => {
    const page = await context!.newPage();
    await page.goto(`${baseUrl}rider/stops/s7`);
    await page.click('#language');
    await page.waitForURL(/lang=en/);

    expect(await page.locator('h1').textContent()).toBe('星海街 bus stop');
    expect(await page.locator('#arrivals th').first().textContent()).toBe('Route');
    expect(await page.locator('#arrivals .eta').first().textContent()).toMatch(/^(\d+ min|Arriving)$/);
    expect(await page.locator('#language').textContent()).toBe('中文');
    await page.close();
  });

  it('tells the rider when no bus is coming', async () => {
    const page = await context!.newPage();
    await page.goto(`${baseUrl}rider/stops/s0?lang=en`);

    expect(await page.locator('#none').textContent()).toBe('No buses expected in the next hour');
    await page.close();
  });

  it('shows a missing stop', async () => {
    const page = await context!.newPage();
    const response = await page.goto(`${baseUrl}rider/stops/s99`);

    expect(response!.status()).toBe(404);
    expect(await page.locator('#message').textContent()).toBe('未找到站点 s99');
    await page.close();
  });
});
