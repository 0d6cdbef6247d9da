import { z } from 'zod';
import { fenSchema, isoTimeSchema } from './common.js';

export const PARAMETER_SET_SCHEMA = 'busfare.parameters/1';

export const parameterKindSchema = z.enum(['fare-table', 'blacklist', 'routes', 'issuers']);

/** Card types the fare policy knows. */
export const cardTypeSchema = z.enum(['ordinary', 'student', 'senior', 'disabled', 'staff', 'monthly', 'tunion-out-of-town']);

export const cardTypeRuleSchema = z.object({
  /** Whether this card type may ride at all. */
  allowed: z.boolean(),
  /** Percentage of the list fare charged (100 = full fare, 0 = free). */
  ratePercent: z.number().int().min(0).max(100),
});

/**
 * Fare table. A flat fare per route with a per-card-type rate; the charge is
 * ceil(listFare × rate / 100) fen, the rounding that public reader code applies.
 */
export const fareTableBodySchema = z.object({
  currency: z.literal('CNY'),
  flatFareFen: fenSchema,
  /** Route-specific flat fares, by route id; other routes pay flatFareFen. */
  routeFareFen: z.record(z.string(), fenSchema).default({}),
  cardTypes: z.partialRecord(cardTypeSchema, cardTypeRuleSchema),
  /** Card-type code from the card (EF15 byte 28 on T-Union cards) to card type. */
  cardTypeByCode: z.record(z.string().regex(/^\d{1,3}$/), cardTypeSchema),
  /** Cards issued outside these issuer-id prefixes are out-of-town T-Union cards. */
  localIssuerPrefixes: z.array(z.string().regex(/^[0-9A-F]{2,16}$/)).min(1),
  /** The rider is told "请充值" when the balance after the fare is below this. */
  lowBalanceWarningFen: fenSchema,
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
});

export type ParameterKind = z.infer<typeof parameterKindSchema>;
export type CardType = z.infer<typeof cardTypeSchema>;
export type FareTableBody = z.infer<typeof fareTableBodySchema>;
export type ParameterSet = z.infer<typeof parameterSetSchema>;
