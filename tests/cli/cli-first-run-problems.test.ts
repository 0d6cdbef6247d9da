import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main as backofficeMain } from '../../backoffice/src/command-line.js';
import { main as benchMain } from '../../simulators/src/command-line.js';
import { terminalMain } from '../../terminal/src/cli/terminal-main.js';
import { type CapturedOutput, type CommandRunner, captureOutput } from './command-output.js';

// Mistakes a person makes on a first run of the commands: a key folder that does not exist yet,
// a command without its required arguments, a bench whose port is taken and pcscd not running.

const backoffice: CommandRunner = (args) => backofficeMain(args);
const bench: CommandRunner = (args) => benchMain(args);
const terminal: CommandRunner = (args) => terminalMain(args);

let output: CapturedOutput;
let directory: string;

beforeEach(() => {
  output = captureOutput();
  vi.stubEnv('BUSFARE_LANG', '');
  directory = mkdtempSync(join(tmpdir(), 'busfare-cli-first-run-'));
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(directory, { recursive: true, force: true });
});

describe('params keygen into a missing folder', () => {
  it('names the folder in Chinese', async () => {
    const folder = join(directory, 'etc', 'busfare');
    const privateKey = join(folder, 'parameters.key.pem');
    const result = await output.run(backoffice, ['params', 'keygen', '--private', privateKey, '--public', join(folder, 'parameters.pub.pem')]);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`busfare-backoffice params: 无法创建密钥文件 ${privateKey}：文件夹 ${folder} 不存在；请先创建它（例如 "mkdir -p ${folder}"），或换一个已有文件夹中的路径\n`);
  });

  it('names the folder in English', async () => {
    const folder = join(directory, 'etc', 'busfare');
    const privateKey = join(folder, 'parameters.key.pem');
    const result = await output.run(backoffice, ['params', 'keygen', '--private', privateKey, '--public', join(folder, 'parameters.pub.pem'), '--lang', 'en']);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`busfare-backoffice params: cannot create the key file ${privateKey}: folder ${folder} does not exist, so create it first (for example "mkdir -p ${folder}") or choose a path in an existing folder\n`);
  });

  it('writes no private key when the public folder is missing', async () => {
    const privateKey = join(directory, 'parameters.key.pem');
    const publicFolder = join(directory, 'public');
    const publicKey = join(publicFolder, 'parameters.pub.pem');
    const result = await output.run(backoffice, ['params', 'keygen', '--private', privateKey, '--public', publicKey, '--lang', 'en']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`cannot create the key file ${publicKey}: folder ${publicFolder} does not exist`);
    expect(existsSync(privateKey)).toBe(false);
  });

  it('succeeds once the folder exists', async () => {
    const folder = join(directory, 'etc', 'busfare');
    mkdirSync(folder, { recursive: true });
    const result = await output.run(backoffice, ['params', 'keygen', '--private', join(folder, 'parameters.key.pem'), '--public', join(folder, 'parameters.pub.pem')]);

    expect(result.code).toBe(0);
    expect(existsSync(join(folder, 'parameters.pub.pem'))).toBe(true);
  });
});

describe('params keygen run twice', () => {
  function keygen(privateKey: string, publicKey: string, language: string) {
    return output.run(backoffice, ['params', 'keygen', '--private', privateKey, '--public', publicKey, '--lang', language]);
  }

  it('keeps the existing pair in Chinese', async () => {
    const privateKey = join(directory, 'parameters.key.pem');
    const publicKey = join(directory, 'parameters.pub.pem');
    expect((await keygen(privateKey, publicKey, 'zh')).code).toBe(0);
    const before = readFileSync(privateKey, 'utf8');

    const result = await keygen(privateKey, publicKey, 'zh');

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice params: 参数签名密钥文件 ${privateKey} 已存在，keygen 未做任何改动。`);
    expect(result.stderr).toContain(`"mv ${privateKey} ${privateKey}.old"`);
    expect(result.stderr).not.toContain('EEXIST');
    expect(readFileSync(privateKey, 'utf8')).toBe(before);
  });

  it('keeps the existing pair in English', async () => {
    const privateKey = join(directory, 'parameters.key.pem');
    const publicKey = join(directory, 'parameters.pub.pem');
    await keygen(privateKey, publicKey, 'en');

    const result = await keygen(privateKey, publicKey, 'en');

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`busfare-backoffice params: parameter signing key ${privateKey}: the file already exists, and keygen changed nothing.`);
    expect(result.stderr).toContain('keygen has no option to overwrite a file.');
    expect(result.stderr).not.toContain('EEXIST');
  });

  it('writes no private key beside an existing public key', async () => {
    const privateKey = join(directory, 'new.key.pem');
    const publicKey = join(directory, 'parameters.pub.pem');
    writeFileSync(publicKey, 'pinned by terminals\n');

    const result = await keygen(privateKey, publicKey, 'en');

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`parameter signing key ${publicKey}: the file already exists`);
    expect(existsSync(privateKey)).toBe(false);
    expect(readFileSync(publicKey, 'utf8')).toBe('pinned by terminals\n');
  });
});

describe('arrivals-eval without options', () => {
  it('prints the usage in Chinese', async () => {
    const result = await output.run(backoffice, ['arrivals-eval']);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^busfare-backoffice: arrivals-eval：缺少 --format（suzhou 或 gtfs-avl）\n\n用法：busfare-backoffice arrivals-eval --format suzhou --events FILE/);
    expect(result.stderr).toContain('--format suzhou|gtfs-avl  输入格式');
    expect(result.stderr).not.toContain('--format 的值');
  });

  it('prints the usage in English', async () => {
    const result = await output.run(backoffice, ['arrivals-eval', '--lang', 'en']);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^busfare-backoffice: arrivals-eval: missing --format \(suzhou or gtfs-avl\)\n\nUsage: busfare-backoffice arrivals-eval --format suzhou --events FILE/);
    expect(result.stderr).toContain('--format suzhou|gtfs-avl  Input format');
    expect(result.stderr).toMatch(/Show this help\n$/);
  });

  it('still rejects an unknown format by name', async () => {
    const result = await output.run(backoffice, ['arrivals-eval', '--format', 'csv', '--lang', 'en']);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe('busfare-backoffice: invalid --format "csv": expected suzhou or gtfs-avl\n');
  });
});

describe('benchmark without a group', () => {
  it('prints the usage with the groups', async () => {
    const result = await output.run(bench, ['benchmark']);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^busfare-bench benchmark: missing GROUP\n\nUsage: busfare-bench benchmark GROUP\n/);
    expect(result.stderr).toContain('Groups: arrivals, blacklist, drain, ingest, tap\n');
    expect(result.stderr).not.toContain('unknown benchmark group');
  });

  it('still names an unknown group', async () => {
    const result = await output.run(bench, ['benchmark', 'speed']);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe('busfare-bench benchmark: unknown benchmark group "speed": expected one of arrivals, blacklist, drain, ingest, tap\n');
  });
});

describe('bench run with its console port taken', () => {
  let holder: Server;
  let port: number;

  beforeEach(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as AddressInfo).port;
  });

  afterEach(async () => {
    await new Promise((resolve) => holder.close(resolve));
  });

  it('removes the data folder it made', async () => {
    // os.tmpdir() reads TMPDIR on each call, so the bench makes its folder in this test's folder.
    vi.stubEnv('TMPDIR', directory);
    const result = await output.run(bench, ['run', '--http-port', String(port), '--mqtt-port', '0', '--screen-port', '0', '--duration', '5']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`busfare-bench: port ${port} on 127.0.0.1 is already in use: stop the program that holds it, or pass another --http-port (0 picks a free port)\n`);
    expect(readdirSync(directory)).toEqual([]);
  }, 60_000);

  it('names the option beside --port 0', async () => {
    vi.stubEnv('TMPDIR', directory);
    const result = await output.run(bench, ['run', '--port', '0', '--http-port', String(port), '--duration', '5']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`busfare-bench: port ${port} on 127.0.0.1 is already in use: stop the program that holds it, or pass another --http-port (0 picks a free port)\n`);
    expect(result.stderr).not.toContain('pick free ports for all');
  }, 60_000);

  it('names the broker port option', async () => {
    vi.stubEnv('TMPDIR', directory);
    const result = await output.run(bench, ['run', '--mqtt-port', String(port), '--http-port', '0', '--screen-port', '0', '--duration', '5']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use: stop the program that holds it, or pass another --mqtt-port (0 picks a free port)\n`);
  }, 60_000);

  it('removes the data folder of a --days run', async () => {
    vi.stubEnv('TMPDIR', directory);
    const result = await output.run(bench, ['run', '--days', '1', '--http-port', String(port), '--mqtt-port', '0']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`busfare-bench: port ${port} on 127.0.0.1 is already in use`);
    expect(readdirSync(directory)).toEqual([]);
  }, 60_000);

  it('keeps a folder given with --data-dir', async () => {
    const dataDir = join(directory, 'bench-data');
    const result = await output.run(bench, ['run', '--data-dir', dataDir, '--http-port', String(port), '--mqtt-port', '0', '--screen-port', '0', '--duration', '5']);

    expect(result.code).toBe(1);
    expect(existsSync(join(dataDir, 'bench.log'))).toBe(true);
  }, 60_000);
});

describe.each(['list-readers', 'read-card'])('%s without pcscd', (command) => {
  // PCSCLITE_CSOCK_NAME points the PC/SC client at a socket that nothing listens on.
  beforeEach(() => {
    vi.stubEnv('PCSCLITE_CSOCK_NAME', join(directory, 'pcscd.comm'));
  });

  it('says how to start pcscd in Chinese', async () => {
    const result = await output.run(terminal, [command]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`读卡服务（pcscd）未运行：${join(directory, 'pcscd.comm')}\n`);
    expect(result.stderr).toContain('请启动 pcscd 服务');
    expect(result.stderr).toContain('apt-get install pcscd');
  });

  it('says how to start pcscd in English', async () => {
    const result = await output.run(terminal, [command, '--lang', 'en']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Card reader service (pcscd) is not running: ${join(directory, 'pcscd.comm')}\n`);
    expect(result.stderr).toContain('Start the pcscd service');
    expect(result.stderr).toContain('apt-get install pcscd');
  });
});
