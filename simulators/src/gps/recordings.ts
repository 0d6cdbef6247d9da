import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Root of the simulators package: the nearest folder above this module that contains a
 * package.json and `data/nmea`. Works from `src/gps/` and from the bundled `dist/cli.js`.
 */
export function simulatorsPackageRoot(start = dirname(fileURLToPath(import.meta.url))): string {
  let directory = start;
  for (;;) {
    if (existsSync(join(directory, 'package.json')) && existsSync(join(directory, 'data', 'nmea'))) return directory;
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`simulators package root not found above ${start}`);
    directory = parent;
  }
}

/** NMEA recordings shipped with the simulators; see data/nmea/SOURCES.md for origin and licence. */
export const NMEA_RECORDINGS = {
  /** Garmin receiver, 3 h drive near Reno, Nevada, 2005; 4,469 epochs every 2 s (Apache-2.0). */
  drive: 'drive-nmeaparser.log',
  /** SiRF-TriG GPS + BeiDou module near Shanghai, 2015 (BSD-2-Clause, GPSD). */
  beidou: 'beidou-bd.log',
  /** Quectel EG25-G modem GNSS with fix flapping, 2022 (BSD-2-Clause, GPSD). */
  quectel: 'quectel-eg25-g.log',
} as const;

export type NmeaRecordingName = keyof typeof NMEA_RECORDINGS;

export function nmeaRecordingPath(name: NmeaRecordingName, root = simulatorsPackageRoot()): string {
  return join(root, 'data', 'nmea', NMEA_RECORDINGS[name]);
}
