import type { z } from 'zod';

/**
 * Returns zod's message for a validation issue, except that a missing required key reads
 * "required, but missing" instead of a type mismatch with "undefined".
 */
export function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return `required, but missing (expected ${issue.expected})`;
  return issue.message;
}
