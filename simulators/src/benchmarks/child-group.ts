import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BenchmarkFigure } from './figure.js';

/** Path of the `busfare-bench` launcher of this package. */
function benchBinPath(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@busfare/simulators/package.json')), 'bin', 'busfare-bench.js');
}

/**
 * Runs `busfare-bench benchmark GROUP` in a child node process started with extra flags, such as
 * the V8 flags of the process the group models, which only the command line can set. The child's
 * progress goes to this process's stderr; its JSON lines come back as figures.
 */
export async function runGroupInChildProcess(group: string, nodeFlags: readonly string[]): Promise<BenchmarkFigure[]> {
  const child = spawn(process.execPath, [...nodeFlags, benchBinPath(), 'benchmark', group], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`benchmark group ${group} in a child process (node ${nodeFlags.join(' ')}) exited with ${code}`);
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as BenchmarkFigure);
}
