import type { TapOutcome } from '@busfare/terminal';

/** The report written by `busfare-bench ... --report FILE`; field names are a fixed contract. */
export interface BenchReport {
  tapsAttempted: number;
  tapsAccepted: number;
  tapsRefused: number;
  inDoubt: number;
  recordsCleared: number;
  recordsRejectedAtIngest: number;
  lost: number;
  duplicates: number;
  cardLedgerMismatch: number;
  inDoubtOpen: number;
  [extra: string]: unknown;
}

/** A record the back office cleared, reduced to what the bench checks. */
export interface ClearedRecordKey {
  terminalId: string;
  sequence: number;
  asn: string;
  cardCounter: number;
  amountFen: number;
}

/** One debit as the virtual card itself booked it. */
export interface CardDebit {
  asn: string;
  /** Offline counter before the debit (the INIT value the terminal records). */
  counter: number;
  amountFen: number;
}

export interface TapRecordOutcome {
  terminalId: string;
  outcome: TapOutcome;
}

export interface LedgerInputs {
  taps: TapRecordOutcome[];
  cleared: ClearedRecordKey[];
  cardDebits: CardDebit[];
  /** Sum over all virtual cards of (initial balance − final balance), in fen. */
  cardBalanceDecreaseFen: number;
  recordsRejectedAtIngest: number;
  inDoubtOpen: number;
}

/**
 * Computes the bench report's counting fields.
 * - lost: accepted taps whose record was not cleared, plus card-side debits with no cleared
 *   record for that card and counter (an in-doubt tap in which the card was in fact debited).
 * - duplicates: cleared records beyond one per (terminal, sequence) and one per (card, counter).
 * - cardLedgerMismatch: card balance decreases minus cleared amounts.
 */
export function computeLedgerReport(inputs: LedgerInputs): BenchReport {
  const countBy = (status: TapOutcome['status'] | TapOutcome['status'][]) => {
    const wanted = Array.isArray(status) ? status : [status];
    return inputs.taps.filter((tap) => wanted.includes(tap.outcome.status)).length;
  };

  const clearedBySequence = new Map<string, number>();
  const clearedByCardCounter = new Map<string, number>();
  let clearedAmountFen = 0;
  for (const record of inputs.cleared) {
    const sequenceKey = `${record.terminalId}#${record.sequence}`;
    const counterKey = `${record.asn}#${record.cardCounter}`;
    clearedBySequence.set(sequenceKey, (clearedBySequence.get(sequenceKey) ?? 0) + 1);
    clearedByCardCounter.set(counterKey, (clearedByCardCounter.get(counterKey) ?? 0) + 1);
    clearedAmountFen += record.amountFen;
  }

  const lostKeys = new Set<string>();
  const clearedCounterKeys = new Set(inputs.cleared.map((record) => `${record.asn}#${record.cardCounter}`));
  for (const tap of inputs.taps) {
    if ((tap.outcome.status !== 'accepted' && tap.outcome.status !== 'recovered') || tap.outcome.sequence === undefined) continue;
    if (!clearedBySequence.has(`${tap.terminalId}#${tap.outcome.sequence}`)) lostKeys.add(`tap:${tap.terminalId}#${tap.outcome.sequence}`);
  }
  for (const debit of inputs.cardDebits) {
    if (!clearedCounterKeys.has(`${debit.asn}#${debit.counter}`)) lostKeys.add(`card:${debit.asn}#${debit.counter}`);
  }

  let duplicates = 0;
  for (const count of clearedBySequence.values()) duplicates += count - 1;
  for (const count of clearedByCardCounter.values()) duplicates += count - 1;

  return {
    tapsAttempted: inputs.taps.length,
    tapsAccepted: countBy(['accepted', 'recovered']),
    tapsRefused: countBy('refused'),
    inDoubt: countBy('in-doubt'),
    recordsCleared: inputs.cleared.length,
    recordsRejectedAtIngest: inputs.recordsRejectedAtIngest,
    lost: lostKeys.size,
    duplicates,
    cardLedgerMismatch: inputs.cardBalanceDecreaseFen - clearedAmountFen,
    inDoubtOpen: inputs.inDoubtOpen,
    tapsFailed: countBy('failed'),
    clearedAmountFen,
  };
}
