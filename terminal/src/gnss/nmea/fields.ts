/** Raised by a field parser; the decoder turns it into a rejection of the whole sentence. */
export class InvalidFieldError extends Error {}

export const MS_PER_DAY = 86_400_000;

/** UTC time of day from an `hhmmss.sss` field. */
export interface TimeOfDay {
  /** Milliseconds since midnight UTC. A leap second (23:59:60.x) is held at 23:59:59.999. */
  msOfDay: number;
  leapSecond: boolean;
}

/** Calendar date from a sentence; `twoDigitYear` is set when the century had to be inferred. */
export interface CalendarDate {
  year: number;
  month: number;
  day: number;
  twoDigitYear: boolean;
}

const TIME_FIELD = /^(\d{2})(\d{2})(\d{2}(?:\.\d+)?)$/;
const DATE_FIELD = /^(\d{2})(\d{2})(\d{2})$/;
const LATITUDE_FIELD = /^(\d{2})(\d{2}(?:\.\d+)?)$/;
const LONGITUDE_FIELD = /^(\d{3})(\d{2}(?:\.\d+)?)$/;
const DECIMAL_FIELD = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;
const INTEGER_FIELD = /^\d+$/;

/** Two-digit years at or above this are 19xx; GPS time starts in 1980. */
const TWO_DIGIT_YEAR_PIVOT = 80;

export function parseTimeOfDay(field: string, name = 'time'): TimeOfDay | undefined {
  if (field === '') return undefined;
  const match = TIME_FIELD.exec(field);
  if (!match) throw new InvalidFieldError(`invalid ${name} "${field}" (expected hhmmss.ss)`);

  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  const seconds = Number(match[3]);
  // A positive leap second is inserted only as 23:59:60 UTC.
  const leapSecond = seconds >= 60 && seconds < 61 && hours === 23 && minutes === 59;
  if (hours > 23 || minutes > 59 || (seconds >= 60 && !leapSecond)) {
    throw new InvalidFieldError(`invalid ${name} "${field}" (out of range)`);
  }
  const msOfDay = leapSecond
    ? MS_PER_DAY - 1
    : hours * 3_600_000 + minutes * 60_000 + Math.round(seconds * 1000);
  return { msOfDay: Math.min(msOfDay, MS_PER_DAY - 1), leapSecond };
}

function checkCalendarDate(year: number, month: number, day: number, field: string): void {
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || day < 1 || probe.getUTCDate() !== day || probe.getUTCMonth() !== month - 1) {
    throw new InvalidFieldError(`invalid date "${field}"`);
  }
}

/** Date from an RMC `ddmmyy` field. */
export function parseDdmmyy(field: string): CalendarDate | undefined {
  if (field === '') return undefined;
  const match = DATE_FIELD.exec(field);
  if (!match) throw new InvalidFieldError(`invalid date "${field}" (expected ddmmyy)`);

  const day = Number(match[1]);
  const month = Number(match[2]);
  const yy = Number(match[3]);
  const year = yy >= TWO_DIGIT_YEAR_PIVOT ? 1900 + yy : 2000 + yy;
  checkCalendarDate(year, month, day, field);
  return { year, month, day, twoDigitYear: true };
}

/** Date from the ZDA day, month and four-digit year fields. */
export function parseZdaDate(dayField: string, monthField: string, yearField: string): CalendarDate | undefined {
  if (dayField === '' && monthField === '' && yearField === '') return undefined;
  const text = `${dayField}/${monthField}/${yearField}`;
  if (!/^\d{1,2}$/.test(dayField) || !/^\d{1,2}$/.test(monthField) || !/^\d{4}$/.test(yearField)) {
    throw new InvalidFieldError(`invalid ZDA date "${text}" (expected dd, mm and yyyy)`);
  }
  const year = Number(yearField);
  checkCalendarDate(year, Number(monthField), Number(dayField), text);
  return { year, month: Number(monthField), day: Number(dayField), twoDigitYear: false };
}

function parseAngle(
  value: string,
  hemisphere: string,
  pattern: RegExp,
  limit: number,
  hemispheres: [positive: string, negative: string],
  name: string,
): number | undefined {
  if (value === '' && hemisphere === '') return undefined;
  const match = pattern.exec(value);
  if (!match) throw new InvalidFieldError(`invalid ${name} "${value}"`);

  const degrees = Number(match[1]);
  const minutes = Number(match[2]);
  const result = degrees + minutes / 60;
  if (minutes >= 60 || result > limit) throw new InvalidFieldError(`invalid ${name} "${value}" (out of range)`);
  if (hemisphere === hemispheres[0]) return result;
  if (hemisphere === hemispheres[1]) return -result;
  throw new InvalidFieldError(`invalid ${name} hemisphere "${hemisphere}"`);
}

/** Degrees from `ddmm.mmmm` and N/S. */
export function parseLatitude(value: string, hemisphere: string): number | undefined {
  return parseAngle(value, hemisphere, LATITUDE_FIELD, 90, ['N', 'S'], 'latitude');
}

/** Degrees from `dddmm.mmmm` and E/W. */
export function parseLongitude(value: string, hemisphere: string): number | undefined {
  return parseAngle(value, hemisphere, LONGITUDE_FIELD, 180, ['E', 'W'], 'longitude');
}

export function parseDecimal(field: string, name: string): number | undefined {
  if (field === '') return undefined;
  if (!DECIMAL_FIELD.test(field)) throw new InvalidFieldError(`invalid ${name} "${field}"`);
  return Number(field);
}

/** Parses a decimal field, or returns undefined when it lies outside `min` to `max`. Text that is not a decimal still throws. */
export function parseDecimalOrOmit(field: string, name: string, min: number, max: number): number | undefined {
  const value = parseDecimal(field, name);
  return value !== undefined && (value < min || value > max) ? undefined : value;
}

/** Parses a decimal field that must lie from `min` to `max`, such as a speed (never negative) or a course in degrees. */
export function parseDecimalInRange(field: string, name: string, min: number, max: number): number | undefined {
  const value = parseDecimal(field, name);
  if (value !== undefined && (value < min || value > max)) throw new InvalidFieldError(`invalid ${name} "${field}" (out of range)`);
  return value;
}

export function parseInteger(field: string, name: string): number | undefined {
  if (field === '') return undefined;
  if (!INTEGER_FIELD.test(field)) throw new InvalidFieldError(`invalid ${name} "${field}"`);
  return Number(field);
}

/** Checks that a single-letter field is empty or one of the letters allowed. */
export function parseLetter(field: string, allowed: string, name: string): string | undefined {
  if (field === '') return undefined;
  if (field.length !== 1 || !allowed.includes(field)) throw new InvalidFieldError(`invalid ${name} "${field}"`);
  return field;
}
