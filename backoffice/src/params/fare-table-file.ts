import { readFileSync } from 'node:fs';
import { type Language, type ProblemText, cliTextEntry, fareTableBodySchema, type FareTableBody, fileErrorEntry, problemTextsIn, zodIssueEntries } from '@busfare/shared-protocol';

/** A file that cannot be used, with every problem found in it. */
export class ParameterFileError extends Error {
  /** The problems in English, as the message and logs print them. */
  readonly problems: string[];

  constructor(
    readonly path: string,
    private readonly problemTexts: readonly ProblemText[],
  ) {
    const problems = problemTextsIn(problemTexts, 'en');
    super(`${path}: ${problems.join('; ')}`);
    this.problems = problems;
  }

  /** Returns the problems in the language, for a person reading the command's output. */
  problemsIn(language: Language): string[] {
    return problemTextsIn(this.problemTexts, language);
  }
}

/**
 * Reads a fare table from a JSON file: either the bare table body or a whole parameter set of
 * kind "fare-table", whose body is then used. Throws ParameterFileError listing every problem.
 */
export function readFareTableFile(path: string): FareTableBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ParameterFileError(path, [fileErrorEntry('cli.params.fareTableUnreadable', error)]);
  }
  const candidate = parsed as { kind?: unknown; body?: unknown };
  const isSet = typeof parsed === 'object' && parsed !== null && 'body' in candidate && 'kind' in candidate;
  if (isSet && candidate.kind !== 'fare-table') throw new ParameterFileError(path, [cliTextEntry('cli.params.notFareTable', { found: JSON.stringify(candidate.kind) ?? 'undefined' })]);
  const result = fareTableBodySchema.safeParse(isSet ? candidate.body : parsed);
  if (!result.success) throw new ParameterFileError(path, zodIssueEntries(result.error.issues, isSet ? { pathPrefix: ['body'] } : {}));
  return result.data;
}
