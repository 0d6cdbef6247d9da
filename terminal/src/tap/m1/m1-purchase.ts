import { randomBytes } from 'node:crypto';
import {
  M1_LAYOUT,
  M1_PROCESS_FLAG,
  TRANSACTION_TYPE,
  asnFactor,
  encodeM1PurseInfo,
  formatCardDateTime,
  fromHex,
  m1TerminalTail,
  toHex,
  type CardIdentity,
} from '@busfare/shared-protocol';
import type { SecureAccessModule } from '../../ports/secure-access-module.js';
import type { PendingPurchase } from '../../store/transaction-store.js';
import type { TapResult } from '../tap-outcome.js';
import { handOverToTransport } from '../transport-hand-over.js';
import type { M1CardIo } from './m1-card-io.js';
import { finishDebitOnCard, type M1PurseState } from './m1-purse.js';
import type { M1SecureAccess } from './m1-secure-access.js';
import type { M1TapContext } from './m1-tap.js';

/** What a debit needs beyond the tap's context: the PSAM's M1 commands, the card and the fare. */
export type M1PurchaseContext = Pick<M1TapContext, 'store' | 'clock' | 'logger' | 'onRecord' | 'utcOffsetMinutes' | 'step' | 'trip'> & {
  sam: SecureAccessModule & M1SecureAccess;
  identity: CardIdentity;
  uid: Uint8Array;
  purse: M1PurseState;
  amountFen: number;
  listFareFen: number;
  /** Draws the 4-byte record random; crypto-random by default. */
  randomBytes?: (length: number) => Uint8Array;
  /** Purchase (06, the default) or composite purchase (09, a leg of a tap-on/tap-off journey). */
  transactionType?: typeof TRANSACTION_TYPE.purchase | typeof TRANSACTION_TYPE.compositePurchase;
  /** Writes the card blocks this debit commits (a boarding record), after the PSAM MAC and before the process flag. */
  beforeProcessFlag?: (debit: M1StagedDebit) => Promise<void>;
};

/** The debit about to start, as blocks that it commits name it. */
export interface M1StagedDebit {
  counterAfter: number;
  terminalSerial: number;
  terminalTail: string;
  cardDateTime: string;
}

/**
 * Debits an M1 purse. The steps: the PSAM MACs the record and hands out the terminal serial →
 * the information block is written with the process flag set and the debit in progress →
 * DECREMENT of the primary value block → backup block, purchase record and information block
 * (counter + 1, flag idle) are written. The record is made durable during the flag write, and
 * completed during the backup block write.
 * Once the card confirms the decrement the fare is taken whatever happens to the later writes,
 * because the next tap of the card, on any terminal, finishes them from the information block.
 */
export async function purchaseFromM1Purse(io: M1CardIo, context: M1PurchaseContext): Promise<TapResult> {
  const { sam, store, clock, identity, purse, amountFen, step } = context;
  const base = { asn: identity.asn, cardType: identity.cardType as TapResult['cardType'] };
  const now = clock.now();
  const cardDateTime = formatCardDateTime(now, context.utcOffsetMinutes);
  const recordRandom = (context.randomBytes ?? ((length: number) => Uint8Array.from(randomBytes(length))))(4);
  const balanceBeforeFen = purse.balanceFen;
  const purseCounter = purse.info.counter;
  const transactionType = context.transactionType ?? TRANSACTION_TYPE.purchase;

  const { terminalSerial, mac } = await sam.m1RecordMac({
    issuerId: fromHex(identity.issuerId),
    asn8: asnFactor(identity.asn),
    uid: context.uid,
    purseCounter,
    balanceBeforeFen,
    amountFen,
    transactionType,
    dateTime: cardDateTime,
    recordRandom,
  });
  const psamTerminalNumber = toHex(sam.terminalNumber);
  const pending = {
    counter: purseCounter,
    processFlag: M1_PROCESS_FLAG.debitInProgress,
    pendingAmountFen: amountFen,
    pendingBalanceBeforeFen: balanceBeforeFen,
    pendingTerminalSerial: terminalSerial,
    pendingTerminalTail: m1TerminalTail(psamTerminalNumber),
  };
  if (context.beforeProcessFlag) {
    const stage = context.beforeProcessFlag;
    await step(() => stage({ counterAfter: (purseCounter + 1) & 0xffff, terminalSerial, terminalTail: pending.pendingTerminalTail, cardDateTime }));
  }
  // Torn here, nothing was debited: the next tap finds the flag set and a full primary block, and rolls back.
  const flagWrite = step(() => io.writeBlock(M1_LAYOUT.purseInfoBlock, encodeM1PurseInfo(pending)));
  // A rejection while the commit runs is taken by the await below.
  flagWrite.catch(() => undefined);
  await handOverToTransport();

  // The store commits the record while the card writes the flag and before DECREMENT leaves the
  // terminal, so a torn tap or a power cut cannot lose it.
  const purchase: PendingPurchase = {
    occurredAt: now.toISOString(),
    card: identity,
    trip: context.trip,
    debit: {
      transactionType,
      amountFen,
      listFareFen: context.listFareFen,
      balanceBeforeFen,
      cardCounter: purseCounter,
      cardRandom: toHex(recordRandom),
      keyVersion: 0,
      algorithmId: 0,
      psamTerminalNumber,
      terminalSerial,
      cardDateTime,
      m1: { uid: toHex(context.uid), recordMac: toHex(mac) },
    },
  };
  let sequence: number;
  try {
    sequence = store.appendPending(purchase);
  } catch (error) {
    await flagWrite.catch(() => undefined);
    throw error;
  }
  try {
    await flagWrite;
  } catch (error) {
    store.markInDoubt(sequence);
    if (amountFen === 0) {
      // A zero-amount debit (a boarding) leaves the balance as it was, so the next tap cannot tell
      // a torn flag from a finished decrement and rolls it forward. The boarding then counts, and
      // the record stays in doubt until that tap settles it.
      context.onRecord?.();
      context.logger.warn({ sequence, asn: identity.asn, err: error }, 'M1 process flag write failed on a zero-amount debit; record kept in doubt');
      return { ...base, status: 'in-doubt', promptId: 'tap-again', reason: `M1 process flag write failed: ${(error as Error).message}`, sequence };
    }
    // DECREMENT never left the terminal, so the card was not debited.
    store.appendResolution(sequence, 'not-debited', { occurredAt: clock.now().toISOString() });
    context.onRecord?.();
    throw error;
  }

  try {
    await io.decrement(M1_LAYOUT.primaryValueBlock, amountFen);
  } catch (error) {
    // No response or an error status: the flag on the card tells the next tap which way the debit went.
    store.markInDoubt(sequence);
    context.onRecord?.();
    context.logger.warn({ sequence, asn: identity.asn, err: error }, 'M1 DECREMENT outcome unknown; record kept in doubt');
    return { ...base, status: 'in-doubt', promptId: 'tap-again', reason: `M1 DECREMENT outcome unknown: ${(error as Error).message}`, sequence };
  }

  // The store commits the completed record while the card copies the value block to its backup.
  const balanceAfterFen = balanceBeforeFen - amountFen;
  const backupWrite = io.restore(M1_LAYOUT.primaryValueBlock, M1_LAYOUT.backupValueBlock);
  backupWrite.catch(() => undefined);
  await handOverToTransport();
  try {
    store.complete(sequence, { tac: toHex(mac), balanceAfterFen, mac2Verified: true });
  } catch (error) {
    await backupWrite.catch(() => undefined);
    throw error;
  }
  context.onRecord?.();
  try {
    await backupWrite;
    await finishDebitOnCard(io, pending, balanceAfterFen);
  } catch (error) {
    context.logger.warn({ sequence, asn: identity.asn, err: error }, 'M1 debit taken but not finished on the card; the next tap finishes it');
  }
  return { ...base, status: 'accepted', amountFen, balanceFen: balanceAfterFen, sequence, promptId: 'fare-paid' };
}
