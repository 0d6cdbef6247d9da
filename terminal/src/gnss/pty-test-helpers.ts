import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Returns why a binary cannot be run, or undefined when it runs. */
export function missingBinary(name: string, versionFlag = '-V'): string | undefined {
  const result = spawnSync(name, [versionFlag], { stdio: 'ignore' });
  return result.error ? `${name} not available (${result.error.message})` : undefined;
}

/** Polls `condition` every 10 ms; fails after `limitMs` with `what` in the message. */
export async function waitFor(condition: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface PtyPair {
  process: ChildProcess;
  /** Path the test writes to. */
  writerPath: string;
  /** Path the code under test opens. */
  readerPath: string;
  stop(): Promise<void>;
}

/** Starts `socat` joining two ptys with symlinks in `dir`; mode 666 lets a daemon that drops privileges open them. */
export async function startPtyPair(dir: string, writerName: string, readerName: string): Promise<PtyPair> {
  const writerPath = join(dir, writerName);
  const readerPath = join(dir, readerName);
  const child = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,mode=666,link=${writerPath}`, `pty,raw,echo=0,mode=666,link=${readerPath}`],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(() => existsSync(writerPath) && existsSync(readerPath), `socat links ${writerPath} and ${readerPath}`);
  return {
    process: child,
    writerPath,
    readerPath,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
