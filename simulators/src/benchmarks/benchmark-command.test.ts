import { afterEach, describe, expect, it, vi } from 'vitest';
import { benchmarkCommand } from './benchmark-command.js';

/** Runs the command with stdout and stderr captured. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const code = await benchmarkCommand(args);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('benchmarkCommand', () => {
  it('prints help after a group name', async () => {
    const result = await run(['blacklist', '--help']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: busfare-bench benchmark GROUP');
    expect(result.stdout).toContain('blacklist');
  });

  it('rejects options after a group', async () => {
    const result = await run(['tap', '--runs', '3']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('benchmark groups take no options, got --runs 3');
  });

  it('rejects an unknown group', async () => {
    const result = await run(['speed']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown benchmark group "speed"');
  });
});
