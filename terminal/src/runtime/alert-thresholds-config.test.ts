import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCommand } from '../cli/run-command.js';
import { TerminalConfigError, loadTerminalConfig } from './terminal-config.js';

let directory: string;

const valid = {
  terminalId: 'T001',
  vehicleId: 'V001',
  dataDir: '/var/lib/busfare',
  broker: { url: 'mqtt://127.0.0.1:1883' },
  parameterPublicKeyFile: '/etc/busfare/parameters.pub.pem',
  reader: { kind: 'socket', path: '/run/busfare/reader.sock' },
};

function write(value: unknown): string {
  const path = join(directory, 'terminal.json');
  writeFileSync(path, JSON.stringify(value));
  return path;
}

function problemsOf(alerts: unknown): string[] {
  try {
    loadTerminalConfig(write({ ...valid, alerts }));
  } catch (error) {
    if (error instanceof TerminalConfigError) return error.problems;
    throw error;
  }
  throw new Error('config was accepted');
}

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-alert-config-'));
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(directory, { recursive: true, force: true });
});

describe('alerts config', () => {
  it('is optional', () => {
    expect(loadTerminalConfig(write(valid)).alerts).toBeUndefined();
  });

  it('fills defaults for missing keys', () => {
    expect(loadTerminalConfig(write({ ...valid, alerts: { clockMaxOffsetSeconds: 10 } })).alerts).toEqual({
      clockMaxOffsetSeconds: 10,
      clockConsecutiveFixes: 5,
      parameterGraceMinutes: 60,
      parameterMaxOfflineHours: 24,
    });
  });

  it.each([
    [{ clockMaxOffsetSeconds: 1 }, 'alerts.clockMaxOffsetSeconds: must be a number of seconds from 5 to 3600: NMEA sentences arrive up to about 1 s after their time'],
    [{ clockMaxOffsetSeconds: 4000 }, 'alerts.clockMaxOffsetSeconds: must be a number of seconds from 5 to 3600'],
    [{ clockMaxOffsetSeconds: 'thirty' }, 'alerts.clockMaxOffsetSeconds: must be a number of seconds from 5 to 3600'],
    [{ clockMaxOffsetSeconds: 30.5 }, 'alerts.clockMaxOffsetSeconds: must be a whole number of seconds from 5 to 3600'],
    [{ clockConsecutiveFixes: 0 }, 'alerts.clockConsecutiveFixes: must be a number of fixes from 1 to 120'],
    [{ clockConsecutiveFixes: 121 }, 'alerts.clockConsecutiveFixes: must be a number of fixes from 1 to 120'],
    [{ parameterGraceMinutes: -5 }, 'alerts.parameterGraceMinutes: must be a number of minutes from 0 to 10080'],
    [{ parameterGraceMinutes: 20_000 }, 'alerts.parameterGraceMinutes: must be a number of minutes from 0 to 10080'],
    [{ parameterMaxOfflineHours: 0 }, 'alerts.parameterMaxOfflineHours: must be a number of hours from 1 to 720'],
    [{ parameterMaxOfflineHours: null }, 'alerts.parameterMaxOfflineHours: must be a number of hours from 1 to 720'],
  ])('rejects %o', (alerts, problem) => {
    expect(problemsOf(alerts)).toEqual([problem]);
  });

  it('rejects unknown keys', () => {
    expect(problemsOf({ clockMaxOffset: 30 }).join('\n')).toMatch(/clockMaxOffset/);
  });

  it('stops run command with exit 2', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await runCommand(['--config', write({ ...valid, alerts: { clockConsecutiveFixes: 0 } })]);
    expect(code).toBe(2);
    expect(stderr.mock.calls.map((call) => String(call[0])).join('')).toContain('alerts.clockConsecutiveFixes: 应为 1-120 的定位次数');
  });

  it('stops run command in English with --lang en', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await runCommand(['--config', write({ ...valid, alerts: { clockConsecutiveFixes: 0 } }), '--lang', 'en']);
    expect(code).toBe(2);
    expect(stderr.mock.calls.map((call) => String(call[0])).join('')).toContain('alerts.clockConsecutiveFixes: must be a number of fixes from 1 to 120');
  });
});
