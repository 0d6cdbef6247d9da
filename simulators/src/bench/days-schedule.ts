/** Local service hours of a simulated bus day. */
export const SERVICE_START_HOUR = 6;
export const SERVICE_END_HOUR = 22;

/** Returns the local date `daysBack` days before `now` at a UTC offset, as YYYY-MM-DD. */
export function localDateBefore(now: Date, daysBack: number, offsetMinutes: number): string {
  return new Date(now.getTime() + offsetMinutes * 60_000 - daysBack * 86_400_000).toISOString().slice(0, 10);
}

/** Returns the instant of a local wall time on a date, at a UTC offset. */
export function localInstant(date: string, hour: number, offsetMinutes: number): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) + hour * 3_600_000 - offsetMinutes * 60_000);
}

/** Returns the date after a YYYY-MM-DD date. */
export function nextDate(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/**
 * Boarding load of each service hour relative to the day's mean: morning and evening peaks, a
 * quieter midday. Weights sum to the number of service hours.
 */
export function hourWeights(): number[] {
  const raw: number[] = [];
  for (let hour = SERVICE_START_HOUR; hour < SERVICE_END_HOUR; hour += 1) {
    raw.push(hourLoad(hour));
  }
  const scale = raw.length / raw.reduce((sum, weight) => sum + weight, 0);
  return raw.map((weight) => weight * scale);
}

/** Relative boarding load of a local hour before scaling. */
function hourLoad(hour: number): number {
  const peakHours = [7, 8, 17, 18];
  if (peakHours.includes(hour)) return 2.2;
  if (hour >= 10 && hour <= 15) return 0.7;
  return 1;
}
