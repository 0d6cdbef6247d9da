import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runArrivalsEval } from '../../backoffice/src/cli/arrivals-eval-command.js';
import { main } from '../../backoffice/src/command-line.js';
import { captureOutput } from '../cli/command-output.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The Suzhou recordings carry no licence, so they stay outside the repository. The test reads them
// from the sibling shared folder and skips when it is absent.
const SUZHOU_558 = fileURLToPath(new URL('../../../shared/data/arrivals/suzhou/558.csv', import.meta.url));
const MODELS = ['busfare', 'historical-median', 'last-vehicle', 'kalman'];
const BANDS = ['0-5', '5-10', '10-20', '20-30'];

let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-arrivals-'));
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

function run(args: string[]): { out: string; log: string } {
  let out = '';
  let log = '';
  runArrivalsEval(args, (text) => (out += text), (text) => (log += text), 'en');
  return { out, log };
}

/** Writes three days of two buses running stops A-D, each day a little slower. */
function writeSmallRecording(): string {
  const rows: string[] = [];
  for (const [day, date] of ['2018-03-05', '2018-03-06', '2018-03-07', '2018-03-08', '2018-03-09'].entries()) {
    for (const [bus, startMinute] of [0, 10].entries()) {
      ['A', 'B', 'C', 'D'].forEach((stop, index) => {
        const seconds = 8 * 3600 + startMinute * 60 + index * (120 + day * 5 + bus * 3);
        const time = `${Math.floor(seconds / 3600)}:${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
        rows.push(`${stop},,P${bus},${time},${date},0`);
      });
    }
  }
  rows.push(',2018-03-09,1');
  const path = join(directory, '900.csv');
  writeFileSync(path, rows.reverse().join('\n'));
  return path;
}

describe('arrivals-eval --format suzhou', () => {
  it('prints one line per model and band', () => {
    const { out, log } = run(['--format', 'suzhou', '--events', writeSmallRecording()]);

    const lines = out.trim().split('\n').map((line) => JSON.parse(line));
    expect([...new Set(lines.map((line) => line.model))].sort()).toEqual([...MODELS].sort());
    expect(lines[0]).toEqual({ model: 'busfare', horizonMin: '0-5', n: expect.any(Number), maeS: expect.any(Number), rmseS: expect.any(Number), biasS: expect.any(Number), withinCaltrans: expect.any(Number) });
    expect(log).toContain('route 900');
    expect(log).toContain('1 marker rows skipped');
  });

  it('words the stderr summary in the chosen language', async () => {
    const events = writeSmallRecording();
    vi.stubEnv('BUSFARE_LANG', '');
    const output = captureOutput();
    try {
      const chinese = await output.run(main, ['arrivals-eval', '--format', 'suzhou', '--events', events]);
      const english = await output.run(main, ['arrivals-eval', '--format', 'suzhou', '--events', events, '--lang', 'en']);
      expect([chinese.code, english.code]).toEqual([0, 0]);

      expect(chinese.stderr).toMatch(/^线路 900：\d+ 次到站记录（跳过 1 个标记行），\d+ 个行程；训练期 2018-03-05 至 2018-03-07（3 天），测试期 2018-03-08 至 2018-03-09（2 天）；/);
      expect(chinese.stderr).toMatch(/\nbusfare 模型参数：\{.*\}\n$/);
      expect(english.stderr).toMatch(/^route 900: \d+ sightings \(1 marker rows skipped\), \d+ trips; training 2018-03-05\.\.2018-03-07 \(3 dates\), test 2018-03-08\.\.2018-03-09 \(2 dates\); /);
      expect(english.stderr).toMatch(/\nbusfare settings: \{.*\}\n$/);
      // The report lines on stdout are the same in both languages.
      expect(chinese.stdout).toBe(english.stdout);
      expect(english.stdout).not.toBe('');
    } finally {
      vi.restoreAllMocks();
      vi.unstubAllEnvs();
    }
  });

  it('shows help', () => {
    expect(run(['--help']).out).toContain('--format suzhou|gtfs-avl');
  });

  it.each([
    [['--format', 'csv', '--events', 'x.csv'], /invalid --format "csv"/],
    [['--format', 'suzhou'], /needs --events FILE/],
    [['--format', 'gtfs-avl', '--avl', 'a.csv'], /needs --gtfs/],
    [['--events'], /argument missing|--events/],
  ])('rejects %j', (args, message) => {
    expect(() => run(args)).toThrow(message);
  });

  it('exits 2 on a usage error and 1 on a missing file', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['arrivals-eval', '--format', 'nope'])).toBe(2);
      expect(await main(['arrivals-eval', '--format', 'suzhou', '--events', join(directory, 'missing.csv'), '--lang', 'en'])).toBe(1);
      expect(stderr.mock.calls.map((call) => String(call[0])).join('')).toContain('cannot read --events');
    } finally {
      stderr.mockRestore();
    }
  });

  it('exits 1 on an invalid row', async () => {
    const path = join(directory, 'bad.csv');
    writeFileSync(path, 'A,,P1,6:00:00,2018-03-05,0\nB,,P1,6:61:00,2018-03-05,0\n');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['arrivals-eval', '--format', 'suzhou', '--events', path])).toBe(1);
      expect(stderr.mock.calls.map((call) => String(call[0])).join('')).toContain('line 2: invalid time "6:61:00"');
    } finally {
      stderr.mockRestore();
    }
  });

  it.skipIf(!existsSync(SUZHOU_558))('scores route 558 in every band', () => {
    const { out } = run(['--format', 'suzhou', '--events', SUZHOU_558]);

    const lines = out.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(MODELS.length * BANDS.length);
    for (const model of MODELS) {
      expect(lines.filter((line) => line.model === model).map((line) => line.horizonMin)).toEqual(BANDS);
    }
    for (const line of lines) {
      expect(line.n).toBeGreaterThan(50);
      expect(line.withinCaltrans).toBeGreaterThan(0);
      expect(line.withinCaltrans).toBeLessThanOrEqual(1);
    }
  });
});
