import { z } from 'zod';
import { isoTimeSchema } from './common.js';
import { blacklistBodySchema } from './blacklist.js';
import { fareTableBodySchema } from './fare-table.js';
import { issuersBodySchema } from './issuers.js';
import { routesBodySchema } from './routes.js';

export * from './fare-table.js';
export * from './blacklist.js';
export * from './routes.js';
export * from './issuers.js';
export * from '../params/index.js';

export const PARAMETER_SET_SCHEMA = 'busfare.parameters/1';

export const parameterKindSchema = z.enum(['fare-table', 'blacklist', 'routes', 'issuers']);

/** Body schema of each parameter kind. */
export const PARAMETER_BODY_SCHEMAS = {
  'fare-table': fareTableBodySchema,
  blacklist: blacklistBodySchema,
  routes: routesBodySchema,
  issuers: issuersBodySchema,
} as const satisfies Record<z.infer<typeof parameterKindSchema>, z.ZodType>;

/**
 * Default limit on how far in the past a new set's effectiveFrom may lie when it arrives. A set
 * older than this is stale (a replayed or long-delayed publication) and is rejected.
 */
export const DEFAULT_MAX_EFFECTIVE_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/** Ed25519 signature of the back office over the canonical JSON of the set without this field. */
export const parameterSignatureSchema = z.object({
  algorithm: z.literal('ed25519'),
  keyId: z.string().regex(/^[0-9a-f]{16}$/, 'expected the first 16 hex digits of the SHA-256 of the public key'),
  value: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'expected a 64-byte Ed25519 signature in base64'),
});

export const parameterSetSchema = z.object({
  schema: z.literal(PARAMETER_SET_SCHEMA),
  kind: parameterKindSchema,
  version: z.number().int().min(1),
  effectiveFrom: isoTimeSchema,
  publishedAt: isoTimeSchema,
  /** SHA-256 of the canonical JSON of `body`, hex. */
  bodySha256: z.string().regex(/^[0-9a-f]{64}$/),
  body: z.unknown(),
  /** Optional in the schema so that an unsigned set parses and is rejected by name as unsigned. */
  signature: parameterSignatureSchema.optional(),
});

export type ParameterKind = z.infer<typeof parameterKindSchema>;
export type ParameterSet = z.infer<typeof parameterSetSchema>;
