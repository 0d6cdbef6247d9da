import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const WORKSPACE_SOURCES: Record<string, string> = {
  '@busfare/shared-protocol': 'shared-protocol/src/index.ts',
  '@busfare/terminal': 'terminal/src/index.ts',
  '@busfare/backoffice': 'backoffice/src/index.ts',
  '@busfare/simulators': 'simulators/src/index.ts',
};

/**
 * Steps run as root inside `unshare --mount --propagation private`: mount a tmpfs of the size
 * given in KiB on the directory, then start the child. The mount exists only in that namespace,
 * so it disappears with the child, and a test that dies leaves nothing mounted.
 */
const NAMESPACE_SETUP = ['set -e', 'mount -t tmpfs -o "size=${1}k,mode=0700" tmpfs "$2"', 'shift 2', 'exec "$@"'].join('\n');

/**
 * Why the full-disk tests cannot run here, or undefined when they can. Only a missing
 * prerequisite that cannot be installed (not root, no `unshare`) skips them. CI runs them as root.
 */
export function tmpfsUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: the full-disk tests need root for unshare --mount and mount -t tmpfs';
  if (spawnSync('unshare', ['--version'], { stdio: 'ignore' }).status !== 0) return 'unshare (util-linux) is not available';
  return undefined;
}

/** A child script bundled from TypeScript, with node_modules reachable from its folder. */
export interface BundledChild {
  script: string;
  /** Folder of the bundle; the test mounts its tmpfs on a folder inside it. */
  directory: string;
  dispose(): void;
}

/**
 * Bundles a TypeScript child script into one ES module. Workspace packages resolve to their
 * sources, as in vitest, and every other package stays an import that Node resolves through a
 * `node_modules` link beside the bundle (native addons and ESM-only packages cannot be bundled).
 */
export async function bundleChild(entry: string): Promise<BundledChild> {
  const directory = mkdtempSync(join(tmpdir(), 'busfare-tmpfs-child-'));
  symlinkSync(join(repositoryRoot, 'node_modules'), join(directory, 'node_modules'), 'dir');
  const script = join(directory, 'child.mjs');
  await build({
    entryPoints: [entry],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    plugins: [
      {
        name: 'workspace-sources',
        setup(plugin) {
          plugin.onResolve({ filter: /^[^./]/ }, (args) => {
            const source = WORKSPACE_SOURCES[args.path];
            if (source !== undefined) return { path: join(repositoryRoot, source) };
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return { script, directory, dispose: () => rmSync(directory, { recursive: true, force: true }) };
}

export interface TmpfsRun<Report> {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The last line of standard output, parsed as JSON; undefined when the child wrote none. */
  report: Report | undefined;
  stderr: string;
}

/**
 * Runs `node script mountPoint ...args` in a private mount namespace with a tmpfs of `sizeKiB`
 * mounted on `mountPoint`. `timeout` ends a child that hangs.
 */
export function runInTmpfs<Report>(script: string, mountPoint: string, sizeKiB: number, args: readonly string[], timeoutSeconds: number): Promise<TmpfsRun<Report>> {
  const command = [
    '--kill-after=5',
    String(timeoutSeconds),
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    NAMESPACE_SETUP,
    'tmpfs-namespace',
    String(sizeKiB),
    mountPoint,
    process.execPath,
    script,
    mountPoint,
    ...args,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('timeout', command, { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
    child.once('error', reject);
    child.once('close', (exitCode, signal) => {
      const lastLine = stdout.trim().split('\n').at(-1);
      let report: Report | undefined;
      try {
        report = lastLine ? (JSON.parse(lastLine) as Report) : undefined;
      } catch {
        report = undefined;
      }
      resolve({ exitCode, signal, report, stderr: stderr || stdout.slice(-4000) });
    });
  });
}
