#!/usr/bin/env node
// `npm test`: installs the Debian packages the tests need (as root), rebuilds native modules that
// npm skipped because a system header was missing, type-checks, then runs every test once.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareTests } from './prepare-tests.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (line) => process.stderr.write(`[test] ${line}\n`);

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  return result.status ?? 1;
}

await prepareTests(log);

log('type-checking');
if (run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json', '--noEmit']) !== 0) {
  log('type check failed');
  process.exit(1);
}

mkdirSync(join(root, '.tmp'), { recursive: true });
const vitestArgs = ['--no-install', 'vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=.tmp/vitest-report.json', ...process.argv.slice(2)];
process.exit(run('npx', vitestArgs));
