import {
  SW,
  TRANSACTION_TYPE,
  acquirerCityCode,
  asnFactor,
  classifyStatusWord,
  epurse,
  expectLength,
  expectOk,
  formatCardDateTime,
  fromHex,
  toHex,
  type CardIdentity,
  type FareTableBody,
  type InitForPurchaseResult,
  type ResponseApdu,
  type SectionRoute,
  type TripContext,
} from '@busfare/shared-protocol';
import type { Logger } from 'pino';
import type { CardSession } from '../ports/card-reader.js';
import type { Clock } from '../ports/clock.js';
import type { SecureAccessModule } from '../ports/secure-access-module.js';
import type { PendingPurchase, TransactionStore } from '../store/transaction-store.js';
import { exchange } from './apdu-exchange.js';
import { type TapFareDecision, acceptedPromptId } from './fare-decision.js';
import type { PurseCardFacts } from './select-application.js';
import type { TapResult } from './tap-outcome.js';
import { transitRecordUpdate } from './transit-record.js';
import { handOverToTransport } from './transport-hand-over.js';

export interface PurchaseContext {
  sam: SecureAccessModule;
  store: TransactionStore;
  clock: Clock;
  logger: Logger;
  onRecord?: () => void;
  utcOffsetMinutes: number;
  step: <T>(action: () => Promise<T>) => Promise<T>;
  identity: CardIdentity;
  facts: PurseCardFacts;
  decision: Extract<TapFareDecision, { kind: 'charge' }>;
  fareTable: FareTableBody;
  trip: TripContext;
  section?: SectionRoute;
  stopIndex?: number;
}

/**
 * One purchase on the selected e-purse: (MOHURD: the card's verify code checked by the PSAM) →
 * INIT FOR (CAPP) PURCHASE → MAC1 from the PSAM → (composite: UPDATE CAPP DATA CACHE with the
 * transit record) → durable pending record → DEBIT → MAC2 check → durable completed record.
 * Both commits run while a PSAM command is in flight: the pending record while MAC1 is computed
 * (when the PSAM's next serial is known), the TAC while MAC2 is checked. The terminal holds no key
 * and does not choose the algorithm: the PSAM takes the algorithm id that the card reports.
 */
export async function purchaseFromPurse(session: CardSession, counter: { apdus: number }, context: PurchaseContext): Promise<TapResult> {
  const { sam, store, clock, identity, decision, step } = context;
  const base = { asn: identity.asn, cardType: decision.cardType };
  const composite = decision.purchase === 'composite';
  const transactionType = composite ? TRANSACTION_TYPE.compositePurchase : TRANSACTION_TYPE.purchase;
  const { amountFen, listFareFen } = decision;

  if (identity.application === 'mohurd') {
    if (!sam.verifyMohurdCode) return { ...base, status: 'failed', promptId: 'terminal-fault', reason: 'the PSAM cannot check MOHURD verify codes' };
    const code = expectLength('GET MOHURD VERIFY CODE', expectOk('GET MOHURD VERIFY CODE', await step(() => exchange(session, epurse.getMohurdVerifyCode(), counter))), 9);
    if (!(await sam.verifyMohurdCode(code.slice()))) return { ...base, status: 'refused', promptId: 'invalid-card', reason: 'the PSAM refused the card security identification code' };
  }

  const initResponse = await step(() =>
    exchange(session, epurse.initForPurchase({ mode: composite ? 0x03 : 0x01, keyIndex: sam.keyIndex, amountFen, terminalNumber: sam.terminalNumber }), counter),
  );
  if (initResponse.sw === SW.INSUFFICIENT_BALANCE) return { ...base, status: 'refused', promptId: 'insufficient-balance', reason: 'balance below the fare' };
  if (classifyStatusWord(initResponse.sw) === 'card-blocked') return { ...base, status: 'refused', promptId: 'invalid-card', reason: 'purse blocked' };
  let init: InitForPurchaseResult;
  try {
    init = epurse.parseInitForPurchase(initResponse);
  } catch (error) {
    return { ...base, status: 'failed', promptId: 'card-read-error', reason: (error as Error).message };
  }
  // A boarding needs the balance for the longest journey from here, beyond what it debits.
  if (init.balanceFen < decision.requiredBalanceFen) return { ...base, status: 'refused', promptId: 'insufficient-balance', reason: 'balance below the fare' };

  const now = clock.now();
  const cardDateTime = formatCardDateTime(now, context.utcOffsetMinutes);
  const psamTerminalNumber = toHex(sam.terminalNumber);
  const pendingPurchase = (terminalSerial: number): PendingPurchase => ({
    occurredAt: now.toISOString(),
    card: identity,
    trip: context.trip,
    debit: {
      transactionType,
      amountFen,
      listFareFen,
      balanceBeforeFen: init.balanceFen,
      cardCounter: init.cardCounter,
      cardRandom: toHex(init.cardRandom),
      keyVersion: init.keyVersion,
      algorithmId: init.algorithmId,
      psamTerminalNumber,
      terminalSerial,
      cardDateTime,
    },
  });
  /** Settles a record whose DEBIT never left the terminal: the card was not debited. */
  const voidAttempt = (sequence: number): void => {
    store.markInDoubt(sequence);
    store.appendResolution(sequence, 'not-debited', { occurredAt: clock.now().toISOString() });
    context.onRecord?.();
  };

  // The pending record is durable before DEBIT leaves the terminal, so a torn card or a power cut
  // cannot lose it. It needs the serial that comes with MAC1, so when the PSAM's next serial is
  // known the record is committed while the PSAM computes MAC1, and voided if the serial differs.
  const expectedSerial = sam.expectedTerminalSerial;
  const macRequest = sam.initForPurchase({
    cardRandom: init.cardRandom,
    cardCounter: init.cardCounter,
    amountFen,
    transactionType,
    dateTime: cardDateTime,
    keyVersion: init.keyVersion,
    algorithmId: init.algorithmId,
    asn8: asnFactor(identity.asn),
    issuerFactor: fromHex(context.facts.issuerFactor),
  });
  let sequence: number | undefined;
  if (expectedSerial !== undefined) {
    // A rejection while the commit runs is taken by the await below.
    macRequest.catch(() => undefined);
    await handOverToTransport();
    try {
      sequence = store.appendPending(pendingPurchase(expectedSerial));
    } catch (error) {
      await macRequest.catch(() => undefined);
      throw error;
    }
  }
  let samResult: { terminalSerial: number; mac1: Uint8Array };
  try {
    samResult = await macRequest;
  } catch (error) {
    if (sequence !== undefined) voidAttempt(sequence);
    throw error;
  }
  if (sequence !== undefined && samResult.terminalSerial !== expectedSerial) {
    context.logger.warn({ sequence, expectedSerial, terminalSerial: samResult.terminalSerial }, 'PSAM serial differs from the expected one; pending record voided and written again');
    voidAttempt(sequence);
    sequence = undefined;
  }

  if (composite && decision.transitRecord && context.trip.route !== undefined) {
    const update = transitRecordUpdate({
      ...decision.transitRecord,
      application: identity.application === 'mohurd' ? 'mohurd' : 'tunion',
      terminalNumber: psamTerminalNumber,
      route: context.trip.route,
      amountFen,
      balanceAfterFen: init.balanceFen - amountFen,
      cardDateTime,
      acquirerCityCode: acquirerCityCode(context.fareTable, context.facts.issuerFactor),
    });
    let cached: ResponseApdu;
    try {
      cached = await step(() => exchange(session, update, counter));
    } catch (error) {
      if (sequence !== undefined) voidAttempt(sequence);
      throw error;
    }
    if (cached.sw !== SW.OK) {
      if (sequence !== undefined) voidAttempt(sequence);
      return { ...base, status: 'failed', promptId: 'card-read-error', reason: `UPDATE CAPP DATA CACHE failed with SW ${cached.sw.toString(16)}` };
    }
  }
  sequence ??= store.appendPending(pendingPurchase(samResult.terminalSerial));

  let debitResult: { tac: Uint8Array; mac2: Uint8Array };
  try {
    const response = await exchange(session, epurse.debitForPurchase({ terminalSerial: samResult.terminalSerial, dateTime: cardDateTime, mac1: samResult.mac1 }), counter);
    if (isRefusal(response)) {
      // A bare ISO 7816 error status is the card refusing: its balance is untouched, so the attempt is voided.
      voidAttempt(sequence);
      const security = classifyStatusWord(response.sw) === 'security-failure';
      return { ...base, status: 'refused', promptId: security ? 'invalid-card' : 'card-read-error', reason: `DEBIT refused with SW ${response.sw.toString(16)}` };
    }
    debitResult = epurse.parseDebitForPurchase(response);
  } catch (error) {
    // No response, a transport error or a garbled response: the card may or may not have debited.
    context.logger.warn({ sequence, asn: identity.asn, err: error }, 'DEBIT outcome unknown; record kept in doubt');
    markInDoubtOrKeepPending(context, sequence);
    return { ...base, status: 'in-doubt', promptId: 'tap-again', reason: `DEBIT outcome unknown: ${(error as Error).message}`, sequence };
  }

  // The TAC becomes durable while the PSAM checks MAC2. The verdict then completes the record in a
  // commit without its own flush, because a record with its TAC is completed even after a power cut.
  const balanceAfterFen = init.balanceFen - amountFen;
  const tac = toHex(debitResult.tac);
  const debitedSequence = sequence;
  const mac2Check = sam.verifyMac2(debitResult.mac2).catch((error: unknown) => {
    context.logger.error({ sequence: debitedSequence, err: error }, 'MAC2 check failed; the TAC is still verified in clearing');
    return false;
  });
  await handOverToTransport();
  try {
    store.recordDebit(sequence, { tac, balanceAfterFen });
  } catch (error) {
    await mac2Check;
    return keepDebitInDoubt(context, sequence, error, base);
  }
  const mac2Verified = await mac2Check;
  if (!mac2Verified) context.logger.warn({ sequence, asn: identity.asn }, 'PSAM rejected MAC2');
  try {
    store.complete(sequence, { tac, balanceAfterFen, mac2Verified });
  } catch (error) {
    // The record with its TAC is durable, so the fare is taken. A full disk's store retries the
    // completion, and start-up recovery completes a pending record that carries a TAC.
    context.logger.error({ sequence, asn: identity.asn, err: error }, 'failed to complete a record whose TAC is stored, so the fare counts as paid and the record is completed later');
  }
  context.onRecord?.();
  const promptId = acceptedPromptId(decision, balanceAfterFen, context.fareTable);
  return { ...base, status: 'accepted', promptId, amountFen, balanceFen: balanceAfterFen, sequence };
}

/**
 * Puts a debit in doubt whose TAC could not be stored (a full or failing disk), so that the same
 * card's next tap settles it with GET TRANSACTION PROOF instead of debiting again. If that write
 * fails too, the record stays pending (see markInDoubtOrKeepPending).
 */
function keepDebitInDoubt(context: PurchaseContext, sequence: number, error: unknown, base: Pick<TapResult, 'asn' | 'cardType'>): TapResult {
  const { identity } = context;
  context.logger.error({ sequence, asn: identity.asn, err: error }, 'storing the TAC of a taken debit failed; the record is kept in doubt for the card proof');
  markInDoubtOrKeepPending(context, sequence);
  return { ...base, status: 'in-doubt', promptId: 'tap-again', reason: `storing the TAC failed: ${(error as Error).message}`, sequence };
}

/**
 * Marks a record in doubt. If that write fails, the record stays pending: a full disk's store
 * retries the mark before the next fare, and start-up recovery puts a pending record in doubt.
 */
function markInDoubtOrKeepPending(context: PurchaseContext, sequence: number): void {
  try {
    context.store.markInDoubt(sequence);
    context.onRecord?.();
  } catch (error) {
    context.logger.error({ sequence, asn: context.identity.asn, err: error }, 'marking the record in doubt failed; it stays pending until the mark is retried or the terminal restarts');
  }
}

/**
 * A DEBIT answer that is only an error status word (6xxx or 9xxx other than 9000 and 61xx). Anything
 * else that is not a clean 9000 answer, such as a truncated or garbled response, leaves the debit in doubt.
 */
function isRefusal(response: ResponseApdu): boolean {
  const high = response.sw >> 12;
  return response.data.length === 0 && (high === 0x6 || high === 0x9) && response.sw !== SW.OK && classifyStatusWord(response.sw) !== 'get-response';
}
