import { zodIssueLines } from '@busfare/shared-protocol';
import type { z } from 'zod';

/**
 * Formats every issue of a zod error as "path: message" in English, with "(root)" for the top
 * level, for logs, stored rejection reasons and API responses.
 */
export function describeIssues(error: z.ZodError): string[] {
  return zodIssueLines(error.issues, 'en');
}
