import {
  M1_LAYOUT,
  encodeM1Boarding,
  classifyM1Boarding,
  classifyM1BoardingBySlot,
  m1RecordBlock,
  parseCardDateTime,
  parseM1Boarding,
  parseM1Record,
  type M1Boarding,
} from '@busfare/shared-protocol';
import { type CardBoarding, isDatedAfterClock } from '../fare-decision.js';
import type { M1CardIo } from './m1-card-io.js';
import type { M1StagedDebit } from './m1-purchase.js';
import type { M1PurseState } from './m1-purse.js';

const [FIRST_BLOCK, SECOND_BLOCK] = M1_LAYOUT.boardingBlocks;

/**
 * The card's boarding record as this tap found it.
 * - none: never written, or closed (a later debit raised the purse counter, or a state byte
 *   that an earlier version of the terminal set to closed).
 * - not-committed: written by a tap torn before its debit took effect; the card never boarded.
 * - corrupt: unreadable (torn between its two blocks, garbled), or dated after the terminal's clock
 *   by more than clocks drift apart.
 * - open: a boarding that counts, with the record itself for the closing write.
 */
export type M1BoardingState =
  | { kind: 'none' | 'not-committed' }
  | { kind: 'corrupt'; reason: string }
  | { kind: 'open'; record: M1Boarding; boarding: CardBoarding };

/**
 * Reads blocks 24 and 25 and weighs the record against the purse, which readAndRepairPurse has
 * already left consistent. When a debit was rolled back after the boarding, the information block
 * names that attempt, so the purchase record at the boarding counter decides (one more read).
 */
export async function readM1Boarding(io: M1CardIo, purse: M1PurseState, now: Date, utcOffsetMinutes: number): Promise<M1BoardingState> {
  const [first, second] = await io.readBlocks(FIRST_BLOCK, SECOND_BLOCK - FIRST_BLOCK + 1);
  const read = parseM1Boarding(first!, second!);
  if (read.kind === 'empty') return { kind: 'none' };
  if (read.kind === 'corrupt') return read;
  const record = read.boarding;

  let commitState = classifyM1Boarding(record, purse.info);
  if (commitState === 'check-record') commitState = classifyM1BoardingBySlot(record, parseM1Record(await io.readBlock(m1RecordBlock(record.boardingCounter))));
  if (commitState === 'closed') return { kind: 'none' };
  if (commitState === 'not-committed') return { kind: 'not-committed' };

  let boardedAt: Date;
  try {
    boardedAt = parseCardDateTime(record.boardedAt, utcOffsetMinutes);
  } catch (error) {
    return { kind: 'corrupt', reason: (error as Error).message };
  }
  // The same rule as a CPU card's boarding (isDatedAfterClock): the tap boards or pays afresh
  // without a missing tap-off charge, and its own debit closes or overwrites the record.
  if (isDatedAfterClock(boardedAt, now)) {
    return { kind: 'corrupt', reason: `boarding date-time ${record.boardedAt} is after the terminal's clock` };
  }
  const boarding: CardBoarding = {
    routeCode: record.routeCode.toUpperCase(),
    direction: record.direction === 1 ? 1 : 0,
    boardedAt,
    amountFen: record.boardingChargeFen,
    // The longest-journey field contains what a missing tap-off costs, as the boarding reader priced it.
    missingTapOffFen: record.longestFareFen,
  };
  if (record.stopIndex !== undefined) boarding.stopIndex = record.stopIndex;
  return { kind: 'open', record, boarding };
}

/** Fields a boarding tap sets before its debit. The debit itself supplies the counter, serial, terminal and time. */
export type M1BoardingDraft = Pick<M1Boarding, 'routeCode' | 'direction' | 'stopIndex' | 'boardingChargeFen' | 'longestFareFen'>;

/** Writes an open boarding record that names the debit about to start; the debit's commit (process flag or counter) then commits it. */
export async function stageM1Boarding(io: M1CardIo, draft: M1BoardingDraft, debit: M1StagedDebit): Promise<void> {
  const record: M1Boarding = {
    ...draft,
    boardedAt: debit.cardDateTime,
    boardingCounter: debit.counterAfter,
    terminalSerial: debit.terminalSerial,
    terminalTail: debit.terminalTail,
    open: true,
  };
  const [first, second] = encodeM1Boarding(record);
  await io.writeBlock(FIRST_BLOCK, first);
  await io.writeBlock(SECOND_BLOCK, second);
}
