import { describe, expect, it } from 'vitest';
import { decodeSentence, type GgaRecord, type RmcRecord } from './decoders.js';
import { parseSentence, type NmeaSentence } from './sentence.js';
import { sentence } from './nmea-test-helpers.js';

function parsedSentence(line: string): NmeaSentence {
  const result = parseSentence(line);
  if (result.kind !== 'sentence') throw new Error(`expected a sentence, got ${JSON.stringify(result)}`);
  return result.sentence;
}

describe('parseSentence', () => {
  const valid = sentence('GPRMC,235234,A,3925.9702,N,11945.9354,W,45.1,153.1,250905,15.2,E,A');

  it.each([
    ['GPS talker', valid, 'GP'],
    ['combined talker', sentence('GNGGA,074155.799,3114.8770,N,12135.2463,E,1,05,1.3,156.9,M,8.3,M,,0000'), 'GN'],
    ['BeiDou BD talker', sentence('BDGSA,A,3,02,03,04,,,,,,,,,,5.1,1.3,4.9'), 'BD'],
    ['BeiDou GB talker', sentence('GBGSA,A,3,02,03,04,,,,,,,,,,5.1,1.3,4.9'), 'GB'],
    ['GLONASS talker', sentence('GLGSA,A,3,78,69,,,,,,,,,,,2.9,1.3,2.6,2'), 'GL'],
    ['Galileo talker', sentence('GAGSA,A,3,04,09,,,,,,,,,,,2.9,1.3,2.6,3'), 'GA'],
  ])('accepts the %s', (_name, line, talker) => {
    expect(parsedSentence(line).talker).toBe(talker);
  });

  it('accepts a real line', () => {
    const parsed = parsedSentence('$GPRMC,235234,A,3925.9702,N,11945.9354,W,45.1,153.1,250905,15.2,E,A*01');
    expect(parsed.type).toBe('RMC');
    expect(parsed.fields).toHaveLength(12);
  });

  it('accepts a lowercase checksum', () => {
    expect(parseSentence(valid.replace(/\*(..)$/, (_m, hex: string) => `*${hex.toLowerCase()}`)).kind).toBe('sentence');
  });

  it('accepts leading and trailing spaces', () => {
    expect(parseSentence(`  ${valid}  `).kind).toBe('sentence');
    expect(parseSentence(`\t${valid}`).kind).toBe('sentence');
  });

  it.each([
    ['checksum mismatch', valid.replace(/\*..$/, '*00'), /checksum mismatch: sentence has 00, computed/],
    ['missing checksum', valid.replace(/\*..$/, ''), /missing or malformed checksum/],
    ['one-digit checksum', valid.replace(/\*(.).$/, '*$1'), /missing or malformed checksum/],
    ['corrupted byte', valid.replace('3925', '3935'), /checksum mismatch/],
    ['binary bytes', `${valid}\u0000\u00ff`, /non-printable or non-ASCII/],
    ['junk before the sentence', `xx${valid}`, /text before the \$/],
    ['lowercase address', sentence('gprmc,1,A'), /invalid address field "gprmc"/],
    ['short address', sentence('GPRM,1,A'), /invalid address field "GPRM"/],
    ['reserved character inside', sentence('GPRMC,1$2,A'), /reserved character/],
  ])('rejects a %s', (_name, line, reason) => {
    const result = parseSentence(line) as { kind: string; reason?: string };
    expect(result.kind).toBe('rejected');
    expect(result.reason).toMatch(reason);
  });

  it.each([
    ['proprietary sentence', '$PSRFEPE,074150.799,V,,,,,*23', 'proprietary sentence PSRFEPE'],
    ['Garmin proprietary sentence', '$PGRME,2.3,M,3.3,M,4.0,M*2B', 'proprietary sentence PGRME'],
    ['unused type', '$GPGLL,3925.9702,N,11945.9354,W,235234,A,A*56', 'sentence type GLL is not used'],
    ['unused talker', sentence('GIGSA,A,3,01,,,,,,,,,,,,2.0,1.0,1.5'), 'talker GI is not used'],
    ['banner line', '************ program startup 16:40:33 09-25-2005 ************', 'not an NMEA sentence (no leading $)'],
    ['comment line', '# Note: Quectel Querk: $PQGSV', 'not an NMEA sentence (no leading $)'],
    ['AIS sentence', '!AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0*26', 'encapsulated sentence (!) is not used'],
  ])('ignores a %s', (_name, line, reason) => {
    expect(parseSentence(line)).toEqual({ kind: 'ignored', reason });
  });

  it('reports blank lines as blank', () => {
    expect(parseSentence('')).toEqual({ kind: 'blank' });
    expect(parseSentence('   ')).toEqual({ kind: 'blank' });
  });
});

describe('decodeSentence', () => {
  function decode(body: string) {
    return decodeSentence(parsedSentence(sentence(body)));
  }

  it.each([
    ['RMC of NMEA 2.0 (11 fields)', 'GPRMC,120000,A,3114.8770,N,12135.2463,E,1.0,90.0,110922,,'],
    ['RMC of NMEA 2.3 (mode)', 'GPRMC,120000,A,3114.8770,N,12135.2463,E,1.0,90.0,110922,,,A'],
    ['RMC of NMEA 4.10 (navigational status)', 'GPRMC,191503.01,A,3645.876324,N,03124.670280,E,1.3,300.5,110922,3.6,E,A,V'],
    ['GNS of NMEA 4.10', 'GNGNS,191503.01,3645.876324,N,03124.670280,E,AAN,08,1.3,-6.7,32.0,,,V'],
    ['GSA of NMEA 4.11 (system id)', 'GNGSA,A,3,78,69,88,87,68,,,,,,,,2.9,1.3,2.6,2'],
    ['VTG of NMEA 2.3', 'GPVTG,300.5,T,296.9,M,1.3,N,2.3,K,A'],
    ['VTG of NMEA 2.0', 'GPVTG,300.5,T,296.9,M,1.3,N,2.3,K'],
    ['ZDA', 'GPZDA,201530.00,04,07,2002,00,00'],
    ['GGA with every field empty', 'GPGGA,,,,,,0,,,,,,,,'],
  ])('decodes %s', (_name, body) => {
    expect(decode(body).ok).toBe(true);
  });

  it.each([
    ['GGA with 13 fields', 'GPGGA,120000,3114.8770,N,12135.2463,E,1,08,1.2,10.0,M,8.3,M,', 'GGA has 13 fields, expected 14'],
    ['GGA with 15 fields', 'GNGGA,074155.799,3114.8770,N,12135.2463,E,1,05,1.3,156.9,M,8.3,M,,0000,4.9', 'GGA has 15 fields, expected 14'],
    ['RMC with 10 fields', 'GPRMC,120000,A,3114.8770,N,12135.2463,E,1.0,90.0,110922,', 'RMC has 10 fields, expected 11 to 13'],
    ['RMC with 14 fields', 'GPRMC,120000,A,3114.8770,N,12135.2463,E,1.0,90.0,110922,,,A,V,X', 'RMC has 14 fields, expected 11 to 13'],
    ['ZDA with 5 fields', 'GPZDA,201530.00,04,07,2002,00', 'ZDA has 5 fields, expected 6'],
    ['invalid time', 'GPRMC,126000,A,3114.8770,N,12135.2463,E,1.0,90.0,110922,,', 'RMC: invalid time "126000" (out of range)'],
    ['leap second not at 23:59', 'GPRMC,125960,A,3114.8770,N,12135.2463,E,1.0,90.0,110922,,', 'RMC: invalid time "125960" (out of range)'],
    ['invalid date', 'GPRMC,120000,A,3114.8770,N,12135.2463,E,1.0,90.0,310222,,', 'RMC: invalid date "310222"'],
    ['invalid status', 'GPRMC,120000,X,3114.8770,N,12135.2463,E,1.0,90.0,110922,,', 'RMC: invalid RMC status "X"'],
    ['latitude minutes of 60', 'GPRMC,120000,A,3160.0000,N,12135.2463,E,1.0,90.0,110922,,', 'RMC: invalid latitude "3160.0000" (out of range)'],
    ['latitude above 90', 'GPGGA,120000,9100.0000,N,12135.2463,E,1,08,1.2,10.0,M,8.3,M,,', 'GGA: invalid latitude "9100.0000" (out of range)'],
    ['missing hemisphere', 'GPGGA,120000,3114.8770,,12135.2463,E,1,08,1.2,10.0,M,8.3,M,,', 'GGA: invalid latitude hemisphere ""'],
    ['non-numeric HDOP', 'GPGGA,120000,3114.8770,N,12135.2463,E,1,08,x,10.0,M,8.3,M,,', 'GGA: invalid HDOP "x"'],
    ['negative HDOP', 'GPGGA,120000,3114.8770,N,12135.2463,E,1,08,-1.0,10.0,M,8.3,M,,', 'GGA: invalid HDOP "-1.0" (out of range)'],
    ['negative VTG course', 'GPVTG,-10.0,T,,M,1.0,N,1.9,K,A', 'VTG: invalid course "-10.0" (out of range)'],
    ['quality above 8', 'GPGGA,120000,3114.8770,N,12135.2463,E,9,08,1.2,10.0,M,8.3,M,,', 'GGA: invalid fix quality "9"'],
    ['invalid GNS mode', 'GNGNS,191503.01,3645.876324,N,03124.670280,E,AXN,08,1.3,-6.7,32.0,,,V', 'GNS: invalid GNS mode "AXN"'],
    ['invalid GSA fix type', 'GPGSA,A,4,01,,,,,,,,,,,,2.0,1.0,1.5', 'GSA: invalid GSA fix type "4"'],
    ['ZDA with a two-digit year', 'GPZDA,201530.00,04,07,02,00,00', 'ZDA: invalid ZDA date "04/07/02" (expected dd, mm and yyyy)'],
  ])('rejects %s', (_name, body, reason) => {
    expect(decode(body)).toEqual({ ok: false, reason });
  });

  it('decodes RMC values', () => {
    const result = decode('GPRMC,235959.50,A,3925.9702,S,11945.9354,W,45.1,153.1,250905,15.2,E,A');
    const record = (result as { record: RmcRecord }).record;
    expect(record.lat).toBeCloseTo(-39.432837, 6);
    expect(record.lon).toBeCloseTo(-119.76559, 5);
    expect(record.time?.msOfDay).toBe(86_399_500);
    expect(record.date).toEqual({ year: 2005, month: 9, day: 25, twoDigitYear: true });
    expect(record.speedKnots).toBe(45.1);
  });

  it('leaves out an out-of-range RMC speed and course', () => {
    const result = decode('GPRMC,120000,A,3114.8770,N,12135.2463,E,-5.0,400.0,110922,,');
    const record = (result as { record: RmcRecord }).record;
    expect(result.ok).toBe(true);
    expect(record.speedKnots).toBeUndefined();
    expect(record.courseDeg).toBeUndefined();
    expect(record.date).toEqual({ year: 2022, month: 9, day: 11, twoDigitYear: true });
  });

  it('decodes a leap second as 23:59:59.999', () => {
    const result = decode('GPGGA,235960.00,3114.8770,N,12135.2463,E,1,08,1.2,10.0,M,8.3,M,,');
    const record = (result as { record: GgaRecord }).record;
    expect(record.time).toEqual({ msOfDay: 86_399_999, leapSecond: true });
  });

  it.each([
    ['79', 2079],
    ['80', 1980],
    ['99', 1999],
    ['00', 2000],
    ['26', 2026],
  ])('reads two-digit year %s as %i', (yy, year) => {
    const result = decode(`GPRMC,120000,A,3114.8770,N,12135.2463,E,1.0,90.0,0101${yy},,`);
    expect((result as { record: RmcRecord }).record.date?.year).toBe(year);
  });
});
