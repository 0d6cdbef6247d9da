import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultFareTable } from '@busfare/backoffice';
import { main as backofficeMain } from '../../backoffice/src/command-line.js';
import { terminalMain } from '../../terminal/src/cli/terminal-main.js';
import { type CapturedOutput, type CommandRunner, captureOutput } from './command-output.js';

// Validation problems under a config or file error, and the command-line errors that name a
// terminal, an arrivals-eval flag or the parameter signing key: Chinese by default, English with
// --lang en. Field paths and values stay as written in the file.

const backoffice: CommandRunner = (args) => backofficeMain(args);
const terminal: CommandRunner = (args) => terminalMain(args);

/** Words of zod's and the schemas' English messages that must not reach a Chinese reader. */
const ENGLISH_PROSE = /\b(must|expected|received|invalid|Invalid|required|missing|unrecognized|Unrecognized|Too|not|cannot)\b/;

const VALID_TERMINAL = {
  terminalId: 'T001',
  vehicleId: 'V001',
  dataDir: '/var/lib/busfare',
  broker: { url: 'mqtt://127.0.0.1:1883', username: 'T001', password: 'secret' },
  parameterPublicKeyFile: '/etc/busfare/parameters.pub.pem',
  reader: { kind: 'socket', path: '/run/busfare/reader.sock' },
};

let output: CapturedOutput;
let directory: string;

beforeEach(() => {
  output = captureOutput();
  vi.stubEnv('BUSFARE_LANG', '');
  directory = mkdtempSync(join(tmpdir(), 'busfare-cli-validation-'));
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(directory, { recursive: true, force: true });
});

function writeJson(name: string, value: unknown): string {
  const path = join(directory, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

/** Returns the indented problem lines under the lead line, without their indent. */
function problemLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('  '))
    .map((line) => line.slice(2));
}

/** Returns the text of a problem line after its field path. */
function textAfterPath(line: string): string {
  return line.slice(line.indexOf(': ') + 2);
}

describe('serve config problems', () => {
  const badConfig = {
    mqtt: { port: 'x', externalUrl: 'http://broker', limits: { messagesPerSecond: 0 } },
    http: { port: 70000, host: '10.0.0.1' },
    businessDayCutoff: '9am',
    localIssuerPrefixes: ['Z'],
    pkcs11: { library: '/usr/lib/hsm.so', tokenLabel: 'busfare', pinVariable: 'pin' },
    timezoneOffsetMinutes: 2000,
    arrivals: { refreshSeconds: 0 },
    colour: 'red',
  };

  it('words every problem in Chinese', async () => {
    const config = writeJson('office.json', badConfig);
    const result = await output.run(backoffice, ['serve', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice: 配置无效（${config}）：\n`);
    const lines = problemLines(result.stderr);
    expect(lines).toContain('mqtt.port: 类型无效：应为数字，实际为字符串');
    expect(lines).toContain('mqtt.externalUrl: 应为以 mqtt:// 或 mqtts:// 开头的 URL');
    expect(lines).toContain('mqtt.limits.messagesPerSecond: 应大于 0');
    expect(lines).toContain('http.port: 端口应不大于 65535');
    expect(lines).toContain('businessDayCutoff: 应为当地时间 HH:MM');
    expect(lines).toContain('localIssuerPrefixes.0: 发卡机构前缀应为 2-16 位十六进制数字');
    expect(lines).toContain('pkcs11.pinVariable: 应为环境变量名');
    expect(lines).toContain('timezoneOffsetMinutes: 应不大于 840');
    expect(lines).toContain('arrivals.refreshSeconds: 应不小于 1');
    expect(lines).toContain('(root): 未知字段："colour"');
    for (const line of lines) expect(textAfterPath(line)).not.toMatch(ENGLISH_PROSE);
  });

  it('words every problem in English', async () => {
    const config = writeJson('office.json', badConfig);
    const result = await output.run(backoffice, ['serve', '--config', config, '--lang', 'en']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice: invalid configuration (${config}):\n`);
    const lines = problemLines(result.stderr);
    expect(lines).toContain('mqtt.port: expected number, received string');
    expect(lines).toContain('mqtt.externalUrl: must be an mqtt:// or mqtts:// URL');
    expect(lines).toContain('mqtt.limits.messagesPerSecond: must be greater than 0');
    expect(lines).toContain('http.port: port must be at most 65535');
    expect(lines).toContain('businessDayCutoff: must be a local time HH:MM');
    expect(lines).toContain('timezoneOffsetMinutes: must be at most 840');
    expect(lines).toContain('(root): unrecognized key "colour"');
  });

  it('words a plain-HTTP host in both languages', async () => {
    const config = writeJson('office.json', { http: { host: '10.0.0.1' } });
    const chinese = await output.run(backoffice, ['serve', '--config', config]);
    expect(problemLines(chinese.stderr)).toEqual(['http.host: 未加密的 HTTP 只监听 127.0.0.1；如需监听其他地址，请设置 http.tls']);
    const english = await output.run(backoffice, ['serve', '--config', config, '--lang', 'en']);
    expect(problemLines(english.stderr)).toEqual(['http.host: plain HTTP listens on 127.0.0.1 only: set http.tls to listen on another address']);
  });

  it('names an unreadable config in both languages', async () => {
    const config = join(directory, 'absent.json');
    const chinese = await output.run(backoffice, ['serve', '--config', config]);
    expect(chinese.code).toBe(2);
    expect(chinese.stderr).toContain(`配置无效（${config}）：\n  无法读取文件：文件不存在，请检查路径`);
    const english = await output.run(backoffice, ['serve', '--config', config, '--lang', 'en']);
    expect(english.stderr).toContain(`invalid configuration (${config}):\n  cannot read the file: no such file; check the path`);
  });

  it('names invalid JSON in both languages', async () => {
    const config = writeJson('office.json', '{"db": ');
    const chinese = await output.run(backoffice, ['serve', '--config', config]);
    expect(chinese.code).toBe(2);
    expect(chinese.stderr).toContain('\n  JSON 格式无效：');
    const english = await output.run(backoffice, ['serve', '--config', config, '--lang', 'en']);
    expect(english.stderr).toContain('\n  invalid JSON: ');
  });

  it('words file problems in both languages', async () => {
    const keys = join(directory, 'absent-keys.json');
    const cert = join(directory, 'absent-cert.pem');
    const config = writeJson('office.json', { db: join(directory, 'office.db'), keys, mqtt: { tls: { cert, key: notPemFile() } } });
    const chinese = await output.run(backoffice, ['serve', '--config', config]);
    expect(chinese.code).toBe(2);
    expect(problemLines(chinese.stderr)).toEqual([
      `keys: 发卡机构密钥文件 ${keys} 不存在；请创建它，或把 keys 设为已有的文件`,
      `mqtt.tls.cert: TLS 证书 ${cert} 不存在；请创建它，或把 mqtt.tls.cert 设为已有的文件`,
      `mqtt.tls.key: ${notPemFile()} 不是 PEM 格式的私钥；请把 mqtt.tls.key 设为 PEM 格式的私钥文件`,
    ]);
    const english = await output.run(backoffice, ['serve', '--config', config, '--lang', 'en']);
    expect(problemLines(english.stderr)).toEqual([
      `keys: the issuer key file ${keys} does not exist, so create it or set keys to an existing file`,
      `mqtt.tls.cert: the TLS certificate ${cert} does not exist, so create it or set mqtt.tls.cert to an existing file`,
      `mqtt.tls.key: ${notPemFile()} is not a PEM private key, so set mqtt.tls.key to a PEM private key file`,
    ]);
  });

  /** Writes a readable file that is not a PEM key and returns its path. */
  function notPemFile(): string {
    return writeJson('not-a-key.pem', 'plain text');
  }

  it('params status words config problems in Chinese', async () => {
    const config = writeJson('office.json', { businessDayCutoff: 930 });
    const result = await output.run(backoffice, ['params', 'status', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice params: 配置无效（${config}）：\n  businessDayCutoff: 类型无效：应为字符串，实际为数字`);
  });

  it('terminals words config problems in Chinese', async () => {
    const config = writeJson('office.json', { db: '' });
    const result = await output.run(backoffice, ['terminals', 'list', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice terminals: 配置无效（${config}）：\n  db: 不能为空`);
  });
});

describe('terminal run config problems', () => {
  const badConfig = {
    ...VALID_TERMINAL,
    terminalId: 'T 1/x',
    broker: { url: 'http://127.0.0.1' },
    reader: { kind: 'pcsc', readerName: '/(unclosed/' },
    gps: { kind: 'gpsd', host: '192.0.2.1' },
    driverCards: { typeCodes: [6, 6] },
    driverScreen: { port: 70000, signOffTapWindowSeconds: 1, riderTapsWithoutShift: 'no' },
    alerts: { clockMaxOffsetSeconds: 1, clockConsecutiveFixes: 0.5, parameterGraceMinutes: 'soon', parameterMaxOfflineHours: 1000 },
    uplink: { batchSize: 0 },
  };

  it('words every problem in Chinese', async () => {
    const config = writeJson('terminal.json', badConfig);
    const result = await output.run(terminal, ['run', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-terminal: 终端配置无效（${config}）：\n`);
    const lines = problemLines(result.stderr);
    expect(lines).toContain('terminalId: 终端编号应为 1-32 个字母、数字、"_" 或 "-"');
    expect(lines).toContain('broker.url: 应为以 mqtt:// 或 mqtts:// 开头的 URL');
    expect(lines).toContain('reader.readerName: 不是有效的 /pattern/flags 正则表达式');
    expect(lines).toContain('gps.host: 应为 127.0.0.1 或 ::1：只能连接本机上的 gpsd');
    expect(lines).toContain('driverCards.typeCodes: 卡类型代码不能重复');
    expect(lines).toContain('driverScreen.port: 应为 0-65535 的 TCP 端口号');
    expect(lines).toContain('driverScreen.signOffTapWindowSeconds: 应为 3-600 的秒数：2 秒内的第二次刷卡算作同一次出示');
    expect(lines).toContain('driverScreen.riderTapsWithoutShift: 应为 "accept" 或 "reject"');
    expect(lines).toContain('alerts.clockMaxOffsetSeconds: 应为 5-3600 的秒数：NMEA 语句最多比其所含时间晚约 1 秒到达');
    expect(lines).toContain('alerts.clockConsecutiveFixes: 应为 1-120 的整数定位次数');
    expect(lines).toContain('alerts.parameterGraceMinutes: 应为 0-10080 的分钟数');
    expect(lines).toContain('alerts.parameterMaxOfflineHours: 应为 1-720 的小时数');
    expect(lines).toContain('uplink.batchSize: 应不小于 1');
    for (const line of lines) expect(textAfterPath(line)).not.toMatch(ENGLISH_PROSE);
  });

  it('words every problem in English', async () => {
    const config = writeJson('terminal.json', badConfig);
    const result = await output.run(terminal, ['run', '--config', config, '--lang', 'en']);
    expect(result.code).toBe(2);
    const lines = problemLines(result.stderr);
    expect(lines).toContain('terminalId: terminal id must be 1-32 letters, digits, "_" or "-"');
    expect(lines).toContain('driverScreen.port: must be a TCP port number from 0 to 65535');
    expect(lines).toContain('alerts.clockConsecutiveFixes: must be a whole number of fixes from 1 to 120');
    expect(lines).toContain('uplink.batchSize: must be at least 1');
  });

  it('words a wrong type and a missing key in both languages', async () => {
    const { parameterPublicKeyFile: _omitted, ...withoutKey } = VALID_TERMINAL;
    const config = writeJson('terminal.json', { ...withoutKey, terminalId: 7 });
    const chinese = problemLines((await output.run(terminal, ['run', '--config', config])).stderr);
    expect(chinese).toEqual(['terminalId: 类型无效：应为字符串，实际为数字', 'parameterPublicKeyFile: 缺少此项（应为字符串）']);
    const english = problemLines((await output.run(terminal, ['run', '--config', config, '--lang', 'en'])).stderr);
    expect(english).toEqual(['terminalId: expected string, received number', 'parameterPublicKeyFile: required, but missing (expected string)']);
  });

  it('words path problems in both languages', async () => {
    const dataDir = join(directory, 'no-data');
    const keyFile = join(directory, 'no-key.pem');
    const config = writeJson('terminal.json', { ...VALID_TERMINAL, dataDir, parameterPublicKeyFile: keyFile });
    const chinese = await output.run(terminal, ['run', '--config', config]);
    expect(chinese.code).toBe(2);
    expect(problemLines(chinese.stderr)).toEqual([
      `dataDir: 文件夹 ${dataDir} 不存在；请创建它，或把 dataDir 设为已有的文件夹`,
      `parameterPublicKeyFile: ${keyFile} 不存在；请把后台的参数签名公钥复制到该位置，或修改 parameterPublicKeyFile`,
    ]);
    const english = await output.run(terminal, ['run', '--config', config, '--lang', 'en']);
    expect(problemLines(english.stderr)).toEqual([
      `dataDir: folder ${dataDir} does not exist, so create it or set dataDir to an existing folder`,
      `parameterPublicKeyFile: ${keyFile} does not exist, so copy the back office's parameter-signing public key there or set parameterPublicKeyFile`,
    ]);
  });

  it('names an unreadable config in both languages', async () => {
    const config = join(directory, 'absent.json');
    const chinese = await output.run(terminal, ['run', '--config', config]);
    expect(chinese.code).toBe(2);
    expect(chinese.stderr).toContain(`终端配置无效（${config}）：\n  无法读取文件：文件不存在，请检查路径`);
    const english = await output.run(terminal, ['run', '--config', config, '--lang', 'en']);
    expect(english.stderr).toContain(`invalid terminal configuration (${config}):\n  cannot read the file: no such file; check the path`);
  });
});

describe('fare table problems', () => {
  const badTable = { ...defaultFareTable(['3104']), lowBalanceWarningFen: 'low' };

  it('dry-run words a table problem in Chinese', async () => {
    const table = writeJson('table.json', badTable);
    const result = await output.run(backoffice, ['params', 'dry-run', '--table', table, '--taps', join(directory, 'taps.csv')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`busfare-backoffice params: 文件无效（${table}）：\n  lowBalanceWarningFen: 类型无效：应为数字，实际为字符串\n`);
  });

  it('dry-run words a table problem in English', async () => {
    const table = writeJson('table.json', badTable);
    const result = await output.run(backoffice, ['params', 'dry-run', '--table', table, '--taps', join(directory, 'taps.csv'), '--lang', 'en']);
    expect(result.stderr).toBe(`busfare-backoffice params: invalid ${table}:\n  lowBalanceWarningFen: expected number, received string\n`);
  });

  it('dry-run prefixes the body of a set', async () => {
    const table = writeJson('table.json', { kind: 'fare-table', version: 1, body: badTable });
    const result = await output.run(backoffice, ['params', 'dry-run', '--table', table, '--taps', join(directory, 'taps.csv')]);
    expect(problemLines(result.stderr)).toEqual(['body.lowBalanceWarningFen: 类型无效：应为数字，实际为字符串']);
  });

  it('dry-run names a set of another kind in both languages', async () => {
    const table = writeJson('table.json', { kind: 'routes', version: 1, body: {} });
    const chinese = await output.run(backoffice, ['params', 'dry-run', '--table', table, '--taps', join(directory, 'taps.csv')]);
    expect(problemLines(chinese.stderr)).toEqual(['kind: 应为 "fare-table"，而不是 "routes"']);
    const english = await output.run(backoffice, ['params', 'dry-run', '--table', table, '--taps', join(directory, 'taps.csv'), '--lang', 'en']);
    expect(problemLines(english.stderr)).toEqual(['kind: expected "fare-table", got "routes"']);
  });

  it('dry-run names unreadable taps in Chinese', async () => {
    const table = writeJson('table.json', defaultFareTable(['3104']));
    const taps = join(directory, 'absent.csv');
    const result = await output.run(backoffice, ['params', 'dry-run', '--table', table, '--taps', taps]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`文件无效（${taps}）：\n  无法读取刷卡记录：文件不存在，请检查路径`);
  });

  it('publish words set problems in both languages', async () => {
    const privateKey = join(directory, 'params.key');
    const db = join(directory, 'office.db');
    await output.run(backoffice, ['params', 'keygen', '--private', privateKey, '--public', join(directory, 'params.pub')]);
    const file = writeJson('table.json', badTable);
    const args = ['params', 'publish', '--kind', 'fare-table', '--file', file, '--version', '1', '--db', db, '--signing-key', privateKey];

    const chinese = await output.run(backoffice, args);
    expect(chinese.code).toBe(2);
    expect(chinese.stderr).toBe('busfare-backoffice params: 参数集无效：\n  body.lowBalanceWarningFen: 类型无效：应为数字，实际为字符串\n');
    const english = await output.run(backoffice, [...args, '--lang', 'en']);
    expect(english.stderr).toBe('busfare-backoffice params: invalid parameter set:\n  body.lowBalanceWarningFen: expected number, received string\n');
  });

  it('publish names a set of another kind in Chinese', async () => {
    const privateKey = join(directory, 'params.key');
    await output.run(backoffice, ['params', 'keygen', '--private', privateKey, '--public', join(directory, 'params.pub')]);
    const file = writeJson('routes.json', { kind: 'routes', body: {} });
    const result = await output.run(backoffice, ['params', 'publish', '--kind', 'fare-table', '--file', file, '--version', '1', '--db', join(directory, 'office.db'), '--signing-key', privateKey]);
    expect(result.code).toBe(2);
    expect(problemLines(result.stderr)).toEqual(['kind: 文件中是 "routes" 参数集，应为 "fare-table"']);
  });
});

describe('clearing database problems', () => {
  it('params status names a missing database in both languages', async () => {
    const db = join(directory, 'absent.db');
    const chinese = await output.run(backoffice, ['params', 'status', '--db', db]);
    expect(chinese.code).toBe(2);
    expect(chinese.stderr).toBe(`busfare-backoffice params: 数据库 ${db} 不存在；请检查路径，或用 --db FILE（或在 --config FILE 中设置 "db"）指定已有的清分数据库\n`);
    const english = await output.run(backoffice, ['params', 'status', '--db', db, '--lang', 'en']);
    expect(english.stderr).toBe(`busfare-backoffice params: database ${db} does not exist: check the path, or name an existing clearing database with --db FILE (or "db" in --config FILE)\n`);
  });

  it('params blacklist names an invalid ASN in both languages', async () => {
    const chinese = await output.run(backoffice, ['params', 'blacklist', 'add', '0330']);
    expect(chinese.code).toBe(2);
    expect(chinese.stderr).toBe('busfare-backoffice params: ASN 无效：\n  add.0: "0330" 既不是 20 位卡号，也不是其右侧 8 字节（16 位十六进制数字）\n');
    const english = await output.run(backoffice, ['params', 'blacklist', 'add', '0330', '--lang', 'en']);
    expect(english.stderr).toBe('busfare-backoffice params: invalid ASN:\n  add.0: "0330" is neither a 20-digit card number nor its right-most 8 bytes as 16 hex digits\n');
  });
});

describe('terminal credentials', () => {
  it('names an unregistered terminal in Chinese', async () => {
    const db = join(directory, 'office.db');
    await output.run(backoffice, ['terminals', 'add', 'T1', '--db', db]);
    const result = await output.run(backoffice, ['terminals', 'remove', 'T9', '--db', db]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('busfare-backoffice terminals: 终端 T9 未登记\n');
  });

  it('names an unregistered terminal in English', async () => {
    const db = join(directory, 'office.db');
    await output.run(backoffice, ['terminals', 'add', 'T1', '--db', db]);
    const result = await output.run(backoffice, ['terminals', 'remove', 'T9', '--db', db, '--lang', 'en']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('busfare-backoffice terminals: terminal T9 is not registered\n');
  });

  it('names a registered terminal in both languages', async () => {
    const db = join(directory, 'office.db');
    await output.run(backoffice, ['terminals', 'add', 'T9', '--db', db]);
    const chinese = await output.run(backoffice, ['terminals', 'add', 'T9', '--db', db]);
    expect(chinese.code).toBe(2);
    expect(chinese.stderr).toBe('busfare-backoffice terminals: 终端 T9 已登记；如需签发新密钥，请加 --replace\n');
    const english = await output.run(backoffice, ['terminals', 'add', 'T9', '--db', db, '--lang', 'en']);
    expect(english.stderr).toBe('busfare-backoffice terminals: terminal T9 is already registered; pass --replace to issue a new secret\n');
  });

  it('names an invalid terminal id in both languages', async () => {
    const db = join(directory, 'office.db');
    const chinese = await output.run(backoffice, ['terminals', 'add', 'T/9', '--db', db]);
    expect(chinese.code).toBe(2);
    expect(chinese.stderr).toBe('busfare-backoffice terminals: 终端编号 "T/9" 无效：请使用 1-32 个字母、数字、"_" 或 "-"\n');
    const english = await output.run(backoffice, ['terminals', 'add', 'T/9', '--db', db, '--lang', 'en']);
    expect(english.stderr).toBe('busfare-backoffice terminals: invalid terminal id "T/9": use 1-32 letters, digits, "_" or "-"\n');
  });
});

describe('arrivals-eval flag errors', () => {
  const CASES: Array<[string, string[], string, string]> = [
    ['gtfs-avl without --gtfs', ['--format', 'gtfs-avl', '--avl', 'a.csv', '--tz', 'Asia/Shanghai'], '使用 --format gtfs-avl 时必须给出 --gtfs', '--format gtfs-avl needs --gtfs'],
    ['gtfs-avl without --tz', ['--format', 'gtfs-avl', '--gtfs', 'feed', '--avl', 'a.csv'], '使用 --format gtfs-avl 时必须给出 --tz', '--format gtfs-avl needs --tz'],
    ['unknown format', ['--format', 'csv'], '--format 的值 "csv" 无效：应为 suzhou 或 gtfs-avl', 'invalid --format "csv": expected suzhou or gtfs-avl'],
    ['suzhou without --events', ['--format', 'suzhou'], '使用 --format suzhou 时必须给出 --events FILE', '--format suzhou needs --events FILE'],
  ];

  it.each(CASES)('%s exits 2 in Chinese', async (_name, args, chinese) => {
    const result = await output.run(backoffice, ['arrivals-eval', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`busfare-backoffice: ${chinese}\n`);
  });

  it.each(CASES)('%s exits 2 in English', async (_name, args, _chinese, english) => {
    const result = await output.run(backoffice, ['arrivals-eval', ...args, '--lang', 'en']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`busfare-backoffice: ${english}\n`);
  });

  it('names an unreadable events file in both languages', async () => {
    const events = join(directory, 'absent.csv');
    const chinese = await output.run(backoffice, ['arrivals-eval', '--format', 'suzhou', '--events', events]);
    expect(chinese.code).toBe(1);
    expect(chinese.stderr).toContain(`busfare-backoffice: 无法读取 --events ${events}：文件不存在，请检查路径`);
    const english = await output.run(backoffice, ['arrivals-eval', '--format', 'suzhou', '--events', events, '--lang', 'en']);
    expect(english.stderr).toContain(`busfare-backoffice: cannot read --events ${events}: no such file; check the path`);
  });
});

describe('parameter signing key errors', () => {
  const blacklistAdd = (key: string) => ['params', 'blacklist', 'add', '00000000000000AA', '--db', join(directory, 'office.db'), '--signing-key', key];

  it('names a missing key file in Chinese', async () => {
    const key = join(directory, 'absent.key');
    const result = await output.run(backoffice, blacklistAdd(key));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^busfare-backoffice params: 无法读取参数签名密钥 ${key}：文件不存在，请检查路径；请用 "busfare-backoffice params keygen" 生成\\n$`));
  });

  it('names a missing key file in English', async () => {
    const key = join(directory, 'absent.key');
    const result = await output.run(backoffice, [...blacklistAdd(key), '--lang', 'en']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^busfare-backoffice params: parameter signing key ${key}: cannot read the file: no such file; check the path; create one with "busfare-backoffice params keygen"\\n$`));
  });

  it('names a key others can read in both languages', async () => {
    const key = join(directory, 'params.key');
    await output.run(backoffice, ['params', 'keygen', '--private', key, '--public', join(directory, 'params.pub')]);
    chmodSync(key, 0o644);
    const chinese = await output.run(backoffice, blacklistAdd(key));
    expect(chinese.code).toBe(2);
    expect(chinese.stderr).toBe(`busfare-backoffice params: 参数签名密钥 ${key} 的权限为 0644，其他用户可以读取；请运行 "chmod 600 ${key}"\n`);
    const english = await output.run(backoffice, [...blacklistAdd(key), '--lang', 'en']);
    expect(english.stderr).toBe(`busfare-backoffice params: parameter signing key ${key}: mode 0644 lets other users read it; run "chmod 600 ${key}"\n`);
  });

  it('names a key that is not Ed25519 in Chinese', async () => {
    const key = join(directory, 'corrupt.key');
    writeFileSync(key, 'not a key', { mode: 0o600 });
    const result = await output.run(backoffice, blacklistAdd(key));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^busfare-backoffice params: 参数签名密钥 ${key} 无效：.*；应为 PEM（PKCS #8）格式的 Ed25519 私钥\\n$`));
  });

  it('serve names a missing key file in Chinese', async () => {
    const key = join(directory, 'absent.key');
    const config = writeJson('office.json', { db: join(directory, 'office.db'), parameterSigningKey: key });
    const result = await output.run(backoffice, ['serve', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`配置无效（${config}）：\n  parameterSigningKey: 无法读取参数签名密钥 ${key}：文件不存在，请检查路径`);
  });
});
