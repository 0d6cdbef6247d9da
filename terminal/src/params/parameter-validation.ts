import type { KeyObject } from 'node:crypto';
import { canonicalJson, PARAMETER_BODY_SCHEMAS, parameterSetSchema, sha256Hex, verifyParameterSetSignature, type ParameterSet } from '@busfare/shared-protocol';
import type { z } from 'zod';

export interface ValidParameterSet {
  set: ParameterSet;
  /** The body after its kind's schema, with defaults filled in. */
  body: unknown;
  effectiveFromMs: number;
}

export type ParameterValidation = { ok: true; value: ValidParameterSet } | { ok: false; problems: string[] };

export interface ParameterValidationOptions {
  /** The Ed25519 public key pinned at provisioning; only sets it verifies are valid. */
  publicKey: KeyObject;
  /** The kind the set's topic names; a set of another kind is invalid. */
  expectedKind?: string;
}

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
 * Checks a parameter set completely: envelope, Ed25519 signature against the pinned key, body
 * hash, body schema of its kind and, when given, the kind its topic names. Lists every problem
 * found instead of stopping at the first. Checks that depend on what the terminal already holds
 * (versions, effective-time age, blacklist base versions) are the store's.
 */
export function validateParameterSet(raw: unknown, options: ParameterValidationOptions): ParameterValidation {
  const decoded = decode(raw);
  if (!decoded.ok) return { ok: false, problems: [decoded.problem] };

  const problems: string[] = [];
  const envelope = parameterSetSchema.safeParse(decoded.value);
  if (!envelope.success) problems.push(...describeIssues(envelope.error.issues, ''));

  const candidate = (typeof decoded.value === 'object' && decoded.value !== null ? decoded.value : {}) as Record<string, unknown>;
  if (typeof decoded.value === 'object' && decoded.value !== null) problems.push(...verifyParameterSetSignature(decoded.value, options.publicKey));
  if ('body' in candidate && typeof candidate.bodySha256 === 'string') {
    const computed = sha256Hex(canonicalJson(candidate.body));
    if (computed !== candidate.bodySha256) problems.push(`bodySha256: does not match the body (set carries ${candidate.bodySha256}, body hashes to ${computed})`);
  }
  if (options.expectedKind !== undefined && candidate.kind !== options.expectedKind) {
    problems.push(`kind: ${JSON.stringify(candidate.kind)} does not match the topic kind ${JSON.stringify(options.expectedKind)}`);
  }

  let body: unknown = candidate.body;
  const bodySchema = typeof candidate.kind === 'string' ? PARAMETER_BODY_SCHEMAS[candidate.kind as ParameterSet['kind']] : undefined;
  if (bodySchema) {
    const parsedBody = (bodySchema as z.ZodType).safeParse(candidate.body);
    if (parsedBody.success) body = parsedBody.data;
    else problems.push(...describeIssues(parsedBody.error.issues, 'body'));
  }
  const blacklistBody = body as { mode?: unknown; baseVersion?: unknown };
  if (candidate.kind === 'blacklist' && blacklistBody?.mode === 'delta' && typeof blacklistBody.baseVersion === 'number' && typeof candidate.version === 'number' && blacklistBody.baseVersion >= candidate.version) {
    problems.push(`body.baseVersion: a delta applies on top of an older version, but base ${blacklistBody.baseVersion} is not below version ${candidate.version}`);
  }

  if (problems.length > 0 || !envelope.success) return { ok: false, problems };
  return { ok: true, value: { set: envelope.data, body, effectiveFromMs: Date.parse(envelope.data.effectiveFrom) } };
}
