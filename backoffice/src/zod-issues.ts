import { issueMessage } from '@busfare/shared-protocol';
import type { z } from 'zod';

/**
 * Formats every issue of a zod error as "path: message", with "(root)" for the top level. A
 * missing required key reads "required, but missing" instead of zod's type message.
 */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issueMessage(issue)}`);
}
