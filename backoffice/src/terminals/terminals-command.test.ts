import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TerminalCredentialStore } from './credential-store.js';
import { terminalsCommand } from './terminals-command.js';

let directory: string;
let db: string;
let stdout: string[];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-terminals-'));
  db = join(directory, 'clearing.db');
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(directory, { recursive: true, force: true });
});

describe('busfare-backoffice terminals', () => {
  it('add prints a working secret once', async () => {
    expect(await terminalsCommand(['add', 'T042', '--db', db])).toBe(0);
    const secret = stdout.join('').trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const store = new TerminalCredentialStore(db);
    expect(await store.verify('T042', secret)).toBe(true);
    expect(await store.verify('T042', `${secret}x`)).toBe(false);
    expect(await store.verify('T043', secret)).toBe(false);
    store.close();
  });

  it('add rejects a registered terminal', async () => {
    expect(await terminalsCommand(['add', 'T042', '--db', db])).toBe(0);
    expect(await terminalsCommand(['add', 'T042', '--db', db])).toBe(1);
    expect(await terminalsCommand(['add', 'T042', '--db', db, '--replace'])).toBe(0);
  });

  it('add rejects an invalid terminal id', async () => {
    expect(await terminalsCommand(['add', 'bad id/with+chars', '--db', db])).toBe(2);
  });

  it('lists and removes terminals', async () => {
    await terminalsCommand(['add', 'T001', '--db', db]);
    await terminalsCommand(['add', 'T002', '--db', db]);
    stdout = [];
    expect(await terminalsCommand(['list', '--db', db])).toBe(0);
    expect(stdout.join('')).toMatch(/^T001\t.+\nT002\t.+\n$/);

    expect(await terminalsCommand(['remove', 'T001', '--db', db])).toBe(0);
    expect(await terminalsCommand(['remove', 'T001', '--db', db])).toBe(1);
  });

  it('rejects unknown actions and options', async () => {
    expect(await terminalsCommand(['rotate', 'T001', '--db', db])).toBe(2);
    expect(await terminalsCommand(['list', '--bogus'])).toBe(2);
    expect(await terminalsCommand(['add', '--db', db])).toBe(2);
  });
});
