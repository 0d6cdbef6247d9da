import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GnssFix } from '@busfare/terminal';
import { describe, expect, it } from 'vitest';
import { NMEA_RECORDINGS, nmeaRecordingPath, simulatorsPackageRoot } from './recordings.js';
import { createBusReplaySource, DRIVE_RECORDING_FIXES, planBusReplays } from './route-replay.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

describe('NMEA recordings', () => {
  it('finds the package root from sources and from dist', () => {
    expect(simulatorsPackageRoot()).toBe(PACKAGE_ROOT);
    expect(simulatorsPackageRoot(join(PACKAGE_ROOT, 'dist'))).toBe(PACKAGE_ROOT);
  });

  it('fails clearly outside the package', () => {
    const dir = mkdtempSync(join(tmpdir(), 'busfare-recordings-'));
    try {
      expect(() => simulatorsPackageRoot(dir)).toThrow(/simulators package root not found above/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts another root holding data/nmea', () => {
    const dir = mkdtempSync(join(tmpdir(), 'busfare-recordings-'));
    try {
      mkdirSync(join(dir, 'data', 'nmea'), { recursive: true });
      writeFileSync(join(dir, 'package.json'), '{}');
      expect(nmeaRecordingPath('drive', simulatorsPackageRoot(join(dir, 'data')))).toBe(join(dir, 'data', 'nmea', 'drive-nmeaparser.log'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(Object.keys(NMEA_RECORDINGS) as (keyof typeof NMEA_RECORDINGS)[])('ships the %s recording with its licence', (name) => {
    const path = nmeaRecordingPath(name);
    expect(existsSync(path)).toBe(true);
    const licence = name === 'drive' ? 'LICENSE-NmeaParser.txt' : 'LICENSE-gpsd.txt';
    expect(existsSync(join(PACKAGE_ROOT, 'data', 'nmea', licence))).toBe(true);
  });
});

describe('bus replays on the drive recording', () => {
  it('spreads buses along the recording in alternate directions', () => {
    expect(planBusReplays(3)).toEqual([
      { bus: 0, startOffset: 0, reverse: false },
      { bus: 1, startOffset: 2946, reverse: true },
      { bus: 2, startOffset: 2946, reverse: false },
    ]);
  });

  it.each([0, -1, 1.5])('rejects a bus count of %s', (count) => {
    expect(() => planBusReplays(count)).toThrow(/busCount must be a positive integer/);
  });

  it('moves three buses differently', async () => {
    const positions: GnssFix[][] = [];
    for (const plan of planBusReplays(3)) {
      const source = createBusReplaySource(plan, { speed: Infinity });
      const fixes: GnssFix[] = [];
      source.on('fix', (fix) => fixes.push(fix));
      await source.start();
      expect(source.length).toBe(DRIVE_RECORDING_FIXES);
      while (fixes.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      await source.stop();
      positions.push(fixes.slice(0, 3));
    }

    const starts = positions.map((fixes) => `${fixes[0]!.lat.toFixed(5)},${fixes[0]!.lon.toFixed(5)}`);
    // Fixes 0, 1473 and 2946 of the drive, the middle one driven backwards.
    expect(starts).toEqual(['39.43284,-119.76559', '39.24834,-119.95276', '39.31555,-120.15067']);
    for (const fixes of positions) {
      expect(fixes.every((fix) => fix.time !== null)).toBe(true);
      expect(fixes[0]!.lat).toBeGreaterThan(39);
      expect(fixes[0]!.lon).toBeLessThan(-119);
    }
  });
});
