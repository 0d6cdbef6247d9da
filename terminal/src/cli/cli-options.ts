import { LANGUAGE_VARIABLE, type Language, LanguageOptionError, type LanguageSelection, cliText, labelled, takeLanguageOption, uiText } from '@busfare/shared-protocol';
import type { PcscUnavailableError } from '../readers/pcsc/nfc-pcsc-module.js';

/** Invalid command-line arguments; the command prints the message and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Takes --lang out of args (see takeLanguageOption): `--lang zh|en`, else `parentLanguage` (the
 * language busfare-terminal already chose), else BUSFARE_LANG, else zh. On an invalid value it
 * writes the message to `stderr` and returns undefined, and the command exits with status 2.
 */
export function takeCommandLanguage(args: readonly string[], parentLanguage: Language | undefined, stderr: (text: string) => void): LanguageSelection | undefined {
  try {
    return takeLanguageOption(args, parentLanguage ?? process.env[LANGUAGE_VARIABLE]);
  } catch (error) {
    if (!(error instanceof LanguageOptionError)) throw error;
    stderr(`${error.message}\n`);
    return undefined;
  }
}

/** Parses --NAME SECONDS, a number above 0 and at most 3600, and throws UsageError in the language for any other value. */
export function parseSeconds(name: string, value: string | undefined, fallback: number, language: Language): number {
  if (value === undefined) return fallback;
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new UsageError(cliText('cli.invalidSeconds', language, { name, value }));
  }
  return seconds;
}

/** Words a failure to load nfc-pcsc, with the loader's own message, in the language. */
export function pcscUnavailableText(error: PcscUnavailableError, language: Language): string {
  const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
  return cliText('cli.pcsc.unavailable', language, { message: cause });
}

/** Words "pcscd is not running" with the socket path and how to start or install it, in the language. */
export function pcscdDownText(socketPath: string, language: Language): string {
  return `${labelled(language, uiText('listReaders.serviceDown', language), socketPath)}\n${cliText('cli.pcsc.serviceDownHint', language)}`;
}
