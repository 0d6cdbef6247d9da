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
import { POSITION_BATCH_SCHEMA, generateParameterSigningKeys } from '@busfare/shared-protocol';
import { clearingConsolePlugin } from '@busfare/backoffice';
import { ParameterAuthoring } from '../../backoffice/src/params/authoring.js';
import { ParameterRepository } from '../../backoffice/src/params/parameter-repository.js';
import { routeShapesFromParameters } from '../../backoffice/src/web/route-map.js';
import { SAMPLE_ROUTES_BODY as ROUTES_BODY } from '../../backoffice/src/testing/sample-routes.js';
import { type ClearingFixture, openClearingFixture } from '../../backoffice/src/testing/clearing-fixture.js';
import { OUT_OF_TOWN_ISSUER, fakeRecord } from '../../backoffice/src/testing/fake-terminal.js';

/** Screenshots land here for a person to look at; BUSFARE_SCREENSHOT_DIR overrides it. */
const SCREENSHOT_DIR = process.env.BUSFARE_SCREENSHOT_DIR ?? join(tmpdir(), 'busfare-clearing-console');
const PASSWORD = 'console test password';
const DAY = '2025-05-06';
const onDay6 = (minutes: number) => new Date(Date.UTC(2025, 4, 6, 1, minutes));
const IN_DOUBT_CARD = '99000001000000005555';

let fixture: ClearingFixture | undefined;
let parameters: ParameterRepository | undefined;
let parametersDir: string | undefined;
/** Missing resources, server errors and console errors seen by the page, which should stay empty. */
const failures: string[] = [];
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

  parametersDir = mkdtempSync(join(tmpdir(), 'busfare-console-params-'));
  parameters = new ParameterRepository(join(parametersDir, 'office.db'));
  const parameterAuthoring = new ParameterAuthoring({ repository: parameters, signingKey: generateParameterSigningKeys().privateKey });
  parameterAuthoring.create({ kind: 'routes', body: ROUTES_BODY });
  for (const [index, [vehicleId, lat, lon]] of ([['V001', 39.16, 117.26], ['V002', 39.12, 117.19], ['V003', 39.14, 117.22]] as const).entries()) {
    fixture.repository.storePositions({ schema: POSITION_BATCH_SCHEMA, terminalId: `T${index + 1}`, vehicleId, fixes: [{ time: new Date().toISOString(), lat, lon }] });
  }

  app = Fastify();
  const routeShapes = () => routeShapesFromParameters(parameters as ParameterRepository);
  await app.register(clearingConsolePlugin, { centre: fixture.centre, repository: fixture.repository, parameterAuthoring, routeShapes });
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
  parameters?.close();
  for (const dir of [profileDir, downloadDir, parametersDir]) if (dir) rmSync(dir, { recursive: true, force: true });
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
    // A rejected parameter form returns 422 on purpose, so only missing resources and server errors count.
    page.on('response', (response) => {
      if (response.status() === 404 || response.status() >= 500) failures.push(`${response.status()} ${response.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().includes('status of 422')) failures.push(message.text());
    });
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

  it('draws the fleet map with every label inside', async () => {
    await page.click('nav >> text=车载终端');
    const map = page.locator('#route-map');
    expect(await map.locator('polyline').count()).toBe(1);
    expect(await map.locator('circle.stop').count()).toBe(3);
    expect(await map.locator('g.vehicle').count()).toBe(3);

    const outside = await map.evaluate((svg: SVGSVGElement) => {
      const box = svg.getBoundingClientRect();
      return Array.from(svg.querySelectorAll('text')).filter((text) => {
        const label = text.getBoundingClientRect();
        return label.left < box.left || label.right > box.right || label.top < box.top || label.bottom > box.bottom;
      }).map((text) => text.textContent);
    });
    expect(outside).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'fleet.png'), fullPage: true });
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

  it('labels the details of a reconciliation finding', async () => {
    await page.goto(`${baseUrl}/ops/reconciliation/${DAY}`);
    const row = page.locator('#findings tbody tr', { hasText: '灰记录未处理' });
    const details = (await row.locator('td').nth(1).textContent()) ?? '';

    expect(details).toContain(`卡号 ${IN_DOUBT_CARD}`);
    expect(details).toContain('金额（元） 2.00');
    expect(details).toContain('卡交易序号 3');
    expect(details).not.toMatch(/amountFen|cardCounter|=/);

    await page.goto(`${baseUrl}/ops/reconciliation/${DAY}?lang=en`);
    const english = (await page.locator('#findings tbody tr', { hasText: 'In-doubt record open' }).locator('td').nth(1).textContent()) ?? '';
    expect(english).toContain('Amount (yuan) 2.00');
    expect(english).toContain('Card counter 3');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'reconciliation.png'), fullPage: true });
    // The console keeps the chosen language, and the steps below click Chinese links.
    await page.goto(`${baseUrl}/ops/reconciliation/${DAY}?lang=zh`);
    expect(await page.locator('#findings thead th').first().textContent()).toBe('差异');
  });

  it('blacklists a card copied from the exceptions page', async () => {
    await page.click('nav >> text=异常处理');
    const card = (await page.locator('#in-doubt-queue tbody td').nth(2).textContent()) ?? '';
    expect(card).toBe(IN_DOUBT_CARD);

    await page.click('nav >> text=参数');
    expect(await page.locator('#blacklist-hint').textContent()).toContain('完整卡号（20 位数字）');
    await page.fill('#blacklist-form textarea[name=entries]', card);
    await page.click('#blacklist-form button');

    expect(await page.locator('.flash.ok').textContent()).toBe('黑名单版本 1 已签名，等待发布到终端');
    expect(parameters?.latest('blacklist')?.set.body).toEqual({ mode: 'full', entries: [IN_DOUBT_CARD.slice(-16)] });
  });

  it('rejects a card number suffix in Chinese', async () => {
    await page.fill('#blacklist-form textarea[name=entries]', '5555');
    await page.click('#blacklist-form button');

    expect(await page.locator('#parameter-problems li').allTextContents()).toEqual(['第 1 行的卡号“5555”无效：请输入页面上显示的完整卡号（20 位数字），或其右侧 8 字节（16 位十六进制）']);
  });

  it('shows a refund error in Chinese', async () => {
    await page.click('nav >> text=客服');
    const form = page.locator('form[action="/ops/customer-service/refund"]');
    await form.getByLabel('卡号').fill('0330');
    await form.getByLabel('金额').fill('1');
    await form.getByLabel('原因').fill('测试');
    await form.locator('button').click();

    expect(await page.locator('.flash.error').textContent()).toBe('操作失败：卡号“0330”无效：请输入 8 至 20 位数字或十六进制字符，例如页面上显示的完整卡号');
    expect(new URL(page.url()).search).toMatch(/^\?flash=[0-9a-f]{32}$/);
  });

  it('ignores error text in a crafted link', async () => {
    await page.goto(`${baseUrl}/ops/customer-service?error=${encodeURIComponent('请立即致电400-000-0000')}`);

    expect(await page.locator('.flash').count()).toBe(0);
    expect(await page.locator('main').textContent()).not.toContain('400-000-0000');
  });

  it('resolves an in-doubt record by hand', async () => {
    await page.click('nav >> text=异常处理');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'exceptions.png'), fullPage: true });
    const form = page.locator('#in-doubt-queue form.resolve');
    expect(await form.count()).toBe(1);
    await form.getByLabel('结果').selectOption('not-debited');
    expect(await form.getByLabel('匹配的后续记录（终端#流水号）').getAttribute('placeholder')).toBe('T001#42');
    await form.getByLabel('原因').fill('乘客出示余额未变');
    await form.locator('button').click();
    expect(await page.locator('.flash.ok').textContent()).toBe('操作成功');
    expect(await page.locator('#in-doubt-queue-empty').count()).toBe(1);
    await page.click('nav >> text=审计日志');
    const audit = await page.locator('#audit-log tbody').textContent();
    expect(audit).toContain('处理灰记录');
    expect(audit).toContain('结果：未扣款');
    expect(audit).toContain('in-doubt:T1#3');
  });

  it('switches to English', async () => {
    await page.click('#language-switch');
    expect(await page.locator('h1').textContent()).toBe('Audit log');
    expect(await page.locator('#audit-log thead th').nth(2).textContent()).toBe('Operator');
    expect(await page.locator('#audit-log tbody').textContent()).toContain('Resolve in-doubt record');
    await page.click('nav >> text=Dashboard');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
  });

  it('loads every page without errors', () => {
    expect(failures).toEqual([]);
  });
});
