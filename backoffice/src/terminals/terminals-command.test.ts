import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TerminalCredentialStore } from './credential-store.js';
import { terminalsCommand } from './terminals-command.js';

let directory: string;
let db: string;
let stdout: string[];
let stderr: string[];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-terminals-'));
  db = join(directory, 'clearing.db');
  stdout = [];
  stderr = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr.push(String(chunk));
    return true;
  });
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
    expect(await terminalsCommand(['add', 'T042', '--db', db, '--lang', 'en'])).toBe(2);
    expect(stderr.join('')).toContain('terminal T042 is already registered; pass --replace to issue a new secret');
    expect(await terminalsCommand(['add', 'T042', '--db', db, '--replace'])).toBe(0);
  });

  it('list and remove need an existing database', async () => {
    for (const args of [['list'], ['remove', 'T001']]) {
      stderr = [];
      expect(await terminalsCommand([...args, '--db', db, '--lang', 'en']), args[0]).toBe(2);
      expect(stderr.join(''), args[0]).toContain(`database ${db} does not exist: check the path, or name an existing clearing database with --db FILE`);
    }
    expect(readdirSync(directory)).toEqual([]);
  });

  it('list reads a database without credentials', async () => {
    const other = new Database(db);
    other.exec('CREATE TABLE unrelated (id INTEGER)');
    other.close();

    expect(await terminalsCommand(['list', '--db', db])).toBe(0);
    expect(stdout.join('')).toBe('');
    const check = new Database(db, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name = 'terminal_credentials'").get()).toBeUndefined();
    check.close();
  });

  it('list leaves the database unchanged', async () => {
    await terminalsCommand(['add', 'T001', '--db', db]);
    const store = new TerminalCredentialStore(db, { access: 'read-only' });
    expect(store.list().map((row) => row.terminalId)).toEqual(['T001']);
    await expect(store.add('T002')).rejects.toThrow(/readonly/);
    store.close();
  });

  it('add rejects a database in a missing folder', async () => {
    const missing = join(directory, 'absent', 'clearing.db');

    expect(await terminalsCommand(['add', 'T001', '--db', missing, '--lang', 'en'])).toBe(2);
    expect(stderr.join('')).toContain(`db: folder ${join(directory, 'absent')} of the database ${missing} does not exist`);
    expect(existsSync(join(directory, 'absent'))).toBe(false);
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
