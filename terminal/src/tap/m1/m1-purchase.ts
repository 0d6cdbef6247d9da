import { randomBytes } from 'node:crypto';
import {
  M1_LAYOUT,
  M1_PROCESS_FLAG,
  TRANSACTION_TYPE,
  asnFactor,
  encodeM1PurseInfo,
  formatCardDateTime,
  fromHex,
  m1RecordBlock,
  m1SectorOf,
  m1TerminalTail,
  toHex,
  type CardIdentity,
  type M1PurseInfo,
} from '@busfare/shared-protocol';
import type { SecureAccessModule } from '../../ports/secure-access-module.js';
import type { PendingPurchase } from '../../store/transaction-store.js';
import type { TapResult } from '../tap-outcome.js';
import { handOverToTransport } from '../transport-hand-over.js';
import type { M1CardIo } from './m1-card-io.js';
import { type M1PurseState, raiseCounter, writeDebitRecord } from './m1-purse.js';
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
  /** Writes the card blocks this debit commits (a boarding record), after the PSAM MAC and before the commit. */
  stage?: M1DebitStage;
};

/** Card blocks a debit commits, written after the PSAM MAC and before the debit's commit write. */
export interface M1DebitStage {
  /** Sector of the blocks written. */
  sector: number;
  write: (debit: M1StagedDebit) => Promise<void>;
}

/** The debit about to start, as blocks that it commits name it. */
export interface M1StagedDebit {
  counterAfter: number;
  terminalSerial: number;
  terminalTail: string;
  cardDateTime: string;
}

/**
 * Debits an M1 purse. The PSAM MACs the record and hands out the terminal serial while the card
 * readies the first sectors the writes visit. Then the staged blocks (a boarding record) and the
 * purchase record, in the slot of the counter the debit leads to, are written. Neither counts
 * until the counter is raised. A debit of a positive amount then writes the information block with
 * the process flag set and the debit in progress, and sends DECREMENT to the primary value block.
 * It copies that block to the backup block and writes the information block with the counter
 * raised and the flag idle. The store record is made durable during the flag write, and completed
 * during the backup block write. Once the card confirms the decrement, the fare is taken even if a
 * later write is torn, because the next tap of the card on a busfare terminal finishes the writes
 * from the information block (readAndRepairPurse in m1-purse.ts). A zero-amount debit (a boarding) changes no value block, so its one commit is
 * the information block write with the counter raised.
 */
export async function purchaseFromM1Purse(io: M1CardIo, context: M1PurchaseContext): Promise<TapResult> {
  const { sam, identity, purse, amountFen, step } = context;
  const now = context.clock.now();
  const cardDateTime = formatCardDateTime(now, context.utcOffsetMinutes);
  const recordRandom = (context.randomBytes ?? ((length: number) => Uint8Array.from(randomBytes(length))))(4);
  const balanceBeforeFen = purse.balanceFen;
  const purseCounter = purse.info.counter;
  const counterAfter = (purseCounter + 1) & 0xffff;
  const transactionType = context.transactionType ?? TRANSACTION_TYPE.purchase;
  const plan = [...(context.stage ? [context.stage.sector] : []), m1SectorOf(m1RecordBlock(counterAfter)), M1_LAYOUT.purseSector];

  // The card link is idle while the PSAM works, so the card authenticates the first sector of the
  // writes and loads the next key meanwhile. A failure there shows again at the write that needs it.
  const preparing = io.prepare(plan).catch(() => undefined);
  let macked: { terminalSerial: number; mac: Uint8Array };
  try {
    macked = await sam.m1RecordMac({
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
  } finally {
    await preparing;
  }
  const { terminalSerial, mac } = macked;
  const psamTerminalNumber = toHex(sam.terminalNumber);
  const pending: M1PurseInfo = {
    counter: purseCounter,
    processFlag: M1_PROCESS_FLAG.debitInProgress,
    pendingAmountFen: amountFen,
    pendingBalanceBeforeFen: balanceBeforeFen,
    pendingTerminalSerial: terminalSerial,
    pendingTerminalTail: m1TerminalTail(psamTerminalNumber),
  };
  if (context.stage) {
    const { write } = context.stage;
    await step(() => write({ counterAfter, terminalSerial, terminalTail: pending.pendingTerminalTail, cardDateTime }));
  }
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
  const debit = { purchase, pending, mac };
  if (amountFen === 0) return commitZeroAmount(io, context, debit);
  await step(() => writeDebitRecord(io, pending, balanceBeforeFen - amountFen));
  return decrementPurse(io, context, debit);
}

interface PreparedDebit {
  purchase: PendingPurchase;
  /** The information block with the debit in progress. */
  pending: M1PurseInfo;
  mac: Uint8Array;
}

/**
 * Sends the card write that comes just before a debit's commit and, while it travels, commits the
 * pending record to the store, so the record is durable before the commit leaves the terminal.
 * Returns the record's sequence. When the write fails the commit was never sent, so the record is
 * resolved as not debited and the error is thrown again.
 */
async function writeBeforeCommit(context: M1PurchaseContext, purchase: PendingPurchase, cardWrite: () => Promise<unknown>): Promise<number> {
  const { store } = context;
  const write = context.step(cardWrite);
  // A rejection while the store commits is taken by the await below.
  write.catch(() => undefined);
  await handOverToTransport();
  let sequence: number;
  try {
    sequence = store.appendPending(purchase);
  } catch (error) {
    await write.catch(() => undefined);
    throw error;
  }
  try {
    await write;
  } catch (error) {
    store.markInDoubt(sequence);
    store.appendResolution(sequence, 'not-debited', { occurredAt: context.clock.now().toISOString() });
    context.onRecord?.();
    throw error;
  }
  return sequence;
}

/** Runs a debit of a positive amount: flag, DECREMENT, backup copy, then the counter raised with the flag idle. */
async function decrementPurse(io: M1CardIo, context: M1PurchaseContext, { purchase, pending, mac }: PreparedDebit): Promise<TapResult> {
  const { store, identity, amountFen } = context;
  const base = { asn: identity.asn, cardType: identity.cardType as TapResult['cardType'] };
  // Torn here, nothing was debited: the next tap finds the flag set and a full primary block, and rolls back.
  const sequence = await writeBeforeCommit(context, purchase, () => io.writeBlock(M1_LAYOUT.purseInfoBlock, encodeM1PurseInfo(pending)));

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
  const balanceAfterFen = pending.pendingBalanceBeforeFen - amountFen;
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
    // The purchase record is on the card already, so raising the counter ends the debit.
    await raiseCounter(io, pending);
  } catch (error) {
    context.logger.warn({ sequence, asn: identity.asn, err: error }, 'M1 debit taken but not finished on the card; the next tap finishes it');
  }
  return { ...base, status: 'accepted', amountFen, balanceFen: balanceAfterFen, sequence, promptId: 'fare-paid' };
}

/**
 * Commits a zero-amount debit: the purchase record in the slot of the new counter, then the
 * information block with the counter raised and the flag idle. That write is the commit. Torn
 * before it, the counter is unchanged and nothing was taken. Torn in it, the next tap finds the
 * counter raised (and the record that names this debit in its slot) or not.
 */
async function commitZeroAmount(io: M1CardIo, context: M1PurchaseContext, { purchase, pending, mac }: PreparedDebit): Promise<TapResult> {
  const { store, identity } = context;
  const base = { asn: identity.asn, cardType: identity.cardType as TapResult['cardType'] };
  const balanceFen = pending.pendingBalanceBeforeFen;
  // Torn here, the counter write never left the terminal, so the card took no debit.
  const sequence = await writeBeforeCommit(context, purchase, () => writeDebitRecord(io, pending, balanceFen));
  try {
    await raiseCounter(io, pending);
  } catch (error) {
    store.markInDoubt(sequence);
    context.onRecord?.();
    context.logger.warn({ sequence, asn: identity.asn, err: error }, 'M1 counter write outcome unknown; record kept in doubt');
    return { ...base, status: 'in-doubt', promptId: 'tap-again', reason: `M1 counter write outcome unknown: ${(error as Error).message}`, sequence };
  }
  store.complete(sequence, { tac: toHex(mac), balanceAfterFen: balanceFen, mac2Verified: true });
  context.onRecord?.();
  return { ...base, status: 'accepted', amountFen: 0, balanceFen, sequence, promptId: 'fare-paid' };
}
