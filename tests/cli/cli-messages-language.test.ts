import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main as backofficeMain } from '../../backoffice/src/command-line.js';
import { main as benchMain } from '../../simulators/src/command-line.js';
import { terminalMain } from '../../terminal/src/cli/terminal-main.js';
import { type CapturedOutput, type CommandOutput, type CommandRunner, captureOutput } from './command-output.js';

// Usage errors, config errors and confirmations of the three command lines: Chinese by default,
// English with --lang en, with the program name in front and the exit codes unchanged.

type Output = CommandOutput;
type Runner = CommandRunner;

const backoffice: Runner = (args) => backofficeMain(args);
const terminal: Runner = (args) => terminalMain(args);
const bench: Runner = (args) => benchMain(args);

let output: CapturedOutput;
let directory: string;

beforeEach(() => {
  output = captureOutput();
  vi.stubEnv('BUSFARE_LANG', '');
  // The back office's structured log goes to file descriptor 2, past the captured output; these tests read only the messages.
  vi.stubEnv('BUSFARE_LOG_LEVEL', 'silent');
  directory = mkdtempSync(join(tmpdir(), 'busfare-cli-messages-'));
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(directory, { recursive: true, force: true });
});

async function run(runner: Runner, args: string[]): Promise<Output> {
  return output.run(runner, args);
}

function writeJson(name: string, value: unknown): string {
  const path = join(directory, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** Usage errors: the runner, the arguments, the expected Chinese and English message. */
const USAGE_ERRORS: Array<[string, Runner, string[], string, string]> = [
  ['backoffice unknown command', backoffice, ['frob'], 'busfare-backoffice: 未知命令 "frob"，运行 "busfare-backoffice --help" 查看可用命令', 'busfare-backoffice: unknown command "frob". Run "busfare-backoffice --help" to list the commands.'],
  ['serve unknown option', backoffice, ['serve', '--bogus'], 'busfare-backoffice: 未知选项 "--bogus"，运行 "busfare-backoffice serve --help" 查看可用选项', 'busfare-backoffice: unknown option "--bogus". Run "busfare-backoffice serve --help" to list the options.'],
  ['serve option without value', backoffice, ['serve', '--config'], 'busfare-backoffice: 选项 --config 缺少取值', 'busfare-backoffice: missing value after --config'],
  ['serve flag with value', backoffice, ['serve', '--help=yes'], 'busfare-backoffice: 选项 --help 不带取值', 'busfare-backoffice: --help takes no value'],
  ['serve invalid port', backoffice, ['serve', '--http-port', 'eighty'], '--http-port 的值 "eighty" 无效：应为 0-65535 的 TCP 端口', 'invalid --http-port "eighty": expected a TCP port 0-65535'],
  ['serve positional argument', backoffice, ['serve', 'now'], 'busfare-backoffice: 多余的参数 "now"：此命令不接受位置参数', 'busfare-backoffice: unexpected argument "now": this command takes no positional arguments'],
  ['arrivals-eval option without value', backoffice, ['arrivals-eval', '--events'], 'busfare-backoffice: 选项 --events 缺少取值', 'busfare-backoffice: missing value after --events'],
  ['terminals unknown option', backoffice, ['terminals', 'list', '--bogus'], 'busfare-backoffice terminals: 未知选项 "--bogus"', 'busfare-backoffice terminals: unknown option "--bogus"'],
  ['terminals missing action', backoffice, ['terminals', 'add'], 'busfare-backoffice terminals: 应为 "add ID"、"list" 或 "remove ID"', 'busfare-backoffice terminals: expected "add ID", "list" or "remove ID"'],
  ['params unknown command', backoffice, ['params', 'frob'], 'busfare-backoffice params: 未知的 params 命令 "frob"', 'busfare-backoffice params: unknown params command "frob"'],
  ['params dry-run unknown option', backoffice, ['params', 'dry-run', '--bogus'], 'busfare-backoffice params: 未知选项 "--bogus"，运行 "busfare-backoffice params dry-run --help"', 'busfare-backoffice params: unknown option "--bogus". Run "busfare-backoffice params dry-run --help"'],
  ['params dry-run missing table', backoffice, ['params', 'dry-run'], 'busfare-backoffice params: 缺少 --table FILE（票价表 JSON）', 'busfare-backoffice params: missing --table FILE (the fare table JSON)'],
  ['params keygen missing private', backoffice, ['params', 'keygen'], 'busfare-backoffice params: 缺少 --private FILE（私钥的写入位置）', 'busfare-backoffice params: missing --private FILE (where to write the private key)'],
  ['params publish missing kind', backoffice, ['params', 'publish'], 'busfare-backoffice params: 缺少 --kind KIND', 'busfare-backoffice params: missing --kind KIND'],
  ['params publish invalid kind', backoffice, ['params', 'publish', '--kind', 'menu'], '--kind 的值 "menu" 无效', 'invalid --kind "menu"'],
  ['params publish invalid version', backoffice, ['params', 'publish', '--kind', 'routes', '--file', 'x.json', '--version', '0'], '--version 的值 "0" 无效：应为正整数', 'invalid --version "0": expected a positive integer'],
  ['terminal unknown command', terminal, ['frob'], 'busfare-terminal: 未知命令 "frob"，运行 "busfare-terminal --help" 查看可用命令', 'busfare-terminal: unknown command "frob". Run "busfare-terminal --help" to list the commands.'],
  ['run missing config', terminal, ['run'], 'busfare-terminal run: 缺少 --config FILE（JSON 配置文件）', 'busfare-terminal run: missing --config FILE (the JSON config)'],
  ['run unknown option', terminal, ['run', '--bogus'], 'busfare-terminal run: 未知选项 "--bogus"', 'busfare-terminal run: unknown option "--bogus"'],
  ['nmea unknown option', terminal, ['nmea', '--bogus', '-'], 'busfare-terminal nmea: 未知选项 "--bogus"', 'busfare-terminal nmea: unknown option "--bogus"'],
  ['list-readers unknown option', terminal, ['list-readers', '--bogus'], 'busfare-terminal list-readers: 未知选项 "--bogus"', 'busfare-terminal list-readers: unknown option "--bogus"'],
  ['read-card option without value', terminal, ['read-card', '--reader'], 'busfare-terminal read-card: 选项 --reader 缺少取值', 'busfare-terminal read-card: missing value after --reader'],
  ['read-card invalid timeout', terminal, ['read-card', '--timeout', '0'], 'busfare-terminal read-card: --timeout 的值 "0" 无效：应为大于 0、不超过 3600 的秒数', 'busfare-terminal read-card: invalid --timeout "0": expected a number of seconds from 0 to 3600, above 0'],
  ['read-card blank reader', terminal, ['read-card', '--reader', ' '], 'busfare-terminal read-card: --reader 的值 "" 无效：应为读卡器名称的一部分', 'busfare-terminal read-card: invalid --reader "": expected part of a reader name'],
  ['list-readers invalid wait', terminal, ['list-readers', '--wait', 'x'], 'busfare-terminal list-readers: --wait 的值 "x" 无效', 'busfare-terminal list-readers: invalid --wait "x"'],
  ['nmea missing file', terminal, ['nmea'], 'busfare-terminal nmea: 缺少 FILE（用 - 表示 stdin）', 'busfare-terminal nmea: missing FILE (use - for stdin)'],
  ['nmea two files', terminal, ['nmea', 'a.log', 'b.log'], 'busfare-terminal nmea: 只能给出一个 FILE', 'busfare-terminal nmea: expected exactly one FILE'],
  ['nmea invalid date', terminal, ['nmea', '--not-before', 'soon', '-'], 'busfare-terminal nmea: --not-before 的值 "soon" 无效：应为日期，例如 2024-01-31', 'busfare-terminal nmea: invalid --not-before "soon": expected a date such as 2024-01-31'],
  ['nmea invalid HDOP', terminal, ['nmea', '--max-hdop', 'x', '-'], 'busfare-terminal nmea: --max-hdop 的值 "x" 无效：应为不小于 0 的数', 'busfare-terminal nmea: invalid --max-hdop "x": expected a number of 0 or more'],
  ['nmea fractional satellites', terminal, ['nmea', '--min-satellites', '2.5', '-'], 'busfare-terminal nmea: --min-satellites 的值 "2.5" 无效：应为不小于 0 的整数', 'busfare-terminal nmea: invalid --min-satellites "2.5": expected a whole number of 0 or more'],
  ['params blacklist missing action', backoffice, ['params', 'blacklist'], 'busfare-backoffice params: "params blacklist" 之后缺少 "add" 或 "remove"', 'busfare-backoffice params: expected "add" or "remove" after "params blacklist", got nothing'],
  ['params blacklist invalid action', backoffice, ['params', 'blacklist', 'drop'], 'busfare-backoffice params: "params blacklist" 之后应为 "add" 或 "remove"，而不是 "drop"', 'busfare-backoffice params: expected "add" or "remove" after "params blacklist", got "drop"'],
  ['params blacklist missing ASN', backoffice, ['params', 'blacklist', 'add'], 'busfare-backoffice params: 缺少 ASN：在 "params blacklist add" 之后给出一个或多个', 'busfare-backoffice params: missing ASN: give one or more after "params blacklist add"'],
  ['params blacklist invalid ASN', backoffice, ['params', 'blacklist', 'add', 'xyz'], 'busfare-backoffice params: ASN 无效：\n  add.0: "xyz" 既不是 20 位卡号', 'busfare-backoffice params: invalid ASN:\n  add.0: "xyz" is neither a 20-digit card number'],
  ['params missing signing key', backoffice, ['params', 'blacklist', 'add', '00000000000000AA'], 'busfare-backoffice params: 缺少签名密钥：请用 --signing-key FILE 指定', 'busfare-backoffice params: missing signing key: pass --signing-key FILE'],
  ['params unreadable fare table', backoffice, ['params', 'dry-run', '--table', '/nonexistent/table.json', '--taps', 'taps.csv'], 'busfare-backoffice params: 文件无效（/nonexistent/table.json）：\n  ', 'busfare-backoffice params: invalid /nonexistent/table.json:\n  '],
];

describe.each(USAGE_ERRORS)('%s', (_name, runner, args, chinese, english) => {
  it('exits 2 in Chinese by default', async () => {
    const result = await run(runner, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(chinese);
  });

  it('exits 2 in English with --lang en', async () => {
    const result = await run(runner, [...args, '--lang', 'en']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(english);
  });
});

describe('usage error prefixes', () => {
  it('read-card value error names the command', async () => {
    const result = await run(terminal, ['read-card', '--timeout', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^busfare-terminal read-card: --timeout 的值/);
  });

  it('nmea summary in Chinese', async () => {
    const recording = join(directory, 'empty.nmea');
    writeFileSync(recording, '');
    const result = await run(terminal, ['nmea', recording]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('busfare-terminal nmea: 0 个定位结果，0 条被拒绝，0 条被忽略\n');
  });

  it('nmea unreadable file in Chinese', async () => {
    const recording = join(directory, 'absent.nmea');
    const result = await run(terminal, ['nmea', recording]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`busfare-terminal nmea: 读取 ${recording} 失败：`);
  });

  it('terminal unknown command still prints usage', async () => {
    const result = await run(terminal, ['frob']);
    expect(result.stderr).toContain('用法：busfare-terminal COMMAND');
  });
});

describe('config errors', () => {
  it('serve config error has a Chinese lead line', async () => {
    const config = writeJson('bad.json', { mqtt: { port: 'x' } });
    const result = await run(backoffice, ['serve', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice: 配置无效（${config}）：\n  mqtt.port: `);
  });

  it('serve config error in English', async () => {
    const config = writeJson('bad.json', { mqtt: { port: 'x' } });
    const result = await run(backoffice, ['serve', '--config', config, '--lang', 'en']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice: invalid configuration (${config}):\n  mqtt.port: `);
  });

  it('serve missing database folder in Chinese', async () => {
    const db = join(directory, 'absent', 'office.db');
    const result = await run(backoffice, ['serve', '--db', db]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice: 配置无效（defaults）：\n  db: 数据库 ${db} 所在的文件夹 ${join(directory, 'absent')} 不存在`);
  });

  it('serve key file error in Chinese', async () => {
    const keys = join(directory, 'keys.json');
    writeFileSync(keys, '{', { mode: 0o600 });
    const result = await run(backoffice, ['serve', '--db', join(directory, 'office.db'), '--keys', keys, '--mqtt-port', '0', '--http-port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice: 密钥文件无效（${keys}）：\n  不是有效的 JSON（语法错误）\n`);
  });

  it('terminals missing database folder in Chinese', async () => {
    const db = join(directory, 'absent', 'office.db');
    const result = await run(backoffice, ['terminals', 'add', 'T9', '--db', db]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice terminals: 配置无效（--db）：\n  db: 数据库 ${db} 所在的文件夹 ${join(directory, 'absent')} 不存在`);
  });

  it('params config error in Chinese', async () => {
    const config = writeJson('bad.json', { businessDayCutoff: '9am' });
    const result = await run(backoffice, ['params', 'status', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice params: 配置无效（${config}）：\n  businessDayCutoff: `);
  });

  it('run config error has a Chinese lead line', async () => {
    const config = writeJson('terminal.json', { terminalId: 7 });
    const result = await run(terminal, ['run', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-terminal: 终端配置无效（${config}）：\n  terminalId: `);
  });

  it('run config error in English', async () => {
    const config = writeJson('terminal.json', { terminalId: 7 });
    const result = await run(terminal, ['run', '--config', config, '--lang', 'en']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-terminal: invalid terminal configuration (${config}):\n  terminalId: `);
  });
});

describe('listen failure', () => {
  it('port in use in Chinese', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const result = await run(backoffice, ['serve', '--db', join(directory, 'office.db'), '--mqtt-port', String(port), '--http-port', '0']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`busfare-backoffice: 监听失败，地址 127.0.0.1:${port} 已被占用。`);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

describe('confirmations', () => {
  it('terminals add and remove in Chinese', async () => {
    const db = join(directory, 'office.db');
    const added = await run(backoffice, ['terminals', 'add', 'T9', '--db', db]);
    expect(added.code).toBe(0);
    expect(added.stderr).toBe('终端 T9 已登记；上面的密钥只显示这一次\n');

    const removed = await run(backoffice, ['terminals', 'remove', 'T9', '--db', db]);
    expect(removed.code).toBe(0);
    expect(removed.stderr).toBe('终端 T9 的凭据已注销\n');
  });

  it('terminals add and remove in English', async () => {
    const db = join(directory, 'office.db');
    const added = await run(backoffice, ['terminals', 'add', 'T9', '--db', db, '--lang', 'en']);
    expect(added.stderr).toBe('terminal T9 registered; the secret above is shown only once\n');

    const removed = await run(backoffice, ['terminals', 'remove', 'T9', '--db', db, '--lang', 'en']);
    expect(removed.stderr).toBe('terminal T9 removed\n');
  });

  it('params keygen in Chinese', async () => {
    const privateKey = join(directory, 'k.pem');
    const publicKey = join(directory, 'k.pub');
    const result = await run(backoffice, ['params', 'keygen', '--private', privateKey, '--public', publicKey]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`已写入 ${privateKey}（权限 0600）和 ${publicKey}；请把 parameterSigningKey 设为 ${privateKey}，并把 ${publicKey} 部署到每台终端\n`);
  });

  it('params keygen in English', async () => {
    const privateKey = join(directory, 'k.pem');
    const publicKey = join(directory, 'k.pub');
    const result = await run(backoffice, ['params', 'keygen', '--private', privateKey, '--public', publicKey, '--lang', 'en']);
    expect(result.stderr).toBe(`wrote ${privateKey} (mode 0600) and ${publicKey}; set parameterSigningKey to ${privateKey} and provision ${publicKey} on every terminal\n`);
  });

  it('params publish and status in Chinese', async () => {
    const privateKey = join(directory, 'k.pem');
    const db = join(directory, 'office.db');
    await run(backoffice, ['params', 'keygen', '--private', privateKey, '--public', join(directory, 'k.pub')]);
    const blacklist = join(directory, 'blacklist.txt');
    writeFileSync(blacklist, '00000000000000AA\n');

    const published = await run(backoffice, ['params', 'publish', '--kind', 'blacklist', '--file', blacklist, '--version', '1', '--db', db, '--signing-key', privateKey]);
    expect(published.code).toBe(0);
    expect(published.stderr).toBe(`已把 blacklist 版本 1 存入 ${db}；运行中的后台会发布它\n`);

    const status = await run(backoffice, ['params', 'status', '--db', db]);
    expect(status.code).toBe(0);
    expect(status.stderr).toBe('共 0 台终端，0 台落后，0 台未报告版本\n');
  });
});

describe('serve start lines', () => {
  /** Runs serve until it prints its operator console line, then stops it as SIGINT would. */
  async function serveUntilStarted(args: string[], marker: string): Promise<Output> {
    const before = { SIGINT: new Set(process.listeners('SIGINT')), SIGTERM: new Set(process.listeners('SIGTERM')) };
    const running = output.run(backoffice, ['serve', '--mqtt-port', '0', '--http-port', '0', ...args]);
    for (let attempt = 0; attempt < 400 && !output.stderr.includes(marker); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 25));
    const added = (signal: 'SIGINT' | 'SIGTERM') => process.listeners(signal).filter((listener) => !before[signal].has(listener));
    const stopListeners = added('SIGINT');
    const otherListeners = added('SIGTERM');
    expect(stopListeners).toHaveLength(1);
    for (const listener of otherListeners) process.removeListener('SIGTERM', listener);
    process.removeListener('SIGINT', stopListeners[0]!);
    (stopListeners[0] as (signal: NodeJS.Signals) => void)('SIGINT');
    return running;
  }

  it('prints console, ops and password lines in Chinese', async () => {
    const db = join(directory, 'office.db');
    const result = await serveUntilStarted(['--db', db], 'busfare-backoffice: MQTT 服务器：');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^busfare-backoffice: 后台控制台：http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(result.stderr).toMatch(/^busfare-backoffice: 运营控制台（需登录）：http:\/\/127\.0\.0\.1:\d+\/ops$/m);
    expect(result.stderr).toMatch(/^busfare-backoffice: MQTT 服务器：mqtt:\/\/127\.0\.0\.1:\d+$/m);
    expect(result.stderr).toContain(`busfare-backoffice: 已创建首个管理员 admin，其密码在文件 ${db}.admin-password 中（权限 0600）`);
    expect(readFileSync(`${db}.admin-password`, 'utf8')).toMatch(/^admin\n/);
  });

  it('prints English lines and no password file on a second start', async () => {
    const db = join(directory, 'office.db');
    await serveUntilStarted(['--db', db], 'MQTT 服务器：');
    const result = await serveUntilStarted(['--db', db, '--lang', 'en'], 'busfare-backoffice: MQTT broker: ');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^busfare-backoffice: Back office console: http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(result.stderr).toMatch(/^busfare-backoffice: Operator console \(login required\): http:\/\/127\.0\.0\.1:\d+\/ops$/m);
    expect(result.stderr).not.toContain('First administrator');
  });
});

describe('busfare-bench language flags', () => {
  it('run help accepts --lang zh', async () => {
    const result = await run(bench, ['run', '--help', '--lang', 'zh']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: busfare-bench run/);
    expect(result.stdout).toContain('busfare-bench prints English only');
  });

  it('top-level help documents --lang', async () => {
    const result = await run(bench, ['--help', '--lang=en']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--lang zh|en');
    expect(result.stdout).toContain('busfare-bench prints English only');
  });

  it('ignores an invalid BUSFARE_LANG', async () => {
    vi.stubEnv('BUSFARE_LANG', 'fr');
    const result = await run(bench, ['run', '--help']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('exits 2 on --lang xx', async () => {
    const result = await run(bench, ['run', '--help', '--lang', 'xx']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('busfare-bench: invalid --lang "xx": expected zh or en\n');
  });

  it('unknown command names the program', async () => {
    const result = await run(bench, ['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^busfare-bench: unknown command "frobnicate"/);
  });

  it('words option errors as the other programs do', async () => {
    const unknown = await run(bench, ['run', '--frob']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('busfare-bench: unknown option "--frob". Run "busfare-bench run --help" to list the options.\n');

    const defaultCommand = await run(bench, ['--frob']);
    expect(defaultCommand.code).toBe(2);
    expect(defaultCommand.stderr).toBe('busfare-bench: unknown option "--frob". Run "busfare-bench run --help" to list the options.\n');

    const missing = await run(bench, ['run', '--duration']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^busfare-bench: .*--duration/);

    const extra = await run(bench, ['run', 'extra']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/^busfare-bench: .*"extra"/);
  });
});
