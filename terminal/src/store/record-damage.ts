import { issueMessage, lockRecordSchema, parseCommonRecord, transactionRecordSchema } from '@busfare/shared-protocol';
import type { z } from 'zod';

/** Schema issues named in a damage reason. A count of the rest follows them. */
const MAX_ISSUES_IN_REASON = 5;

/**
 * Returns why a stored text cannot go out as the record of `sequence`, or undefined when it can.
 * It cannot when it is not JSON, not an object, not the record of this sequence, or invalid under
 * the record schema that the back office applies. The reason leaves out the text, because a
 * record carries the card number. zod 4's issue messages name the expected form, not the value.
 */
export function describeDamage(sequence: number, text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `stored text of ${text.length} characters is not valid JSON`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'stored text is JSON but not an object';
  const stored = (parsed as { sequence?: unknown }).sequence;
  if (stored === undefined) return `stored text has no sequence, expected ${sequence}`;
  if (stored !== sequence) {
    const shown = typeof stored === 'number' ? String(stored) : `of type ${stored === null ? 'null' : typeof stored}`;
    return `stored text holds sequence ${shown}, not ${sequence}`;
  }
  return describeSchemaFailure(parsed);
}

/**
 * Checks a parsed record as the back office's payload check does: kind `lock` against
 * lockRecordSchema, anything else against transactionRecordSchema. parseCommonRecord() accepts
 * only records that the schema accepts, in well under a microsecond. The zod schema then runs
 * only for what it leaves out, which is M1 records and invalid records.
 */
function describeSchemaFailure(record: object): string | undefined {
  if ((record as { kind?: unknown }).kind === 'lock') {
    const lock = lockRecordSchema.safeParse(record);
    return lock.success ? undefined : `stored text fails the lock record schema: ${describeIssues(lock.error)}`;
  }
  if (parseCommonRecord(record) !== undefined) return undefined;
  const transaction = transactionRecordSchema.safeParse(record);
  return transaction.success ? undefined : `stored text fails the record schema: ${describeIssues(transaction.error)}`;
}

function describeIssues(error: z.ZodError): string {
  const listed = error.issues.slice(0, MAX_ISSUES_IN_REASON).map((issue) => `${issue.path.join('.') || '(record)'}: ${issueMessage(issue)}`);
  const more = error.issues.length - listed.length;
  return more > 0 ? `${listed.join('; ')}; and ${more} more` : listed.join('; ');
}
