import {
  SW,
  StatusWordError,
  TRANSACTION_TYPE,
  asnFactor,
  classifyStatusWord,
  epurse,
  formatCardDateTime,
  fromHex,
  toHex,
  type CardIdentity,
  type FareTableBody,
  type InitForPurchaseResult,
  type ResponseApdu,
  type TripContext,
} from '@busfare/shared-protocol';
import type { Logger } from 'pino';
import { decideFlatFare, successPrompt } from '../fare/flat-fare.js';
import { CardIoError } from '../ports/card-reader.js';
import type { CardSession } from '../ports/card-reader.js';
import type { Clock } from '../ports/clock.js';
import type { RiderFeedback } from '../ports/rider-feedback.js';
import type { SecureAccessModule } from '../ports/secure-access-module.js';
import type { OpenInDoubt, TransactionStore } from '../store/transaction-store.js';
import { exchange } from './apdu-exchange.js';
import { findLoggedTransaction } from './purse-log.js';
import { selectTUnion } from './select-application.js';
import type { TapOutcome } from './tap-outcome.js';

/** Where the active fare table comes from (the parameter store). */
export interface FareTableSource {
  activeFareTable(now: Date): FareTableBody | undefined;
}

export interface TapProcessorOptions {
  store: TransactionStore;
  sam: SecureAccessModule & { counter?: { apdus: number } };
  fareTables: FareTableSource;
  trip: () => TripContext;
  clock: Clock;
  feedback: RiderFeedback;
  logger: Logger;
  /** Called after a record becomes durable, so the uplink can send it soon. */
  onRecord?: () => void;
  /** Offset of local civil time from UTC for card dates (China: 480). */
  utcOffsetMinutes?: number;
}

class TapAbort extends Error {
  constructor(readonly outcome: Omit<TapOutcome, 'cardApdus' | 'psamApdus' | 'durationMs'>) {
    super(outcome.reason ?? outcome.status);
  }
}

/**
 * The tap state machine for PBOC e-purse cards (T-Union cards and phone applets):
 * select → read EF15 → decide fare → settle an open in-doubt record of this card, if any →
 * INIT FOR PURCHASE → MAC1 from the PSAM → durable pending record → DEBIT → MAC2 check →
 * durable completed record → rider feedback. Feedback is given only once the record is durable.
 */
export class TapProcessor {
  constructor(private readonly options: TapProcessorOptions) {}

  async process(session: CardSession): Promise<TapOutcome> {
    const { clock, feedback, sam } = this.options;
    const started = clock.monotonicMs();
    const card = { apdus: 0 };
    const psamStart = sam.counter?.apdus ?? 0;
    let result: Omit<TapOutcome, 'cardApdus' | 'psamApdus' | 'durationMs'>;
    try {
      result = await this.run(session, card);
    } catch (error) {
      result = error instanceof TapAbort ? error.outcome : this.unexpected(error);
    }
    const outcome: TapOutcome = {
      ...result,
      cardApdus: card.apdus,
      psamApdus: (sam.counter?.apdus ?? 0) - psamStart,
      durationMs: clock.monotonicMs() - started,
    };
    feedback.show({ promptId: outcome.promptId, cardType: outcome.cardType, amountFen: outcome.amountFen, balanceFen: outcome.balanceFen });
    this.options.logger.debug({ tap: outcome }, 'tap finished');
    return outcome;
  }

  private async run(session: CardSession, counter: { apdus: number }): Promise<Omit<TapOutcome, 'cardApdus' | 'psamApdus' | 'durationMs'>> {
    const { clock, store } = this.options;
    const now = clock.now();
    const fareTable = this.options.fareTables.activeFareTable(now);
    if (!fareTable) return { status: 'failed', promptId: 'terminal-fault', reason: 'no active fare table' };

    const selection = await this.step(() => selectTUnion(session, counter));
    if (selection.status === 'blocked') return { status: 'refused', promptId: 'invalid-card', reason: `application blocked (SW ${selection.sw.toString(16)})` };
    if (selection.status === 'not-found') return { status: 'refused', promptId: 'invalid-card', reason: 'no supported application on the card' };

    const { ef15 } = selection;
    const today = formatCardDateTime(now, this.offset).slice(0, 8);
    const decision = decideFlatFare({
      fareTable,
      cardTypeCode: ef15.cardTypeCode,
      issuerId: ef15.issuerId,
      startDate: ef15.startDate,
      expiryDate: ef15.expiryDate,
      today,
      route: this.options.trip().route,
    });
    if (decision.kind === 'refuse') return { status: 'refused', promptId: decision.promptId, reason: decision.reason, asn: ef15.asn, cardType: decision.cardType };

    const identity: CardIdentity = {
      application: 'tunion',
      medium: selection.medium,
      asn: ef15.asn,
      issuerId: ef15.issuerId,
      cardType: decision.cardType,
    };

    const open = store.findOpenInDoubt(ef15.asn);
    if (open) {
      const settled = await this.settleInDoubt(session, counter, open);
      if (settled) return settled;
    }

    return this.purchase(session, counter, identity, decision.listFareFen, decision.amountFen, fareTable);
  }

  /**
   * Decides whether the torn debit of `open` happened. The card's purse log (EF18) names the
   * transaction that took counter + 1: when it carries this terminal's PSAM number, date-time and
   * amount, the debit happened and GET TRANSACTION PROOF (counter + 1) returns its TAC, so the trip
   * is booked without a new debit. When another transaction took that counter, or the counter has
   * not moved, no debit happened and the caller runs a fresh purchase. The log check matters
   * because a card keeps only its last proof: after a torn tap here and a purchase elsewhere, the
   * proof for counter + 1 belongs to the other terminal.
   */
  private async settleInDoubt(session: CardSession, counter: { apdus: number }, open: OpenInDoubt): Promise<Omit<TapOutcome, 'cardApdus' | 'psamApdus' | 'durationMs'> | undefined> {
    const { store, clock } = this.options;
    const debit = open.record.debit;
    const provedCounter = (debit.cardCounter + 1) & 0xffff;
    const keepInDoubt = (reason: string) => ({ status: 'in-doubt' as const, promptId: 'tap-again' as const, reason, asn: open.record.card.asn, sequence: open.sequence });

    const verdict = await this.step(() => findLoggedTransaction(session, counter, provedCounter, debit));
    const occurredAt = clock.now().toISOString();
    if (verdict === 'not-debited') {
      store.appendResolution(open.sequence, 'not-debited', { occurredAt });
      this.options.onRecord?.();
      return undefined;
    }
    if (verdict === 'unknown') {
      // The log no longer reaches back to that counter: clearing settles the record from its side.
      this.options.logger.warn({ sequence: open.sequence, asn: open.record.card.asn }, 'in-doubt record cannot be settled on the card; left for clearing');
      return undefined;
    }

    const response = await this.step(() => exchange(session, epurse.getTransactionProof(debit.transactionType, provedCounter), counter));
    if (response.sw !== SW.OK) return keepInDoubt(`transaction proof refused with SW ${response.sw.toString(16)}`);
    let proof: { mac2: Uint8Array; tac: Uint8Array };
    try {
      proof = epurse.parseTransactionProof(response);
    } catch (error) {
      return keepInDoubt(`unreadable transaction proof: ${(error as Error).message}`);
    }
    const balanceAfterFen = debit.balanceBeforeFen - debit.amountFen;
    const record = store.appendResolution(open.sequence, 'debited', { tac: toHex(proof.tac), mac2Verified: false, balanceAfterFen, occurredAt });
    this.options.onRecord?.();
    return {
      status: 'recovered',
      promptId: 'trip-recovered',
      asn: record.card.asn,
      cardType: record.card.cardType as TapOutcome['cardType'],
      amountFen: debit.amountFen,
      balanceFen: balanceAfterFen,
      sequence: record.sequence,
    };
  }

  private async purchase(
    session: CardSession,
    counter: { apdus: number },
    identity: CardIdentity,
    listFareFen: number,
    amountFen: number,
    fareTable: FareTableBody,
  ): Promise<Omit<TapOutcome, 'cardApdus' | 'psamApdus' | 'durationMs'>> {
    const { sam, store, clock } = this.options;
    const base = { asn: identity.asn, cardType: identity.cardType as TapOutcome['cardType'] };

    const initResponse = await this.step(() =>
      exchange(session, epurse.initForPurchase({ mode: 0x01, keyIndex: sam.keyIndex, amountFen, terminalNumber: sam.terminalNumber }), counter),
    );
    if (initResponse.sw === SW.INSUFFICIENT_BALANCE) return { ...base, status: 'refused', promptId: 'insufficient-balance', reason: 'balance below the fare' };
    if (classifyStatusWord(initResponse.sw) === 'card-blocked') return { ...base, status: 'refused', promptId: 'invalid-card', reason: 'purse blocked' };
    let init: InitForPurchaseResult;
    try {
      init = epurse.parseInitForPurchase(initResponse);
    } catch (error) {
      return { ...base, status: 'failed', promptId: 'card-read-error', reason: (error as Error).message };
    }
    if (init.balanceFen < amountFen) return { ...base, status: 'refused', promptId: 'insufficient-balance', reason: 'balance below the fare' };

    const now = clock.now();
    const cardDateTime = formatCardDateTime(now, this.offset);
    const samResult = await sam.initForPurchase({
      cardRandom: init.cardRandom,
      cardCounter: init.cardCounter,
      amountFen,
      transactionType: TRANSACTION_TYPE.purchase,
      dateTime: cardDateTime,
      keyVersion: init.keyVersion,
      algorithmId: init.algorithmId,
      asn8: asnFactor(identity.asn),
      issuerFactor: fromHex(identity.issuerId),
    });

    // The record is durable before DEBIT leaves the terminal: whatever happens next, it is never lost.
    const sequence = store.appendPending({
      occurredAt: now.toISOString(),
      card: identity,
      trip: this.options.trip(),
      debit: {
        transactionType: TRANSACTION_TYPE.purchase,
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
        this.options.onRecord?.();
        const security = classifyStatusWord(response.sw) === 'security-failure';
        return { ...base, status: 'refused', promptId: security ? 'invalid-card' : 'card-read-error', reason: `DEBIT refused with SW ${response.sw.toString(16)}` };
      }
      debitResult = epurse.parseDebitForPurchase(response);
    } catch (error) {
      // No answer, a transport error or a garbled answer: the card may or may not have debited.
      store.markInDoubt(sequence);
      this.options.onRecord?.();
      this.options.logger.warn({ sequence, asn: identity.asn, err: error }, 'DEBIT outcome unknown; record kept in doubt');
      return { ...base, status: 'in-doubt', promptId: 'tap-again', reason: `DEBIT outcome unknown: ${(error as Error).message}`, sequence };
    }

    let mac2Verified = false;
    try {
      mac2Verified = await sam.verifyMac2(debitResult.mac2);
    } catch (error) {
      this.options.logger.error({ sequence, err: error }, 'MAC2 check failed; the TAC is still verified in clearing');
    }
    if (!mac2Verified) this.options.logger.warn({ sequence, asn: identity.asn }, 'PSAM rejected MAC2');

    const balanceAfterFen = init.balanceFen - amountFen;
    store.complete(sequence, { tac: toHex(debitResult.tac), balanceAfterFen, mac2Verified });
    this.options.onRecord?.();
    return { ...base, status: 'accepted', promptId: successPrompt(identity.cardType as never, balanceAfterFen, fareTable), amountFen, balanceFen: balanceAfterFen, sequence };
  }

  /** Runs a card step; card I/O errors and garbled answers before DEBIT end the tap with "请重刷". */
  private async step<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof CardIoError) throw new TapAbort({ status: 'failed', promptId: 'tap-again', reason: `card I/O: ${error.message}` });
      const name = (error as Error).name;
      if (name === 'MalformedResponseError' || name === 'TlvError' || error instanceof StatusWordError || error instanceof RangeError) {
        throw new TapAbort({ status: 'failed', promptId: 'card-read-error', reason: (error as Error).message });
      }
      throw error;
    }
  }

  private unexpected(error: unknown): Omit<TapOutcome, 'cardApdus' | 'psamApdus' | 'durationMs'> {
    const name = (error as Error | undefined)?.name;
    if (name === 'SecureAccessModuleError') {
      this.options.logger.error({ err: error }, 'PSAM failure during a tap');
      return { status: 'failed', promptId: 'terminal-fault', reason: (error as Error).message };
    }
    if (error instanceof CardIoError) return { status: 'failed', promptId: 'tap-again', reason: error.message };
    this.options.logger.error({ err: error }, 'unexpected error during a tap');
    return { status: 'failed', promptId: 'card-read-error', reason: (error as Error)?.message ?? String(error) };
  }

  private get offset(): number {
    return this.options.utcOffsetMinutes ?? 480;
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
