import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TerminalConfigError, loadTerminalConfig } from './terminal-config.js';

let directory: string;

const valid = {
  terminalId: 'T001',
  vehicleId: 'V001',
  dataDir: '/var/lib/busfare',
  broker: { url: 'mqtt://127.0.0.1:1883', username: 'T001', password: 'secret' },
  parameterPublicKeyFile: '/etc/busfare/parameters.pub.pem',
  reader: { kind: 'socket', path: '/run/busfare/reader.sock' },
};

function write(value: unknown): string {
  const path = join(directory, 'terminal.json');
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

function problemsOf(path: string): string[] {
  try {
    loadTerminalConfig(path);
  } catch (error) {
    if (error instanceof TerminalConfigError) return error.problems;
    throw error;
  }
  throw new Error('config was accepted');
}

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-terminal-config-'));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('loadTerminalConfig', () => {
  it('accepts a minimal config with defaults', () => {
    const config = loadTerminalConfig(write(valid));
    expect(config.clockOffsetMs).toBe(0);
    expect(config.utcOffsetMinutes).toBe(480);
    expect(config.uplink).toEqual({});
  });

  it('rejects a missing file', () => {
    expect(problemsOf(join(directory, 'missing.json'))[0]).toMatch(/cannot read the file/);
  });

  it('rejects invalid JSON', () => {
    expect(problemsOf(write('{"terminalId": '))[0]).toMatch(/invalid JSON/);
  });

  it('rejects unknown keys', () => {
    expect(problemsOf(write({ ...valid, colour: 'red' })).join('\n')).toMatch(/colour/);
  });

  it('rejects a bad terminal id and broker url', () => {
    const problems = problemsOf(write({ ...valid, terminalId: 'T 1/x', broker: { url: 'http://127.0.0.1' } })).join('\n');
    expect(problems).toMatch(/terminalId/);
    expect(problems).toMatch(/broker\.url/);
  });

  it('rejects an unknown reader kind', () => {
    expect(problemsOf(write({ ...valid, reader: { kind: 'pcsc', path: 'x' } })).join('\n')).toMatch(/reader\.kind/);
  });
});
