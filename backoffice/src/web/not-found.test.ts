import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerNotFoundHandler } from './not-found.js';
import { CSP } from './ops-pages.js';

let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify();
  registerNotFoundHandler(app, { opsConsole: true });
  // The operators' console is an encapsulated plugin, and unknown paths beside its routes must reach the handler too.
  await app.register(async (scope) => {
    scope.get('/ops', async () => 'dashboard');
  });
  await app.ready();
});

afterAll(async () => {
  await app.close();
});

describe('not-found handler', () => {
  it('renders an /ops page in Chinese', async () => {
    const response = await app.inject({ method: 'GET', url: '/ops/nope' });

    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-language']).toBe('zh-CN');
    expect(response.body).toContain('<html lang="zh-CN">');
    expect(response.body).toContain('<title>页面不存在 - 公交清分中心</title>');
    expect(response.body).toContain('<a id="home" href="/ops">返回运营控制台</a>');
    expect(response.body).not.toContain('Route GET');
  });

  it('renders an /ops page in English', async () => {
    const response = await app.inject({ method: 'GET', url: '/ops/nope?lang=en' });

    expect(response.statusCode).toBe(404);
    expect(response.headers['content-language']).toBe('en');
    expect(response.body).toContain('<html lang="en">');
    expect(response.body).toContain('<h1>Page not found</h1>');
    expect(response.body).toContain('<a id="home" href="/ops?lang=en">Back to the operators&#39; console</a>');
    expect(response.body).not.toContain('页面不存在');
  });

  it('takes the language from the cookie', async () => {
    const response = await app.inject({ method: 'GET', url: '/ops/nope', headers: { cookie: 'other=1; busfare_lang=en' } });

    expect(response.body).toContain('<h1>Page not found</h1>');
  });

  it('prefers ?lang= over the cookie', async () => {
    const response = await app.inject({ method: 'GET', url: '/ops/nope?lang=zh', headers: { cookie: 'busfare_lang=en' } });

    expect(response.body).toContain('<h1>页面不存在</h1>');
  });

  it('falls back to Chinese for an unknown language', async () => {
    const response = await app.inject({ method: 'GET', url: '/nope?lang=fr', headers: { cookie: 'busfare_lang=fr' } });

    expect(response.body).toContain('<h1>页面不存在</h1>');
  });

  it('links a root path to the home page', async () => {
    const response = await app.inject({ method: 'GET', url: '/nope' });

    expect(response.statusCode).toBe(404);
    expect(response.body).toContain('<a id="home" href="/">返回清分中心首页</a>');
  });

  it('treats /opsx as a root path', async () => {
    const response = await app.inject({ method: 'GET', url: '/opsx' });

    expect(response.body).toContain('<a id="home" href="/">');
  });

  it('sets the page security headers', async () => {
    const response = await app.inject({ method: 'GET', url: '/nope' });

    expect(response.headers['content-security-policy']).toBe(CSP);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toContain('<link rel="icon" href="data:,">');
    expect(response.body).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('does not echo the requested path into the page', async () => {
    const response = await app.inject({ method: 'GET', url: '/%3Cscript%3Ealert(1)%3C/script%3E' });

    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain('<script>');
    expect(response.body).not.toContain('alert(1)');
  });

  it('returns JSON for an /api path', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/nope?x=1' });

    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.json()).toEqual({ error: '未找到路由：GET /api/nope' });
  });

  it('returns English JSON with ?lang=en', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/rider/nope?lang=en' });

    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'Not found: no route for POST /api/rider/nope' });
  });

  it('returns JSON for a GTFS-realtime path', async () => {
    const response = await app.inject({ method: 'GET', url: '/gtfs-rt/nope' });

    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: '未找到路由：GET /gtfs-rt/nope' });
  });

  it('links /ops paths home without the operators console', async () => {
    const withoutConsole = Fastify();
    registerNotFoundHandler(withoutConsole, { opsConsole: false });

    const response = await withoutConsole.inject({ method: 'GET', url: '/ops/nope' });

    expect(response.body).toContain('<a id="home" href="/">');
    await withoutConsole.close();
  });
});
