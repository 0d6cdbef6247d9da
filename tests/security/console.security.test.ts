import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../backoffice/src/security/login-throttle.js';
import { type ClearingFixture, openClearingFixture } from '../../backoffice/src/testing/clearing-fixture.js';
import { clearingConsolePlugin } from '../../backoffice/src/web/clearing-console.js';
import { fakeRecord } from '../../backoffice/src/testing/fake-terminal.js';

const PASSWORD = 'correct horse battery';
const WINDOW_MS = 15 * 60_000;

let fixture: ClearingFixture;
let app: FastifyInstance;
let clockMs: number;

const MAX_FAILURES_PER_USERNAME = 3;
const MAX_FAILURES_PER_ADDRESS = 6;

/** Opens a clearing centre with two operators and the console on it. Password hashing makes it take about a second. */
async function openConsole(): Promise<void> {
  clockMs = 1_000;
  fixture = openClearingFixture('2025-05-06T19:00:00Z');
  await fixture.centre.accounts.create({ username: 'admin', displayName: 'Admin', role: 'administrator', password: PASSWORD }, 'system');
  await fixture.centre.accounts.create({ username: 'viewer', displayName: 'Viewer', role: 'viewer', password: PASSWORD }, 'system');
  app = Fastify();
  const loginThrottle = new LoginThrottle({ maxFailuresPerUsername: MAX_FAILURES_PER_USERNAME, maxFailuresPerAddress: MAX_FAILURES_PER_ADDRESS, windowMs: WINDOW_MS, now: () => clockMs });
  await app.register(clearingConsolePlugin, { centre: fixture.centre, repository: fixture.repository, loginThrottle });
  await app.ready();
}

async function closeConsole(): Promise<void> {
  await app.close();
  fixture.close();
}

function apiLogin(username: string, password: string) {
  return app.inject({ method: 'POST', url: '/api/v1/session', payload: { username, password } });
}

async function sessionCookie(username: string): Promise<string> {
  const response = await apiLogin(username, PASSWORD);
  expect(response.statusCode).toBe(200);
  return `busfare_session=${response.cookies.find((cookie) => cookie.name === 'busfare_session')?.value}`;
}

describe('console login rate limit', () => {
  beforeEach(openConsole);
  afterEach(closeConsole);

  it('locks a user name after failures', async () => {
    for (let attempt = 0; attempt < MAX_FAILURES_PER_USERNAME; attempt += 1) expect((await apiLogin('admin', 'wrong password')).statusCode).toBe(401);

    const locked = await apiLogin('admin', PASSWORD);

    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.json().error).toMatch(/登录失败次数过多/);
    expect(locked.cookies.find((cookie) => cookie.name === 'busfare_session')).toBeUndefined();
  });

  it('unlocks after the window', async () => {
    for (let attempt = 0; attempt < MAX_FAILURES_PER_USERNAME; attempt += 1) await apiLogin('admin', 'wrong password');
    clockMs += WINDOW_MS;

    expect((await apiLogin('admin', PASSWORD)).statusCode).toBe(200);
  });

  it('locks an address trying many names', async () => {
    for (let attempt = 0; attempt < MAX_FAILURES_PER_ADDRESS; attempt += 1) expect((await apiLogin(`guess${attempt}`, 'wrong password')).statusCode).toBe(401);

    expect((await apiLogin('viewer', PASSWORD)).statusCode).toBe(429);
  });

  it('clears a name after a success', async () => {
    for (let attempt = 0; attempt < MAX_FAILURES_PER_USERNAME - 1; attempt += 1) await apiLogin('admin', 'wrong password');
    expect((await apiLogin('admin', PASSWORD)).statusCode).toBe(200);
    for (let attempt = 0; attempt < MAX_FAILURES_PER_USERNAME - 1; attempt += 1) await apiLogin('admin', 'wrong password');

    expect((await apiLogin('admin', PASSWORD)).statusCode).toBe(200);
  });

  it('locks the login form too', async () => {
    const form = (password: string) =>
      app.inject({ method: 'POST', url: '/ops/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `username=admin&password=${encodeURIComponent(password)}` });
    for (let attempt = 0; attempt < MAX_FAILURES_PER_USERNAME; attempt += 1) {
      const failed = await form('wrong password');
      expect(failed.statusCode).toBe(303);
      expect(failed.headers.location).toMatch(/failed=1/);
    }

    const locked = await form(PASSWORD);

    expect(locked.statusCode).toBe(429);
    expect(locked.body).toMatch(/登录失败次数过多，请 15 分钟后再试/);
  });
});

describe('console cross-site request protection', () => {
  beforeEach(openConsole);
  afterEach(closeConsole);

  it('rejects a forged cross-site request', async () => {
    const cookie = await sessionCookie('admin');

    const forged = await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, origin: 'https://attacker.example' } });
    const stillLoggedIn = await app.inject({ method: 'GET', url: '/api/v1/settlements', headers: { cookie } });

    expect(forged.statusCode).toBe(403);
    expect(forged.json().error).toMatch(/已拒绝来自其他网站的请求/);
    expect(stillLoggedIn.statusCode).toBe(200);
  });

  it('rejects a cross-site fetch', async () => {
    const cookie = await sessionCookie('admin');

    const forged = await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, 'sec-fetch-site': 'cross-site' } });

    expect(forged.statusCode).toBe(403);
  });

  it('rejects a cross-site referer', async () => {
    const cookie = await sessionCookie('admin');

    const forged = await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, referer: 'https://attacker.example/page' } });

    expect(forged.statusCode).toBe(403);
  });

  it('rejects a cross-site login form', async () => {
    const forged = await app.inject({
      method: 'POST',
      url: '/ops/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://attacker.example' },
      payload: `username=admin&password=${encodeURIComponent(PASSWORD)}`,
    });

    expect(forged.statusCode).toBe(403);
    expect(forged.cookies.find((cookie) => cookie.name === 'busfare_session')).toBeUndefined();
  });

  it('accepts a same-origin request', async () => {
    const cookie = await sessionCookie('admin');

    const logout = await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, host: 'console.example:8443', origin: 'https://console.example:8443', 'sec-fetch-site': 'same-origin' } });

    expect(logout.statusCode).toBe(200);
  });
});

describe('card numbers in the viewer role', () => {
  beforeEach(openConsole);
  afterEach(closeConsole);

  it('masks card numbers for a viewer', async () => {
    const asn = '99000001000000004321';
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, asn, occurredAt: new Date(Date.UTC(2025, 4, 6, 1, 1)) })]);

    const asViewer = await app.inject({ method: 'GET', url: '/api/v1/transactions', headers: { cookie: await sessionCookie('viewer') } });
    const asAdministrator = await app.inject({ method: 'GET', url: '/api/v1/transactions', headers: { cookie: await sessionCookie('admin') } });

    expect(asViewer.statusCode).toBe(200);
    expect(asViewer.body).not.toContain(asn);
    expect(asViewer.body).toContain('990000**********4321');
    expect(asAdministrator.body).toContain(asn);
  });

  it('masks card numbers on pages for a viewer', async () => {
    const asn = '99000001000000008765';
    fixture.ingest('T1', 'b1', [fakeRecord({ sequence: 1, asn, occurredAt: new Date(Date.UTC(2025, 4, 6, 1, 1)) })]);
    const url = `/ops/transactions?terminal=T1`;

    const asViewer = await app.inject({ method: 'GET', url, headers: { cookie: await sessionCookie('viewer') } });
    const asAdministrator = await app.inject({ method: 'GET', url, headers: { cookie: await sessionCookie('admin') } });

    expect(asViewer.statusCode).toBe(200);
    expect(asViewer.body).not.toContain(asn);
    expect(asViewer.body).toContain('990000**********8765');
    expect(asAdministrator.body).toContain(asn);
  });
});

describe('console banner from a link', () => {
  beforeEach(openConsole);
  afterEach(closeConsole);

  const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
  const CRAFTED = '请立即致电400-000-0000核实账户';

  it('ignores error text in the query', async () => {
    const cookie = await sessionCookie('admin');

    const page = await app.inject({ method: 'GET', url: `/ops/customer-service?error=${encodeURIComponent(CRAFTED)}`, headers: { cookie } });

    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain(CRAFTED);
    expect(page.body).not.toContain('class="flash error"');
  });

  it('redirects a failed action with an opaque id', async () => {
    const cookie = await sessionCookie('admin');

    const response = await app.inject({ method: 'POST', url: '/ops/customer-service/refund', headers: { ...FORM, cookie }, payload: 'asn=0330&amountYuan=1&reason=test' });

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toMatch(/^\/ops\/customer-service\?flash=[0-9a-f]{32}$/);
    expect(response.headers.location).not.toContain('0330');
  });

  it('shows a flash once to its session', async () => {
    const cookie = await sessionCookie('admin');
    const other = await sessionCookie('viewer');
    const failed = await app.inject({ method: 'POST', url: '/ops/customer-service/refund', headers: { ...FORM, cookie }, payload: 'asn=0330&amountYuan=1&reason=test' });
    const location = failed.headers.location as string;

    const elsewhere = await app.inject({ method: 'GET', url: location, headers: { cookie: other } });
    const first = await app.inject({ method: 'GET', url: location, headers: { cookie } });
    const again = await app.inject({ method: 'GET', url: location, headers: { cookie } });

    expect(elsewhere.body).not.toContain('class="flash error"');
    expect(first.body).toContain('操作失败：卡号“0330”无效');
    expect(again.body).not.toContain('class="flash error"');
  });

  it('rejects a guessed flash id', async () => {
    const cookie = await sessionCookie('admin');

    const page = await app.inject({ method: 'GET', url: `/ops/customer-service?flash=${'0'.repeat(32)}`, headers: { cookie } });

    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('class="flash error"');
  });
});

describe('card numbers in the audit log', () => {
  beforeEach(openConsole);
  afterEach(closeConsole);

  it('masks audit card numbers for a viewer', async () => {
    const asn = '99000001000000002468';
    const cookie = await sessionCookie('admin');
    const refund = await app.inject({ method: 'POST', url: '/ops/customer-service/refund', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, payload: `asn=${asn}&amountYuan=1&reason=test` });
    expect(refund.headers.location).toBe('/ops/customer-service?done=1');

    const asViewer = await app.inject({ method: 'GET', url: '/ops/audit', headers: { cookie: await sessionCookie('viewer') } });
    const asAdministrator = await app.inject({ method: 'GET', url: '/ops/audit', headers: { cookie } });

    expect(asViewer.body).not.toContain(asn);
    expect(asViewer.body).toContain('990000**********2468');
    expect(asAdministrator.body).toContain(asn);
  });
});

describe('login throttle', () => {
  it('drops the oldest entries when full', () => {
    let now = 0;
    const throttle = new LoginThrottle({ maxFailuresPerUsername: 1, maxFailuresPerAddress: 100, windowMs: WINDOW_MS, maxEntries: 4, now: () => now });

    throttle.recordFailure('first', 'a1');
    expect(throttle.retryAfterMs('first', 'a9')).toBe(WINDOW_MS);
    throttle.recordFailure('second', 'a2');
    throttle.recordFailure('third', 'a3');
    now += 1;

    expect(throttle.retryAfterMs('first', 'a9')).toBe(0);
    expect(throttle.retryAfterMs('third', 'a9')).toBe(WINDOW_MS - 1);
  });

  it('treats names case-insensitively', () => {
    const throttle = new LoginThrottle({ maxFailuresPerUsername: 2, now: () => 0 });
    throttle.recordFailure('Admin', 'a1');
    throttle.recordFailure('admin ', 'a2');

    expect(throttle.retryAfterMs('ADMIN', 'a3')).toBeGreaterThan(0);
  });
});
