/**
 * Card dates and times are BCD YYYYMMDD and hhmmss in local civil time. China keeps UTC+8 all
 * year, so a fixed offset is exact there; other deployments pass their own offset in minutes.
 */
export const CHINA_UTC_OFFSET_MINUTES = 480;

export function formatCardDateTime(date: Date, utcOffsetMinutes = CHINA_UTC_OFFSET_MINUTES): string {
  const local = new Date(date.getTime() + utcOffsetMinutes * 60_000);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return (
    pad(local.getUTCFullYear(), 4) +
    pad(local.getUTCMonth() + 1) +
    pad(local.getUTCDate()) +
    pad(local.getUTCHours()) +
    pad(local.getUTCMinutes()) +
    pad(local.getUTCSeconds())
  );
}

export function parseCardDateTime(text: string, utcOffsetMinutes = CHINA_UTC_OFFSET_MINUTES): Date {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!match) throw new TypeError(`invalid card date-time "${text}": expected YYYYMMDDhhmmss`);
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s) - utcOffsetMinutes * 60_000);
}

/** Formats YYYYMMDD as an ISO date (YYYY-MM-DD), or returns null for an unset (all-zero or FF) date. */
export function cardDateToIso(digits: string): string | null {
  if (!/^\d{8}$/.test(digits) || digits === '00000000') return null;
  return `${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)}`;
}
