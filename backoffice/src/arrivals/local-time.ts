import { ArrivalDataError } from './arrival-data-error.js';

const LOCAL_TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2}):(\d{2})$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    } catch {
      throw new ArrivalDataError(`invalid time zone "${zone}": expected an IANA name such as America/New_York`);
    }
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** Checks that a zone is a known IANA time zone; throws ArrivalDataError otherwise. */
export function checkTimeZone(zone: string): void {
  formatterOf(zone);
}

/** Returns the offset of local time in `zone` from UTC at an instant, in seconds. */
export function zoneOffsetS(unixS: number, zone: string): number {
  // Current zones change their offset only at whole quarter hours of UTC, so one look-up serves a
  // quarter hour. Offsets of the 19th century (local mean time) are not whole minutes.
  const quarter = Math.floor(unixS / OFFSET_SLOT_S);
  let offsets = offsetCache.get(zone);
  if (!offsets || offsets.size > OFFSET_CACHE_LIMIT) {
    offsets = new Map();
    offsetCache.set(zone, offsets);
  }
  let offset = offsets.get(quarter);
  if (offset === undefined) {
    offset = computeZoneOffsetS(quarter * OFFSET_SLOT_S, zone);
    offsets.set(quarter, offset);
  }
  return offset;
}

const OFFSET_SLOT_S = 900;
/** Quarter hours kept per zone before the cache starts again: about three years of them. */
const OFFSET_CACHE_LIMIT = 100_000;
const offsetCache = new Map<string, Map<number, number>>();

function computeZoneOffsetS(unixS: number, zone: string): number {
  const parts = Object.fromEntries(formatterOf(zone).formatToParts(new Date(unixS * 1000)).map((part) => [part.type, part.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round(asUtc / 1000 - Math.floor(unixS));
}

/**
 * Converts a local wall-clock time in `zone` to Unix seconds. A time that a daylight-saving change
 * skips or repeats resolves with the offset in force just before the change.
 */
export function localToUnix(year: number, month: number, day: number, secondsOfDay: number, zone: string): number {
  const wall = Date.UTC(year, month - 1, day) / 1000 + secondsOfDay;
  let guess = wall - zoneOffsetS(wall, zone);
  guess = wall - zoneOffsetS(guess, zone);
  return guess;
}

/** Parses "YYYY-MM-DD HH:MM:SS" (or with a T) as local time in `zone`; throws ArrivalDataError when invalid. */
export function parseLocalTime(text: string, zone: string): number {
  const match = LOCAL_TIME_PATTERN.exec(text.trim());
  if (!match) throw new ArrivalDataError(`invalid local time "${text}": expected YYYY-MM-DD HH:MM:SS`);
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    throw new ArrivalDataError(`invalid local time "${text}": a field is out of range`);
  }
  return localToUnix(year, month, day, hour * 3600 + minute * 60 + second, zone);
}

/** Returns the local date in `zone` at an instant, as YYYY-MM-DD. */
export function localDateOf(unixS: number, zone: string): string {
  const local = new Date((unixS + zoneOffsetS(unixS, zone)) * 1000);
  return local.toISOString().slice(0, 10);
}

/**
 * Returns the start of a GTFS service day in Unix seconds: noon local time minus 12 hours, so that
 * stop times stay right on the days daylight saving starts or ends.
 */
export function serviceDayStart(serviceDate: string, zone: string): number {
  const [year, month, day] = serviceDate.split('-').map(Number) as [number, number, number];
  return localToUnix(year, month, day, 12 * 3600, zone) - 12 * 3600;
}

/** Shifts a YYYY-MM-DD date by whole days. */
export function addDays(serviceDate: string, days: number): string {
  return new Date(Date.parse(`${serviceDate}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
