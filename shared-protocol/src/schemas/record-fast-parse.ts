import { isoTimeSchema } from './common.js';
import type { TransactionRecord } from './transactions.js';

/**
 * Parses the common transaction record by hand: a purchase, in-doubt record or resolution of a
 * CPU card or phone application. It returns what `transactionRecordSchema` returns for the same
 * input (known keys only, in schema order), or undefined. Undefined means "not
 * handled here", not "invalid": the caller then runs the zod schema, which decides and words the
 * reasons. Every check is as strict as the schema's or stricter, so a record this parser accepts
 * is one the schema accepts. The zod schema took about 6 µs per record on the ingest path, this
 * parser well under 1 µs.
 *
 * M1 records (with their `m1` evidence) always go to the schema.
 */
export function parseCommonRecord(input: unknown): TransactionRecord | undefined {
  if (!isObject(input) || ISO_TIME === undefined) return undefined;
  const { sequence, kind, occurredAt, resolvesSequence, outcome } = input;
  if (!isIntegerIn(sequence, 1, Number.MAX_SAFE_INTEGER)) return undefined;
  if (kind !== 'purchase' && kind !== 'in-doubt' && kind !== 'resolution') return undefined;
  if (typeof occurredAt !== 'string' || !ISO_TIME.test(occurredAt)) return undefined;
  if (resolvesSequence !== undefined && !isIntegerIn(resolvesSequence, 1, Number.MAX_SAFE_INTEGER)) return undefined;
  if (outcome !== undefined && outcome !== 'debited' && outcome !== 'not-debited') return undefined;

  const card = parseCard(input.card);
  const debit = parseDebit(input.debit);
  const trip = parseTrip(input.trip);
  if (card === undefined || debit === undefined || trip === undefined) return undefined;

  // The schema's cross-field rules.
  if (kind === 'purchase' && debit.tac === undefined) return undefined;
  if (kind === 'resolution' && (resolvesSequence === undefined || outcome === undefined)) return undefined;
  if (outcome === 'debited' && debit.tac === undefined) return undefined;

  const record: TransactionRecord = { sequence, kind, occurredAt, card, debit, trip };
  if (resolvesSequence !== undefined) record.resolvesSequence = resolvesSequence as number;
  if (outcome !== undefined) record.outcome = outcome;
  return record;
}

/** zod's own pattern for `isoTimeSchema`, so both accept the same date-time text. */
const ISO_TIME: RegExp | undefined = (isoTimeSchema as unknown as { _zod?: { pattern?: unknown } })._zod?.pattern instanceof RegExp
  ? ((isoTimeSchema as unknown as { _zod: { pattern: RegExp } })._zod.pattern)
  : undefined;
const ASN = /^[0-9A-F]{8,20}$/;
const HEX_4 = /^[0-9A-F]{8}$/;
const ISSUER_ID = /^[0-9A-F]{16}$/;
const HEX_6 = /^[0-9A-F]{12}$/;
const CARD_DATE_TIME = /^\d{14}$/;
const MAX_FEN = 100_000_000;

type Card = TransactionRecord['card'];
type Debit = TransactionRecord['debit'];
type Trip = TransactionRecord['trip'];

function parseCard(input: unknown): Card | undefined {
  if (!isObject(input)) return undefined;
  const { application, medium, asn, issuerId, cardType } = input;
  if (application !== 'tunion' && application !== 'mohurd') return undefined;
  if (medium !== 'card' && medium !== 'phone') return undefined;
  if (typeof asn !== 'string' || !ASN.test(asn)) return undefined;
  if (typeof issuerId !== 'string' || !ISSUER_ID.test(issuerId)) return undefined;
  if (!isStringOfLength(cardType, 1, 32)) return undefined;
  return { application, medium, asn, issuerId, cardType };
}

function parseDebit(input: unknown): Debit | undefined {
  if (!isObject(input) || input.m1 !== undefined) return undefined;
  const { transactionType, amountFen, listFareFen, balanceBeforeFen, balanceAfterFen, cardCounter, cardRandom, keyVersion, algorithmId } = input;
  const { psamTerminalNumber, terminalSerial, cardDateTime, tac, mac2Verified } = input;
  if (transactionType !== 0x06 && transactionType !== 0x09) return undefined;
  if (!isIntegerIn(amountFen, 0, MAX_FEN) || !isIntegerIn(listFareFen, 0, MAX_FEN) || !isIntegerIn(balanceBeforeFen, 0, MAX_FEN)) return undefined;
  if (balanceAfterFen !== undefined && !isIntegerIn(balanceAfterFen, 0, MAX_FEN)) return undefined;
  if (!isIntegerIn(cardCounter, 0, 0xffff) || !isIntegerIn(keyVersion, 0, 255) || !isIntegerIn(algorithmId, 0, 255)) return undefined;
  if (!isIntegerIn(terminalSerial, 0, 0xffffffff)) return undefined;
  if (typeof cardRandom !== 'string' || !HEX_4.test(cardRandom)) return undefined;
  if (typeof psamTerminalNumber !== 'string' || !HEX_6.test(psamTerminalNumber)) return undefined;
  if (typeof cardDateTime !== 'string' || !CARD_DATE_TIME.test(cardDateTime)) return undefined;
  if (tac !== undefined && (typeof tac !== 'string' || !HEX_4.test(tac))) return undefined;
  if (mac2Verified !== undefined && typeof mac2Verified !== 'boolean') return undefined;

  // Keys in schema order, as zod writes them, so the stored JSON text is the same.
  const debit: Debit = { transactionType, amountFen, listFareFen, balanceBeforeFen } as Debit;
  if (balanceAfterFen !== undefined) debit.balanceAfterFen = balanceAfterFen as number;
  debit.cardCounter = cardCounter as number;
  debit.cardRandom = cardRandom;
  debit.keyVersion = keyVersion as number;
  debit.algorithmId = algorithmId as number;
  debit.psamTerminalNumber = psamTerminalNumber;
  debit.terminalSerial = terminalSerial as number;
  debit.cardDateTime = cardDateTime;
  if (tac !== undefined) debit.tac = tac;
  if (mac2Verified !== undefined) debit.mac2Verified = mac2Verified;
  return debit;
}

function parseTrip(input: unknown): Trip | undefined {
  if (!isObject(input)) return undefined;
  const { vehicleId, route, direction, stopId, driverId, lat, lon } = input;
  if (!isStringOfLength(vehicleId, 1, 32)) return undefined;
  if (route !== undefined && !isStringOfLength(route, 0, 32)) return undefined;
  if (direction !== undefined && direction !== 0 && direction !== 1) return undefined;
  if (stopId !== undefined && !isStringOfLength(stopId, 0, 64)) return undefined;
  if (driverId !== undefined && !isStringOfLength(driverId, 0, 32)) return undefined;
  if (lat !== undefined && !isNumberIn(lat, -90, 90)) return undefined;
  if (lon !== undefined && !isNumberIn(lon, -180, 180)) return undefined;

  const trip: Trip = { vehicleId };
  if (route !== undefined) trip.route = route;
  if (direction !== undefined) trip.direction = direction;
  if (stopId !== undefined) trip.stopId = stopId;
  if (driverId !== undefined) trip.driverId = driverId;
  if (lat !== undefined) trip.lat = lat;
  if (lon !== undefined) trip.lon = lon;
  return trip;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

function isNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}

function isStringOfLength(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max;
}
