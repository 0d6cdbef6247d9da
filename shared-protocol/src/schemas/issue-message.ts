import type { z } from 'zod';
import { zodIssueText } from '../messages/zod-issue-text.js';

/**
 * Returns the English text of a validation issue for logs and stored reasons, worded as the
 * command lines word it, so a missing required key reads "required, but missing".
 */
export function issueMessage(issue: z.core.$ZodIssue): string {
  return zodIssueText(issue, 'en');
}
