import { EF18_RECORD_LENGTH, SW, TRANSACTION_TYPE, TUNION_SFI, epurse, isEmptyRecord, parsePurseLogRecord, type DebitEvidence } from '@busfare/shared-protocol';
import type { ApduTransport } from '../ports/apdu-transport.js';
import { exchange } from './apdu-exchange.js';

/** Records of the cyclic purse log a reader searches; cards keep 10 as a rule. */
const MAX_LOG_RECORDS = 10;

/** The offline counter is two bytes and wraps from FFFF to 0000. */
const COUNTER_MODULUS = 0x10000;

/** READ RECORD status for a record never written (ISO 7816-4 "record not found"). */
const RECORD_NOT_FOUND = 0x6a83;

/**
 * Log record types that take the purse's offline counter, the one INIT FOR PURCHASE returns.
 * A load (and any other online transaction) carries the separate online counter instead.
 */
const OFFLINE_COUNTER_TYPES: ReadonlySet<number> = new Set([TRANSACTION_TYPE.purchase, TRANSACTION_TYPE.compositePurchase]);

/**
 * Searches the purse log (EF18, newest record first) for the purchase that took `postDebitCounter`,
 * the offline counter a debit leaves behind, passing over loads. Returns 'debited' when that record
 * carries this debit's PSAM terminal number, date-time and amount, and 'not-debited' when another
 * transaction took the counter or the card never got that far. Returns 'unknown' when the log no
 * longer reaches back to it. Returns 'unreadable' when the card rejects a READ RECORD with a status
 * other than "record not found", or returns 9000 with less than a record, because neither shows
 * whether the debit happened.
 */
export async function findLoggedTransaction(
  card: ApduTransport,
  counter: { apdus: number },
  postDebitCounter: number,
  debit: DebitEvidence,
): Promise<'debited' | 'not-debited' | 'unknown' | 'unreadable'> {
  let purchasesSeen = 0;
  for (let record = 1; record <= MAX_LOG_RECORDS; record += 1) {
    const response = await exchange(card, epurse.readRecord(TUNION_SFI.ef18, record, EF18_RECORD_LENGTH), counter);
    if (response.sw !== SW.OK && response.sw !== RECORD_NOT_FOUND) return 'unreadable';
    // A shorter response is not a record, and an empty one would pass as an unwritten slot below.
    if (response.sw === SW.OK && response.data.length < EF18_RECORD_LENGTH) return 'unreadable';
    // An unwritten record ends the log. A log without any purchase shows the card never purchased.
    if (response.sw === RECORD_NOT_FOUND || isEmptyRecord(response.data)) return purchasesSeen === 0 ? 'not-debited' : 'unknown';
    const entry = parsePurseLogRecord(response.data);
    if (!OFFLINE_COUNTER_TYPES.has(entry.transactionType)) continue;
    purchasesSeen += 1;
    if (counterIsBefore(entry.serial, postDebitCounter)) return 'not-debited';
    if (entry.serial === postDebitCounter) {
      const ours = entry.terminalNumber === debit.psamTerminalNumber && entry.dateTime === debit.cardDateTime && entry.amountFen === debit.amountFen;
      return ours ? 'debited' : 'not-debited';
    }
  }
  return 'unknown';
}

/**
 * Returns whether counter `a` comes before `b`, across the wrap from FFFF to 0000. A log contains a few
 * records, so two counters within half the range of each other are compared by their distance.
 */
export function counterIsBefore(a: number, b: number): boolean {
  const distance = (b - a + COUNTER_MODULUS) % COUNTER_MODULUS;
  return distance !== 0 && distance < COUNTER_MODULUS / 2;
}
