/// <reference lib="dom" />
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@busfare/shared-protocol';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveTap, toLiveTap } from '../../backoffice/src/ingest/ingest-service.js';
import { TacVerifier } from '../../backoffice/src/ingest/tac-verifier.js';
import { TransactionIngestor } from '../../backoffice/src/ingest/transaction-ingest.js';
import { createLogger } from '../../backoffice/src/logger.js';
import { SqliteClearingRepository } from '../../backoffice/src/store/sqlite-clearing-repository.js';
import { LOCAL_ISSUER_PREFIX, fakeBatch, fakeRecord, testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';
import { buildConsoleServer, listenConsole } from '../../backoffice/src/web/console-server.js';
import { CHROMIUM, launchChromium } from './chromium.js';

// The live console at "/": taps stored after the page loaded reach the live taps table, the
// summary cards and the totals per terminal and day without a reload.

const HAS_CHROMIUM = existsSync(CHROMIUM);
/** 2025-05-06 01:xx UTC is business day 2025-05-06 at UTC+8 with a 00:00 cut-off. */
const onDay6 = (minute: number) => new Date(Date.UTC(2025, 4, 6, 1, minute));

let directory: string | undefined;
let repository: SqliteClearingRepository | undefined;
let ingestor: TransactionIngestor | undefined;
let app: FastifyInstance | undefined;
let context: BrowserContext | undefined;
let profileDir: string | undefined;
let baseUrl = '';
const listeners = new Set<(tap: LiveTap) => void>();
/** Console errors and failed requests of the page, which should stay empty. */
const failures: string[] = [];

beforeAll(async () => {
  if (!HAS_CHROMIUM) return;
  directory = mkdtempSync(join(tmpdir(), 'busfare-live-console-'));
  repository = new SqliteClearingRepository({ path: join(directory, 'clearing.db') });
  ingestor = new TransactionIngestor({
    repository,
    verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
    businessDay: { timezoneOffsetMinutes: 480, cutoff: '00:00' },
  });
  ingestor.ingest(topics.transactions('T-1'), fakeBatch('T-1', 'b1', [fakeRecord({ sequence: 1, occurredAt: onDay6(1), amountFen: 200 })]));
  app = buildConsoleServer({
    repository,
    timezoneOffsetMinutes: 480,
    logger: createLogger('test', 'silent'),
    subscribeTaps: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  });
  baseUrl = await listenConsole(app, '127.0.0.1', 0);
  profileDir = mkdtempSync(join(tmpdir(), 'busfare-chromium-'));
  context = await launchChromium(profileDir, { viewport: { width: 1280, height: 900 } });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await app?.close();
  repository?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  if (directory) rmSync(directory, { recursive: true, force: true });
});

/** Stores a batch as ingest does and announces each newly stored record to the open pages. */
function ingestAndAnnounce(terminalId: string, batchId: string, records: unknown[]): void {
  const outcome = ingestor!.ingest(topics.transactions(terminalId), fakeBatch(terminalId, batchId, records));
  if (outcome.kind !== 'batch') throw new Error(`batch ${batchId} rejected: ${outcome.reason}`);
  for (const item of outcome.stored) for (const listener of listeners) listener(toLiveTap(item));
}

async function totalsRows(page: Page): Promise<string[][]> {
  const rows = page.locator('#totals tbody tr');
  const texts: string[][] = [];
  for (let index = 0; index < (await rows.count()); index += 1) texts.push(await rows.nth(index).locator('td').allTextContents());
  return texts;
}

async function openConsole(): Promise<Page> {
  const page = await context!.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') failures.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('requestfailed', (request) => {
    // Closing the page aborts the live stream, which is expected.
    if (!request.url().endsWith('/api/live')) failures.push(`request failed: ${request.url()}`);
  });
  await page.goto(`${baseUrl}?lang=en`);
  await page.locator('#live-status:not(:empty)').waitFor();
  return page;
}

describe.skipIf(!HAS_CHROMIUM)('live console totals in Chromium', () => {
  it('adds new taps to the totals', async () => {
    const page = await openConsole();
    expect(await totalsRows(page)).toEqual([['2025-05-06', 'T-1', '1', '2.00']]);

    ingestAndAnnounce('T-1', 'b2', [fakeRecord({ sequence: 2, occurredAt: onDay6(2), amountFen: 150 })]);
    ingestAndAnnounce('T-2', 'b3', [fakeRecord({ sequence: 1, terminalId: 'T-2', occurredAt: onDay6(3), amountFen: 300 })]);
    await page.waitForFunction(() => document.querySelectorAll('#totals tbody tr').length === 2, undefined, { timeout: 10_000 });

    expect(await totalsRows(page)).toEqual([
      ['2025-05-06', 'T-1', '2', '3.50'],
      ['2025-05-06', 'T-2', '1', '3.00'],
    ]);
    expect(await page.locator('#totals tbody td.number').count()).toBe(4);
    expect(await page.locator('#totals').isVisible()).toBe(true);
    expect(await page.locator('#totals-empty').isHidden()).toBe(true);
    expect(await page.locator('#summary-cleared').textContent()).toBe('3');
    expect(await page.locator('#summary-amount').textContent()).toBe('6.50');
    expect(await page.locator('#live-taps tbody tr').count()).toBe(3);
    expect(failures).toEqual([]);
    await page.close();
  });
});
