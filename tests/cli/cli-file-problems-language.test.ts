import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultFareTable } from '@busfare/backoffice';
import { main as backofficeMain } from '../../backoffice/src/command-line.js';
import { type CapturedOutput, type CommandRunner, captureOutput } from './command-output.js';

// Problems of the issuer key file, the HSM and a GTFS feed, as busfare-backoffice prints them:
// Chinese by default, English with --lang en. Paths, entries, files and columns stay as written.

const backoffice: CommandRunner = (args) => backofficeMain(args);
const SECRET = '0123456789ABCDEF0123456789ABCDEF';

/** A GTFS feed of one route with two stops, which the cases below break one file at a time. */
const FEED = {
  'stops.txt': 'stop_id,stop_name,stop_lat,stop_lon\nA,A,31.30,120.60\nB,B,31.31,120.61\n',
  'routes.txt': 'route_id,route_short_name,route_type\nL,1,3\n',
  'trips.txt': 'route_id,service_id,trip_id\nL,WK,T1\n',
  'stop_times.txt': 'trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,6:00:00,6:00:00,A,1\nT1,6:05:00,6:05:00,B,2\n',
};

let output: CapturedOutput;
let directory: string;

beforeEach(() => {
  output = captureOutput();
  vi.stubEnv('BUSFARE_LANG', '');
  directory = mkdtempSync(join(tmpdir(), 'busfare-cli-file-problems-'));
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(directory, { recursive: true, force: true });
});

function writeFile(name: string, content: unknown): string {
  const path = join(directory, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
  return path;
}

function writeFeed(name: string, files: Record<string, string>): string {
  const folder = join(directory, name);
  mkdirSync(folder);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(folder, file), text);
  return folder;
}

/** Returns the indented problem lines under the lead line, without their indent. */
function problemLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('  '))
    .map((line) => line.slice(2));
}

describe('issuer key file problems', () => {
  const serveWithKeys = (keys: string) => ['serve', '--db', join(directory, 'office.db'), '--keys', keys, '--mqtt-port', '0', '--http-port', '0'];
  const badEntries = [
    { issuerId: 'XYZ', algorithm: 'des', tacMasterKeyHex: SECRET },
    { issuerId: '99000001FFFFFFFF', algorithm: 'aes', tacMasterKeyHex: SECRET, [SECRET]: 1 },
  ];

  it('serve words invalid entries in Chinese', async () => {
    const keys = writeFile('keys.json', badEntries);
    const result = await output.run(backoffice, serveWithKeys(keys));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice: 密钥文件无效（${keys}）：\n`);
    expect(problemLines(result.stderr)).toEqual([
      '第 1 项：issuerId 应为 16 位十六进制数字（8 字节的发卡机构标识）',
      '第 2 项：algorithm 应为 "des" 或 "sm4"',
      '第 2 项：有未知字段（疑似密钥内容的字段名）；可用的字段为 issuerId、algorithm、tacMasterKeyHex 和 test',
    ]);
    expect(result.stderr).not.toContain(SECRET);
  });

  it('serve words invalid entries in English', async () => {
    const keys = writeFile('keys.json', badEntries);
    const result = await output.run(backoffice, [...serveWithKeys(keys), '--lang', 'en']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice: invalid key file (${keys}):\n`);
    expect(problemLines(result.stderr)).toEqual([
      'entry 1: issuerId must be 16 hex digits (the 8-byte issuer id)',
      'entry 2: algorithm must be "des" or "sm4"',
      'entry 2: unknown field(s) (a name that looks like key material); the fields are issuerId, algorithm, tacMasterKeyHex and test',
    ]);
    expect(result.stderr).not.toContain(SECRET);
  });

  it('serve names test keys outside a bench in both languages', async () => {
    const keys = writeFile('keys.json', [{ issuerId: '99000001FFFFFFFF', algorithm: 'des', tacMasterKeyHex: SECRET, test: true }]);
    const chinese = await output.run(backoffice, serveWithKeys(keys));
    expect(chinese.code).toBe(2);
    expect(problemLines(chinese.stderr)).toEqual(['发卡机构 99000001FFFFFFFF 的密钥是测试密钥，只有设置了 security.allowTestKeys 的测试环境才接受']);
    const english = await output.run(backoffice, [...serveWithKeys(keys), '--lang', 'en']);
    expect(problemLines(english.stderr)).toEqual(['test keys of issuers 99000001FFFFFFFF are accepted only on a bench (security.allowTestKeys)']);
  });

  it('serve names an HSM module that cannot load in both languages', async () => {
    // A readable file that is not a shared library passes the path check and fails in dlopen.
    const library = writeFile('not-a-module.so', 'plain text');
    const config = writeFile('office.json', { db: join(directory, 'office.db'), pkcs11: { library, tokenLabel: 'busfare' }, mqtt: { port: 0 }, http: { port: 0 } });
    vi.stubEnv('BUSFARE_HSM_PIN', '1234');
    // pkcs11js is an optional dependency: where its addon did not build, the command names that instead.
    const addonInstalled = await import('pkcs11js').then(
      () => true,
      () => false,
    );
    const chinese = await output.run(backoffice, ['serve', '--config', config]);
    expect(chinese.code).toBe(1);
    const english = await output.run(backoffice, ['serve', '--config', config, '--lang', 'en']);
    expect(english.code).toBe(1);
    if (addonInstalled) {
      expect(chinese.stderr).toMatch(new RegExp(`^busfare-backoffice: 无法加载 PKCS#11 模块 ${library}：.+\\n$`));
      expect(english.stderr).toMatch(new RegExp(`^busfare-backoffice: cannot load the PKCS#11 module ${library}: .+\\n$`));
    } else {
      expect(chinese.stderr).toMatch(/^busfare-backoffice: 未安装 pkcs11js 扩展（.+）；请安装 C\+\+ 编译工具和 python3/);
      expect(english.stderr).toMatch(/^busfare-backoffice: the pkcs11js addon is not installed \(.+\); install a C\+\+ toolchain/);
    }
  });
});

describe('GTFS feed problems', () => {
  it('params dry-run words a missing column in Chinese', async () => {
    const table = writeFile('table.json', defaultFareTable(['3104']));
    const feed = writeFeed('feed', { ...FEED, 'stops.txt': 'stop_id,stop_name,stop_lat\nA,A,31.30\n' });
    const result = await output.run(backoffice, ['params', 'dry-run', '--table', table, '--taps', join(directory, 'taps.csv'), '--routes', feed]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`busfare-backoffice params: GTFS 数据无效（${feed}）：\n  stops.txt：缺少列 stop_lon\n`);
  });

  it('params dry-run words a missing column in English', async () => {
    const table = writeFile('table.json', defaultFareTable(['3104']));
    const feed = writeFeed('feed', { ...FEED, 'stops.txt': 'stop_id,stop_name,stop_lat\nA,A,31.30\n' });
    const result = await output.run(backoffice, ['params', 'dry-run', '--table', table, '--taps', join(directory, 'taps.csv'), '--routes', feed, '--lang', 'en']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`busfare-backoffice params: invalid GTFS feed ${feed}:\n  stops.txt: missing column(s) stop_lon\n`);
  });

  it('arrivals-eval words an invalid stop time in both languages', async () => {
    const feed = writeFeed('feed', { ...FEED, 'stop_times.txt': 'trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,6:00:00,6:00:00,A,1\nT1,6:5:00,6:5:00,B,2\n' });
    const avl = writeFile('avl.csv', 'vehicleId,time,latitude,longitude\n7,2026-03-02 06:00:00,31.30,120.60\n');
    const args = ['arrivals-eval', '--format', 'gtfs-avl', '--gtfs', feed, '--avl', avl, '--tz', 'Asia/Shanghai'];
    const chinese = await output.run(backoffice, args);
    expect(chinese.code).toBe(1);
    expect(chinese.stdout).toBe('');
    expect(chinese.stderr).toContain(`busfare-backoffice: GTFS 数据无效（${feed}）：\n`);
    expect(problemLines(chinese.stderr)).toEqual([
      '没有一个行程有两个或以上有效的停站时刻',
      'stop_times.txt 第 3 行：行程 T1 的到站或离站时间无效（"6:5:00" / "6:5:00"），应为 H:MM:SS 或 HH:MM:SS',
      '行程 T1 的停站时刻少于两个，已略去',
    ]);
    const english = await output.run(backoffice, [...args, '--lang', 'en']);
    expect(english.code).toBe(1);
    expect(problemLines(english.stderr)).toEqual([
      'no trip has two or more valid stop times',
      'stop_times.txt line 3: trip T1 has invalid time "6:5:00" / "6:5:00"; expected H:MM:SS or HH:MM:SS',
      'trip T1 has fewer than two stop times and is left out',
    ]);
  });

  it('serve words a broken arrivals feed in both languages', async () => {
    const { 'trips.txt': _dropped, ...withoutTrips } = FEED;
    const feed = writeFeed('feed', withoutTrips);
    const config = writeFile('office.json', { db: join(directory, 'office.db'), arrivals: { gtfs: feed } });
    const chinese = await output.run(backoffice, ['serve', '--config', config]);
    expect(chinese.code).toBe(2);
    expect(problemLines(chinese.stderr)).toEqual([`arrivals.gtfs: GTFS 文件夹 ${feed}：trips.txt：缺少此文件，GTFS 数据必须包含它`]);
    const english = await output.run(backoffice, ['serve', '--config', config, '--lang', 'en']);
    expect(problemLines(english.stderr)).toEqual([`arrivals.gtfs: GTFS folder ${feed}: trips.txt: missing (a GTFS feed needs it)`]);
  });
});
