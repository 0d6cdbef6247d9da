import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, serveOverrides } from './command-line.js';

describe('serve --port', () => {
  let directory: string;
  let stderr: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'busfare-serve-port-'));
    stderr = '';
    vi.stubEnv('BUSFARE_LANG', '');
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    rmSync(directory, { recursive: true, force: true });
  });

  it('picks free ports for broker and console', () => {
    const overrides = serveOverrides({ port: '0' }, 'en');
    expect(overrides.mqttPort).toBe(0);
    expect(overrides.httpPort).toBe(0);
  });

  it('lets an explicit port win over --port 0', () => {
    const overrides = serveOverrides({ port: '0', 'mqtt-port': '18830' }, 'en');
    expect(overrides.mqttPort).toBe(18830);
    expect(overrides.httpPort).toBe(0);
  });

  it('rejects a port other than 0', () => {
    expect(() => serveOverrides({ port: '1883' }, 'en')).toThrow('invalid --port "1883"');
  });

  it('is accepted by the command line', async () => {
    // The database folder is missing, so serve stops at the config check, after the options parsed.
    const code = await main(['serve', '--port', '0', '--db', join(directory, 'missing', 'clearing.db'), '--lang', 'en']);
    expect(code).toBe(2);
    expect(stderr).not.toContain('--port');
    expect(stderr).toContain('missing');
  });

  it('exits with 2 on --port 5', async () => {
    const code = await main(['serve', '--port', '5', '--lang', 'en']);
    expect(code).toBe(2);
    expect(stderr).toContain('invalid --port "5"');
  });
});
