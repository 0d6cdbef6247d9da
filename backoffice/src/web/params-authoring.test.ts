import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TERMINAL_STATUS_SCHEMA, blacklistBodySchema, generateParameterSigningKeys } from '@busfare/shared-protocol';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ParameterAuthoring } from '../params/authoring.js';
import { defaultFareTable } from '../params/default-fare-table.js';
import type { TerminalParameterStatus } from '../params/fleet-parameter-status.js';
import { ParameterRepository } from '../params/parameter-repository.js';
import { type ClearingFixture, openClearingFixture } from '../testing/clearing-fixture.js';
import { clearingConsolePlugin } from './clearing-console.js';

const PASSWORD = 'correct horse battery';
const KEYS = generateParameterSigningKeys();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const ASN = '0000000012345678';

describe('parameter authoring in the console', () => {
  let dir: string;
  let fixture: ClearingFixture;
  let parameters: ParameterRepository;
  let app: FastifyInstance;

  async function startConsole(withAuthoring: boolean, parameterStatus?: () => TerminalParameterStatus[]): Promise<void> {
    app = Fastify();
    const parameterAuthoring = new ParameterAuthoring({ repository: parameters, signingKey: KEYS.privateKey });
    await app.register(clearingConsolePlugin, { centre: fixture.centre, repository: fixture.repository, ...(withAuthoring ? { parameterAuthoring } : {}), ...(parameterStatus ? { parameterStatus } : {}) });
    await app.ready();
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-console-params-'));
    fixture = openClearingFixture();
    parameters = new ParameterRepository(join(dir, 'office.db'));
    await fixture.centre.accounts.create({ username: 'operator1', displayName: 'Operator', role: 'operator', password: PASSWORD }, 'system');
    await fixture.centre.accounts.create({ username: 'viewer', displayName: 'Viewer', role: 'viewer', password: PASSWORD }, 'system');
    await startConsole(true);
  });

  afterEach(async () => {
    await app.close();
    parameters.close();
    fixture.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function login(username: string): Promise<string> {
    const response = await app.inject({ method: 'POST', url: '/ops/login', headers: FORM, payload: `username=${username}&password=${encodeURIComponent(PASSWORD)}` });
    expect(response.statusCode).toBe(303);
    const cookie = response.cookies.find((candidate) => candidate.name === 'busfare_session');
    expect(cookie).toBeDefined();
    return `busfare_session=${cookie?.value}`;
  }

  const post = (cookie: string, path: string, fields: Record<string, string>) =>
    app.inject({ method: 'POST', url: `/ops/parameters/${path}`, headers: { ...FORM, cookie }, payload: new URLSearchParams(fields).toString() });

  it('shows both forms to an operator', async () => {
    const page = await app.inject({ method: 'GET', url: '/ops/parameters', headers: { cookie: await login('operator1') } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('id="blacklist-form"');
    expect(page.body).toContain('id="fare-table-form"');
  });

  it('adds a blacklist entry', async () => {
    const cookie = await login('operator1');
    const response = await post(cookie, 'blacklist', { entries: `${ASN.toLowerCase()}\n\n`, change: 'add', effectiveFrom: '' });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/ops/parameters?published=blacklist&version=1');

    const stored = parameters.latest('blacklist');
    expect(stored?.set.version).toBe(1);
    expect(blacklistBodySchema.parse(stored?.set.body)).toEqual({ mode: 'full', entries: [ASN] });

    const audit = fixture.centre.stores.operators.listAudit(1)[0];
    expect(audit?.action).toBe('parameters.blacklist');
    expect(audit?.operator).toBe('operator1');
    expect(audit?.target).toBe('blacklist:v1');
    expect(audit?.details.added).toEqual([ASN]);

    const page = await app.inject({ method: 'GET', url: `${response.headers.location as string}&lang=en`, headers: { cookie } });
    expect(page.body).toContain('Blacklist version 1 signed and queued');
  });

  it('derives the key from a full card number', async () => {
    const cookie = await login('operator1');
    const response = await post(cookie, 'blacklist', { entries: ' 58100001000000000330 \n5810000100000000abcd\n0001000000000330', change: 'add' });

    expect(response.statusCode).toBe(303);
    expect(blacklistBodySchema.parse(parameters.latest('blacklist')?.set.body)).toEqual({ mode: 'full', entries: ['0001000000000330', '000100000000ABCD'] });
    expect(fixture.centre.stores.operators.listAudit(1)[0]?.details.added).toEqual(['0001000000000330', '000100000000ABCD']);
  });

  it('rejects a card number suffix in Chinese', async () => {
    const response = await post(await login('operator1'), 'blacklist', { entries: `${ASN}\n0330`, change: 'add' });

    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('第 2 行的卡号“0330”无效：请输入页面上显示的完整卡号（20 位数字），或其右侧 8 字节（16 位十六进制）');
    expect(response.body).not.toContain('is not 16 hex digits');
    expect(parameters.latest('blacklist')).toBeUndefined();
  });

  it('rejects a card number suffix in English', async () => {
    const cookie = await login('operator1');
    const response = await app.inject({ method: 'POST', url: '/ops/parameters/blacklist', headers: { ...FORM, cookie: `${cookie}; busfare_lang=en` }, payload: 'entries=0330&change=add' });

    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('Line 1: invalid card number &quot;0330&quot;: enter the full card number the pages show (20 digits)');
  });

  it('states the accepted card numbers', async () => {
    const cookie = await login('operator1');
    const chinese = await app.inject({ method: 'GET', url: '/ops/parameters', headers: { cookie } });
    const english = await app.inject({ method: 'GET', url: '/ops/parameters?lang=en', headers: { cookie } });

    expect(chinese.body).toContain('id="blacklist-hint"');
    expect(chinese.body).toContain('完整卡号（20 位数字）');
    expect(english.body).toContain('Paste the full card number from the Transactions or Exceptions page (20 digits), or enter its right-most 8 bytes (16 hex digits)');
  });

  it('removes an entry as a delta', async () => {
    const cookie = await login('operator1');
    expect((await post(cookie, 'blacklist', { entries: ASN, change: 'add' })).statusCode).toBe(303);
    const response = await post(cookie, 'blacklist', { entries: ASN, change: 'remove' });
    expect(response.headers.location).toBe('/ops/parameters?published=blacklist&version=2');
    expect(blacklistBodySchema.parse(parameters.latest('blacklist')?.set.body)).toEqual({ mode: 'delta', baseVersion: 1, add: [], remove: [ASN] });
  });

  it('stores the effective time at the centre offset', async () => {
    const cookie = await login('operator1');
    const response = await post(cookie, 'blacklist', { entries: ASN, change: 'add', effectiveFrom: '2099-01-02T08:30' });
    expect(response.statusCode).toBe(303);
    expect(parameters.latest('blacklist')?.set.effectiveFrom).toBe('2099-01-02T00:30:00.000Z');
  });

  it('lists every invalid blacklist entry', async () => {
    const cookie = await login('operator1');
    const response = await post(cookie, 'blacklist', { entries: `${ASN}\nXYZ\n12345`, change: 'add' });
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('id="parameter-problems"');
    expect(response.body).toContain('第 2 行的卡号“XYZ”无效');
    expect(response.body).toContain('第 3 行的卡号“12345”无效');
    expect(response.body).toContain('XYZ\n12345</textarea>');
    expect(parameters.latest('blacklist')).toBeUndefined();
    expect(fixture.centre.stores.operators.listAudit(10, { action: 'parameters.blacklist' })).toEqual([]);
  });

  it('rejects an unknown blacklist change', async () => {
    const response = await post(await login('operator1'), 'blacklist', { entries: ASN, change: 'replace' });
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('黑名单变更无效：change: expected &quot;add&quot; or &quot;remove&quot;');
    expect(parameters.latest('blacklist')).toBeUndefined();
  });

  it('rejects a stale effective time', async () => {
    const response = await post(await login('operator1'), 'blacklist', { entries: ASN, change: 'add', effectiveFrom: '2000-01-01T00:00' });
    expect(response.statusCode).toBe(422);
    expect(response.body).toMatch(/effectiveFrom: 1999-12-31T16:00:00.000Z 早于现在超过 \d+ 小时/);
    expect(parameters.latest('blacklist')).toBeUndefined();
  });

  it('publishes a fare table', async () => {
    const cookie = await login('operator1');
    const body = defaultFareTable(['3104']);
    const response = await post(cookie, 'fare-table', { body: JSON.stringify(body, null, 2) });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/ops/parameters?published=fare-table&version=1');
    expect(parameters.latest('fare-table')?.set.body).toEqual(body);
    const audit = fixture.centre.stores.operators.listAudit(1)[0];
    expect(audit?.action).toBe('parameters.fare-table');
    expect(audit?.details.bodySha256).toBe(parameters.latest('fare-table')?.set.bodySha256);
  });

  it('rejects a fare table with an unknown card type', async () => {
    const body = { ...defaultFareTable(['3104']), cardTypeByCode: { '9': 'vip' }, lowBalanceWarningFen: -1 };
    const response = await post(await login('operator1'), 'fare-table', { body: JSON.stringify(body) });
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('票价表内容无效：body.cardTypeByCode.9:');
    expect(response.body).toContain('票价表内容无效：body.lowBalanceWarningFen:');
    expect(parameters.latest('fare-table')).toBeUndefined();
    expect(fixture.centre.stores.operators.listAudit(10, { action: 'parameters.fare-table' })).toEqual([]);
  });

  it('words fare table problems in Chinese', async () => {
    const body = { ...defaultFareTable(['3104']), cardTypeByCode: { '9': 'vip' }, lowBalanceWarningFen: -1 };
    const response = await post(await login('operator1'), 'fare-table', { body: JSON.stringify(body) });
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('票价表内容无效：body.cardTypeByCode.9: 应为以下之一：');
    expect(response.body).toContain('票价表内容无效：body.lowBalanceWarningFen: 应不小于 0');
    expect(response.body).not.toContain('Invalid option');
    expect(response.body).not.toContain('Too small');
  });

  it('words fare table problems in English', async () => {
    const body = { ...defaultFareTable(['3104']), lowBalanceWarningFen: 'low' };
    const cookie = await login('operator1');
    const response = await app.inject({ method: 'POST', url: '/ops/parameters/fare-table', headers: { ...FORM, cookie: `${cookie}; busfare_lang=en` }, payload: new URLSearchParams({ body: JSON.stringify(body) }).toString() });
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('Invalid fare table: body.lowBalanceWarningFen: expected number, received string');
  });

  it('rejects fare table text that is not JSON', async () => {
    const response = await post(await login('operator1'), 'fare-table', { body: '{ "currency": ' });
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('票价表不是有效的 JSON：');
    expect(parameters.latest('fare-table')).toBeUndefined();
  });

  it('gives a viewer no forms', async () => {
    const cookie = await login('viewer');
    const page = await app.inject({ method: 'GET', url: '/ops/parameters', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('<form method="post" action="/ops/parameters');

    for (const [path, fields] of [['blacklist', { entries: ASN, change: 'add' }], ['fare-table', { body: JSON.stringify(defaultFareTable(['3104'])) }]] as const) {
      const response = await post(cookie, path, fields);
      expect(response.statusCode).toBe(403);
    }
    expect(parameters.latest('blacklist')).toBeUndefined();
    expect(parameters.latest('fare-table')).toBeUndefined();
  });

  it('rejects a cross-site post', async () => {
    const cookie = await login('operator1');
    const response = await app.inject({ method: 'POST', url: '/ops/parameters/blacklist', headers: { ...FORM, cookie, origin: 'https://attacker.example' }, payload: `entries=${ASN}&change=add` });
    expect(response.statusCode).toBe(403);
    expect(parameters.latest('blacklist')).toBeUndefined();
  });

  it('explains missing authoring', async () => {
    await app.close();
    await startConsole(false);
    const cookie = await login('operator1');
    const page = await app.inject({ method: 'GET', url: '/ops/parameters', headers: { cookie } });
    expect(page.body).toContain('id="parameter-authoring-unavailable"');
    expect(page.body).not.toContain('id="blacklist-form"');
    const response = await post(cookie, 'blacklist', { entries: ASN, change: 'add' });
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('未配置参数签名密钥：请用 &quot;busfare-backoffice params keygen&quot; 生成');
  });

  it('marks terminals that are behind the published parameters', async () => {
    for (const terminalId of ['T001', 'T002']) {
      fixture.repository.storeStatus({ schema: TERMINAL_STATUS_SCHEMA, terminalId, state: 'online', at: new Date().toISOString(), parameters: { active: { 'fare-table': 1 }, pending: {} } });
    }
    const lag = (terminalId: string, behind: boolean): TerminalParameterStatus => ({
      terminalId,
      state: 'online',
      at: new Date().toISOString(),
      behind,
      kinds: { 'fare-table': { active: 1, pending: null, expectedActive: behind ? 2 : 1, newest: behind ? 2 : 1, behind } },
    });
    await app.close();
    await startConsole(true, () => [lag('T001', true), lag('T002', false)]);

    const page = await app.inject({ method: 'GET', url: '/ops/parameters', headers: { cookie: await login('viewer') } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('参数落后');
    expect(page.body).toMatch(/T001<\/td><td><strong class="behind">落后<\/strong>/);
    expect(page.body).toMatch(/T002<\/td><td>最新/);
  });
});
