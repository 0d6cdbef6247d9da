/// <reference lib="dom" />
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { CHROMIUM, launchChromium } from './chromium.js';
import { startEmbeddedBroker } from '@busfare/backoffice';
import { BenchCity } from '@busfare/simulators';
import { makeCard } from '../tap/cards.js';
import pino from 'pino';

const logger = pino({ level: process.env.BUSFARE_TEST_LOG ?? 'silent' });
let broker: Awaited<ReturnType<typeof startEmbeddedBroker>> | undefined;
let city: BenchCity | undefined;
let context: BrowserContext | undefined;
let profileDir: string | undefined;

/** Formats an instant as HH:MM in China Standard Time (UTC+8), the bench terminals' offset. */
function chinaTime(epochMs: number): string {
  const local = new Date(epochMs + 8 * 3_600_000);
  return `${String(local.getUTCHours()).padStart(2, '0')}:${String(local.getUTCMinutes()).padStart(2, '0')}`;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger });
  city = new BenchCity({ buses: 1, cards: 5, seed: 5, mqttPort: 0, httpPort: 0, logger, gps: false, externalBrokerUrl: broker.url, driverScreenPort: 0, removeDataOnStop: true });
  await city.start();
  profileDir = mkdtempSync(join(tmpdir(), 'busfare-chromium-'));
  // A kiosk browser often runs in UTC or another zone than the bus. New York is never UTC+8.
  context = await launchChromium(profileDir, { timezoneId: 'America/New_York' });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await city?.stop();
  await broker?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(CHROMIUM))('driver screen locale', () => {
  it('shows the terminal time zone', async () => {
    const page = await context!.newPage();
    const before = Date.now();
    await page.goto(city!.buses[0]!.driverScreenUrl!);
    await expect.poll(() => page.locator('#driver').textContent()).toContain('8001');
    const after = Date.now();

    const browserHour = await page.evaluate(() => new Date().getHours());
    expect(browserHour).not.toBe(new Date(Date.now() + 8 * 3_600_000).getUTCHours());
    // The minute may turn between the two readings, so either side of it counts.
    expect([chinaTime(before), chinaTime(after)]).toContain(await page.locator('#clock').textContent());
    const state = (await (await fetch(new URL('/api/state', city!.buses[0]!.driverScreenUrl!))).json()) as { utcOffsetMinutes: number; shift: { startedAt: string } };
    expect(state.utcOffsetMinutes).toBe(480);
    const driverLine = (await page.locator('#driver').textContent()) ?? '';
    expect(driverLine.endsWith(chinaTime(Date.parse(state.shift.startedAt)))).toBe(true);
    await page.close();
  });

  it('names the card type once in English', async () => {
    const bus = city!.buses[0]!;
    const page = await context!.newPage();
    await page.goto(`${bus.driverScreenUrl!}?lang=en`);
    await expect.poll(() => page.locator('#driver').textContent()).toContain('8001');

    expect((await bus.tap(makeCard({ cardTypeCode: 2, balanceFen: 3000 }))).status).toBe('accepted');

    await expect.poll(() => page.locator('#tap-prompt').textContent()).toBe('Student card');
    expect(await page.locator('#tap-card-type').textContent()).toBe('');
    await page.close();
  });

  it('names parameter kinds in both languages', async () => {
    const page = await context!.newPage();
    await page.goto(city!.buses[0]!.driverScreenUrl!);
    await expect.poll(() => page.locator('#parameters').textContent()).toContain('票价表 v1');
    expect(await page.locator('#parameters').textContent()).toMatch(/^参数：/);

    await page.goto(`${city!.buses[0]!.driverScreenUrl!}?lang=en`);
    await expect.poll(() => page.locator('#parameters').textContent()).toContain('Fare table v1');
    expect(await page.locator('#parameters').textContent()).not.toContain('fare-table');
    expect(await page.locator('#parameters').textContent()).toMatch(/^Parameters: /);
    await page.close();
  });
});
