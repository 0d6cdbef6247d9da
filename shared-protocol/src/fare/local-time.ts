import type { DayType, FareTableBody } from '../schemas/fare-table.js';
import { FareInputError } from './fare-input.js';

export interface LocalTime {
  epochMs: number;
  /** Local date, YYYY-MM-DD. */
  date: string;
  /** Minutes since local midnight. */
  minuteOfDay: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
}

const LOCAL_ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Reads the local date and time of day from ISO 8601 text with a UTC offset, as written. */
export function parseLocalTime(text: string): LocalTime {
  const match = LOCAL_ISO.exec(text);
  const epochMs = Date.parse(text);
  if (!match || Number.isNaN(epochMs)) throw new FareInputError(`invalid tap time "${text}": expected ISO 8601 with a UTC offset, e.g. 2026-01-05T08:00:00+08:00`);
  const [, year, month, day, hour, minute] = match;
  const weekday = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day))).getUTCDay();
  return { epochMs, date: `${year}-${month}-${day}`, minuteOfDay: Number(hour) * 60 + Number(minute), weekday };
}

/** Formats a moment as local ISO 8601 with the given UTC offset in minutes (China: 480). */
export function formatLocalTime(at: Date, utcOffsetMinutes: number): string {
  const local = new Date(at.getTime() + utcOffsetMinutes * 60_000);
  const sign = utcOffsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(utcOffsetMinutes);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local.toISOString().slice(0, 23)}${offset}`;
}

/** The day type of a date: the table's holidays and make-up workdays first, then Saturday and Sunday. */
export function dayTypeOf(local: LocalTime, table: FareTableBody): DayType {
  if (table.calendar?.holidays.includes(local.date)) return 'holiday';
  if (table.calendar?.workdays.includes(local.date)) return 'weekday';
  return local.weekday === 0 || local.weekday === 6 ? 'weekend' : 'weekday';
}

/** Whether a minute of the day lies in [from, to); a range whose end is not after its start runs past midnight. */
export function inClockRange(minuteOfDay: number, from: string, to: string): boolean {
  const start = clockMinutes(from);
  const end = clockMinutes(to);
  if (start < end) return minuteOfDay >= start && minuteOfDay < end;
  return minuteOfDay >= start || minuteOfDay < end;
}

function clockMinutes(text: string): number {
  return Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
}
