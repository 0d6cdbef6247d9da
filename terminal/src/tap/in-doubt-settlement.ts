import { SW, epurse, toHex } from '@busfare/shared-protocol';
import type { CardSession } from '../ports/card-reader.js';
import type { OpenInDoubt, TransactionStore } from '../store/transaction-store.js';
import { exchange } from './apdu-exchange.js';
import { findLoggedTransaction } from './purse-log.js';
import type { TapResult } from './tap-outcome.js';

/**
 * Time after a torn debit (ms) during which a purse log that the card refuses keeps the card in
 * doubt, so its retries get "请重刷" and no debit. Later taps leave the record open for clearing
 * and charge afresh, as when the log no longer reaches back to the debit.
 * NOTE: 10 minutes is an estimate of how long a rider keeps retrying at the same bus.
 */
export const UNREADABLE_LOG_WAIT_MS = 10 * 60_000;

export interface SettlementContext {
  store: TransactionStore;
  now: () => Date;
  onRecord?: () => void;
  warn: (details: object, message: string) => void;
  /** Runs a card step, turning card I/O errors into a tap result. */
  step: <T>(action: () => Promise<T>) => Promise<T>;
}

/**
 * Decides whether the torn debit of `open` happened, on the same card and application. The card's
 * purse log (EF18) names the transaction that took counter + 1: when it carries this debit's PSAM
 * terminal number, date-time and amount, the debit happened and GET TRANSACTION PROOF
 * (counter + 1) returns MAC2 and the TAC, so the trip is booked without a new debit (`recovered`).
 * When another transaction took that counter, or the counter has not moved, no debit happened:
 * the record is resolved `not-debited` and the caller runs a fresh purchase (undefined). The log
 * check matters because a card keeps only its last proof: after a torn tap here and a purchase
 * elsewhere, the proof for counter + 1 belongs to the other terminal. While the outcome stays
 * unknown the tap ends with "请重刷" and no debit. Two cases differ: a log that no longer reaches
 * back to that counter, and one that stays unreadable past UNREADABLE_LOG_WAIT_MS. There the
 * record is left open for clearing and the caller runs a fresh purchase.
 */
export async function settleInDoubt(session: CardSession, counter: { apdus: number }, open: OpenInDoubt, context: SettlementContext): Promise<TapResult | undefined> {
  const { store } = context;
  const debit = open.record.debit;
  const provedCounter = (debit.cardCounter + 1) & 0xffff;
  const keepInDoubt = (reason: string): TapResult => ({ status: 'in-doubt', promptId: 'tap-again', reason, asn: open.record.card.asn, sequence: open.sequence });

  const verdict = await context.step(() => findLoggedTransaction(session, counter, provedCounter, debit));
  if (verdict === 'unreadable') {
    if (context.now().getTime() - Date.parse(open.record.occurredAt) < UNREADABLE_LOG_WAIT_MS) return keepInDoubt('purse log unreadable');
    // A card that refuses its purse log on every read would otherwise be asked to tap again for good.
    context.warn({ sequence: open.sequence, asn: open.record.card.asn, occurredAt: open.record.occurredAt }, 'in-doubt record cannot be settled on the card because its purse log stays unreadable; left for clearing');
    return undefined;
  }
  const occurredAt = context.now().toISOString();
  if (verdict === 'not-debited') {
    store.appendResolution(open.sequence, 'not-debited', { occurredAt });
    context.onRecord?.();
    return undefined;
  }
  if (verdict === 'unknown') {
    // The log no longer reaches back to that counter: clearing settles the record from its side.
    context.warn({ sequence: open.sequence, asn: open.record.card.asn }, 'in-doubt record cannot be settled on the card; left for clearing');
    return undefined;
  }

  const response = await context.step(() => exchange(session, epurse.getTransactionProof(debit.transactionType, provedCounter), counter));
  if (response.sw !== SW.OK) return keepInDoubt(`transaction proof refused with SW ${response.sw.toString(16)}`);
  let proof: { mac2: Uint8Array; tac: Uint8Array };
  try {
    proof = epurse.parseTransactionProof(response);
  } catch (error) {
    return keepInDoubt(`unreadable transaction proof: ${(error as Error).message}`);
  }
  const balanceAfterFen = debit.balanceBeforeFen - debit.amountFen;
  const record = store.appendResolution(open.sequence, 'debited', { tac: toHex(proof.tac), mac2Verified: false, balanceAfterFen, occurredAt });
  context.onRecord?.();
  return {
    status: 'recovered',
    promptId: 'trip-recovered',
    asn: record.card.asn,
    cardType: record.card.cardType as TapResult['cardType'],
    amountFen: debit.amountFen,
    balanceFen: balanceAfterFen,
    sequence: record.sequence,
  };
}
