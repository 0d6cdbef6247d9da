import { type TransactionRecord, TX_BATCH_SCHEMA, asnFactor, computeTac, diversifyKey, fromHex, toHex } from '@busfare/shared-protocol';
import { TEST_DES_MASTER_KEY, fakeRecord } from '../../backoffice/src/testing/fake-terminal.js';

export interface EvidenceOptions {
  sequence: number;
  /** PSAM terminal number, 12 hex digits. */
  psam: string;
  asn?: string;
  cardCounter?: number;
  terminalSerial?: number;
  kind?: TransactionRecord['kind'];
  resolvesSequence?: number;
  outcome?: 'debited' | 'not-debited';
}

/**
 * Builds a purchase of the test 3DES issuer as the terminal with PSAM `psam` would send it, with a
 * TAC that verifies. ASN, card counter and PSAM serial default to values unique per PSAM and sequence.
 */
export function recordWithEvidence(options: EvidenceOptions): TransactionRecord {
  const base = fakeRecord({
    sequence: options.sequence,
    kind: options.kind ?? 'purchase',
    ...(options.asn === undefined ? { asn: `99000001${options.psam.slice(-6)}${String(options.sequence).padStart(6, '0')}` } : { asn: options.asn }),
    ...(options.resolvesSequence === undefined ? {} : { resolvesSequence: options.resolvesSequence }),
    ...(options.outcome === undefined ? {} : { outcome: options.outcome }),
  });
  const record = structuredClone(base);
  record.debit.psamTerminalNumber = options.psam;
  record.debit.terminalSerial = options.terminalSerial ?? 50_000 + options.sequence;
  record.debit.cardCounter = options.cardCounter ?? options.sequence;
  if (record.debit.tac !== undefined) record.debit.tac = tacOf(record);
  return record;
}

/** Recomputes the TAC that a card of the test 3DES issuer gives for this record's debit. */
export function tacOf(record: TransactionRecord): string {
  const { debit, card } = record;
  const tacKey = diversifyKey('des', fromHex(TEST_DES_MASTER_KEY), asnFactor(card.asn));
  return toHex(
    computeTac('des', tacKey, {
      amountFen: debit.amountFen,
      transactionType: debit.transactionType,
      terminalNumber: fromHex(debit.psamTerminalNumber),
      terminalSerial: debit.terminalSerial,
      dateTime: fromHex(debit.cardDateTime),
    }),
  );
}

/** The same record as another terminal would carry it: only the sequence number changes. */
export function movedTo(record: TransactionRecord, sequence: number): TransactionRecord {
  return { ...structuredClone(record), sequence };
}

export function batchPayload(terminalId: string, batchId: string, records: readonly unknown[]): string {
  return JSON.stringify({ schema: TX_BATCH_SCHEMA, terminalId, batchId, sentAt: new Date().toISOString(), records });
}

/** Returns a seeded pseudo-random source (mulberry32), so a failing case can be run again. */
export function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
