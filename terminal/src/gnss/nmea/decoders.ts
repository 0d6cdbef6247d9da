import {
  InvalidFieldError,
  parseDdmmyy,
  parseDecimalInRange,
  parseDecimalOrOmit,
  parseInteger,
  parseLatitude,
  parseLetter,
  parseLongitude,
  parseTimeOfDay,
  parseZdaDate,
  type CalendarDate,
  type TimeOfDay,
} from './fields.js';
import type { NmeaSentence, SentenceType, Talker } from './sentence.js';

/** Positioning mode letters of NMEA 2.3 and later (RMC, VTG, GNS). */
const MODE_LETTERS = 'ADEFMNPRS';
/** Navigational status of NMEA 4.10: safe, caution, unsafe, not valid (no status given). */
const NAV_STATUS_LETTERS = 'SCUV';

interface Decoded<T extends SentenceType> {
  type: T;
  talker: Talker;
}

export interface RmcRecord extends Decoded<'RMC'> {
  time?: TimeOfDay;
  status?: 'A' | 'V';
  lat?: number;
  lon?: number;
  speedKnots?: number;
  courseDeg?: number;
  date?: CalendarDate;
  mode?: string;
  navStatus?: string;
}

export interface GgaRecord extends Decoded<'GGA'> {
  time?: TimeOfDay;
  lat?: number;
  lon?: number;
  quality?: number;
  satellites?: number;
  hdop?: number;
}

export interface GnsRecord extends Decoded<'GNS'> {
  time?: TimeOfDay;
  lat?: number;
  lon?: number;
  /** One mode letter per constellation, in the order GPS, GLONASS, Galileo, BeiDou, QZSS, NavIC. */
  modes?: string;
  satellites?: number;
  hdop?: number;
  navStatus?: string;
}

export interface GsaRecord extends Decoded<'GSA'> {
  /** 1 no fix, 2 2D, 3 3D. */
  fixType?: number;
  hdop?: number;
}

export interface VtgRecord extends Decoded<'VTG'> {
  courseDeg?: number;
  speedKnots?: number;
  speedKmh?: number;
  mode?: string;
}

export interface ZdaRecord extends Decoded<'ZDA'> {
  time?: TimeOfDay;
  date?: CalendarDate;
}

export type NmeaRecord = RmcRecord | GgaRecord | GnsRecord | GsaRecord | VtgRecord | ZdaRecord;

/**
 * Field counts after the address field: from the oldest layout decoded to the newest (NMEA 4.11).
 * NOTE: more fields than the newest layout is rejected, so the SiRF-TriG's 15-field GGA is dropped
 * and its epochs take quality, satellites and HDOP from GNS instead.
 */
export const FIELD_COUNTS: Record<SentenceType, readonly [min: number, max: number]> = {
  RMC: [11, 13], // 2.0; 2.3 adds the mode; 4.10 adds the navigational status
  GGA: [14, 14],
  GNS: [12, 13], // 4.10 adds the navigational status
  GSA: [17, 18], // 4.11 adds the system id
  VTG: [8, 9], // 2.3 adds the mode
  ZDA: [6, 6],
};

export type DecodeResult = { ok: true; record: NmeaRecord } | { ok: false; reason: string };

function decodeRmc(talker: Talker, f: string[]): RmcRecord {
  return {
    type: 'RMC',
    talker,
    time: parseTimeOfDay(f[0]!),
    status: parseLetter(f[1]!, 'AV', 'RMC status') as 'A' | 'V' | undefined,
    lat: parseLatitude(f[2]!, f[3]!),
    lon: parseLongitude(f[4]!, f[5]!),
    // RMC carries the date that dates the epoch's fix, so an out-of-range speed or course is left
    // out rather than the whole sentence.
    speedKnots: parseDecimalOrOmit(f[6]!, 'speed', 0, Number.POSITIVE_INFINITY),
    courseDeg: parseDecimalOrOmit(f[7]!, 'course', 0, 360),
    date: parseDdmmyy(f[8]!),
    mode: f[11] === undefined ? undefined : parseLetter(f[11], MODE_LETTERS, 'mode'),
    navStatus: f[12] === undefined ? undefined : parseLetter(f[12], NAV_STATUS_LETTERS, 'navigational status'),
  };
}

function decodeGga(talker: Talker, f: string[]): GgaRecord {
  const quality = parseInteger(f[5]!, 'fix quality');
  if (quality !== undefined && quality > 8) throw new InvalidFieldError(`invalid fix quality "${f[5]}"`);
  return {
    type: 'GGA',
    talker,
    time: parseTimeOfDay(f[0]!),
    lat: parseLatitude(f[1]!, f[2]!),
    lon: parseLongitude(f[3]!, f[4]!),
    quality,
    satellites: parseInteger(f[6]!, 'satellite count'),
    hdop: parseDecimalInRange(f[7]!, 'HDOP', 0, Number.POSITIVE_INFINITY),
  };
}

function decodeGns(talker: Talker, f: string[]): GnsRecord {
  const modes = f[5]!;
  if (modes !== '' && !new RegExp(`^[${MODE_LETTERS}]+$`).test(modes)) {
    throw new InvalidFieldError(`invalid GNS mode "${modes}"`);
  }
  return {
    type: 'GNS',
    talker,
    time: parseTimeOfDay(f[0]!),
    lat: parseLatitude(f[1]!, f[2]!),
    lon: parseLongitude(f[3]!, f[4]!),
    modes: modes === '' ? undefined : modes,
    satellites: parseInteger(f[6]!, 'satellite count'),
    hdop: parseDecimalInRange(f[7]!, 'HDOP', 0, Number.POSITIVE_INFINITY),
    navStatus: f[12] === undefined ? undefined : parseLetter(f[12], NAV_STATUS_LETTERS, 'navigational status'),
  };
}

function decodeGsa(talker: Talker, f: string[]): GsaRecord {
  parseLetter(f[0]!, 'MA', 'GSA selection mode');
  const fixType = parseInteger(f[1]!, 'GSA fix type');
  if (fixType !== undefined && (fixType < 1 || fixType > 3)) throw new InvalidFieldError(`invalid GSA fix type "${f[1]}"`);
  // Field 18 (system id, NMEA 4.11) is not used; some receivers put a non-standard number there.
  return { type: 'GSA', talker, fixType, hdop: parseDecimalInRange(f[15]!, 'HDOP', 0, Number.POSITIVE_INFINITY) };
}

function decodeVtg(talker: Talker, f: string[]): VtgRecord {
  return {
    type: 'VTG',
    talker,
    courseDeg: parseDecimalInRange(f[0]!, 'course', 0, 360),
    speedKnots: parseDecimalInRange(f[4]!, 'speed', 0, Number.POSITIVE_INFINITY),
    speedKmh: parseDecimalInRange(f[6]!, 'speed', 0, Number.POSITIVE_INFINITY),
    mode: f[8] === undefined ? undefined : parseLetter(f[8], MODE_LETTERS, 'mode'),
  };
}

function decodeZda(talker: Talker, f: string[]): ZdaRecord {
  return { type: 'ZDA', talker, time: parseTimeOfDay(f[0]!), date: parseZdaDate(f[1]!, f[2]!, f[3]!) };
}

const DECODERS: Record<SentenceType, (talker: Talker, fields: string[]) => NmeaRecord> = {
  RMC: decodeRmc,
  GGA: decodeGga,
  GNS: decodeGns,
  GSA: decodeGsa,
  VTG: decodeVtg,
  ZDA: decodeZda,
};

/** Checks the field count, then decodes every field the terminal uses. */
export function decodeSentence(sentence: NmeaSentence): DecodeResult {
  const { type, talker, fields } = sentence;
  const [min, max] = FIELD_COUNTS[type];
  if (fields.length < min || fields.length > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    return { ok: false, reason: `${type} has ${fields.length} fields, expected ${expected}` };
  }
  try {
    return { ok: true, record: DECODERS[type](talker, fields) };
  } catch (error) {
    if (error instanceof InvalidFieldError) return { ok: false, reason: `${type}: ${error.message}` };
    throw error;
  }
}
