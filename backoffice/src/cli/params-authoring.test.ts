import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultFareTable } from '../params/default-fare-table.js';
import { ParameterRepository } from '../params/parameter-repository.js';
import { paramsCommand } from './params-command.js';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await paramsCommand(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }, 'en');
  return { code, stdout, stderr };
}

describe('params authoring commands', () => {
  let dir: string;
  let db: string;
  let key: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-params-cli-'));
    db = join(dir, 'office.db');
    key = join(dir, 'params.key');
    expect((await run(['keygen', '--private', key, '--public', join(dir, 'params.pub')])).code).toBe(0);
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function file(name: string, content: unknown): string {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  }

  it.each(['publish', 'blacklist', 'status', 'keygen'])('shows help for %s', async (command) => {
    const result = await run([command, '--help', '--lang', 'en']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: busfare-backoffice params ${command}`));
    expect(result.stdout).toMatch(/Exit codes: 0 /);
  });

  it('lists the new commands in the params help', async () => {
    const result = await run(['--help']);
    for (const command of ['publish', 'blacklist', 'status', 'keygen']) expect(result.stdout).toContain(`  ${command}`);
  });

  it('keeps an existing key pair', async () => {
    const result = await run(['keygen', '--private', key, '--public', join(dir, 'other.pub')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/params\.key: the file already exists, and keygen changed nothing/);
    expect(existsSync(join(dir, 'other.pub'))).toBe(false);
  });

  it('publishes a fare table', async () => {
    const result = await run(['publish', '--kind', 'fare-table', '--file', file('fare.json', defaultFareTable(['3104'])), '--version', '2', '--db', db, '--signing-key', key]);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(printed).toMatchObject({ kind: 'fare-table', version: 2, chunks: 0 });
    expect(printed.keyId).toMatch(/^[0-9a-f]{16}$/);
    const repository = new ParameterRepository(db);
    expect(repository.unpublished().map((publication) => publication.set.version)).toEqual([2]);
    repository.close();
  });

  it('lists every problem of an invalid set', async () => {
    const body = { ...defaultFareTable(['3104']), cardTypeByCode: { '7': 'vip' }, flatFareFen: -5 };
    const result = await run(['publish', '--kind', 'fare-table', '--file', file('fare.json', body), '--version', '1', '--db', db, '--signing-key', key]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/body\.cardTypeByCode\.7:/);
    expect(result.stderr).toMatch(/body\.flatFareFen:/);
    expect(result.stdout).toBe('');
  });

  it('rejects invalid options', async () => {
    const fare = file('fare.json', defaultFareTable(['3104']));
    const cases: [string[], RegExp][] = [
      [['publish', '--file', fare, '--version', '1'], /missing --kind/],
      [['publish', '--kind', 'tariff', '--file', fare, '--version', '1'], /invalid --kind "tariff"/],
      [['publish', '--kind', 'fare-table', '--file', fare, '--version', '0'], /invalid --version "0"/],
      [['publish', '--kind', 'fare-table', '--file', fare, '--version', '1', '--db', db], /missing signing key/],
      [['publish', '--kind', 'fare-table', '--file', join(dir, 'missing.json'), '--version', '1', '--db', db, '--signing-key', key], /cannot read the file/],
      [['blacklist', 'block', '0000000000000001'], /expected "add" or "remove"/],
      [['blacklist', 'add'], /missing ASN/],
      [['status', '--color'], /unknown option "--color"/],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('adds and removes blacklist entries', async () => {
    const options = ['--db', db, '--signing-key', key];
    const added = await run(['blacklist', 'add', '00000000000000aa', '00000000000000BB', ...options]);
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ kind: 'blacklist', version: 1, mode: 'full' });
    const removed = await run(['blacklist', 'remove', '00000000000000AA', ...options]);
    expect(JSON.parse(removed.stdout)).toMatchObject({ kind: 'blacklist', version: 2, mode: 'delta' });
    const repository = new ParameterRepository(db);
    expect(repository.latest('blacklist')?.set.body).toEqual({ mode: 'delta', baseVersion: 1, add: [], remove: ['00000000000000AA'] });
    repository.close();
  });

  it('blacklists a card number as the console shows it', async () => {
    const options = ['--db', db, '--signing-key', key];
    const added = await run(['blacklist', 'add', '58100001000000000330', '5810000100000000abcd', ...options]);
    expect(added.code).toBe(0);
    const repository = new ParameterRepository(db);
    expect(repository.latest('blacklist')?.set.body).toEqual({ mode: 'full', entries: ['0001000000000330', '000100000000ABCD'] });
    repository.close();
  });

  it('reports the status of an empty fleet', async () => {
    new ParameterRepository(db).close();
    const result = await run(['status', '--db', db]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('0 terminals, 0 behind, 0 without reported versions\n');
  });

  it('rejects an invalid ASN', async () => {
    const result = await run(['blacklist', 'add', '00000000000000aa', '12345', 'xyz', '--db', db, '--signing-key', key]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('add.1: "12345" is neither a 20-digit card number nor its right-most 8 bytes as 16 hex digits');
    expect(result.stderr).toContain('add.2: "xyz" is neither a 20-digit card number');
    expect(result.stderr).not.toContain('add.0');
    expect(result.stderr).not.toContain('upper-case');
    expect(existsSync(db)).toBe(false);
  });

  it('status needs an existing database', async () => {
    const result = await run(['status', '--db', db]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`database ${db} does not exist: check the path, or name an existing clearing database with --db FILE`);
    expect(existsSync(db)).toBe(false);
  });

  it('publish rejects a database in a missing folder', async () => {
    const missing = join(dir, 'absent', 'office.db');
    const result = await run(['publish', '--kind', 'fare-table', '--file', file('fare.json', defaultFareTable(['3104'])), '--version', '1', '--db', missing, '--signing-key', key]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`db: folder ${join(dir, 'absent')} of the database ${missing} does not exist`);
  });

  it('reads a blacklist from a text file', async () => {
    const list = file('list.txt', '# stolen cards\n00000000000000A1\n00000000000000a2\n\n');
    const result = await run(['publish', '--kind', 'blacklist', '--file', list, '--version', '1', '--db', db, '--signing-key', key]);
    expect(result.code).toBe(0);
    const repository = new ParameterRepository(db);
    expect(repository.latest('blacklist')?.set.body).toEqual({ mode: 'full', entries: ['00000000000000A1', '00000000000000A2'] });
    repository.close();
  });
});
