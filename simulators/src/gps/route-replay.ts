import { NmeaFileReplaySource, type NmeaFileReplayOptions } from '@busfare/terminal';
import { nmeaRecordingPath } from './recordings.js';

/** Usable fixes in the drive recording with the terminal's default fix filter. */
export const DRIVE_RECORDING_FIXES = 4420;

/** Start position and direction of one simulated bus on the drive recording. */
export interface BusReplayPlan {
  /** 0-based bus number. */
  bus: number;
  /** Index of the first fix replayed, counted in the direction of travel. The bus then loops round the whole recording. */
  startOffset: number;
  /** Odd buses run the recording backwards, as buses in the other direction. */
  reverse: boolean;
}

/**
 * Spreads `busCount` buses evenly along the drive recording and alternates their direction, so no
 * two buses report the same position at the same time.
 */
export function planBusReplays(busCount: number, fixCount = DRIVE_RECORDING_FIXES): BusReplayPlan[] {
  if (!Number.isInteger(busCount) || busCount < 1) throw new RangeError(`busCount must be a positive integer, got ${busCount}`);
  return Array.from({ length: busCount }, (_, bus) => {
    const start = Math.floor((bus * fixCount) / busCount);
    const reverse = bus % 2 === 1;
    // A reversed replay counts from the recording's end, so this keeps the bus at `start`.
    return { bus, startOffset: reverse ? fixCount - 1 - start : start, reverse };
  });
}

/** Creates a looping, real-time replay of the drive recording for one bus, with fix times shifted to now. */
export function createBusReplaySource(
  plan: BusReplayPlan,
  options: Omit<NmeaFileReplayOptions, 'startOffset' | 'reverse'> = {},
): NmeaFileReplaySource {
  return new NmeaFileReplaySource(nmeaRecordingPath('drive'), {
    // The drive dates from 2005, before any build date; shifted times are what the bench needs.
    notBefore: new Date('2000-01-01T00:00:00Z'),
    loop: true,
    shiftTimesToNow: true,
    ...options,
    startOffset: plan.startOffset,
    reverse: plan.reverse,
  });
}
