import { timingSafeEqual } from 'node:crypto';
import { TRANSACTION_TYPE, asnFactor, computeM1RecordMac, fromHex, type TransactionRecord } from '@busfare/shared-protocol';
import type { TacCheck } from './tac-verifier.js';

/**
 * Checks an M1 record's MAC (its `tac`) under the card's record key: the MAC covers the card number,
 * UID, purse counter, balance before, amount, PSAM terminal number and serial, date-time and the
 * terminal's record random. The comparison runs in constant time.
 */
export function verifyM1RecordMac(record: TransactionRecord, cardRecordKey: Uint8Array): TacCheck {
  const { card, debit } = record;
  if (!debit.m1) return { outcome: 'failed', reason: 'M1 record carries no UID and record MAC' };
  if (!debit.tac) return { outcome: 'failed', reason: 'record carries no TAC' };
  if (debit.tac !== debit.m1.recordMac) return { outcome: 'failed', reason: `M1 record TAC ${debit.tac} differs from its record MAC ${debit.m1.recordMac}` };
  // 09 marks a leg of a tap-on/tap-off journey (the zero-amount boarding or the alighting); the MAC covers the type.
  if (debit.transactionType !== TRANSACTION_TYPE.purchase && debit.transactionType !== TRANSACTION_TYPE.compositePurchase) {
    return { outcome: 'failed', reason: `M1 record has transaction type ${debit.transactionType}; M1 purses take purchases (06) and composite purchases (09) only` };
  }
  let expected: Uint8Array;
  try {
    expected = computeM1RecordMac(cardRecordKey, {
      asn8: asnFactor(card.asn),
      uid: fromHex(debit.m1.uid),
      purseCounter: debit.cardCounter,
      balanceBeforeFen: debit.balanceBeforeFen,
      amountFen: debit.amountFen,
      transactionType: debit.transactionType,
      terminalNumber: fromHex(debit.psamTerminalNumber),
      terminalSerial: debit.terminalSerial,
      dateTime: debit.cardDateTime,
      recordRandom: fromHex(debit.cardRandom),
    });
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) return { outcome: 'failed', reason: `M1 record cannot be checked: ${error.message}` };
    throw error;
  }
  const received = fromHex(debit.tac);
  if (received.length === expected.length && timingSafeEqual(received, expected)) return { outcome: 'verified' };
  return { outcome: 'failed', reason: `M1 record MAC does not match the issuer key (issuer ${card.issuerId})` };
}
