import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@busfare/shared-protocol';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveTap, toLiveTap } from '../ingest/ingest-service.js';
import { TacVerifier } from '../ingest/tac-verifier.js';
import { TransactionIngestor } from '../ingest/transaction-ingest.js';
import { createLogger } from '../logger.js';
import { SqliteClearingRepository } from '../store/sqlite-clearing-repository.js';
import { LOCAL_ISSUER_PREFIX, fakeBatch, fakeRecord, testKeyStore } from '../testing/fake-terminal.js';
import { renderConsolePage } from './console-page.js';
import { buildConsoleServer, listenConsole } from './console-server.js';

let directory: string;
let repository: SqliteClearingRepository;
let app: FastifyInstance;
const listeners = new Set<(tap: LiveTap) => void>();

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-console-'));
  repository = new SqliteClearingRepository({ path: join(directory, 'clearing.db') });
  const ingestor = new TransactionIngestor({
    repository,
    verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
    businessDay: { timezoneOffsetMinutes: 480, cutoff: '00:00' },
  });
  ingestor.ingest(topics.transactions('T-7'), fakeBatch('T-7', 'b', [fakeRecord({ sequence: 1 }), fakeRecord({ sequence: 2, tac: '01020304' })]));
  app = buildConsoleServer({
    repository,
    timezoneOffsetMinutes: 480,
    logger: createLogger('test', 'silent'),
    subscribeTaps: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  });
});

afterAll(async () => {
  await app.close();
  repository.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('console page', () => {
  it('renders Chinese by default', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('<html lang="zh-CN">');
    expect(response.body).toContain('公交清分中心');
    expect(response.body).toContain('按终端和日期汇总');
    expect(response.body).toContain('实时刷卡');
    expect(response.body).toContain('<a id="language-switch" href="?lang=en"');
    expect(response.body).toContain('TAC校验通过');
    expect(response.body).toContain('2025-05-06 09:30:01');
  });

  it('renders English with ?lang=en', async () => {
    const response = await app.inject({ method: 'GET', url: '/?lang=en' });

    expect(response.body).toContain('<html lang="en">');
    expect(response.body).toContain('Bus clearing centre');
    expect(response.body).toContain('Totals by terminal and day');
    expect(response.body).toContain('<a id="language-switch" href="?lang=zh"');
    expect(response.body).not.toContain('公交清分中心');
  });

  it('shows totals and the rejection reason', async () => {
    const response = await app.inject({ method: 'GET', url: '/?lang=en' });

    expect(response.body).toMatch(/<td>2025-05-06<\/td><td>T-7<\/td><td class="number">1<\/td><td class="number">2.00<\/td>/);
    expect(response.body).toContain('TAC does not match the issuer key');
  });

  it('hides an empty totals table', () => {
    const summary = { recordsCleared: 0, clearedAmountFen: 0, recordsRejected: 0, inDoubtOpen: 0, duplicatesIgnored: 0, byTerminal: [] };
    const html = renderConsolePage({ language: 'en', summary, totals: [], recentTaps: [], recentRejected: [], timezoneOffsetMinutes: 480 });

    // The page script fills and shows the same table when the first taps arrive.
    expect(html).toContain('<table id="totals" hidden><thead>');
    expect(html).toContain('<p id="totals-empty">No data yet</p>');
  });

  it('loads no external assets', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });

    expect(response.body).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('declares an inline favicon', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });

    expect(response.body).toContain('<link rel="icon" href="data:,">');
    expect(response.headers['content-security-policy']).toContain("img-src 'self' data:");
  });

  it('words the live status without repeating the heading', async () => {
    const english = await app.inject({ method: 'GET', url: '/?lang=en' });
    const chinese = await app.inject({ method: 'GET', url: '/' });

    expect(english.body).toContain('"connected":"Connected, updating"');
    expect(chinese.body).toContain('"connected":"已连接，自动更新"');
  });

  it('falls back to Chinese for an unknown language', async () => {
    const response = await app.inject({ method: 'GET', url: '/?lang=fr' });

    expect(response.body).toContain('<html lang="zh-CN">');
  });

  it('returns the summary as JSON', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/summary' });

    expect(response.json()).toEqual({
      recordsCleared: 1,
      clearedAmountFen: 200,
      recordsRejected: 1,
      inDoubtOpen: 0,
      duplicatesIgnored: 0,
      byTerminal: [{ terminalId: 'T-7', ackedThrough: 2 }],
    });
  });

  it('answers an unknown page with 404', async () => {
    const response = await app.inject({ method: 'GET', url: '/nope?lang=en' });

    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('<h1>Page not found</h1>');
    expect(response.body).toContain('<a id="home" href="/?lang=en">');
  });

  it('answers an unknown API path with JSON 404', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/nope' });

    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: '未找到路由：GET /api/nope' });
  });

  it('answers the health check', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/healthz' });

    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('streams live taps as server-sent events', async () => {
    const url = new URL('api/live', await listenConsole(app, '127.0.0.1', 0));
    const received = new Promise<string>((resolve, reject) => {
      const outgoing = request(url, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes(': connected')) {
            const tap = toLiveTap({ terminalId: 'T-9', record: fakeRecord({ sequence: 4 }), verification: 'verified', businessDay: '2025-05-06', raw: '' });
            for (const listener of listeners) listener(tap);
          }
          const end = text.indexOf('\n\n', text.indexOf('event: tap'));
          if (text.includes('event: tap') && end >= 0) {
            outgoing.destroy();
            resolve(text);
          }
        });
      });
      outgoing.on('error', reject);
      outgoing.end();
    });

    const text = await received;
    expect(text).toContain('event: tap');
    const data = JSON.parse(/data: (.*)\n/.exec(text.slice(text.indexOf('event: tap')))?.[1] ?? '{}');
    expect(data.terminalId).toBe('T-9');
    expect(data.sequence).toBe(4);
    expect(data.amountFen).toBe(200);
  });
});
