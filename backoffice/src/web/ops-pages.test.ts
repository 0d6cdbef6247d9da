import { TERMINAL_STATUS_SCHEMA } from '@busfare/shared-protocol';
import type Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeRecord } from '../testing/fake-terminal.js';
import { type ClearingFixture, openClearingFixture } from '../testing/clearing-fixture.js';
import { clearingConsolePlugin } from './clearing-console.js';

const PASSWORD = 'correct horse battery';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const CARD = '58100001000000000330';
const onDay6 = (minutes: number) => new Date(Date.UTC(2025, 4, 6, 1, minutes));

describe('console pages in the operator language', () => {
  let fixture: ClearingFixture;
  let app: FastifyInstance;
  let cookie: string;

  beforeEach(async () => {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    await fixture.centre.accounts.create({ username: 'admin', displayName: 'Admin', role: 'administrator', password: PASSWORD }, 'system');
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, occurredAt: onDay6(1), asn: CARD }), fakeRecord({ sequence: 2, kind: 'in-doubt', occurredAt: onDay6(2), asn: '99000001000000005555' })]);
    fixture.repository.storeStatus({ schema: TERMINAL_STATUS_SCHEMA, terminalId: 'T1', state: 'online', at: '2025-05-06T18:00:00Z', parameters: { active: { 'fare-table': 3, blacklist: 2 }, pending: { routes: 4 } } });
    app = Fastify();
    await app.register(clearingConsolePlugin, { centre: fixture.centre, repository: fixture.repository });
    await app.ready();
    const login = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'admin', password: PASSWORD } });
    cookie = `busfare_session=${login.cookies.find((candidate) => candidate.name === 'busfare_session')?.value}`;
  });

  afterEach(async () => {
    await app.close();
    fixture.close();
  });

  const get = (url: string) => app.inject({ method: 'GET', url, headers: { cookie } });
  const post = (url: string, fields: Record<string, string>) => app.inject({ method: 'POST', url, headers: { ...FORM, cookie }, payload: new URLSearchParams(fields).toString() });
  /** Posts a form and follows the redirect, returning the page it lands on. */
  const postAndFollow = async (url: string, fields: Record<string, string>, language: 'zh' | 'en' = 'zh') => {
    const response = await post(url, fields);
    expect(response.statusCode).toBe(303);
    const location = response.headers.location as string;
    return get(`${location}&lang=${language}`);
  };
  const flashOf = (body: string) => /<p class="flash error" role="alert">([^<]*)<\/p>/.exec(body)?.[1];

  it('translates card types in transactions', async () => {
    const chinese = await get(`/ops/transactions?card=${CARD}`);
    const english = await get(`/ops/transactions?card=${CARD}&lang=en`);

    expect(chinese.body).toContain('<td>普通卡</td>');
    expect(chinese.body).not.toContain('<td>ordinary</td>');
    expect(english.body).toContain('<td>Ordinary</td>');
  });

  it('searches by a lower-case card number', async () => {
    fixture.ingest('T1', 'b2', [fakeRecord({ sequence: 3, occurredAt: onDay6(3), asn: '9900000100000000ABCD' })]);

    const page = await get('/ops/transactions?card=9900000100000000abcd');

    expect(page.body).toContain('id="search-count">共1条');
  });

  it('rejects an invalid search card in Chinese', async () => {
    const response = await get('/ops/transactions?card=0330');
    expect(response.statusCode).toBe(303);
    const page = await get(response.headers.location as string);

    expect(flashOf(page.body)).toBe('操作失败：卡号“0330”无效：请输入 8 至 20 位数字或十六进制字符，例如页面上显示的完整卡号');
  });

  it('rejects an invalid search terminal in Chinese', async () => {
    const response = await get('/ops/transactions?terminal=T%2F1');
    expect(response.statusCode).toBe(303);
    const page = await get(response.headers.location as string);

    expect(flashOf(page.body)).toContain('terminal: 终端编号应为 1-32 个字母、数字、&quot;_&quot; 或 &quot;-&quot;');
  });

  it('rejects an invalid search route in English', async () => {
    const response = await app.inject({ method: 'GET', url: `/ops/transactions?route=${'9'.repeat(40)}`, headers: { cookie: `${cookie}; busfare_lang=en` } });
    expect(response.statusCode).toBe(303);
    const page = await app.inject({ method: 'GET', url: response.headers.location as string, headers: { cookie: `${cookie}; busfare_lang=en` } });

    expect(flashOf(page.body)).toContain('route: must have at most 32 characters');
  });

  it('translates audit actions and details', async () => {
    await app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'admin', password: 'wrong password' } });
    await fixture.centre.accounts.create({ username: 'li.na', displayName: '李娜', role: 'viewer', password: 'long enough password' }, 'admin');

    const chinese = await get('/ops/audit');
    const english = await get('/ops/audit?lang=en');

    expect(chinese.body).toContain('>登录失败</span>');
    expect(chinese.body).toContain('>新建操作员</span>');
    expect(chinese.body).toContain('角色：查看员');
    expect(chinese.body).toContain('姓名：李娜');
    expect(chinese.body).not.toContain('>operator.create<');
    expect(chinese.body).not.toContain('{&quot;');
    expect(english.body).toContain('<th scope="col">Operator</th>');
    expect(english.body).not.toContain('<th scope="col">Operators</th>');
    expect(english.body).toContain('>Failed login</span>');
    expect(english.body).toContain('Role: Viewer');
  });

  it('names parameter kinds on fleet and parameters', async () => {
    const fleet = await get('/ops/fleet');
    const parameters = await get('/ops/parameters');
    const english = await get('/ops/parameters?lang=en');

    expect(fleet.body).toContain('票价表 v3');
    expect(fleet.body).toContain('黑名单 v2');
    expect(fleet.body).not.toContain('fare-table v3');
    expect(parameters.body).toContain('<th scope="col">票价表</th>');
    expect(parameters.body).toContain('<th scope="col">线路</th>');
    expect(parameters.body).not.toContain('<th scope="col">fare-table</th>');
    expect(english.body).toContain('<th scope="col">Fare table</th>');
  });

  it('rejects an invalid card number in both languages', async () => {
    const chinese = await postAndFollow('/ops/customer-service/refund', { asn: '0330', amountYuan: '1', reason: 'test' });
    const english = await postAndFollow('/ops/customer-service/refund', { asn: '0330', amountYuan: '1', reason: 'test' }, 'en');

    expect(flashOf(chinese.body)).toBe('操作失败：卡号“0330”无效：请输入 8 至 20 位数字或十六进制字符，例如页面上显示的完整卡号');
    expect(flashOf(english.body)).toBe('Failed: Invalid card number &quot;0330&quot;: enter 8 to 20 digits or hex digits, such as the full card number the pages show');
  });

  it('rejects an invalid amount in both languages', async () => {
    const chinese = await postAndFollow('/ops/customer-service/adjustment', { asn: CARD, amountYuan: '1.234', reason: 'test' });
    const english = await postAndFollow('/ops/customer-service/adjustment', { asn: CARD, amountYuan: '1.234', reason: 'test' }, 'en');

    expect(flashOf(chinese.body)).toBe('操作失败：金额“1.234”无效：请以元为单位，最多两位小数，例如 2.50');
    expect(flashOf(english.body)).toBe('Failed: Invalid amount &quot;1.234&quot;: enter yuan with up to two decimals, for example 2.50');
  });

  it('checks both transfer card numbers', async () => {
    const page = await postAndFollow('/ops/customer-service/transfer', { lostAsn: CARD, replacementAsn: 'xyz', reason: 'test' });

    expect(flashOf(page.body)).toBe('操作失败：卡号“xyz”无效：请输入 8 至 20 位数字或十六进制字符，例如页面上显示的完整卡号');
  });

  it('accepts a lower-case card number in a refund', async () => {
    const response = await post('/ops/customer-service/refund', { asn: '5810000100000000033a', amountYuan: '1', reason: 'test' });

    expect(response.headers.location).toBe('/ops/customer-service?done=1');
    expect(fixture.centre.customerService.list()[0]?.asn).toBe('5810000100000000033A');
  });

  it('rejects an invalid matching record in Chinese', async () => {
    const page = await postAndFollow('/ops/exceptions/in-doubt/T1/2/resolve', { outcome: 'debited', matched: 'T1-42', reason: 'test' });

    expect(flashOf(page.body)).toBe('操作失败：匹配记录“T1-42”无效：请写成 终端#流水号，例如 T001#42');
  });

  it('rejects an invalid settlement day in Chinese', async () => {
    const response = await get('/ops/settlement/open?day=6.5.2025');
    const page = await get(response.headers.location as string);

    expect(flashOf(page.body)).toBe('操作失败：日期无效：请写成 年-月-日，例如 2025-05-06');
  });

  it('reports a full disk at settlement in Chinese', async () => {
    // Enough items that settling needs new database pages.
    for (const batch of [0, 1]) {
      fixture.ingest('T2', `b${batch}`, Array.from({ length: 500 }, (_, index) => fakeRecord({ sequence: batch * 500 + index + 1, occurredAt: onDay6(10) })));
    }
    const db = fixture.repository['db'] as Database.Database;
    db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);
    const page = await postAndFollow('/ops/settlement/2025-05-06/settle', {});

    expect(flashOf(page.body)).toBe('操作失败：清分数据库所在的磁盘已满，本次操作未完成：请释放磁盘空间后重试');
    expect(fixture.centre.stores.settlement.settledDay('2025-05-06')).toBeUndefined();

    db.pragma('max_page_count = 1073741823');
    const retry = await post('/ops/settlement/2025-05-06/settle', {});
    expect(retry.statusCode).toBe(303);
    expect(fixture.centre.stores.settlement.settledDay('2025-05-06')?.recordCount).toBe(1001);
  });

  it('labels the resolve form inputs', async () => {
    const page = await get('/ops/exceptions');
    const form = /<form method="post" action="\/ops\/exceptions\/in-doubt\/T1\/2\/resolve"[\s\S]*?<\/form>/.exec(page.body)?.[0] ?? '';

    expect(form).toMatch(/<label>结果 <select name="outcome">/);
    expect(form).toContain('<label>匹配的后续记录（终端#流水号） <input name="matched" placeholder="T001#42"></label>');
    expect(form).toContain('<label>原因 <input name="reason" required></label>');
  });

  it('labels the write-off reason', async () => {
    const page = await get('/ops/exceptions');
    const form = /<form method="post" action="\/ops\/exceptions\/in-doubt\/T1\/2\/write-off"[\s\S]*?<\/form>/.exec(page.body)?.[0] ?? '';

    expect(form).toContain('<label>原因 <input name="reason" required></label>');
    expect(form).not.toContain('placeholder=');
  });

  it('names operator states in words', async () => {
    await fixture.centre.accounts.create({ username: 'clerk', displayName: 'Clerk', role: 'viewer', password: PASSWORD }, 'admin');
    await post('/ops/operators/clerk', { role: 'viewer', disabled: 'true' });

    const chinese = await get('/ops/operators');
    const english = await get('/ops/operators?lang=en');

    expect(chinese.body).toContain('<td>已启用</td>');
    expect(chinese.body).toContain('<td>已停用</td>');
    expect(chinese.body).toContain('>停用</label>');
    expect(english.body).toContain('<td>Disabled</td>');
    expect(chinese.body).not.toMatch(/[✓✗]/);
    // The column of the change form is named like every other column.
    expect(chinese.body).not.toContain('<th scope="col"></th>');
  });

  it('declares an inline favicon', async () => {
    const page = await get('/ops');

    expect(page.body).toContain('<link rel="icon" href="data:,">');
    expect(page.headers['content-security-policy']).toContain("img-src 'self' data:");
  });
});
