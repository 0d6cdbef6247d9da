import type { GgaRecord, GnsRecord, GsaRecord, RmcRecord, VtgRecord, ZdaRecord } from './decoders.js';
import type { Epoch } from './epoch-assembler.js';
import type { CalendarDate } from './fields.js';
import type { Talker } from './sentence.js';

export const METRES_PER_SECOND_PER_KNOT = 1852 / 3600;

/** Everything one epoch reports about the fix, before the fix filter decides whether it is usable. */
export interface FixCandidate {
  msOfDay?: number;
  date?: CalendarDate;
  lat?: number;
  lon?: number;
  talker?: Talker;
  /** Line of the sentence that gave the position, or of the epoch's first sentence. */
  lineNumber: number;
  speedMps?: number;
  courseDeg?: number;
  quality?: number;
  satellites?: number;
  hdop?: number;
  rmcStatus?: 'A' | 'V';
  /** Mode letter of RMC (NMEA 2.3+). */
  rmcMode?: string;
  gnsModes?: string;
}

/** GGA quality for a mode letter of RMC, VTG or GNS. */
const QUALITY_BY_MODE: Record<string, number> = { N: 0, A: 1, D: 2, P: 3, R: 4, F: 5, E: 6, M: 7, S: 8 };

/** Quality of the best constellation in a GNS mode string (N only when every one has no fix). */
function qualityFromModes(modes: string): number {
  for (const letter of modes) {
    if (letter !== 'N') return QUALITY_BY_MODE[letter] ?? 0;
  }
  return 0;
}

function first<T>(epoch: Epoch, type: string): { record: T; lineNumber: number } | undefined {
  const found = epoch.records.find((entry) => entry.record.type === type);
  return found as { record: T; lineNumber: number } | undefined;
}

/**
 * Merges an epoch's sentences into one candidate. Position comes from RMC, else GGA, else GNS.
 * Satellites and HDOP come from GNS first because it describes the combined multi-constellation
 * solution, while a `GP` GGA counts only GPS satellites.
 */
export function buildFixCandidate(epoch: Epoch): FixCandidate {
  const rmc = first<RmcRecord>(epoch, 'RMC');
  const gga = first<GgaRecord>(epoch, 'GGA');
  const gns = first<GnsRecord>(epoch, 'GNS');
  const vtg = first<VtgRecord>(epoch, 'VTG');
  const zda = first<ZdaRecord>(epoch, 'ZDA');
  const gsaWithHdop = epoch.records.find((entry) => entry.record.type === 'GSA' && entry.record.hdop !== undefined)
    ?.record as GsaRecord | undefined;

  const positioned = [rmc, gga, gns].find((entry) => entry && entry.record.lat !== undefined && entry.record.lon !== undefined);
  const lineNumber = positioned?.lineNumber ?? rmc?.lineNumber ?? gga?.lineNumber ?? gns?.lineNumber ?? epoch.records[0]!.lineNumber;

  const candidate: FixCandidate = {
    msOfDay: epoch.msOfDay,
    date: rmc?.record.date ?? zda?.record.date,
    lat: positioned?.record.lat,
    lon: positioned?.record.lon,
    talker: positioned?.record.talker,
    lineNumber,
    rmcStatus: rmc?.record.status,
    rmcMode: rmc?.record.mode,
    gnsModes: gns?.record.modes,
    satellites: gns?.record.satellites ?? gga?.record.satellites,
    hdop: gns?.record.hdop ?? gga?.record.hdop ?? gsaWithHdop?.hdop,
  };

  if (gga?.record.quality !== undefined) candidate.quality = gga.record.quality;
  else if (gns?.record.modes !== undefined) candidate.quality = qualityFromModes(gns.record.modes);
  else if (rmc?.record.mode !== undefined) candidate.quality = QUALITY_BY_MODE[rmc.record.mode];

  const speedKnots = rmc?.record.speedKnots ?? vtg?.record.speedKnots;
  if (speedKnots !== undefined) candidate.speedMps = speedKnots * METRES_PER_SECOND_PER_KNOT;
  else if (vtg?.record.speedKmh !== undefined) candidate.speedMps = vtg.record.speedKmh / 3.6;
  candidate.courseDeg = rmc?.record.courseDeg ?? vtg?.record.courseDeg;

  return candidate;
}
