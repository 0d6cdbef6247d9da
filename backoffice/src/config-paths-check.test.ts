import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type BackOfficeConfigInput, parseConfig } from './config.js';
import { checkConfiguredPaths, databaseFolderProblem, missingDatabaseProblem } from './config-paths-check.js';
import { writeSigningKeyPair } from './params/signing-key-file.js';

const GTFS_FEED = fileURLToPath(new URL('./gtfs/fixtures/google-sample-feed-1', import.meta.url));

let directory: string;
let signingKey: string;
let keys: string;
let cert: string;
let tlsKey: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-config-paths-'));
  signingKey = join(directory, 'params.key');
  writeSigningKeyPair(signingKey, join(directory, 'params.pub'));
  keys = join(directory, 'keys.json');
  writeFileSync(keys, '[]', { mode: 0o600 });
  cert = join(directory, 'server.pem');
  tlsKey = join(directory, 'server.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', tlsKey, '-out', cert], { stdio: ['ignore', 'ignore', 'pipe'] });
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

function problemsOf(input: BackOfficeConfigInput, environment: NodeJS.ProcessEnv = {}): string[] {
  try {
    checkConfiguredPaths(parseConfig(input), 'site.json', environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('checkConfiguredPaths', () => {
  it('accepts every configured file', () => {
    const config = parseConfig({
      db: join(directory, 'office.db'),
      keys,
      parameterSigningKey: signingKey,
      arrivals: { gtfs: GTFS_FEED },
      mqtt: { tls: { cert, key: tlsKey, ca: cert } },
      http: { tls: { cert, key: tlsKey } },
    });

    const checked = checkConfiguredPaths(config, 'site.json', {});

    expect(checked.parameterSigningKey?.asymmetricKeyType).toBe('ed25519');
  });

  it('accepts the defaults', () => {
    expect(problemsOf({ db: join(directory, 'defaults.db') })).toEqual([]);
  });

  it('rejects a database in a missing folder', () => {
    const db = join(directory, 'absent', 'office.db');

    const problems = problemsOf({ db });

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^db: folder .*absent of the database .*office\.db does not exist/);
    expect(problems[0]).toContain('--db');
  });

  it('rejects a database path that is a folder', () => {
    const db = join(directory, 'db-folder');
    mkdirSync(db, { recursive: true });

    expect(problemsOf({ db })).toEqual([`db: ${db} is not a file, so set db (--db) to an SQLite database file`]);
  });

  it('rejects a database below a file', () => {
    const db = join(keys, 'office.db');

    expect(problemsOf({ db })[0]).toMatch(/^db: .*keys\.json is not a folder/);
  });

  it('rejects a missing keys file', () => {
    const path = join(directory, 'absent-keys.json');

    expect(problemsOf({ db: join(directory, 'office.db'), keys: path })).toEqual([`keys: the issuer key file ${path} does not exist, so create it or set keys to an existing file`]);
  });

  it('rejects a keys path that is a folder', () => {
    expect(problemsOf({ db: join(directory, 'office.db'), keys: directory })[0]).toMatch(/^keys: .* is not a file/);
  });

  it('rejects a missing signing key', () => {
    const path = join(directory, 'absent.key');

    const problems = problemsOf({ db: join(directory, 'office.db'), parameterSigningKey: path });

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^parameterSigningKey: parameter signing key ${path}: cannot read the file`));
    expect(problems[0]).toContain('params keygen');
  });

  it('rejects a signing key that is not Ed25519', () => {
    const path = join(directory, 'corrupt.key');
    writeFileSync(path, 'not a key\n', { mode: 0o600 });

    const problems = problemsOf({ db: join(directory, 'office.db'), parameterSigningKey: path });

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^parameterSigningKey: .*corrupt\.key: .*expected an Ed25519 private key/);
  });

  it('rejects a signing key that others can read', () => {
    const path = join(directory, 'shared.key');
    writeSigningKeyPair(path, join(directory, 'shared.pub'));
    chmodSync(path, 0o644);

    expect(problemsOf({ db: join(directory, 'office.db'), parameterSigningKey: path })[0]).toMatch(/^parameterSigningKey: .*mode 0644 lets other users read it/);
  });

  it('rejects a missing GTFS folder', () => {
    const path = join(directory, 'absent-gtfs');

    const problems = problemsOf({ db: join(directory, 'office.db'), arrivals: { gtfs: path } });

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^arrivals\\.gtfs: GTFS folder ${path} does not exist`));
  });

  it('rejects a GTFS path that is a file', () => {
    expect(problemsOf({ db: join(directory, 'office.db'), arrivals: { gtfs: keys } })[0]).toMatch(/^arrivals\.gtfs: .*keys\.json is not a folder/);
  });

  it('rejects a folder without GTFS files', () => {
    const path = join(directory, 'empty-gtfs');
    mkdirSync(path, { recursive: true });

    const problems = problemsOf({ db: join(directory, 'office.db'), arrivals: { gtfs: path } });

    expect(problems).toContain(`arrivals.gtfs: GTFS folder ${path}: stops.txt: missing (a GTFS feed needs it)`);
    expect(problems).toContain(`arrivals.gtfs: GTFS folder ${path}: stop_times.txt: missing (a GTFS feed needs it)`);
  });

  it('rejects missing and invalid TLS files', () => {
    const absent = join(directory, 'absent.pem');
    const notPem = join(directory, 'not-pem.txt');
    writeFileSync(notPem, 'hello\n');

    const problems = problemsOf({ db: join(directory, 'office.db'), mqtt: { tls: { cert: absent, key: notPem } }, http: { tls: { cert: notPem, key: tlsKey, ca: absent } } });

    expect(problems).toContain(`mqtt.tls.cert: the TLS certificate ${absent} does not exist, so create it or set mqtt.tls.cert to an existing file`);
    expect(problems).toContain(`mqtt.tls.key: ${notPem} is not a PEM private key, so set mqtt.tls.key to a PEM private key file`);
    expect(problems).toContain(`http.tls.cert: ${notPem} is not a PEM certificate, so set http.tls.cert to a PEM certificate file`);
    expect(problems.some((problem) => problem.startsWith('http.tls.ca: '))).toBe(true);
    expect(problems).toHaveLength(4);
  });

  it('rejects a missing PKCS#11 module and PIN', () => {
    const library = join(directory, 'absent.so');

    const problems = problemsOf({ db: join(directory, 'office.db'), pkcs11: { library, tokenLabel: 'busfare' } });

    expect(problems).toContain(`pkcs11.library: the PKCS#11 module of the HSM ${library} does not exist, so create it or set pkcs11.library to an existing file`);
    expect(problems).toContain('pkcs11.pinVariable: environment variable BUSFARE_HSM_PIN with the HSM user PIN is not set, so set it before starting');
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({ db: join(directory, 'absent', 'office.db'), keys: join(directory, 'absent.json'), parameterSigningKey: join(directory, 'absent.key'), arrivals: { gtfs: join(directory, 'absent-gtfs') } });

    expect(problems.map((problem) => problem.split(':')[0])).toEqual(['db', 'keys', 'parameterSigningKey', 'arrivals.gtfs']);
  });
});

describe('database path checks', () => {
  it('accepts a new database in an existing folder', () => {
    expect(databaseFolderProblem(join(directory, 'new.db'))).toBeUndefined();
    expect(databaseFolderProblem(':memory:')).toBeUndefined();
  });

  it('names a missing database and --db', () => {
    const db = join(directory, 'absent.db');

    expect(missingDatabaseProblem(db)?.en).toBe(`database ${resolve(db)} does not exist: check the path, or name an existing clearing database with --db FILE (or "db" in --config FILE)`);
    expect(missingDatabaseProblem(db)?.zh).toBe(`数据库 ${resolve(db)} 不存在；请检查路径，或用 --db FILE（或在 --config FILE 中设置 "db"）指定已有的清分数据库`);
  });

  it('accepts an existing database', () => {
    const db = join(directory, 'existing.db');
    writeFileSync(db, '');

    expect(missingDatabaseProblem(db)).toBeUndefined();
  });

  it('rejects a database path that is a folder', () => {
    expect(missingDatabaseProblem(directory)?.en).toMatch(/is not a file, so pass --db FILE/);
  });
});
