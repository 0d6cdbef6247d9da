import type { z } from 'zod';

/** Formats every issue of a zod error as "path: message", with "(root)" for the top level. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`);
}
