import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_DATE } from '../build-info.js';
import { epoch, sentence } from '../gnss/nmea/nmea-test-helpers.js';
import { nmeaCommand } from './nmea-command.js';

const NOW = new Date('2026-12-04T12:00:00Z');
const DRIVE_LOG = fileURLToPath(new URL('../../../simulators/data/nmea/drive-nmeaparser.log', import.meta.url));
const workDir = mkdtempSync(join(tmpdir(), 'busfare-nmea-command-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function runCommand(args: string[], stdinText = '') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const code = await nmeaCommand(args, { stdin: Readable.from([Buffer.from(stdinText)]), stdout, stderr, now: () => NOW }, 'en');
  const text = Buffer.concat(out).toString('utf8');
  const parseLines = () => text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    code,
    get lines() {
      return parseLines();
    },
    stdout: text,
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

describe('nmea command', () => {
  it('prints fix, rejected and ignored lines from stdin', async () => {
    const input = [...epoch('120000.25'), '$GPRMC,1*00', '$PGRMZ,4523,f,3*2B', ''].join('\r\n');
    const { code, lines, stderr } = await runCommand(['--not-before', '2020-01-01', '-'], input);

    expect(code).toBe(0);
    expect(lines).toEqual([
      { kind: 'rejected', line: 4, reason: expect.stringMatching(/^checksum mismatch/) },
      { kind: 'ignored', line: 5, reason: 'proprietary sentence PGRMZ' },
      {
        kind: 'fix',
        time: '2022-09-11T12:00:00.250Z',
        lat: 31.24795,
        lon: 121.58743833,
        speedMps: 5.144,
        courseDeg: 90,
        quality: 1,
        satellites: 8,
        hdop: 1.2,
        talker: 'GP',
      },
    ]);
    expect(stderr).toContain('1 fixes, 1 rejected, 1 ignored');
  });

  it('prints null for fields the receiver did not send', async () => {
    const input = sentence('GPGGA,120000,3114.8770,N,12135.2463,E,1,08,1.2,10.0,M,8.3,M,,');
    const { lines } = await runCommand(['-'], input);
    expect(lines).toEqual([
      { kind: 'fix', time: null, lat: 31.24795, lon: 121.58743833, speedMps: null, courseDeg: null, quality: 1, satellites: 8, hdop: 1.2, talker: 'GP' },
    ]);
  });

  it('never prints lat or lon on rejected lines', async () => {
    const { lines } = await runCommand(['-'], epoch('120000', { hdop: '9.9' }).join('\n'));
    expect(lines).toEqual([{ kind: 'rejected', line: 1, reason: 'HDOP 9.9 above maximum 5' }]);
  });

  it('applies --max-hdop and --min-satellites', async () => {
    const input = epoch('120000', { hdop: '2.5', satellites: '05' }).join('\n');
    expect((await runCommand(['--max-hdop', '2', '-'], input)).lines[0]).toMatchObject({ kind: 'rejected' });
    expect((await runCommand(['--min-satellites', '6', '-'], input)).lines[0]).toMatchObject({ kind: 'rejected' });
    expect((await runCommand(['--max-hdop', '3', '--min-satellites', '5', '-'], input)).lines[0]).toMatchObject({ kind: 'fix' });
  });

  it('defaults the not-before date to the build date', async () => {
    const input = epoch('120000', { date: '110922' }).join('\n');
    const { lines } = await runCommand(['-'], input);
    expect(BUILD_DATE > '2022-09-11').toBe(true);
    expect(lines[0]).toMatchObject({ kind: 'fix', time: null });
  });

  it('moves a rolled-over date forward with --not-before', async () => {
    // 2006-06-18 + 1,024 weeks = 2026-02-01, after the not-before date and before now.
    const input = epoch('120000', { date: '180606' }).join('\n');
    const { lines } = await runCommand(['--not-before', '2026-01-01', '-'], input);
    expect(lines[0]).toMatchObject({ kind: 'fix', time: '2026-02-01T12:00:00.000Z' });
  });

  it('reads a file', async () => {
    const path = join(workDir, 'two.nmea');
    writeFileSync(path, [...epoch('120000'), ...epoch('120001')].join('\n'));
    const { code, lines } = await runCommand(['--not-before=2000-01-01', path]);
    expect(code).toBe(0);
    expect(lines.map((line) => line.time)).toEqual(['2022-09-11T12:00:00.000Z', '2022-09-11T12:00:01.000Z']);
  });

  it('runs the drive recording', async () => {
    const { code, lines } = await runCommand(['--not-before', '2005-01-01', DRIVE_LOG]);
    expect(code).toBe(0);
    expect(lines.filter((line) => line.kind === 'fix')).toHaveLength(4420);
    expect(lines.filter((line) => line.kind === 'rejected')).toHaveLength(49);
    expect(lines.filter((line) => line.kind !== 'fix' && ('lat' in line || 'lon' in line))).toEqual([]);
  });

  it('prints help', async () => {
    const { code, stdout } = await runCommand(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--not-before DATE');
  });

  it('exits 1 when the file cannot be read', async () => {
    const missing = join(workDir, 'missing.nmea');
    const { code, stderr } = await runCommand([missing]);
    expect(code).toBe(1);
    expect(stderr).toContain(`busfare-terminal nmea: failed to read ${missing}: no such file; check the path\n`);
    expect(stderr).not.toContain('ENOENT');
  });

  it('words a missing file in Chinese', async () => {
    const missing = join(workDir, 'missing.nmea');
    const { code, stderr } = await runCommand(['--lang', 'zh', missing]);
    expect(code).toBe(1);
    expect(stderr).toContain(`busfare-terminal nmea: 读取 ${missing} 失败：文件不存在，请检查路径\n`);
  });

  it('words a folder given as FILE', async () => {
    const { code, stderr } = await runCommand([workDir]);
    expect(code).toBe(1);
    expect(stderr).toContain(`failed to read ${workDir}: this is a folder, expected a file\n`);
  });

  it.each([
    ['no FILE', [], /missing FILE/],
    ['two FILEs', ['a', 'b'], /expected exactly one FILE/],
    ['an invalid date', ['--not-before', 'yesterday', '-'], /invalid --not-before "yesterday"/],
    ['an impossible date', ['--not-before', '2026-13-45', '-'], /invalid --not-before "2026-13-45"/],
    ['a negative HDOP', ['--max-hdop=-1', '-'], /invalid --max-hdop "-1"/],
    ['a fractional satellite count', ['--min-satellites', '4.5', '-'], /invalid --min-satellites "4.5"/],
    ['an unknown option', ['--speed', '2', '-'], /unknown option "--speed"/],
  ])('exits 2 on %s', async (_name, args, message) => {
    const { code, stderr } = await runCommand(['--lang', 'en', ...args]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('Usage: busfare-terminal nmea');
  });
});
