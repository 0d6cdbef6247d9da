import { DEFAULT_LANGUAGE, type Language } from './catalogue.js';

/** Environment variable that sets the language of command-line help when --lang is absent. */
export const LANGUAGE_VARIABLE = 'BUSFARE_LANG';

/** An invalid --lang value, which commands report as a usage error (exit 2). */
export class LanguageOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LanguageOptionError';
  }
}

export interface LanguageSelection {
  language: Language;
  /** The arguments without any --lang option, for the command's own option parser. */
  args: string[];
  /** Set when BUSFARE_LANG was invalid and ignored; the command prints it on stderr. */
  warning?: string;
}

/**
 * Removes every `--lang VALUE` and `--lang=VALUE` before a `--` from args and returns the
 * language of the last one. Without --lang the language is `fallback` (the BUSFARE_LANG value, or
 * the language a parent command already chose), and without that it is zh. An empty fallback
 * counts as unset. Throws LanguageOptionError for a --lang value other than zh or en. A fallback
 * other than zh or en is ignored with a warning, because an environment variable set wrongly on a
 * validator must not keep it from starting.
 */
export function takeLanguageOption(args: readonly string[], fallback: string | undefined): LanguageSelection {
  const rest: string[] = [];
  let chosen: Language | undefined;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === '--') {
      rest.push(...args.slice(index));
      break;
    }
    if (arg === '--lang') {
      const value = args[index + 1];
      if (value === undefined) throw new LanguageOptionError('missing value after --lang: expected zh or en');
      chosen = checkLanguage('--lang', value);
      index += 1;
    } else if (arg.startsWith('--lang=')) {
      chosen = checkLanguage('--lang', arg.slice('--lang='.length));
    } else {
      rest.push(arg);
    }
  }
  if (chosen !== undefined) return { language: chosen, args: rest };
  if (fallback === undefined || fallback === '') return { language: DEFAULT_LANGUAGE, args: rest };
  if (fallback === 'zh' || fallback === 'en') return { language: fallback, args: rest };
  return { language: DEFAULT_LANGUAGE, args: rest, warning: `ignoring invalid ${LANGUAGE_VARIABLE} "${fallback}": expected zh or en, so texts are in ${DEFAULT_LANGUAGE}\n` };
}

function checkLanguage(source: string, value: string): Language {
  if (value === 'zh' || value === 'en') return value;
  throw new LanguageOptionError(`invalid ${source} "${value}": expected zh or en`);
}
