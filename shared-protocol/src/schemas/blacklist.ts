import { z } from 'zod';

/**
 * A blacklisted card: the right-most 8 bytes of its application serial number (ASN) as 16
 * upper-case hex digits, the part of the ASN that the PSAM also takes.
 */
export const blacklistAsnSchema = z.string().regex(/^[0-9A-F]{16}$/, 'expected the right-most 8 bytes of the ASN as 16 upper-case hex digits');

/** Encoding of packed chunks: 8-byte big-endian ASNs, sorted ascending, no duplicates. */
export const BLACKLIST_PACKED_ENCODING = 'asn64be-sorted';

/**
 * A packed list carried as binary chunks beside the JSON set. `sha256` covers the chunks
 * concatenated in index order, and each chunk has its own hash so a corrupt chunk is named.
 */
export const packedListManifestSchema = z
  .object({
    encoding: z.literal(BLACKLIST_PACKED_ENCODING),
    count: z.number().int().min(0).max(20_000_000),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    chunks: z.array(z.object({ count: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
  })
  .refine((manifest) => manifest.chunks.reduce((sum, chunk) => sum + chunk.count, 0) === manifest.count, {
    message: 'the chunk counts must add up to count',
    path: ['count'],
  });

/** A whole blacklist, either inline or packed. */
export const blacklistFullSchema = z
  .object({
    mode: z.literal('full'),
    entries: z.array(blacklistAsnSchema).optional(),
    packed: packedListManifestSchema.optional(),
  })
  .refine((body) => (body.entries === undefined) !== (body.packed === undefined), { message: 'a full blacklist carries either entries or packed, not both' });

/** Changes to the blacklist of version `baseVersion`; it applies only on top of that version. */
export const blacklistDeltaSchema = z
  .object({
    mode: z.literal('delta'),
    baseVersion: z.number().int().min(1),
    add: z.array(blacklistAsnSchema).default([]),
    remove: z.array(blacklistAsnSchema).default([]),
  })
  .superRefine((delta, context) => {
    const added = new Set(delta.add);
    delta.remove.forEach((asn, index) => {
      if (added.has(asn)) context.addIssue({ code: 'custom', path: ['remove', index], message: `ASN ${asn} is both added and removed; list it in one of the two` });
    });
  });

export const blacklistBodySchema = z.discriminatedUnion('mode', [blacklistFullSchema, blacklistDeltaSchema]);

export type PackedListManifest = z.infer<typeof packedListManifestSchema>;
export type BlacklistBody = z.infer<typeof blacklistBodySchema>;
