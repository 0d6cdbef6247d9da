/// <reference lib="dom" />
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from './chromium.js';
import { startEmbeddedBroker } from '@busfare/backoffice';
import { BenchCity } from '@busfare/simulators';
import pino from 'pino';

// The driver's screen is an 800×480 panel on the smallest validators, and its header must show the
// route, the driver, the shift start, the link state, the clock and the buttons in full.

const logger = pino({ level: process.env.BUSFARE_TEST_LOG ?? 'silent' });
let broker: Awaited<ReturnType<typeof startEmbeddedBroker>> | undefined;
let city: BenchCity | undefined;
let context: BrowserContext | undefined;
let profileDir: string | undefined;

/** A header element whose text is cut or that reaches past the header's edges. */
interface Overflow {
  id: string;
  text: string;
  scrollWidth: number;
  clientWidth: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger });
  city = new BenchCity({ buses: 1, cards: 2, seed: 7, mqttPort: 0, httpPort: 0, logger, gps: false, externalBrokerUrl: broker.url, driverScreenPort: 0, removeDataOnStop: true });
  await city.start();
  profileDir = mkdtempSync(join(tmpdir(), 'busfare-chromium-'));
  context = await launchChromium(profileDir, { viewport: { width: 800, height: 480 } });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await city?.stop();
  await broker?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

/** Lists every shown header element that is cut or lies partly outside the header. */
function headerOverflows(page: Page): Promise<Overflow[]> {
  return page.evaluate(() => {
    const header = document.querySelector('header')!;
    const bounds = header.getBoundingClientRect();
    const found: Overflow[] = [];
    for (const element of Array.from(header.querySelectorAll<HTMLElement>('*'))) {
      if (element.offsetParent === null) continue;
      const box = element.getBoundingClientRect();
      if (box.width === 0) continue;
      // One pixel of slack absorbs sub-pixel rounding of the viewport units.
      const cut = element.scrollWidth > element.clientWidth + 1;
      const outside = box.left < bounds.left - 1 || box.right > bounds.right + 1 || box.top < bounds.top - 1 || box.bottom > bounds.bottom + 1;
      if (cut || outside) {
        found.push({ id: element.id || element.className, text: element.textContent ?? '', scrollWidth: element.scrollWidth, clientWidth: element.clientWidth, left: box.left, right: box.right, top: box.top, bottom: box.bottom });
      }
    }
    return found;
  });
}

describe.skipIf(!existsSync(CHROMIUM))('driver screen header at 800×480', () => {
  it.each([
    ['Chinese', '', '上班'],
    ['English', '?lang=en', 'Shift start'],
  ])('fits in %s', async (_language, query, shiftLabel) => {
    const page = await context!.newPage();
    await page.goto(`${city!.buses[0]!.driverScreenUrl!}${query}`);
    await expect.poll(() => page.locator('#driver').textContent()).toContain(shiftLabel);
    expect(await page.evaluate(() => [window.innerWidth, window.innerHeight])).toEqual([800, 480]);

    expect(await headerOverflows(page)).toEqual([]);
    expect(await page.evaluate(() => document.querySelector('header')!.scrollWidth <= document.querySelector('header')!.clientWidth)).toBe(true);
    await page.close();
  });

  it.each([
    ['Chinese', '', '再按一次签退'],
    ['English', '?lang=en', 'Press again to sign off'],
  ])('fits with sign-off armed in %s', async (_language, query, confirmText) => {
    const page = await context!.newPage();
    await page.goto(`${city!.buses[0]!.driverScreenUrl!}${query}`);
    await expect.poll(() => page.locator('#sign-off').isVisible()).toBe(true);
    await page.locator('#sign-off').click();
    await expect.poll(() => page.locator('#sign-off').textContent()).toBe(confirmText);

    expect(await headerOverflows(page)).toEqual([]);
    await page.close();
  });
});
