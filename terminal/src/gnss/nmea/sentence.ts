/** Talker ids whose sentences the terminal decodes: GPS, combined GNSS, BeiDou (both ids), GLONASS, Galileo. */
export const SUPPORTED_TALKERS = ['GP', 'GN', 'BD', 'GB', 'GL', 'GA'] as const;
export type Talker = (typeof SUPPORTED_TALKERS)[number];

/** Sentence types that carry position, time, speed or fix quality. */
export const DECODED_TYPES = ['RMC', 'GGA', 'GNS', 'GSA', 'VTG', 'ZDA'] as const;
export type SentenceType = (typeof DECODED_TYPES)[number];

/** A sentence with a valid checksum, split into its data fields (the address field excluded). */
export interface NmeaSentence {
  talker: Talker;
  type: SentenceType;
  fields: string[];
}

export type SentenceResult =
  | { kind: 'sentence'; sentence: NmeaSentence }
  /** Not usable because it is damaged or malformed. */
  | { kind: 'rejected'; reason: string }
  /** Well formed (or not NMEA at all) but carries nothing the terminal uses. */
  | { kind: 'ignored'; reason: string }
  /** Blank line: nothing to report. */
  | { kind: 'blank' };

const CHECKSUM_SUFFIX = /\*([0-9A-Fa-f]{2})$/;
const STANDARD_ADDRESS = /^([A-Z]{2})([A-Z]{3})$/;
const PRINTABLE_ASCII = /^[\t\x20-\x7e]*$/;
const EMBEDDED_SENTENCE = /\$[A-Z]{5}.*\*[0-9A-Fa-f]{2}$/;

/** XOR of every character between `$` and `*`, as NMEA 0183 defines the checksum. */
export function nmeaChecksum(body: string): number {
  let checksum = 0;
  for (let i = 0; i < body.length; i++) checksum ^= body.charCodeAt(i);
  return checksum;
}

function hex2(value: number): string {
  return value.toString(16).toUpperCase().padStart(2, '0');
}

/**
 * Checks one line and splits it into talker, type and fields. Leading and trailing spaces are
 * allowed; the checksum is required, because a serial line can corrupt any byte.
 */
export function parseSentence(line: string): SentenceResult {
  const text = line.trim();
  if (text.length === 0) return { kind: 'blank' };

  if (!PRINTABLE_ASCII.test(text)) {
    return { kind: 'rejected', reason: 'line contains non-printable or non-ASCII bytes' };
  }
  if (text[0] === '!') return { kind: 'ignored', reason: 'encapsulated sentence (!) is not used' };
  if (text[0] !== '$') {
    // A sentence with junk in front of it is damage on the line; other text is a banner or comment.
    if (EMBEDDED_SENTENCE.test(text)) return { kind: 'rejected', reason: 'text before the $ of a sentence' };
    return { kind: 'ignored', reason: 'not an NMEA sentence (no leading $)' };
  }

  const checksumMatch = CHECKSUM_SUFFIX.exec(text);
  if (!checksumMatch) {
    return { kind: 'rejected', reason: 'missing or malformed checksum (expected *HH at the end)' };
  }
  const body = text.slice(1, checksumMatch.index);
  const stated = Number.parseInt(checksumMatch[1]!, 16);
  const computed = nmeaChecksum(body);
  if (stated !== computed) {
    return { kind: 'rejected', reason: `checksum mismatch: sentence has ${checksumMatch[1]!.toUpperCase()}, computed ${hex2(computed)}` };
  }
  if (body.includes('$') || body.includes('*')) {
    return { kind: 'rejected', reason: 'reserved character $ or * inside the sentence' };
  }

  const [address = '', ...fields] = body.split(',');
  if (address.startsWith('P')) return { kind: 'ignored', reason: `proprietary sentence ${address}` };

  const addressMatch = STANDARD_ADDRESS.exec(address);
  if (!addressMatch) return { kind: 'rejected', reason: `invalid address field "${address}"` };
  const talker = addressMatch[1]!;
  const type = addressMatch[2]!;

  if (!(SUPPORTED_TALKERS as readonly string[]).includes(talker)) {
    return { kind: 'ignored', reason: `talker ${talker} is not used` };
  }
  if (!(DECODED_TYPES as readonly string[]).includes(type)) {
    return { kind: 'ignored', reason: `sentence type ${type} is not used` };
  }
  return { kind: 'sentence', sentence: { talker: talker as Talker, type: type as SentenceType, fields } };
}
