// Debian packages the test suite needs, and a check of which are missing. Used by `npm test` and
// `.ci/run`; installs only when running as root, since only root can.
import { spawnSync } from 'node:child_process';

/** Packages and the file each one provides, so a check needs no dpkg database queries. */
export const SYSTEM_PACKAGES = [
  { name: 'libpcsclite-dev', provides: '/usr/include/PCSC/winscard.h' },
  { name: 'pcscd', provides: '/usr/sbin/pcscd' },
  { name: 'vsmartcard-vpcd', provides: '/usr/lib/pcsc/drivers/serial/libifdvpcd.so' },
  { name: 'pcsc-tools', provides: '/usr/bin/pcsc_scan' },
  { name: 'socat', provides: '/usr/bin/socat' },
  { name: 'gpsd', provides: '/usr/sbin/gpsd' },
  { name: 'mosquitto', provides: '/usr/sbin/mosquitto' },
  { name: 'mosquitto-clients', provides: '/usr/bin/mosquitto_pub' },
  { name: 'chromium', provides: '/usr/bin/chromium' },
  { name: 'espeak-ng', provides: '/usr/bin/espeak-ng' },
  // Chinese glyphs for the pages that browser tests render and screenshot.
  { name: 'fonts-wqy-microhei', provides: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc' },
  { name: 'iproute2', provides: '/usr/sbin/ip' },
  { name: 'softhsm2', provides: '/usr/lib/softhsm/libsofthsm2.so' },
  // A toolchain for the native addons that have no prebuilt binary here (pkcs11js, and
  // better-sqlite3 where its prebuilt download is unreachable).
  { name: 'g++', provides: '/usr/bin/g++' },
  { name: 'make', provides: '/usr/bin/make' },
  { name: 'python3', provides: '/usr/bin/python3' },
];

export async function missingPackages() {
  const { existsSync } = await import('node:fs');
  return SYSTEM_PACKAGES.filter((pkg) => !existsSync(pkg.provides)).map((pkg) => pkg.name);
}

/** Installs missing packages when root; returns the names still missing afterwards. */
export async function ensureSystemPackages(log = (line) => process.stderr.write(`${line}\n`)) {
  const missing = await missingPackages();
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0) {
    log(`system packages missing and not root, tests that need them will be skipped: ${missing.join(' ')}`);
    return missing;
  }
  log(`installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (update.status !== 0) log('apt-get update failed; trying the install with the package lists already present');
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (install.status !== 0) log(`apt-get install failed with exit code ${install.status}`);
  return missingPackages();
}
