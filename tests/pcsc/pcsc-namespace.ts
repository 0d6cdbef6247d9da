import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, it } from 'vitest';

/** Set in the environment of the vitest run that executes inside the private namespaces. */
const INSIDE_ENV = 'BUSFARE_PCSC_NAMESPACE';
const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Steps run as root inside `unshare --net --mount --propagation private` before the tests: bring
 * up `lo`, set `quickack 1` on the loopback routes (vpcd 3.3 sends the length and the payload in
 * two writes, so delayed ACKs would stall every APDU by about 40 ms), and mount a tmpfs on
 * /run/pcscd, whose socket path pcscd 1.9 hard-codes, so each run has its own.
 */
const NAMESPACE_SETUP = [
  'set -e',
  'ip link set lo up',
  'ip route replace local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 quickack 1',
  'ip route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 quickack 1',
  'mkdir -p /run/pcscd',
  'mount -t tmpfs -o size=1m,mode=0755 tmpfs /run/pcscd',
  'exec "$@"',
].join('\n');

/** True in the vitest run that the namespace runner started. */
export function insideNamespace(): boolean {
  return process.env[INSIDE_ENV] === '1';
}

/**
 * Why the PC/SC tests cannot run here, or undefined when they can. Only a missing prerequisite
 * that cannot be installed (not root, no `unshare`) skips them; missing Debian packages are
 * installed by `npm test` as root, so on CI they are present.
 */
export function namespaceUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: the PC/SC tests need root for unshare --net --mount';
  if (spawnSync('unshare', ['--version'], { stdio: 'ignore' }).status !== 0) return 'unshare (util-linux) is not available';
  return undefined;
}

export interface NamespaceRun {
  exitCode: number | null;
  /** Test title → vitest status ('passed', 'failed', 'skipped', ...). */
  results: Map<string, string>;
  output: string;
}

/**
 * Runs one vitest file inside fresh network and mount namespaces, with the setup steps above,
 * and returns the status of each test by title. `timeout` ends a run that hangs, so a stuck
 * pcscd or PC/SC call cannot hold a vitest worker.
 */
export function runVitestInNamespace(testFile: string, timeoutSeconds: number): Promise<NamespaceRun> {
  const reportDir = mkdtempSync(join(tmpdir(), 'busfare-pcsc-report-'));
  const reportFile = join(reportDir, 'report.json');
  const vitest = join(repositoryRoot, 'node_modules', 'vitest', 'vitest.mjs');
  const args = [
    '--kill-after=5',
    String(timeoutSeconds),
    'unshare',
    '--net',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    NAMESPACE_SETUP,
    'pcsc-namespace',
    process.execPath,
    vitest,
    'run',
    relative(repositoryRoot, testFile),
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${reportFile}`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('timeout', args, { cwd: repositoryRoot, env: { ...process.env, [INSIDE_ENV]: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (exitCode) => {
      const results = new Map<string, string>();
      if (existsSync(reportFile)) {
        const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { testResults: { assertionResults: { title: string; status: string }[] }[] };
        for (const file of report.testResults) for (const test of file.assertionResults) results.set(test.title, test.status);
      }
      rmSync(reportDir, { recursive: true, force: true });
      resolve({ exitCode, results, output });
    });
  });
}

/**
 * Outside the namespace: runs `testFile` inside it once, and declares one test per title that
 * reports the status of the test of that title inside.
 */
export function reportNamespaceRun(testFile: string, titles: readonly string[], timeoutSeconds: number): void {
  let run: NamespaceRun;
  beforeAll(async () => {
    run = await runVitestInNamespace(testFile, timeoutSeconds);
  }, (timeoutSeconds + 20) * 1000);
  for (const title of titles) {
    it(title, () => {
      const status = run.results.get(title);
      if (status !== 'passed') throw new Error(`"${title}" ${status ?? 'did not run'} inside the namespace (exit ${run.exitCode}):\n${run.output.slice(-6000)}`);
    });
  }
}

/**
 * Refuses to go on when the namespace has any network interface besides `lo`: vpcd 3.3 in server
 * mode binds 0.0.0.0, so only a namespace with loopback alone keeps its port unreachable from
 * other hosts.
 */
export function assertLoopbackOnly(): void {
  const names = Object.keys(networkInterfaces());
  const others = names.filter((name) => name !== 'lo');
  if (others.length > 0) throw new Error(`refusing to start pcscd with vpcd: interfaces other than lo exist (${others.join(', ')}); run inside unshare --net`);
}

/** pcscd with the vpcd virtual reader (two slots: "Virtual PCD 00 00" and "Virtual PCD 00 01"), as a child process. */
export class PcscdProcess {
  private child: ChildProcess | undefined;
  private readonly configDir: string;

  constructor() {
    this.configDir = mkdtempSync(join(tmpdir(), 'busfare-pcscd-'));
    mkdirSync(join(this.configDir, 'reader.conf.d'), { recursive: true });
    // DEVICENAME /dev/null:0x8C7B puts vpcd in server mode: it listens on 35963 (slot 0) and 35964 (slot 1).
    writeFileSync(
      join(this.configDir, 'reader.conf.d', 'vpcd'),
      ['FRIENDLYNAME "Virtual PCD"', 'DEVICENAME   /dev/null:0x8C7B', `LIBPATH      ${VPCD_DRIVER}`, 'CHANNELID    0x8C7B', ''].join('\n'),
    );
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts pcscd and waits until its socket exists. */
  async start(): Promise<void> {
    if (!insideNamespace()) throw new Error('refusing to start pcscd outside the private namespace');
    assertLoopbackOnly();
    if (this.child) return;
    const child = spawn('pcscd', ['--foreground', '--config', join(this.configDir, 'reader.conf.d')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    this.child = child;
    const deadline = Date.now() + 5000;
    while (!existsSync(PCSCD_SOCKET)) {
      if (child.exitCode !== null) throw new Error(`pcscd exited with code ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`pcscd did not create ${PCSCD_SOCKET} within 5 s: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Stops pcscd by its PID with SIGTERM (SIGKILL with `hard`) and waits for it to exit. */
  async stop(hard = false): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.configDir, { recursive: true, force: true });
  }
}
