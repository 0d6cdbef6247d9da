import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TerminalConfigError, type TerminalConfig, loadTerminalConfig } from '../runtime/terminal-config.js';
import { checkTerminalPaths } from '../runtime/terminal-paths-check.js';
import { runCommand } from './run-command.js';

let directory: string;
let dataDir: string;
let keyFile: string;

function baseConfig(): Record<string, unknown> {
  return {
    terminalId: 'T001',
    vehicleId: 'V001',
    dataDir,
    broker: { url: 'mqtt://127.0.0.1:1883' },
    parameterPublicKeyFile: keyFile,
    reader: { kind: 'socket', path: join(directory, 'reader.sock') },
  };
}

function writeConfig(value: Record<string, unknown>): string {
  const path = join(directory, 'terminal.json');
  writeFileSync(path, JSON.stringify(value));
  return path;
}

function problemsOf(value: Record<string, unknown>): string[] {
  const path = writeConfig(value);
  const config: TerminalConfig = loadTerminalConfig(path);
  try {
    checkTerminalPaths(config, path);
  } catch (error) {
    if (error instanceof TerminalConfigError) return error.problems;
    throw error;
  }
  return [];
}

async function run(value: Record<string, unknown>): Promise<{ code: number; stderr: string }> {
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const code = await runCommand(['--config', writeConfig(value)], 'en');
  const stderr = write.mock.calls.map((call) => String(call[0])).join('');
  write.mockRestore();
  return { code, stderr };
}

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-run-command-'));
  dataDir = join(directory, 'data');
  mkdirSync(dataDir);
  keyFile = join(directory, 'parameters.pub.pem');
  writeFileSync(keyFile, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(directory, { recursive: true, force: true });
});

describe('run command start-up checks', () => {
  it('exits 2 on a missing dataDir', async () => {
    const missing = join(directory, 'no-such-folder');
    const { code, stderr } = await run({ ...baseConfig(), dataDir: missing });

    expect(code).toBe(2);
    expect(stderr).toContain(`dataDir: folder ${missing} does not exist, so create it or set dataDir to an existing folder`);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toContain('TypeError');
  });

  it('exits 2 on a missing key file', async () => {
    const missing = join(directory, 'no-such-key.pem');
    const { code, stderr } = await run({ ...baseConfig(), parameterPublicKeyFile: missing });

    expect(code).toBe(2);
    expect(stderr).toContain(`parameterPublicKeyFile: ${missing} does not exist, so copy the back office's parameter-signing public key there or set parameterPublicKeyFile`);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toContain('ENOENT');
  });

  it('lists every path problem at once', async () => {
    const { code, stderr } = await run({ ...baseConfig(), dataDir: join(directory, 'no-data'), parameterPublicKeyFile: join(directory, 'no-key.pem') });

    expect(code).toBe(2);
    expect(stderr).toMatch(/^busfare-terminal: invalid terminal configuration \(.*terminal\.json\):\n/);
    expect(stderr).toContain('  dataDir: folder');
    expect(stderr).toContain('  parameterPublicKeyFile:');
  });
});

describe('checkTerminalPaths', () => {
  it('accepts existing paths', () => {
    expect(problemsOf(baseConfig())).toEqual([]);
  });

  it('rejects a file as dataDir', () => {
    const file = join(directory, 'plain-file');
    writeFileSync(file, '');

    expect(problemsOf({ ...baseConfig(), dataDir: file })).toEqual([`dataDir: ${file} is not a folder, so set dataDir to a folder`]);
  });

  it('rejects a key file that is not PEM', () => {
    writeFileSync(keyFile, 'not a key\n');

    expect(problemsOf(baseConfig())).toEqual([`parameterPublicKeyFile: ${keyFile} is not a PEM public key, so replace it with the back office's Ed25519 parameter-signing public key`]);
  });

  it('rejects a key of another type', () => {
    writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }));

    expect(problemsOf(baseConfig())).toEqual([`parameterPublicKeyFile: ${keyFile} contains a key of type ec, not Ed25519, so replace it with the back office's parameter-signing public key`]);
  });

  it('rejects a folder as key file', () => {
    expect(problemsOf({ ...baseConfig(), parameterPublicKeyFile: dataDir })).toEqual([
      `parameterPublicKeyFile: ${dataDir} is not a file, so copy the back office's parameter-signing public key there or set parameterPublicKeyFile`,
    ]);
  });

  it('rejects a missing shift database folder', () => {
    const folder = join(directory, 'no-shifts');

    expect(problemsOf({ ...baseConfig(), driverScreen: { shiftDb: join(folder, 'shifts.db') } })).toEqual([
      `driverScreen.shiftDb: folder ${folder} does not exist, so create it or set driverScreen.shiftDb to an existing folder`,
    ]);
  });

  it('rejects a missing NMEA recording', () => {
    const recording = join(directory, 'drive.nmea');

    expect(problemsOf({ ...baseConfig(), gps: { kind: 'nmea-file', path: recording } })).toEqual([`gps.path: ${recording} does not exist, so set gps.path to a readable NMEA recording`]);
  });

  it('skips the serial GNSS device', () => {
    expect(problemsOf({ ...baseConfig(), gps: { kind: 'serial', path: join(directory, 'no-such-tty') } })).toEqual([]);
  });
});
