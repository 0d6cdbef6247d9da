import type { FixCandidate } from './fix-candidate.js';

export interface FixFilterOptions {
  /** Largest HDOP accepted. */
  maxHdop?: number;
  /** Fewest satellites in use accepted. */
  minSatellites?: number;
}

export const DEFAULT_MAX_HDOP = 5;
export const DEFAULT_MIN_SATELLITES = 4;

export type FixVerdict =
  | { usable: true }
  /** `ignored`: the receiver itself reports no fix. `rejected`: a fix the filter does not trust. */
  | { usable: false; kind: 'ignored' | 'rejected'; reason: string };

/**
 * Decides whether a candidate is a usable fix. A usable fix has a position and at least one fix
 * indicator. It has no no-fix indicator (RMC status V, RMC mode N, GGA quality 0, GNS mode all N),
 * HDOP at most the maximum and enough satellites. A value the receiver did not send (an RMC-only
 * receiver has no HDOP) does not reject the fix.
 */
export function evaluateFix(candidate: FixCandidate, options: FixFilterOptions = {}): FixVerdict {
  const maxHdop = options.maxHdop ?? DEFAULT_MAX_HDOP;
  const minSatellites = options.minSatellites ?? DEFAULT_MIN_SATELLITES;

  if (candidate.rmcStatus === 'V') return { usable: false, kind: 'ignored', reason: 'no fix: RMC status V' };
  if (candidate.rmcMode === 'N') return { usable: false, kind: 'ignored', reason: 'no fix: RMC mode N' };
  if (candidate.gnsModes !== undefined && /^N+$/.test(candidate.gnsModes)) {
    return { usable: false, kind: 'ignored', reason: `no fix: GNS mode ${candidate.gnsModes}` };
  }
  if (candidate.quality === 0) return { usable: false, kind: 'ignored', reason: 'no fix: quality 0' };
  if (candidate.lat === undefined || candidate.lon === undefined) {
    return { usable: false, kind: 'ignored', reason: 'no position in epoch' };
  }
  if (candidate.rmcStatus !== 'A' && candidate.quality === undefined) {
    return { usable: false, kind: 'rejected', reason: 'no fix status (no RMC status, GGA quality or GNS mode)' };
  }
  if (candidate.hdop !== undefined && candidate.hdop > maxHdop) {
    return { usable: false, kind: 'rejected', reason: `HDOP ${candidate.hdop} above maximum ${maxHdop}` };
  }
  if (candidate.satellites !== undefined && candidate.satellites < minSatellites) {
    return { usable: false, kind: 'rejected', reason: `${candidate.satellites} satellites, minimum ${minSatellites}` };
  }
  return { usable: true };
}
