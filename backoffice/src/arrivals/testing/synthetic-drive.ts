import type { VehicleFix } from '../matching/vehicle-events.js';
import { SYNTHETIC_STOP_NAMES, SYNTHETIC_STOP_SPACING_M, pointAlong } from './synthetic-route.js';

export interface DriveOptions {
  vehicleId: string;
  /** Unix time at which the bus leaves its first stop. */
  start: number;
  /** 0 eastbound, 1 westbound. */
  directionId: 0 | 1;
  speedMps: number;
  dwellS: number;
  fixEveryS: number;
  /** Sign-on fields copied into every fix. */
  signOn?: Pick<VehicleFix, 'routeId' | 'directionId' | 'tripId'>;
  /** Metres north of the road, by time since start; a detour returns a large value. */
  northOffset?: (elapsedS: number) => number;
  /** Extra standing time (s) inserted at a distance along the road. */
  hold?: { atM: number; forS: number };
}

/** Unix time at which a bus driven with these options first reaches `metres` along its direction. */
export function timeAtDistance(options: DriveOptions, metres: number): number {
  const passedStops = Math.max(0, Math.ceil(metres / SYNTHETIC_STOP_SPACING_M) - 1);
  const held = options.hold && options.hold.atM < metres ? options.hold.forS : 0;
  return options.start + metres / options.speedMps + passedStops * options.dwellS + held;
}

/** Fixes of a bus driving the synthetic road from end to end, dwelling at every stop. */
export function driveFixes(options: DriveOptions): VehicleFix[] {
  const lengthM = (SYNTHETIC_STOP_NAMES.length - 1) * SYNTHETIC_STOP_SPACING_M;
  const end = timeAtDistance(options, lengthM);
  const fixes: VehicleFix[] = [];
  for (let time = options.start; time <= end + options.fixEveryS; time += options.fixEveryS) {
    const metres = distanceAt(options, time - options.start, lengthM);
    const along = options.directionId === 0 ? metres : lengthM - metres;
    fixes.push({ vehicleId: options.vehicleId, time, ...pointAlong(along, options.northOffset?.(time - options.start) ?? 0), ...options.signOn });
  }
  return fixes;
}

function distanceAt(options: DriveOptions, elapsedS: number, lengthM: number): number {
  let remaining = elapsedS;
  let metres = 0;
  while (metres < lengthM) {
    const nextStopM = Math.min(lengthM, (Math.floor(metres / SYNTHETIC_STOP_SPACING_M) + 1) * SYNTHETIC_STOP_SPACING_M);
    if (options.hold && options.hold.atM > metres && options.hold.atM <= nextStopM) {
      const toHold = (options.hold.atM - metres) / options.speedMps;
      if (remaining <= toHold) return metres + remaining * options.speedMps;
      remaining -= toHold;
      metres = options.hold.atM;
      if (remaining <= options.hold.forS) return metres;
      remaining -= options.hold.forS;
    }
    const driveS = (nextStopM - metres) / options.speedMps;
    if (remaining <= driveS) return metres + remaining * options.speedMps;
    remaining -= driveS;
    metres = nextStopM;
    if (metres >= lengthM) break;
    if (remaining <= options.dwellS) return metres;
    remaining -= options.dwellS;
  }
  return lengthM;
}
