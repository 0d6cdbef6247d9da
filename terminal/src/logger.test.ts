import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Reads the file's JSON lines once there are `count` of them; the file stream writes asynchronously. */
async function fileLines(file: string, count: number): Promise<{ msg: string; terminalId?: string }[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    if (lines.length >= count || Date.now() > deadline) return lines.map((line) => JSON.parse(line) as { msg: string; terminalId?: string });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('logger with a log file', () => {
  it('writes every line at its level to the file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-logger-'));
    const file = join(dir, 'logs', 'bench.log');
    // stderr takes only fatal lines here, so the test run's output stays clean.
    const logger = createLogger('logger-test', 'info', { file, consoleLevel: 'fatal' });
    logger.debug('below the level');
    logger.info({ terminalId: 'T001' }, 'terminal started');
    logger.warn('storage low');
    const lines = await fileLines(file, 2);
    expect(lines.map((line) => line.msg)).toEqual(['terminal started', 'storage low']);
    expect(lines[0]!.terminalId).toBe('T001');
  });

  it('writes nothing when the level is silent', async () => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-logger-'));
    const file = join(dir, 'bench.log');
    const logger = createLogger('logger-test', 'silent', { file });
    logger.error('not written');
    expect(existsSync(file)).toBe(false);
  });
});
