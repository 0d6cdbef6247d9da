import {
  M1_LAYOUT,
  M1_PROCESS_FLAG,
  decodeValueBlock,
  encodeM1PurseInfo,
  encodeM1Record,
  m1RecordBlock,
  parseM1PurseInfo,
  type M1PurseInfo,
} from '@busfare/shared-protocol';
import type { M1CardIo } from './m1-card-io.js';

/** The purse sector is damaged beyond what the terminal repairs: both value blocks broken, or a value that fits no known state. */
export class M1PurseDamagedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'M1PurseDamagedError';
  }
}

/**
 * What the terminal did about a debit that an earlier tap left half done (process flag set):
 * rolled it back (the primary block still contained the balance before), rolled it forward (the
 * primary block was already decremented, so the backup, the record and the counter were
 * finished), or nothing when the flag was idle. `pending` is the information block as the torn
 * tap wrote it.
 */
export type TornDebitFinish = { kind: 'none' } | { kind: 'rolled-back'; pending: M1PurseInfo } | { kind: 'rolled-forward'; pending: M1PurseInfo };

export interface M1PurseState {
  /** The information block after any repair: process flag idle. */
  info: M1PurseInfo;
  balanceFen: number;
  finish: TornDebitFinish;
  /** Value blocks rewritten because one was damaged or the two disagreed. */
  repairs: number;
}

const { purseInfoBlock, primaryValueBlock, backupValueBlock } = M1_LAYOUT;

/**
 * Reads the purse sector and leaves it consistent. With the process flag idle, a damaged or
 * different backup is restored from the primary block, and a damaged primary from the backup. With
 * the flag set, a torn debit is finished: rolled back when the primary still contains the balance
 * before it, rolled forward when it contains the balance after it.
 */
export async function readAndRepairPurse(io: M1CardIo): Promise<M1PurseState> {
  // Blocks 8, 9 and 10 are consecutive, so one READ BINARY returns them where the reader allows.
  const [infoBlock, primaryBlock, backupBlock] = await io.readBlocks(purseInfoBlock, backupValueBlock - purseInfoBlock + 1);
  const info = parseM1PurseInfo(infoBlock!);
  let primary = decodeValueBlock(primaryBlock!)?.value;
  const backup = decodeValueBlock(backupBlock!)?.value;
  let repairs = 0;

  if (primary === undefined) {
    if (backup === undefined) throw new M1PurseDamagedError('both purse value blocks are damaged');
    await io.restore(backupValueBlock, primaryValueBlock);
    primary = backup;
    repairs += 1;
  }

  if (info.processFlag === M1_PROCESS_FLAG.idle) {
    if (backup !== primary) {
      await io.restore(primaryValueBlock, backupValueBlock);
      repairs += 1;
    }
    return { info, balanceFen: primary, finish: { kind: 'none' }, repairs };
  }
  if (info.processFlag !== M1_PROCESS_FLAG.debitInProgress) throw new M1PurseDamagedError(`unknown process flag ${info.processFlag}`);

  const before = info.pendingBalanceBeforeFen;
  const after = before - info.pendingAmountFen;
  if (primary !== before && primary !== after) {
    throw new M1PurseDamagedError(`purse value ${primary} fits neither side of the torn debit (${before} before, ${after} after)`);
  }
  if (backup !== primary) {
    await io.restore(primaryValueBlock, backupValueBlock);
    repairs += 1;
  }
  if (primary === before && info.pendingAmountFen !== 0) {
    const idle = { ...info, processFlag: M1_PROCESS_FLAG.idle };
    await io.writeBlock(purseInfoBlock, encodeM1PurseInfo(idle));
    return { info: idle, balanceFen: primary, finish: { kind: 'rolled-back', pending: info }, repairs };
  }
  const idle = await finishDebitOnCard(io, info, primary);
  return { info: idle, balanceFen: primary, finish: { kind: 'rolled-forward', pending: info }, repairs };
}

/**
 * Finishes a debit whose decrement took effect: the purchase record in the slot of the new
 * counter, then the information block with the counter raised and the flag idle. Both writes are
 * idempotent, so a tap torn here is finished by the next one. Returns the new information block.
 */
export async function finishDebitOnCard(io: M1CardIo, pending: M1PurseInfo, balanceAfterFen: number): Promise<M1PurseInfo> {
  await writeDebitRecord(io, pending, balanceAfterFen);
  return raiseCounter(io, pending);
}

/**
 * Writes the purchase record of a debit into the slot of the counter it leads to. Every debit
 * writes it before it raises the counter, so the slot of the current counter always contains the
 * last debit's record. A slot one ahead of the counter may contain a debit that was rolled back.
 */
export async function writeDebitRecord(io: M1CardIo, pending: M1PurseInfo, balanceAfterFen: number): Promise<void> {
  const counterAfter = (pending.counter + 1) & 0xffff;
  await io.writeBlock(
    m1RecordBlock(counterAfter),
    encodeM1Record({ counterAfter, amountFen: pending.pendingAmountFen, balanceAfterFen, terminalSerial: pending.pendingTerminalSerial, terminalTail: pending.pendingTerminalTail }),
  );
}

/** Writes the information block with the counter raised and the flag idle, which ends the debit. Returns that block. */
export async function raiseCounter(io: M1CardIo, pending: M1PurseInfo): Promise<M1PurseInfo> {
  const idle = { ...pending, counter: (pending.counter + 1) & 0xffff, processFlag: M1_PROCESS_FLAG.idle };
  await io.writeBlock(purseInfoBlock, encodeM1PurseInfo(idle));
  return idle;
}
