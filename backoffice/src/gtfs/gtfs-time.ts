/**
 * Parses a GTFS time of day, "H:MM:SS" or "HH:MM:SS", into seconds after the service day's noon
 * minus 12 h. Hours may reach 24 and beyond for trips that run past midnight, and single-digit
 * hours occur in real feeds. Returns undefined for an empty field and NaN for invalid text.
 */
export function parseGtfsTime(text: string): number | undefined {
  if (text === '') return undefined;
  const match = /^(\d{1,3}):([0-5]\d):([0-5]\d)$/.exec(text);
  if (!match) return Number.NaN;
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

/** Formats seconds as a GTFS time "HH:MM:SS", keeping hours past 24. */
export function formatGtfsTime(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  return `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}:${String(rest).padStart(2, '0')}`;
}
