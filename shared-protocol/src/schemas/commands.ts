import { z } from 'zod';
import { isoTimeSchema } from './common.js';

export const TERMINAL_COMMAND_SCHEMA = 'busfare.command/1';

/** Operator requests the back office sends to one terminal. */
export const terminalCommandSchema = z.discriminatedUnion('command', [
  z.object({ schema: z.literal(TERMINAL_COMMAND_SCHEMA), id: z.string().min(1).max(64), issuedAt: isoTimeSchema, command: z.literal('upload-now') }),
  z.object({ schema: z.literal(TERMINAL_COMMAND_SCHEMA), id: z.string().min(1).max(64), issuedAt: isoTimeSchema, command: z.literal('report-status') }),
  z.object({
    schema: z.literal(TERMINAL_COMMAND_SCHEMA),
    id: z.string().min(1).max(64),
    issuedAt: isoTimeSchema,
    command: z.literal('resend'),
    fromSequence: z.number().int().min(1),
    toSequence: z.number().int().min(1),
  }),
]);

export type TerminalCommand = z.infer<typeof terminalCommandSchema>;
