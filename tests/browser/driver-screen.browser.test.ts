/// <reference lib="dom" />
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from './chromium.js';
import { startEmbeddedBroker } from '@busfare/backoffice';
import { BenchCity, createDriverCard, waitFor, type ApduCard, type BenchBus } from '@busfare/simulators';
import pino from 'pino';
import { makeCard } from '../tap/cards.js';
import { KIOSK_VIEWPORTS, checkKioskLayout } from './kiosk-layout.js';

/** Screenshots land here for a person to look at; BUSFARE_SCREENSHOT_DIR overrides it. */
const SCREENSHOT_DIR = process.env.BUSFARE_SCREENSHOT_DIR ?? join(tmpdir(), 'busfare-driver-screen');

const logger = pino({ level: process.env.BUSFARE_TEST_LOG ?? 'silent' });
let broker: Awaited<ReturnType<typeof startEmbeddedBroker>> | undefined;
let city: BenchCity | undefined;
let context: BrowserContext | undefined;
let profileDir: string | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger });
  city = new BenchCity({ buses: 1, cards: 20, seed: 11, mqttPort: 0, httpPort: 0, logger, gps: false, externalBrokerUrl: broker.url, driverScreenPort: 0, removeDataOnStop: true });
  await city.start();
  profileDir = mkdtempSync(join(tmpdir(), 'busfare-chromium-'));
  context = await launchChromium(profileDir, {
    viewport: KIOSK_VIEWPORTS[0],
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await city?.stop();
  await broker?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

/** Waits until the page has rendered a state pushed after `action`. */
async function afterPush(page: Page, action: () => Promise<unknown>): Promise<void> {
  const before = Number((await page.locator('body').getAttribute('data-revision')) ?? '0');
  await action();
  await page.waitForFunction((revision) => Number(document.body.getAttribute('data-revision') ?? '0') > revision, before);
}

/** Checks the kiosk layout at both resolutions and saves a screenshot of each. */
function checkLayout(page: Page, name: string, selectors: string[]): Promise<void> {
  return checkKioskLayout(page, name, selectors, SCREENSHOT_DIR);
}

async function tap(page: Page, bus: BenchBus, card: ApduCard) {
  let outcome: Awaited<ReturnType<BenchBus['tap']>> | undefined;
  await afterPush(page, async () => {
    outcome = await bus.tap(card);
  });
  return outcome!;
}

describe.skipIf(!existsSync(CHROMIUM))('driver screen in Chromium', () => {
  it('follows a shift from sign-on to sign-off', async () => {
    const bus = city!.buses[0]!;
    expect(bus.driverScreenUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await context!.newPage();
    await page.goto(bus.driverScreenUrl!);

    // The bench signed its driver on at start by tapping the driver card; end that shift to sign on again.
    await expect.poll(() => page.locator('#driver').textContent()).toContain('8001');
    await page.click('#sign-off');
    await expect.poll(() => page.locator('#sign-off').textContent()).toBe('再按一次签退');
    await afterPush(page, () => page.click('#sign-off'));
    await expect.poll(() => page.locator('#view-summary').isVisible()).toBe(true);
    await page.click('#new-shift');
    await expect.poll(() => page.locator('#view-sign-on').isVisible()).toBe(true);
    await checkLayout(page, '1-sign-on', ['#driver-number', '#sign-on']);

    await page.fill('#driver-number', 'bad number!');
    await page.click('#sign-on');
    await expect.poll(() => page.locator('#sign-on-error').textContent()).toBe('工号无效，只能包含字母和数字');

    // The keypad stays for lost cards; an expired driver card is rejected on the sign-on page.
    const expiredCard = await tap(page, bus, createDriverCard({ driverNumber: '8123', startDate: '20150101', expiryDate: '20201231' }));
    expect(expiredCard.driverCard).toEqual({ action: 'rejected' });
    expect(await page.locator('#sign-on-card').textContent()).toBe('卡片已过期');
    await checkLayout(page, '1-sign-on-rejected-card', ['#driver-number', '#sign-on', '#sign-on-card']);

    const driverCard = createDriverCard({ driverNumber: '8123' });
    const signedOn = await tap(page, bus, driverCard);
    expect(signedOn.status).toBe('accepted');
    expect(signedOn.promptId).toBe('driver-signed-on');
    expect(bus.feedback.lastDisplay?.voice).toBe('v41-driver-signed-on');
    expect(bus.feedback.lastDisplay?.lines.zh).toEqual(['签到完毕']);
    await expect.poll(() => page.locator('#view-service').isVisible()).toBe(true);
    expect(await page.locator('#driver').textContent()).toContain('司机 8123');
    await expect.poll(() => page.locator('#choices button').first().textContent()).toBe('1路 上行');
    await checkLayout(page, '2-service', ['#choices button']);
    await afterPush(page, () => page.locator('#choices button').first().click());
    await expect.poll(() => page.locator('#view-duty').isVisible()).toBe(true);
    expect(await page.locator('#route').textContent()).toBe('1路\n上行');
    expect(await page.locator('#driver').textContent()).toContain('司机 8123');
    expect(await page.locator('#tap-prompt').textContent()).toBe('签到完毕');
    expect(await page.locator('#tap-card-type').textContent()).toBe('司机 8123');
    expect(await page.locator('#link').textContent()).toBe('已联网');

    const ordinary = await tap(page, bus, makeCard({ balanceFen: 1000 }));
    expect(ordinary.status).toBe('accepted');
    expect(await page.locator('#tap-fare').textContent()).toBe('扣款 2.00元');
    expect(await page.locator('#tap-balance').textContent()).toBe('余额 8.00元');
    expect(await page.locator('#last-tap').getAttribute('class')).toContain('ok');

    const student = await tap(page, bus, makeCard({ cardTypeCode: 2, balanceFen: 3000 }));
    expect(student.status).toBe('accepted');
    expect(await page.locator('#last-tap').textContent()).toContain('学生卡');
    expect(await page.locator('#tap-fare').textContent()).toBe('扣款 1.00元');
    expect(await page.locator('#tap-balance').textContent()).toBe('余额 29.00元');
    await checkLayout(page, '3-student', ['#tap-prompt', '#tap-balance', '#count-amount', '#stop-next']);

    const senior = await tap(page, bus, makeCard({ cardTypeCode: 3, balanceFen: 500 }));
    expect(senior.status).toBe('accepted');
    expect(await page.locator('#last-tap').textContent()).toContain('老年卡');

    const poor = await tap(page, bus, makeCard({ balanceFen: 50 }));
    expect(poor.status).toBe('refused');
    expect(await page.locator('#tap-prompt').textContent()).toBe('余额不足');
    expect(await page.locator('#last-tap').getAttribute('class')).toContain('refused');
    await checkLayout(page, '4-refused', ['#tap-prompt', '#count-refused']);

    const expired = await tap(page, bus, makeCard({ expiryDate: '20250101' }));
    expect(expired.status).toBe('refused');
    expect(await page.locator('#tap-prompt').textContent()).toBe('卡片已过期');

    expect(await page.locator('#count-taps').textContent()).toBe('5');
    expect(await page.locator('#count-accepted').textContent()).toBe('3');
    expect(await page.locator('#count-refused').textContent()).toBe('2');
    expect(await page.locator('#count-amount').textContent()).toBe('3.00元');
    expect(await page.locator('#by-type').textContent()).toBe('普通卡 1 · 学生卡 1 · 老年卡 1');

    // Driver cards during the shift: another driver is rejected, and the driver's own card only requests a second tap.
    const otherDriver = await tap(page, bus, createDriverCard({ driverNumber: '9001' }));
    expect(otherDriver.status).toBe('refused');
    expect(await page.locator('#tap-prompt').textContent()).toBe('请先签退');
    expect(await page.locator('#tap-card-type').textContent()).toBe('司机 9001');
    expect(await page.locator('#last-tap').getAttribute('class')).toContain('refused');
    const ownCard = await tap(page, bus, driverCard);
    expect(ownCard.driverCard?.action).toBe('sign-off-armed');
    expect(await page.locator('#tap-prompt').textContent()).toBe('再刷一次签退');
    expect(await page.locator('#last-tap').getAttribute('class')).toContain('armed');
    expect(await page.locator('#view-duty').isVisible()).toBe(true);
    expect(await page.locator('#count-taps').textContent()).toBe('5');
    expect(driverCard.debits).toHaveLength(0);
    await checkLayout(page, '4-driver-card', ['#tap-prompt', '#tap-card-type', '#count-taps']);

    // An offline period: taps go on, the backlog grows and the driver is told.
    const port = broker!.port;
    await broker!.close();
    broker = undefined;
    await waitFor(() => !bus.uplink.stats().connected, 10_000, 'the terminal to notice the outage');
    await expect.poll(() => page.locator('#link').textContent(), { timeout: 5_000 }).toBe('离线');
    await expect.poll(() => page.locator('[data-alert="link-offline"]').textContent()).toBe('网络离线：记录已保存，联网后自动上传');
    const offline = await tap(page, bus, makeCard({ balanceFen: 1000 }));
    expect(offline.status).toBe('accepted');
    await expect.poll(() => page.locator('#backlog').textContent()).toBe('待上传1笔');
    await checkLayout(page, '5-offline', ['[data-alert="link-offline"]', '#backlog']);

    await page.click('#lang-toggle');
    expect(await page.locator('#link').textContent()).toBe('Offline');
    expect(await page.locator('#tap-fare').textContent()).toBe('Fare ¥2.00');
    expect(await page.locator('[data-alert="link-offline"]').textContent()).toBe('Offline: records are saved and upload when online');
    await checkLayout(page, '6-english', ['#tap-prompt', '[data-alert="link-offline"]']);
    await page.click('#lang-toggle');

    broker = await startEmbeddedBroker({ port, host: '127.0.0.1', logger });
    await expect.poll(() => page.locator('#link').textContent(), { timeout: 15_000 }).toBe('已联网');
    await expect.poll(() => page.locator('#backlog').textContent(), { timeout: 15_000 }).toBe('待上传0笔');
    expect(await page.locator('[data-alert="link-offline"]').count()).toBe(0);

    await page.click('#sign-off');
    await afterPush(page, () => page.click('#sign-off'));
    await expect.poll(() => page.locator('#view-summary').isVisible()).toBe(true);
    expect(await page.locator('#summary-driver').textContent()).toBe('8123');
    expect(await page.locator('#summary-taps').textContent()).toBe('6');
    expect(await page.locator('#summary-accepted').textContent()).toBe('4');
    expect(await page.locator('#summary-amount').textContent()).toBe('5.00元');
    await expect.poll(() => page.locator('#summary-sent').textContent(), { timeout: 10_000 }).toBe('班次记录已上传');
    await checkLayout(page, '7-summary', ['#summary-amount', '#summary-sent', '#new-shift']);

    await waitFor(() => city!.office.repository.shiftReconciliations(10).some((shift) => shift.driverId === '8123'), 10_000, 'the back office to store the shift');
    await waitFor(() => city!.office.repository.shiftReconciliations(10).find((shift) => shift.driverId === '8123')!.clearedRecords === 4, 10_000, 'the shift records to clear');
    const shift = city!.office.repository.shiftReconciliations(10).find((entry) => entry.driverId === '8123')!;
    expect(shift.reportedAccepted).toBe(4);
    expect(shift.reportedAmountFen).toBe(500);
    expect(shift.clearedAmountFen).toBe(500);
    expect(shift.differenceFen).toBe(0);
    await page.close();
  }, 120_000);
});
