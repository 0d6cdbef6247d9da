import type { EventEmitter } from 'node:events';
import type { DeviceHealth } from '@busfare/shared-protocol';

/** One GNSS epoch with a usable fix, after the fix-quality filter. */
export interface GnssFix {
  /** UTC time of the fix, or null when the receiver's date cannot be trusted. */
  time: Date | null;
  lat: number;
  lon: number;
  speedMps?: number;
  courseDeg?: number;
  /** GGA fix quality (1 GPS, 2 DGPS, 4 RTK fixed, 5 RTK float, 6 dead reckoning). */
  quality?: number;
  satellites?: number;
  hdop?: number;
  /** Talker id of the sentence that gave the position (GP, GN, BD, GB, GL, GA). */
  talker: string;
}

export interface PositionSourceEvents {
  fix: [GnssFix];
  health: [DeviceHealth];
  error: [Error];
}

/** GPS/BeiDou fixes. Adapters: NMEA over a serial port, gpsd, an NMEA file replay. */
export interface PositionSource extends EventEmitter<PositionSourceEvents> {
  start(): Promise<void>;
  stop(): Promise<void>;
}
