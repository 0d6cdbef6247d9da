import type { TransactionRecord } from '@busfare/shared-protocol';
import type { AcceptedTransaction, VerificationStatus } from './clearing-repository.js';

/**
 * The fields of a record that storing, screening and showing it read. A record checked in the
 * worker thread reaches the storing thread as these values and its JSON text, so that thread
 * parses the text only when something needs the whole record.
 */
export interface RecordColumns {
  sequence: number;
  kind: TransactionRecord['kind'];
  application: TransactionRecord['card']['application'];
  asn: string;
  issuerId: string;
  cardType: string;
  amountFen: number;
  occurredAt: string;
  resolvesSequence: number | null;
  outcome: 'debited' | 'not-debited' | null;
  route: string | null;
  vehicleId: string;
  cardCounter: number;
  psamTerminalNumber: string;
  terminalSerial: number;
  cardDateTime: string;
  tac: string | null;
  /** The record's claim keys, when the check worker packed them (claim-keys.ts). */
  claimKeys?: Buffer;
}

export function recordColumns(record: TransactionRecord): RecordColumns {
  const { card, debit, trip } = record;
  return {
    sequence: record.sequence,
    kind: record.kind,
    application: card.application,
    asn: card.asn,
    issuerId: card.issuerId,
    cardType: card.cardType,
    amountFen: debit.amountFen,
    occurredAt: record.occurredAt,
    resolvesSequence: record.resolvesSequence ?? null,
    outcome: record.outcome ?? null,
    route: trip.route ?? null,
    vehicleId: trip.vehicleId,
    cardCounter: debit.cardCounter,
    psamTerminalNumber: debit.psamTerminalNumber,
    terminalSerial: debit.terminalSerial,
    cardDateTime: debit.cardDateTime,
    tac: debit.tac ?? null,
  };
}

/** Returns the columns of an accepted record. A record built without them gets them from its fields. */
export function columnsOf(item: AcceptedTransaction): RecordColumns {
  return item.columns ?? recordColumns(item.record);
}

/** Values per record in a packed column list, in the order of packColumns(). */
export const PACKED_COLUMN_COUNT = 17;

/** Appends the columns of one record to `into` as plain values, which a worker message copies cheaply. */
export function packColumns(columns: RecordColumns, into: (string | number | null)[]): void {
  into.push(
    columns.sequence,
    columns.kind,
    columns.application,
    columns.asn,
    columns.issuerId,
    columns.cardType,
    columns.amountFen,
    columns.occurredAt,
    columns.resolvesSequence,
    columns.outcome,
    columns.route,
    columns.vehicleId,
    columns.cardCounter,
    columns.psamTerminalNumber,
    columns.terminalSerial,
    columns.cardDateTime,
    columns.tac,
  );
}

/** Reads the columns of record `index` from a list that packColumns() filled. */
export function unpackColumns(packed: readonly (string | number | null)[], index: number): RecordColumns {
  const at = index * PACKED_COLUMN_COUNT;
  return {
    sequence: packed[at] as number,
    kind: packed[at + 1] as RecordColumns['kind'],
    application: packed[at + 2] as RecordColumns['application'],
    asn: packed[at + 3] as string,
    issuerId: packed[at + 4] as string,
    cardType: packed[at + 5] as string,
    amountFen: packed[at + 6] as number,
    occurredAt: packed[at + 7] as string,
    resolvesSequence: packed[at + 8] as number | null,
    outcome: packed[at + 9] as RecordColumns['outcome'],
    route: packed[at + 10] as string | null,
    vehicleId: packed[at + 11] as string,
    cardCounter: packed[at + 12] as number,
    psamTerminalNumber: packed[at + 13] as string,
    terminalSerial: packed[at + 14] as number,
    cardDateTime: packed[at + 15] as string,
    tac: packed[at + 16] as string | null,
  };
}

/**
 * An accepted record that arrived as columns and the UTF-8 bytes of its JSON text. `raw` decodes
 * the bytes and `record` parses the text, each on first use. The text is the worker's
 * `JSON.stringify` of the validated record, so the parse gives that record.
 */
export class PackedAcceptedTransaction implements AcceptedTransaction {
  private text: string | undefined;
  private parsed: TransactionRecord | undefined;

  constructor(
    readonly terminalId: string,
    readonly columns: RecordColumns,
    readonly verification: VerificationStatus,
    readonly businessDay: string,
    readonly rawBytes: Buffer,
  ) {}

  get raw(): string {
    this.text ??= this.rawBytes.toString('utf8');
    return this.text;
  }

  get record(): TransactionRecord {
    this.parsed ??= JSON.parse(this.raw) as TransactionRecord;
    return this.parsed;
  }
}
