import { DEFAULT_LANGUAGE, type Language } from '@busfare/shared-protocol';

/** Invalid command-line arguments; the command prints the message and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseLanguage(value: string | undefined): Language {
  if (value === undefined) return DEFAULT_LANGUAGE;
  if (value === 'zh' || value === 'en') return value;
  throw new UsageError(`invalid --lang "${value}": expected zh or en`);
}

export function parseSeconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new UsageError(`invalid --${name} "${value}": expected a number of seconds from 0 to 3600, above 0`);
  }
  return seconds;
}
