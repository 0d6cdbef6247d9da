import type Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeRecord } from '../testing/fake-terminal.js';
import { type ClearingFixture, openClearingFixture } from '../testing/clearing-fixture.js';
import { clearingConsolePlugin } from './clearing-console.js';

const PASSWORD = 'correct horse battery';
const onDay6 = (minutes: number) => new Date(Date.UTC(2025, 4, 6, 1, minutes));

describe('clearing console HTTP API', () => {
  let fixture: ClearingFixture;
  let app: FastifyInstance;

  beforeEach(async () => {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    await fixture.centre.accounts.create({ username: 'admin', displayName: 'Admin', role: 'administrator', password: PASSWORD }, 'system');
    await fixture.centre.accounts.create({ username: 'viewer', displayName: 'Viewer', role: 'viewer', password: PASSWORD }, 'system');
    await fixture.centre.accounts.create({ username: 'operator1', displayName: '操作员', role: 'operator', password: PASSWORD }, 'system');
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, occurredAt: onDay6(1) }), fakeRecord({ sequence: 2, kind: 'in-doubt', occurredAt: onDay6(2), asn: '99000001000000005555' })]);
    app = Fastify();
    await app.register(clearingConsolePlugin, { centre: fixture.centre, repository: fixture.repository });
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
    fixture.close();
  });

  async function login(username: string, password = PASSWORD): Promise<string> {
    const response = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { username, password } });
    expect(response.statusCode).toBe(200);
    const cookie = response.cookies.find((candidate) => candidate.name === 'busfare_session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
    return `busfare_session=${cookie?.value}`;
  }

  it('rejects a wrong password', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'admin', password: 'wrong password' } });
    expect(response.statusCode).toBe(401);
    expect(fixture.centre.stores.operators.listAudit(1)[0]?.action).toBe('operator.login-failed');
  });

  it('rejects an unknown username', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'nobody', password: PASSWORD } });
    expect(response.statusCode).toBe(401);
  });

  it('rejects a login body that fails validation', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'admin' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/invalid body/);
  });

  it('requires a session', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/settlements/2025-05-06' });
    expect(response.statusCode).toBe(401);
  });

  it('expires a session after its lifetime', async () => {
    const cookie = await login('viewer');
    fixture.clock.set('2025-05-07T04:00:00Z');
    const response = await app.inject({ method: 'GET', url: '/api/v1/settlements', headers: { cookie } });
    expect(response.statusCode).toBe(401);
  });

  it('keeps a viewer from settling', async () => {
    const cookie = await login('viewer');
    const response = await app.inject({ method: 'POST', url: '/api/v1/settlements/2025-05-06/settle', headers: { cookie } });
    expect(response.statusCode).toBe(403);
  });

  it('settles, reports and exports a day', async () => {
    const cookie = await login('operator1');
    const settled = await app.inject({ method: 'POST', url: '/api/v1/settlements/2025-05-06/settle', headers: { cookie } });
    expect(settled.statusCode).toBe(200);
    expect(settled.json().totals.amountFen).toBe(200);
    const again = await app.inject({ method: 'POST', url: '/api/v1/settlements/2025-05-06/settle', headers: { cookie } });
    expect(again.statusCode).toBe(409);
    const csv = await app.inject({ method: 'GET', url: '/api/v1/settlements/2025-05-06/export?format=csv', headers: { cookie } });
    expect(csv.headers['content-disposition']).toBe('attachment; filename="settlement-2025-05-06.csv"');
    expect(csv.body).toContain('实收（元）');
    const xlsx = await app.inject({ method: 'GET', url: '/api/v1/settlements/2025-05-06/export?format=xlsx', headers: { cookie } });
    expect(xlsx.rawPayload.subarray(0, 2).toString()).toBe('PK');
  });

  it('rejects an invalid day and an unknown export format', async () => {
    const cookie = await login('viewer');
    expect((await app.inject({ method: 'GET', url: '/api/v1/settlements/06-05-2025', headers: { cookie } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/api/v1/settlements/2025-02-30', headers: { cookie } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/api/v1/settlements/2025-05-06/export?format=pdf', headers: { cookie } })).statusCode).toBe(400);
  });

  it('returns 507 on a full disk', async () => {
    const cookie = await login('operator1');
    // Enough items that settling needs new database pages.
    for (const batch of [0, 1]) {
      fixture.ingest('T2', `b${batch}`, Array.from({ length: 500 }, (_, index) => fakeRecord({ sequence: batch * 500 + index + 1, occurredAt: onDay6(10) })));
    }
    const db = fixture.repository['db'] as Database.Database;
    db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);
    const response = await app.inject({ method: 'POST', url: '/api/v1/settlements/2025-05-06/settle', headers: { cookie } });

    expect(response.statusCode).toBe(507);
    expect(response.json().error).toMatch(/disk of the clearing database is full/);
    db.pragma('max_page_count = 1073741823');
    expect((await app.inject({ method: 'POST', url: '/api/v1/settlements/2025-05-06/settle', headers: { cookie } })).statusCode).toBe(200);
  });

  it('resolves an in-doubt record and logs it', async () => {
    const cookie = await login('operator1');
    const missing = await app.inject({ method: 'POST', url: '/api/v1/exceptions/in-doubt/T1/2/resolve', headers: { cookie }, payload: { reason: 'x' } });
    expect(missing.statusCode).toBe(400);
    const response = await app.inject({ method: 'POST', url: '/api/v1/exceptions/in-doubt/T1/2/resolve', headers: { cookie }, payload: { reason: '乘客出示扣款短信', outcome: 'debited' } });
    expect(response.json()).toEqual({ outcome: 'debited' });
    const audit = await app.inject({ method: 'GET', url: '/api/v1/audit?action=exception.resolve-in-doubt', headers: { cookie } });
    expect(audit.json()[0]).toMatchObject({ operator: 'operator1', target: 'in-doubt:T1#2' });
  });

  it('searches transactions by card', async () => {
    const cookie = await login('viewer');
    const response = await app.inject({ method: 'GET', url: '/api/v1/transactions?card=99000001000000005555', headers: { cookie } });
    expect(response.json().map((row: { sequence: number }) => row.sequence)).toEqual([2]);
    const invalid = await app.inject({ method: 'GET', url: '/api/v1/transactions?card=xyz', headers: { cookie } });
    expect(invalid.statusCode).toBe(400);
  });

  it('lets only administrators manage accounts', async () => {
    const operatorCookie = await login('operator1');
    expect((await app.inject({ method: 'GET', url: '/api/v1/operators', headers: { cookie: operatorCookie } })).statusCode).toBe(403);
    const cookie = await login('admin');
    const created = await app.inject({ method: 'POST', url: '/api/v1/operators', headers: { cookie }, payload: { username: 'li.na', displayName: '李娜', role: 'viewer', password: 'short' } });
    expect(created.statusCode).toBe(400);
    const ok = await app.inject({ method: 'POST', url: '/api/v1/operators', headers: { cookie }, payload: { username: 'li.na', displayName: '李娜', role: 'viewer', password: 'long enough password' } });
    expect(ok.statusCode).toBe(200);
    const taken = await app.inject({ method: 'POST', url: '/api/v1/operators', headers: { cookie }, payload: { username: 'li.na', displayName: '李娜', role: 'viewer', password: 'long enough password' } });
    expect(taken.statusCode).toBe(409);
  });

  it('ends the sessions of a disabled account', async () => {
    const viewerCookie = await login('viewer');
    const cookie = await login('admin');
    await app.inject({ method: 'POST', url: '/api/v1/operators/viewer', headers: { cookie }, payload: { disabled: true } });
    expect((await app.inject({ method: 'GET', url: '/api/v1/settlements', headers: { cookie: viewerCookie } })).statusCode).toBe(401);
  });

  it('describes every route in OpenAPI', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    const document = response.json();
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toContain('/api/v1/settlements/{day}/export');
    const resolve = document.paths['/api/v1/exceptions/in-doubt/{terminalId}/{sequence}/resolve'].post;
    expect(resolve.requestBody.content['application/json'].schema.properties.reason.type).toBe('string');
    expect(resolve['x-required-role']).toBe('operator');
  });

  it('redirects pages to the login form and renders them in Chinese', async () => {
    const redirect = await app.inject({ method: 'GET', url: '/ops/exceptions' });
    expect(redirect.statusCode).toBe(303);
    expect(redirect.headers.location).toBe('/ops/login?next=%2Fops%2Fexceptions');
    const cookie = await login('operator1');
    const page = await app.inject({ method: 'GET', url: '/ops/exceptions', headers: { cookie } });
    expect(page.body).toContain('<html lang="zh-CN">');
    expect(page.body).toContain('灰记录');
    const english = await app.inject({ method: 'GET', url: '/ops/exceptions?lang=en', headers: { cookie } });
    expect(english.body).toContain('In-doubt records');
  });

  it('rejects a cross-site form post', async () => {
    const cookie = await login('operator1');
    const response = await app.inject({
      method: 'POST',
      url: '/ops/settlement/2025-05-06/settle',
      headers: { cookie, origin: 'https://evil.example', host: 'localhost:80', 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    expect(response.statusCode).toBe(403);
    expect(fixture.centre.settlement.isSettled('2025-05-06')).toBe(false);
  });
});
