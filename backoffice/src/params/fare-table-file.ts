import { readFileSync } from 'node:fs';
import { fareTableBodySchema, type FareTableBody } from '@busfare/shared-protocol';
import { describeIssues } from '../zod-issues.js';

/** A file that cannot be used, with every problem found in it. */
export class ParameterFileError extends Error {
  constructor(
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`${path}: ${problems.join('; ')}`);
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
    throw new ParameterFileError(path, [`cannot read the fare table: ${(error as Error).message}`]);
  }
  const candidate = parsed as { kind?: unknown; body?: unknown };
  const isSet = typeof parsed === 'object' && parsed !== null && 'body' in candidate && 'kind' in candidate;
  if (isSet && candidate.kind !== 'fare-table') throw new ParameterFileError(path, [`kind: expected "fare-table", got ${JSON.stringify(candidate.kind)}`]);
  const result = fareTableBodySchema.safeParse(isSet ? candidate.body : parsed);
  if (!result.success) throw new ParameterFileError(path, describeIssues(result.error).map((problem) => (isSet ? `body.${problem}` : problem)));
  return result.data;
}
