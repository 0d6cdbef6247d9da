import { EF18_RECORD_LENGTH, SW, TUNION_SFI, epurse, isEmptyRecord, parsePurseLogRecord, type DebitEvidence } from '@busfare/shared-protocol';
import type { ApduTransport } from '../ports/apdu-transport.js';
import { exchange } from './apdu-exchange.js';

/** Records of the cyclic purse log a reader searches; cards keep 10 as a rule. */
const MAX_LOG_RECORDS = 10;

/**
 * Looks in the purse log (EF18, newest record first) for the transaction that took
 * `postDebitCounter`, the counter a debit leaves behind. Returns 'debited' when that record
 * carries this debit's PSAM terminal number, date-time and amount; 'not-debited' when another
 * transaction took the counter or the card never got that far; 'unknown' when the log no longer
 * reaches back to it.
 */
export async function findLoggedTransaction(
  card: ApduTransport,
  counter: { apdus: number },
  postDebitCounter: number,
  debit: DebitEvidence,
): Promise<'debited' | 'not-debited' | 'unknown'> {
  for (let record = 1; record <= MAX_LOG_RECORDS; record += 1) {
    const response = await exchange(card, epurse.readRecord(TUNION_SFI.ef18, record, EF18_RECORD_LENGTH), counter);
    // An unwritten record (6A83 and the like) ends the log.
    if (response.sw !== SW.OK || isEmptyRecord(response.data)) return record === 1 ? 'not-debited' : 'unknown';
    const entry = parsePurseLogRecord(response.data);
    if (entry.serial < postDebitCounter) return 'not-debited';
    if (entry.serial === postDebitCounter) {
      const ours = entry.terminalNumber === debit.psamTerminalNumber && entry.dateTime === debit.cardDateTime && entry.amountFen === debit.amountFen;
      return ours ? 'debited' : 'not-debited';
    }
  }
  return 'unknown';
}
