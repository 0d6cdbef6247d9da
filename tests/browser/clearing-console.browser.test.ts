/// <reference lib="dom" />
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import Fastify, { type FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from './chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearingConsolePlugin } from '@busfare/backoffice';
import { type ClearingFixture, openClearingFixture } from '../../backoffice/src/testing/clearing-fixture.js';
import { OUT_OF_TOWN_ISSUER, fakeRecord } from '../../backoffice/src/testing/fake-terminal.js';

/** Screenshots land here for a person to look at; BUSFARE_SCREENSHOT_DIR overrides it. */
const SCREENSHOT_DIR = process.env.BUSFARE_SCREENSHOT_DIR ?? join(tmpdir(), 'busfare-clearing-console');
const PASSWORD = 'console test password';
const DAY = '2025-05-06';
const onDay6 = (minutes: number) => new Date(Date.UTC(2025, 4, 6, 1, minutes));
const IN_DOUBT_CARD = '99000001000000005555';

let fixture: ClearingFixture | undefined;
let app: FastifyInstance | undefined;
let context: BrowserContext | undefined;
let profileDir: string | undefined;
let downloadDir: string | undefined;
let baseUrl = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  fixture = openClearingFixture();
  fixture.ingest('T1', 'b1', [
    fakeRecord({ sequence: 1, occurredAt: onDay6(1), amountFen: 200 }),
    fakeRecord({ sequence: 2, occurredAt: onDay6(2), amountFen: 100 }),
    fakeRecord({ sequence: 3, kind: 'in-doubt', occurredAt: onDay6(3), asn: IN_DOUBT_CARD }),
    fakeRecord({ sequence: 4, occurredAt: onDay6(4), issuerId: OUT_OF_TOWN_ISSUER, asn: '12340000000000000004' }),
  ]);
  fixture.centre.stores.settlement.recordVerdicts([{ terminalId: 'T1', sequence: 4, verdict: 'confirmed' }], 'answer.txt');
  // Sessions and cookies need the real time; the records' day lies in the past, so it has ended.
  fixture.clock.set(new Date().toISOString());
  await fixture.centre.accounts.create({ username: 'zhang.wei', displayName: '张伟', role: 'operator', password: PASSWORD }, 'system');

  app = Fastify();
  await app.register(clearingConsolePlugin, { centre: fixture.centre, repository: fixture.repository });
  await app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  profileDir = mkdtempSync(join(tmpdir(), 'busfare-chromium-'));
  downloadDir = mkdtempSync(join(tmpdir(), 'busfare-downloads-'));
  context = await launchChromium(profileDir, {
    acceptDownloads: true,
    downloadsPath: downloadDir,
    viewport: { width: 1280, height: 900 },
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await app?.close();
  fixture?.close();
  for (const dir of [profileDir, downloadDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

async function download(page: Page, selector: string): Promise<{ name: string; path: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const path = join(downloadDir as string, file.suggestedFilename());
  await file.saveAs(path);
  return { name: file.suggestedFilename(), path };
}

describe.skipIf(!existsSync(CHROMIUM))('operators console in Chromium', () => {
  let page: Page;

  it('logs in with the Chinese form', async () => {
    page = await (context as BrowserContext).newPage();
    await page.goto(`${baseUrl}/ops`);
    expect(new URL(page.url()).pathname).toBe('/ops/login');
    expect(await page.locator('h1').textContent()).toBe('操作员登录');
    await page.fill('input[name=username]', 'zhang.wei');
    await page.fill('input[name=password]', 'wrong password');
    await page.click('#login-form button');
    expect(await page.locator('.flash.error').textContent()).toBe('用户名或密码错误');
    await page.fill('input[name=username]', 'zhang.wei');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('#login-form button');
    expect(new URL(page.url()).pathname).toBe('/ops');
    expect(await page.locator('h1').textContent()).toBe('总览');
    expect(await page.locator('#hourly-chart').count()).toBe(1);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard.png'), fullPage: true });
  });

  it('searches transactions by card number', async () => {
    await page.click('nav >> text=交易查询');
    await page.fill('#search-form input[name=card]', IN_DOUBT_CARD);
    await page.click('#search-form button');
    expect(await page.locator('#search-count').textContent()).toBe('共1条');
    const cells = await page.locator('#search-results tbody tr td').allTextContents();
    expect(cells).toContain(IN_DOUBT_CARD);
    expect(cells).toContain('灰记录');
  });

  it('settles a day and opens its report', async () => {
    await page.click('nav >> text=清分结算');
    await page.click(`#settlement-days >> text=${DAY}`);
    expect(await page.locator('#settlement-state').textContent()).toContain('未结算');
    await page.click('#settle');
    expect(await page.locator('.flash.ok').textContent()).toBe('操作成功');
    expect(await page.locator('#settlement-state').textContent()).toContain('已结算');
    expect(await page.locator('#settlement-totals tbody td').allTextContents()).toEqual(['3', '6.00', '5.00', '1.00']);
    expect(await page.locator('#settlement-partners tbody td').first().textContent()).toBe('1234');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'settlement.png'), fullPage: true });
  });

  it('downloads the CSV export and reads it', async () => {
    const file = await download(page, '#download-csv');
    expect(file.name).toBe(`settlement-${DAY}.csv`);
    const rows = parse(readFileSync(file.path, 'utf8'), { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((row) => row['流水号'])).toEqual(['1', '2', '4']);
    expect(rows.map((row) => row['实收（元）'])).toEqual(['2.00', '1.00', '2.00']);
  });

  it('downloads the Excel export and reads it', async () => {
    const file = await download(page, '#download-xlsx');
    expect(file.name).toBe(`settlement-${DAY}.xlsx`);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(file.path);
    const summary = workbook.getWorksheet('汇总');
    expect(summary?.getRow(1).values).toEqual([undefined, '结算日', DAY]);
    expect(summary?.getRow(7).values).toEqual([undefined, '实收（元）', 5]);
    const items = workbook.getWorksheet('明细');
    expect(items?.rowCount).toBe(4);
    expect(items?.getRow(1).getCell(8).value).toBe('卡号');
  });

  it('resolves an in-doubt record by hand', async () => {
    await page.click('nav >> text=异常处理');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'exceptions.png'), fullPage: true });
    const form = page.locator('#in-doubt-queue form.resolve');
    expect(await form.count()).toBe(1);
    await form.locator('select[name=outcome]').selectOption('not-debited');
    await form.locator('input[name=reason]').fill('乘客出示余额未变');
    await form.locator('button').click();
    expect(await page.locator('.flash.ok').textContent()).toBe('操作成功');
    expect(await page.locator('#in-doubt-queue-empty').count()).toBe(1);
    await page.click('nav >> text=审计日志');
    const audit = await page.locator('#audit-log tbody').textContent();
    expect(audit).toContain('exception.resolve-in-doubt');
    expect(audit).toContain('in-doubt:T1#3');
  });

  it('switches to English', async () => {
    await page.click('#language-switch');
    expect(await page.locator('h1').textContent()).toBe('Audit log');
    await page.click('nav >> text=Dashboard');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
  });
});
