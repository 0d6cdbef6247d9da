import { z } from 'zod';
import { fenSchema, isoTimeSchema, terminalIdSchema } from './common.js';
import { cardTypeSchema, routeIdSchema } from './fare-table.js';

export const SHIFT_RECORD_SCHEMA = 'busfare.shift/1';

/** Driver numbers come from staff cards or the sign-on keypad: letters, digits, "_" or "-". */
export const driverIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,16}$/, 'driver number must be 1-16 letters, digits, "_" or "-"');

const countSchema = z.number().int().min(0);

/** Taps and money of one card type in a shift. */
export const shiftCardTypeCountSchema = z.object({
  taps: countSchema,
  amountFen: fenSchema,
});

/** The terminal's own counters of a shift, which clearing reconciles against the stored records. */
export const shiftCountersSchema = z.object({
  /** Every card presentation that reached a decision, accepted or not. */
  taps: countSchema,
  /** Taps whose rider was told the fare was taken (new debits and recovered torn taps). */
  accepted: countSchema,
  refused: countSchema,
  inDoubt: countSchema,
  failed: countSchema,
  /** Sum of the fares of accepted taps. */
  amountFen: fenSchema,
  byCardType: z.partialRecord(cardTypeSchema, shiftCardTypeCountSchema),
});

/**
 * One driver shift on one terminal, sent at sign-off. The sequence range covers the records the
 * terminal wrote during the shift; both ends are null when it wrote none.
 */
export const shiftRecordSchema = z
  .object({
    schema: z.literal(SHIFT_RECORD_SCHEMA),
    terminalId: terminalIdSchema,
    vehicleId: z.string().min(1).max(32),
    /** Unique per terminal: the terminal id and the sign-on time. */
    shiftId: z.string().regex(/^[A-Za-z0-9_-]{1,32}-\d{14}$/),
    driverId: driverIdSchema,
    route: routeIdSchema.optional(),
    direction: z.union([z.literal(0), z.literal(1)]).optional(),
    startedAt: isoTimeSchema,
    endedAt: isoTimeSchema,
    firstSequence: z.number().int().min(1).nullable(),
    lastSequence: z.number().int().min(1).nullable(),
    counters: shiftCountersSchema,
  })
  .superRefine((record, ctx) => {
    if ((record.firstSequence === null) !== (record.lastSequence === null)) {
      ctx.addIssue({ code: 'custom', path: ['lastSequence'], message: 'firstSequence and lastSequence must both be null or both be set' });
    }
    if (record.firstSequence !== null && record.lastSequence !== null && record.lastSequence < record.firstSequence) {
      ctx.addIssue({ code: 'custom', path: ['lastSequence'], message: `lastSequence ${record.lastSequence} is below firstSequence ${record.firstSequence}` });
    }
    if (Date.parse(record.endedAt) < Date.parse(record.startedAt)) {
      ctx.addIssue({ code: 'custom', path: ['endedAt'], message: 'endedAt is before startedAt' });
    }
  });

export type ShiftCounters = z.infer<typeof shiftCountersSchema>;
export type ShiftRecord = z.infer<typeof shiftRecordSchema>;

/** Body of the driver screen's sign-on request. */
export const driverSignOnRequestSchema = z.object({ driverId: z.string().max(64) }).strict();

/** Body of the driver screen's route and direction confirmation. */
export const driverServiceRequestSchema = z.object({ route: routeIdSchema, direction: z.union([z.literal(0), z.literal(1)]) }).strict();

/** Body of the driver screen's sign-off request: empty. */
export const driverSignOffRequestSchema = z.object({}).strict();
