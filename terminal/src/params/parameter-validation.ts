import { canonicalJson, fareTableBodySchema, parameterSetSchema, sha256Hex, type ParameterSet } from '@busfare/shared-protocol';
import type { z } from 'zod';

/** Body schemas of the kinds the terminal checks field by field. */
const BODY_SCHEMAS: Partial<Record<ParameterSet['kind'], z.ZodType>> = {
  'fare-table': fareTableBodySchema,
};

export interface ValidParameterSet {
  set: ParameterSet;
  /** The body after its kind's schema (defaults filled in); the raw body for unchecked kinds. */
  body: unknown;
  effectiveFromMs: number;
}

export type ParameterValidation = { ok: true; value: ValidParameterSet } | { ok: false; problems: string[] };

function describeIssues(issues: ReadonlyArray<z.core.$ZodIssue>, prefix: string): string[] {
  return issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((part) => part.length > 0).join('.');
    return `${path || '(set)'}: ${issue.message}`;
  });
}

/** Parses JSON sent as bytes or text; any other value is taken as already parsed. */
function decode(raw: unknown): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (typeof raw !== 'string' && !(raw instanceof Uint8Array)) return { ok: true, value: raw };
  const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, problem: `parameter set is not valid JSON: ${(error as Error).message}` };
  }
}

/**
 * Checks a parameter set completely: envelope, body hash, body schema of its kind and, when
 * given, the kind its topic names. Lists every problem found instead of stopping at the first.
 */
export function validateParameterSet(raw: unknown, expectedKind?: string): ParameterValidation {
  const decoded = decode(raw);
  if (!decoded.ok) return { ok: false, problems: [decoded.problem] };

  const problems: string[] = [];
  const envelope = parameterSetSchema.safeParse(decoded.value);
  if (!envelope.success) problems.push(...describeIssues(envelope.error.issues, ''));

  const candidate = (typeof decoded.value === 'object' && decoded.value !== null ? decoded.value : {}) as Record<string, unknown>;
  if ('body' in candidate && typeof candidate.bodySha256 === 'string') {
    const computed = sha256Hex(canonicalJson(candidate.body));
    if (computed !== candidate.bodySha256) problems.push(`bodySha256: does not match the body (set carries ${candidate.bodySha256}, body hashes to ${computed})`);
  }
  if (expectedKind !== undefined && candidate.kind !== expectedKind) {
    problems.push(`kind: ${JSON.stringify(candidate.kind)} does not match the topic kind ${JSON.stringify(expectedKind)}`);
  }

  let body: unknown = candidate.body;
  const bodySchema = typeof candidate.kind === 'string' ? BODY_SCHEMAS[candidate.kind as ParameterSet['kind']] : undefined;
  if (bodySchema) {
    const parsedBody = bodySchema.safeParse(candidate.body);
    if (parsedBody.success) body = parsedBody.data;
    else problems.push(...describeIssues(parsedBody.error.issues, 'body'));
  }

  if (problems.length > 0 || !envelope.success) return { ok: false, problems };
  return { ok: true, value: { set: envelope.data, body, effectiveFromMs: Date.parse(envelope.data.effectiveFrom) } };
}
