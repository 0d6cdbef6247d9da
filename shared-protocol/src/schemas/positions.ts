import { z } from 'zod';
import { isoTimeSchema, terminalIdSchema } from './common.js';

export const POSITION_BATCH_SCHEMA = 'busfare.positions/1';

export const positionFixSchema = z.object({
  time: isoTimeSchema,
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  speedMps: z.number().min(0).max(100).optional(),
  courseDeg: z.number().min(0).max(360).optional(),
  hdop: z.number().min(0).max(99.99).optional(),
  satellites: z.number().int().min(0).max(99).optional(),
  route: z.string().max(32).optional(),
  direction: z.number().int().min(0).max(1).optional(),
  tripId: z.string().max(64).optional(),
  stopId: z.string().max(64).optional(),
});

export const positionBatchSchema = z.object({
  schema: z.literal(POSITION_BATCH_SCHEMA),
  terminalId: terminalIdSchema,
  vehicleId: z.string().min(1).max(32),
  fixes: z.array(positionFixSchema).min(1).max(600),
});

export type PositionFix = z.infer<typeof positionFixSchema>;
export type PositionBatch = z.infer<typeof positionBatchSchema>;
