import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from './command-line.js';
import { ConfigError, backOfficeConfigSchema, loadConfig, parseConfig } from './config.js';

let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-config-'));
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

function problemsOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills every default', () => {
    const config = parseConfig({});

    expect(config).toEqual({
      db: 'busfare-backoffice.db',
      mqtt: { port: 1883, host: '127.0.0.1', terminalCredentials: true, limits: { maxPayloadBytes: 1_048_576, messagesPerSecond: 200, burstMessages: 400 } },
      http: { port: 8080, host: '127.0.0.1' },
      security: { evidenceChecks: true, allowTestKeys: false },
      localIssuerPrefixes: [],
      businessDayCutoff: '00:00',
      timezoneOffsetMinutes: 480,
      arrivals: { refreshSeconds: 10, historyDays: 0 },
    });
  });

  it('lists every problem of an invalid config', () => {
    const problems = problemsOf(() =>
      parseConfig({ mqtt: { port: 70000, externalUrl: 'http://example' }, http: { port: -1 }, businessDayCutoff: '25:00', timezoneOffsetMinutes: 'CST', colour: 'red' }),
    );

    expect(problems).toContain('mqtt.port: port must be at most 65535');
    expect(problems).toContain('mqtt.externalUrl: must be an mqtt:// or mqtts:// URL');
    expect(problems).toContain('http.port: port must be 0 (any free port) or 1-65535');
    expect(problems).toContain('businessDayCutoff: must be a local time HH:MM');
    expect(problems.some((problem) => problem.startsWith('timezoneOffsetMinutes: '))).toBe(true);
    expect(problems.some((problem) => problem.startsWith('(root): ') && problem.includes('colour'))).toBe(true);
    expect(problems).toHaveLength(6);
  });

  it('applies command-line overrides over the file', () => {
    const path = join(directory, 'config.json');
    writeFileSync(path, JSON.stringify({ db: 'file.db', mqtt: { port: 1884 }, http: { port: 8081 } }));

    const config = loadConfig(path, { db: 'cli.db', mqttPort: 0, httpPort: 0, brokerUrl: 'mqtt://127.0.0.1:1999', keys: 'keys.json' });

    expect(config.db).toBe('cli.db');
    expect(config.mqtt).toMatchObject({ port: 0, host: '127.0.0.1', externalUrl: 'mqtt://127.0.0.1:1999' });
    expect(config.http.port).toBe(0);
    expect(config.keys).toBe('keys.json');
  });

  it('rejects a config file that is not JSON', () => {
    const path = join(directory, 'broken.json');
    writeFileSync(path, '{ db: ');

    expect(problemsOf(() => loadConfig(path))[0]).toMatch(/^invalid JSON: /);
  });

  it('rejects a missing config file', () => {
    expect(problemsOf(() => loadConfig(join(directory, 'absent.json')))[0]).toMatch(/^cannot read the file: /);
  });

  it('rejects a config file that is an array', () => {
    const path = join(directory, 'array.json');
    writeFileSync(path, '[]');

    expect(problemsOf(() => loadConfig(path))).toHaveLength(1);
  });
});

describe('busfare-backoffice command line', () => {
  async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      stdout += String(chunk);
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    // The back office's structured log goes to file descriptor 2, past the spies; these tests read only the messages.
    vi.stubEnv('BUSFARE_LOG_LEVEL', 'silent');
    try {
      return { code: await main([...args, '--lang', 'en']), stdout, stderr };
    } finally {
      out.mockRestore();
      err.mockRestore();
      vi.unstubAllEnvs();
    }
  }

  it('exits 2 listing every config problem', async () => {
    const path = join(directory, 'bad.json');
    writeFileSync(path, JSON.stringify({ mqtt: { port: 'x' }, businessDayCutoff: '9am' }));

    const result = await run(['serve', '--config', path]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid configuration');
    expect(result.stderr).toContain('mqtt.port:');
    expect(result.stderr).toContain('businessDayCutoff: must be a local time HH:MM');
  });

  it('prints help for the command and for serve', async () => {
    const top = await run(['--help', '--lang', 'en']);
    const serve = await run(['serve', '--help']);

    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: busfare-backoffice <command>');
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain('--mqtt-port N');
  });

  it('names a port already in use', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const result = await run(['serve', '--db', join(directory, 'busy.db'), '--mqtt-port', String(port), '--http-port', '0']);

      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`listen failed, address 127.0.0.1:${port} already in use`);
      expect(result.stderr).toContain('--mqtt-port');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('exits 2 on an unknown option or command', async () => {
    const option = await run(['serve', '--colour', 'red']);
    const command = await run(['settle']);
    const port = await run(['serve', '--http-port', 'eighty']);

    expect(option.code).toBe(2);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "settle"');
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('invalid --http-port "eighty"');
  });

  it('lists every config field in the serve help', async () => {
    const { stdout } = await run(['serve', '--help']);

    for (const field of Object.keys(backOfficeConfigSchema.shape)) expect(stdout, field).toMatch(new RegExp(`^  ${field}\\b`, 'm'));
    for (const nested of ['externalUrl', 'terminalCredentials', 'tls {cert, key, ca}', 'evidenceChecks', 'allowTestKeys', 'tokenLabel', 'pinVariable', 'refreshSeconds', 'historyDays']) expect(stdout).toContain(nested);
  });

  describe('serve file checks', () => {
    function siteFolder(name: string): string {
      const folder = join(directory, name);
      mkdirSync(folder, { recursive: true });
      return folder;
    }

    it('exits 2 on a missing signing key before creating anything', async () => {
      const folder = siteFolder('missing-signing-key');
      const key = join(folder, 'params.key');
      const config = join(directory, 'missing-signing-key.json');
      writeFileSync(config, JSON.stringify({ db: join(folder, 'office.db'), parameterSigningKey: key, mqtt: { port: 0 }, http: { port: 0 } }));

      const result = await run(['serve', '--config', config]);

      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`invalid configuration (${config})`);
      expect(result.stderr).toContain(`parameterSigningKey: parameter signing key ${key}: cannot read the file`);
      expect(readdirSync(folder)).toEqual([]);
    });

    it('exits 2 on a corrupt signing key', async () => {
      const folder = siteFolder('corrupt-signing-key');
      const key = join(folder, 'params.key');
      writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', { mode: 0o600 });

      const result = await run(['serve', '--db', join(folder, 'office.db'), '--config', writeConfig('corrupt-signing-key.json', { parameterSigningKey: key })]);

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/parameterSigningKey: .*expected an Ed25519 private key/);
      expect(readdirSync(folder)).toEqual(['params.key']);
    });

    it('exits 2 on a missing GTFS folder', async () => {
      const folder = siteFolder('missing-gtfs');
      const gtfs = join(folder, 'gtfs');

      const result = await run(['serve', '--db', join(folder, 'office.db'), '--config', writeConfig('missing-gtfs.json', { arrivals: { gtfs } })]);

      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`arrivals.gtfs: GTFS folder ${gtfs} does not exist`);
      expect(readdirSync(folder)).toEqual([]);
    });

    it('exits 2 on a database in a missing folder', async () => {
      const db = join(directory, 'no-such-folder', 'office.db');

      const result = await run(['serve', '--db', db]);

      expect(result.code).toBe(2);
      expect(result.stderr).toContain('invalid configuration (defaults)');
      expect(result.stderr).toContain(`db: folder ${join(directory, 'no-such-folder')} of the database ${db} does not exist`);
      expect(existsSync(join(directory, 'no-such-folder'))).toBe(false);
    });

    function writeConfig(name: string, value: unknown): string {
      const path = join(directory, name);
      writeFileSync(path, JSON.stringify(value));
      return path;
    }
  });
});
