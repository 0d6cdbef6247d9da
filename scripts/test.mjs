#!/usr/bin/env node
// `npm test`: installs the Debian packages the tests need (as root), rebuilds native modules that
// npm skipped because a system header was missing, type-checks, then runs every test once.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages } from './system-packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (line) => process.stderr.write(`[test] ${line}\n`);

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  return result.status ?? 1;
}

await ensureSystemPackages(log);

// nfc-pcsc is optional: npm skips its native addon when libpcsclite-dev was missing at install time.
const require = createRequire(join(root, 'terminal', 'package.json'));
let pcscliteDir;
try {
  pcscliteDir = dirname(require.resolve('@pokusew/pcsclite/package.json'));
} catch {
  pcscliteDir = undefined;
}
const pcscHeaders = existsSync('/usr/include/PCSC/winscard.h');
if (pcscliteDir && !existsSync(join(pcscliteDir, 'build', 'Release', 'pcsclite.node')) && pcscHeaders) {
  log('rebuilding @pokusew/pcsclite now that libpcsclite-dev is present');
  run('npm', ['rebuild', '@pokusew/pcsclite']);
} else if (!pcscliteDir && pcscHeaders) {
  // npm removes an optional dependency whose build failed, so there is nothing left to rebuild.
  log('installing the optional nfc-pcsc addon now that libpcsclite-dev is present');
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund', 'nfc-pcsc', '-w', 'terminal']);
}

// pkcs11js is optional as well: npm skips it where no C++ toolchain was present at install time.
const backofficeRequire = createRequire(join(root, 'backoffice', 'package.json'));
try {
  backofficeRequire.resolve('pkcs11js');
} catch {
  log('installing the optional pkcs11js addon for the HSM tests');
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund', 'pkcs11js', '-w', 'backoffice']);
}

log('type-checking');
if (run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json', '--noEmit']) !== 0) {
  log('type check failed');
  process.exit(1);
}

mkdirSync(join(root, '.tmp'), { recursive: true });
const vitestArgs = ['--no-install', 'vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=.tmp/vitest-report.json', ...process.argv.slice(2)];
process.exit(run('npx', vitestArgs));
