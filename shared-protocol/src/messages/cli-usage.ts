import { type CatalogueEntry, type CliTextId, type Language, type ValidationTextId, cliText, validationText } from './catalogue.js';

/**
 * Translates an error from node:util parseArgs into a usage message in the language. It covers an
 * unknown option, an option without its value, a value on a flag and an unexpected positional
 * argument, and returns undefined for any other error. `program` is the command the user ran,
 * such as "busfare-backoffice serve", for the hint to run its --help.
 */
export function parseArgsErrorText(error: unknown, language: Language, program: string): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  // Node 20 quotes the offending argument: "Unknown option '--bogus'", "Option '--config <value>'
  // argument missing", "Option '-h, --help' does not take an argument", "Unexpected argument 'x'".
  const quoted = /'([^']*)'/.exec(error.message)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return cliText('cli.unknownOption', language, { option: quoted, program });
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const option = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
      if (error.message.includes('argument missing')) return cliText('cli.missingOptionValue', language, { option });
      return cliText('cli.optionTakesNoValue', language, { option });
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return cliText('cli.unexpectedArgument', language, { argument: quoted });
    default:
      return undefined;
  }
}

/** Joins a lead line and the problems under it, one indented problem a line, without a final newline. */
export function problemListText(lead: string, problems: readonly string[]): string {
  return [lead, ...problems.map((problem) => `  ${problem}`)].join('\n');
}

/**
 * A problem line of an error that is printed later. It is either one text that reads the same in
 * both languages, such as a path or an operating system's message, or a catalogue entry.
 */
export type ProblemText = string | CatalogueEntry;

/** Returns the problem line in the language. */
export function problemTextIn(problem: ProblemText, language: Language): string {
  return typeof problem === 'string' ? problem : problem[language];
}

/** Returns every problem line in the language. */
export function problemTextsIn(problems: readonly ProblemText[], language: Language): string[] {
  return problems.map((problem) => problemTextIn(problem, language));
}

/** Returns a command-line message in both languages, for an error that is printed later in either. */
export function cliTextEntry(id: CliTextId, params: Record<string, string | number> = {}): CatalogueEntry {
  return { zh: cliText(id, 'zh', params), en: cliText(id, 'en', params) };
}

/** Returns a validation message in both languages, for an error that is printed later in either. */
export function validationTextEntry(id: ValidationTextId, params: Record<string, string | number> = {}): CatalogueEntry {
  return { zh: validationText(id, 'zh', params), en: validationText(id, 'en', params) };
}

/**
 * Builds a text in both languages by calling `build` once for each, for a message whose
 * placeholders are themselves catalogue texts or lists joined the language's way.
 */
export function catalogueEntryFrom(build: (language: Language) => string): CatalogueEntry {
  return { zh: build('zh'), en: build('en') };
}

/**
 * An error that a person reads in the output of a command. `message` is the English text, for logs
 * and stack traces, and textIn gives the text in the language the command prints.
 */
export class TranslatedError extends Error {
  constructor(
    private readonly text: CatalogueEntry,
    options?: ErrorOptions,
  ) {
    super(text.en, options);
  }

  /** Returns the error's text in the language. */
  textIn(language: Language): string {
    return this.text[language];
  }
}
