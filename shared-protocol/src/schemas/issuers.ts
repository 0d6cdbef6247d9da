import { z } from 'zod';

/** Card issuers the terminal accepts, and the PSAM key versions in use. */
export const issuersBodySchema = z.object({
  issuers: z
    .array(
      z.object({
        /** Issuer-id prefix as upper-case hex, matched against EF15 bytes 0-7. */
        prefix: z.string().regex(/^[0-9A-F]{2,16}$/),
        name: z.string().min(1).max(128),
        accepted: z.boolean(),
      }),
    )
    .min(1),
  /** Purchase key versions (key index from PSAM EF17) that terminals may use. */
  purchaseKeyVersions: z.array(z.number().int().min(0).max(255)).min(1),
});

export type IssuersBody = z.infer<typeof issuersBodySchema>;
