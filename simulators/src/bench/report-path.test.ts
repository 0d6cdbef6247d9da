import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseChaosArgs } from './chaos-command.js';
import { reportPathProblem } from './report-path.js';
import { UsageError, parseRunArgs } from './run-command.js';
import { tearingCommand } from './tearing-command.js';

describe('--report checked before a run', () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'busfare-report-path-'));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('accepts a new file in a folder', () => {
    expect(reportPathProblem(join(directory, 'report.json'))).toBeUndefined();
  });

  it('names a missing folder', () => {
    expect(reportPathProblem(join(directory, 'missing', 'report.json'))).toMatch(/folder .*missing does not exist/);
  });

  it('rejects a folder as the file', () => {
    expect(reportPathProblem(directory)).toMatch(/it is a folder/);
  });

  it('names the missing folder of a symlink target', () => {
    const link = join(directory, 'report.json');
    symlinkSync(join(directory, 'missing', 'report.json'), link);

    expect(reportPathProblem(link)).toMatch(/folder .*missing does not exist/);
  });

  it('accepts a symlink to a new file', () => {
    const link = join(directory, 'report.json');
    symlinkSync('target.json', link);

    expect(reportPathProblem(link)).toBeUndefined();
  });

  it('accepts /dev/stdout', () => {
    expect(reportPathProblem('/dev/stdout')).toBeUndefined();
  });

  it('rejects a symlink loop', () => {
    const link = join(directory, 'report.json');
    symlinkSync('report.json', link);

    expect(reportPathProblem(link)).toMatch(/symlink loop/);
  });

  it('run rejects a missing folder', () => {
    expect(() => parseRunArgs(['--report', join(directory, 'missing', 'report.json')])).toThrow(UsageError);
  });

  it('chaos rejects a missing folder', () => {
    expect(() => parseChaosArgs(['--report', join(directory, 'missing', 'report.json')])).toThrow(/does not exist/);
  });

  it('tearing rejects a missing folder', async () => {
    await expect(tearingCommand(['--report', join(directory, 'missing', 'report.json')])).rejects.toThrow(UsageError);
  });
});
