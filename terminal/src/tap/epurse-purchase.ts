import {
  SW,
  TRANSACTION_TYPE,
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
import { successPrompt } from '../fare/flat-fare.js';
import type { CardSession } from '../ports/card-reader.js';
import type { Clock } from '../ports/clock.js';
import type { SecureAccessModule } from '../ports/secure-access-module.js';
import type { TransactionStore } from '../store/transaction-store.js';
import { exchange } from './apdu-exchange.js';
import type { TapFareDecision } from './fare-decision.js';
import type { PurseCardFacts } from './select-application.js';
import type { TapResult } from './tap-outcome.js';
import { transitRecordUpdate } from './transit-record.js';

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
 * The terminal never sees a key or the card's algorithm; the PSAM takes the algorithm id as the
 * card reports it.
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
  // A boarding charges nothing but needs the balance for the longest journey from here.
  const rate = context.fareTable.cardTypes[decision.cardType]?.ratePercent ?? 100;
  const required = decision.journey === 'boarding' ? Math.ceil((listFareFen * rate) / 100) : amountFen;
  if (init.balanceFen < required) return { ...base, status: 'refused', promptId: 'insufficient-balance', reason: 'balance below the fare' };

  const now = clock.now();
  const cardDateTime = formatCardDateTime(now, context.utcOffsetMinutes);
  const samResult = await sam.initForPurchase({
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

  if (composite && decision.journey !== 'single' && context.trip.route !== undefined && context.section) {
    const update = transitRecordUpdate({
      application: identity.application === 'mohurd' ? 'mohurd' : 'tunion',
      journey: decision.journey,
      terminalNumber: toHex(sam.terminalNumber),
      route: context.trip.route,
      stopIndex: context.stopIndex,
      amountFen,
      balanceAfterFen: init.balanceFen - amountFen,
      cardDateTime,
      acquirerCityCode: context.facts.issuerFactor.slice(0, 4),
      maxIncompleteAmountFen: listFareFen,
      maxJourneyMinutes: context.section.maxJourneyMinutes,
    });
    const cached = await step(() => exchange(session, update, counter));
    if (cached.sw !== SW.OK) return { ...base, status: 'failed', promptId: 'card-read-error', reason: `UPDATE CAPP DATA CACHE failed with SW ${cached.sw.toString(16)}` };
  }

  // The record is durable before DEBIT leaves the terminal, so a torn card or a power cut cannot lose it.
  const sequence = store.appendPending({
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
      psamTerminalNumber: toHex(sam.terminalNumber),
      terminalSerial: samResult.terminalSerial,
      cardDateTime,
    },
  });

  let debitResult: { tac: Uint8Array; mac2: Uint8Array };
  try {
    const response = await exchange(session, epurse.debitForPurchase({ terminalSerial: samResult.terminalSerial, dateTime: cardDateTime, mac1: samResult.mac1 }), counter);
    if (isRefusal(response)) {
      // A bare ISO 7816 error status is the card refusing: its balance is untouched, so the attempt is voided.
      store.markInDoubt(sequence);
      store.appendResolution(sequence, 'not-debited', { occurredAt: clock.now().toISOString() });
      context.onRecord?.();
      const security = classifyStatusWord(response.sw) === 'security-failure';
      return { ...base, status: 'refused', promptId: security ? 'invalid-card' : 'card-read-error', reason: `DEBIT refused with SW ${response.sw.toString(16)}` };
    }
    debitResult = epurse.parseDebitForPurchase(response);
  } catch (error) {
    // No response, a transport error or a garbled response: the card may or may not have debited.
    store.markInDoubt(sequence);
    context.onRecord?.();
    context.logger.warn({ sequence, asn: identity.asn, err: error }, 'DEBIT outcome unknown; record kept in doubt');
    return { ...base, status: 'in-doubt', promptId: 'tap-again', reason: `DEBIT outcome unknown: ${(error as Error).message}`, sequence };
  }

  let mac2Verified = false;
  try {
    mac2Verified = await sam.verifyMac2(debitResult.mac2);
  } catch (error) {
    context.logger.error({ sequence, err: error }, 'MAC2 check failed; the TAC is still verified in clearing');
  }
  if (!mac2Verified) context.logger.warn({ sequence, asn: identity.asn }, 'PSAM rejected MAC2');

  const balanceAfterFen = init.balanceFen - amountFen;
  store.complete(sequence, { tac: toHex(debitResult.tac), balanceAfterFen, mac2Verified });
  context.onRecord?.();
  const lowBalance = decision.journey !== 'boarding' && balanceAfterFen < context.fareTable.lowBalanceWarningFen;
  const promptId = lowBalance ? 'low-balance' : (decision.promptId ?? successPrompt(decision.cardType, balanceAfterFen, context.fareTable));
  return { ...base, status: 'accepted', promptId, amountFen, balanceFen: balanceAfterFen, sequence };
}

/**
 * A DEBIT answer that is only an error status word (6xxx or 9xxx other than 9000 and 61xx). Anything
 * else that is not a clean 9000 answer, such as a truncated or garbled response, leaves the debit in doubt.
 */
function isRefusal(response: ResponseApdu): boolean {
  const high = response.sw >> 12;
  return response.data.length === 0 && (high === 0x6 || high === 0x9) && response.sw !== SW.OK && classifyStatusWord(response.sw) !== 'get-response';
}
