import { z } from 'zod';
import { fenSchema, hexSchema, isoTimeSchema, terminalIdSchema } from './common.js';

export const TX_BATCH_SCHEMA = 'busfare.tx-batch/1';
export const TX_ACK_SCHEMA = 'busfare.tx-ack/1';

/** Largest batch a terminal sends and the back office accepts. */
export const MAX_BATCH_RECORDS = 500;

export const cardApplicationSchema = z.enum(['tunion', 'mohurd', 'm1']);
export const cardMediumSchema = z.enum(['card', 'phone']);

export const cardIdentitySchema = z.object({
  application: cardApplicationSchema,
  medium: cardMediumSchema,
  /** Application serial number (card number) as decimal or BCD hex digits. */
  asn: z.string().regex(/^[0-9A-F]{8,20}$/),
  issuerId: hexSchema(8),
  cardType: z.string().min(1).max(32),
});

/**
 * Evidence that only MIFARE Classic (M1) records carry. An M1 card computes no TAC: the PSAM MACs
 * the record before the card is written, and that MAC is the record's `tac` once the debit is known.
 */
export const m1EvidenceSchema = z.object({
  /** UID of 4 or 7 bytes as the reader reports it. */
  uid: z.string().regex(/^([0-9A-F]{8}|[0-9A-F]{14})$/, 'expected a 4- or 7-byte UID as upper-case hex'),
  /** The PSAM's record MAC, also carried while the debit's outcome is unknown. */
  recordMac: hexSchema(4),
});

/**
 * The evidence of one purchase as the card and the PSAM produced it. M1 records fill the PBOC
 * fields with their own meanings: `cardCounter` is the purse counter before the debit,
 * `cardRandom` a random the terminal drew for the record MAC, `keyVersion` and `algorithmId` 0,
 * and `tac` the PSAM's record MAC.
 */
export const debitSchema = z.object({
  /** 0x06 purchase, 0x09 composite purchase. */
  transactionType: z.union([z.literal(0x06), z.literal(0x09)]),
  amountFen: fenSchema,
  listFareFen: fenSchema,
  balanceBeforeFen: fenSchema,
  /** Balance after the debit; absent while the outcome is unknown. */
  balanceAfterFen: fenSchema.optional(),
  /** Card offline counter returned by INITIALIZE FOR PURCHASE. */
  cardCounter: z.number().int().min(0).max(0xffff),
  cardRandom: hexSchema(4),
  keyVersion: z.number().int().min(0).max(255),
  algorithmId: z.number().int().min(0).max(255),
  psamTerminalNumber: hexSchema(6),
  /** PSAM terminal transaction serial returned with MAC1. */
  terminalSerial: z.number().int().min(0).max(0xffffffff),
  /** Date and time sent to the card, YYYYMMDDhhmmss local time. */
  cardDateTime: z.string().regex(/^\d{14}$/),
  tac: hexSchema(4).optional(),
  /** Whether the PSAM accepted the card's MAC2; for M1 records, whether the card's write was confirmed. */
  mac2Verified: z.boolean().optional(),
  /** M1 records only. */
  m1: m1EvidenceSchema.optional(),
});

export const tripContextSchema = z.object({
  vehicleId: z.string().min(1).max(32),
  route: z.string().max(32).optional(),
  direction: z.number().int().min(0).max(1).optional(),
  stopId: z.string().max(64).optional(),
  driverId: z.string().max(32).optional(),
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
});

/**
 * One record of a terminal's outbox. Records are append-only: a purchase whose outcome was unknown
 * is sent as `in-doubt`, and a later `resolution` record (its own sequence number) settles it.
 */
export const transactionRecordSchema = z
  .object({
    sequence: z.number().int().min(1),
    kind: z.enum(['purchase', 'in-doubt', 'resolution']),
    occurredAt: isoTimeSchema,
    card: cardIdentitySchema,
    debit: debitSchema,
    trip: tripContextSchema,
    /** For `resolution`: the sequence of the in-doubt record it settles. */
    resolvesSequence: z.number().int().min(1).optional(),
    /** For `resolution`: whether the card proved the debit (GET TRANSACTION PROOF 9000) or not (6985). */
    outcome: z.enum(['debited', 'not-debited']).optional(),
  })
  .superRefine((record, ctx) => {
    const m1 = record.card.application === 'm1';
    if (m1 && !record.debit.m1) ctx.addIssue({ code: 'custom', path: ['debit', 'm1'], message: 'an M1 record must carry its UID and record MAC' });
    if (!m1 && record.debit.m1) ctx.addIssue({ code: 'custom', path: ['debit', 'm1'], message: 'M1 evidence on a record of a CPU card application' });
    if (record.kind === 'purchase' && !record.debit.tac) ctx.addIssue({ code: 'custom', path: ['debit', 'tac'], message: 'a purchase record must carry its TAC' });
    if (record.kind === 'resolution') {
      if (record.resolvesSequence === undefined) ctx.addIssue({ code: 'custom', path: ['resolvesSequence'], message: 'a resolution must name the in-doubt record it settles' });
      if (record.outcome === undefined) ctx.addIssue({ code: 'custom', path: ['outcome'], message: 'a resolution must give its outcome' });
      if (record.outcome === 'debited' && !record.debit.tac) ctx.addIssue({ code: 'custom', path: ['debit', 'tac'], message: 'a debited resolution must carry the TAC from the transaction proof' });
    }
  });

/**
 * A blacklisted card that a terminal locked (or tried to lock) at the door. It moves no money, so
 * it carries no debit evidence, and clearing keeps it apart from the purchases. It takes a
 * sequence number of the terminal's outbox like every other record.
 */
export const lockRecordSchema = z.object({
  sequence: z.number().int().min(1),
  kind: z.literal('lock'),
  occurredAt: isoTimeSchema,
  card: cardIdentitySchema.pick({ application: true, asn: true, issuerId: true }).extend({ medium: cardMediumSchema.optional() }),
  lock: z.object({
    /** Whether the card confirmed the lock: APPLICATION BLOCK returned 9000, or the M1 enable flag was written. */
    locked: z.boolean(),
    /** Reason the lock failed, when it did. */
    reason: z.string().max(500).optional(),
    psamTerminalNumber: hexSchema(6),
  }),
  trip: tripContextSchema,
});

export const transactionBatchSchema = z
  .object({
    schema: z.literal(TX_BATCH_SCHEMA),
    terminalId: terminalIdSchema,
    batchId: z.string().min(1).max(64),
    sentAt: isoTimeSchema,
    records: z.array(z.unknown()).min(1).max(MAX_BATCH_RECORDS),
  });

export const transactionAckSchema = z.object({
  schema: z.literal(TX_ACK_SCHEMA),
  terminalId: terminalIdSchema,
  batchId: z.string().min(1).max(64).optional(),
  /** Every record up to and including this sequence is stored durably (contiguous from 1). */
  ackedThrough: z.number().int().min(0),
  stored: z.number().int().min(0),
  duplicates: z.number().int().min(0),
  rejected: z.array(z.object({ sequence: z.number().int().min(1), reason: z.string() })),
  /** Sequences the back office is missing below the highest one it has seen. */
  missing: z.array(z.object({ from: z.number().int().min(1), to: z.number().int().min(1) })).optional(),
});

export type CardIdentity = z.infer<typeof cardIdentitySchema>;
export type DebitEvidence = z.infer<typeof debitSchema>;
export type M1Evidence = z.infer<typeof m1EvidenceSchema>;
export type TripContext = z.infer<typeof tripContextSchema>;
export type TransactionRecord = z.infer<typeof transactionRecordSchema>;
export type LockRecord = z.infer<typeof lockRecordSchema>;
/** Any record of a terminal's outbox: a money record or a card lock. */
export type OutboxRecord = TransactionRecord | LockRecord;
export type TransactionBatch = Omit<z.infer<typeof transactionBatchSchema>, 'records'> & { records: OutboxRecord[] };
export type TransactionAck = z.infer<typeof transactionAckSchema>;
