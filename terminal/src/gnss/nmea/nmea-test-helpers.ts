import { nmeaChecksum } from './sentence.js';

/** `$BODY*HH` with a correct checksum. */
export function sentence(body: string): string {
  return `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Builds a typical 1 Hz epoch (RMC, GGA, GSA) at the given time, with options for the fix fields. */
export function epoch(time: string, options: { date?: string; quality?: number; satellites?: string; hdop?: string; status?: string } = {}): string[] {
  const { date = '110922', quality = 1, satellites = '08', hdop = '1.2', status = 'A' } = options;
  return [
    sentence(`GPRMC,${time},${status},3114.8770,N,12135.2463,E,10.0,90.0,${date},,,A`),
    sentence(`GPGGA,${time},3114.8770,N,12135.2463,E,${quality},${satellites},${hdop},10.0,M,8.3,M,,`),
    sentence(`GPGSA,A,3,01,02,03,04,,,,,,,,,2.0,${hdop},1.5`),
  ];
}
