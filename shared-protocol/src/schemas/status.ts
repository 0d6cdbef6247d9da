import { z } from 'zod';
import { isoTimeSchema, terminalIdSchema } from './common.js';

export const TERMINAL_STATUS_SCHEMA = 'busfare.status/1';

export const deviceHealthSchema = z.enum(['ok', 'degraded', 'fault', 'down', 'unknown']);

export const terminalStatusSchema = z.object({
  schema: z.literal(TERMINAL_STATUS_SCHEMA),
  terminalId: terminalIdSchema,
  state: z.enum(['online', 'offline']),
  at: isoTimeSchema,
  softwareVersion: z.string().max(64).optional(),
  vehicleId: z.string().max(32).optional(),
  /** Records stored on the terminal and not yet acknowledged. */
  backlog: z.number().int().min(0).optional(),
  lastSequence: z.number().int().min(0).optional(),
  parameters: z
    .object({
      active: z.record(z.string(), z.number().int()),
      pending: z.record(z.string(), z.number().int()),
    })
    .optional(),
  devices: z
    .object({ reader: deviceHealthSchema, psam: deviceHealthSchema, gps: deviceHealthSchema })
    .partial()
    .optional(),
  alerts: z.array(z.object({ id: z.string(), severity: z.enum(['info', 'warning', 'critical']), messageId: z.string() })).optional(),
});

export type DeviceHealth = z.infer<typeof deviceHealthSchema>;
export type TerminalStatus = z.infer<typeof terminalStatusSchema>;
