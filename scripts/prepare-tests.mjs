// Prepares this machine for the test suite. As root it installs the Debian packages the tests need,
// and it installs the optional native addons that npm skipped for lack of a header or a toolchain.
// `npm test` and vitest's global setup both run it, so `npx vitest run` as root skips no test.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages } from './system-packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(command, args) {
  return spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] }).status ?? 1;
}

function resolvesFrom(workspace, name) {
  try {
    return createRequire(join(root, workspace, 'package.json')).resolve(name);
  } catch {
    return undefined;
  }
}

/**
 * Installs the missing packages and addons. Without root, the addons are fetched from the npm
 * registry only when `installAddons` is set. As root they are always fetched when missing.
 */
export async function prepareTests(log, { installAddons = true } = {}) {
  await ensureSystemPackages(log);
  const mayInstall = installAddons || process.getuid?.() === 0;

  // nfc-pcsc is optional: npm skips its native addon when libpcsclite-dev was missing at install time.
  const pcscliteManifest = resolvesFrom('terminal', '@pokusew/pcsclite/package.json');
  const pcscHeaders = existsSync('/usr/include/PCSC/winscard.h');
  if (pcscliteManifest && pcscHeaders && !existsSync(join(dirname(pcscliteManifest), 'build', 'Release', 'pcsclite.node'))) {
    log('rebuilding @pokusew/pcsclite now that libpcsclite-dev is present');
    run('npm', ['rebuild', '@pokusew/pcsclite']);
  } else if (!pcscliteManifest && pcscHeaders && mayInstall) {
    // npm removes an optional dependency whose build failed, so there is nothing left to rebuild.
    log('installing the optional nfc-pcsc addon now that libpcsclite-dev is present');
    run('npm', ['install', '--no-save', '--no-audit', '--no-fund', 'nfc-pcsc', '-w', 'terminal']);
  }

  // pkcs11js is optional as well: npm skips it where no C++ toolchain was present at install time.
  if (!resolvesFrom('backoffice', 'pkcs11js') && mayInstall) {
    log('installing the optional pkcs11js addon for the HSM tests');
    run('npm', ['install', '--no-save', '--no-audit', '--no-fund', 'pkcs11js', '-w', 'backoffice']);
  }
}
