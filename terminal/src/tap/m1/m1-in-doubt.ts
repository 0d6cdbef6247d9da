import { m1RecordBlock, m1TerminalTail, parseM1Record, type DebitEvidence, type M1PurseInfo } from '@busfare/shared-protocol';
import type { OpenInDoubt } from '../../store/transaction-store.js';
import type { M1CardIo } from './m1-card-io.js';
import type { M1PurseState } from './m1-purse.js';

export type M1DebitVerdict = 'debited' | 'not-debited' | 'unknown';

/** Returns whether the debit in progress named by an information block is this record's debit. */
function isThisDebit(pending: M1PurseInfo, debit: DebitEvidence): boolean {
  return (
    pending.counter === debit.cardCounter &&
    pending.pendingAmountFen === debit.amountFen &&
    pending.pendingTerminalSerial === debit.terminalSerial &&
    pending.pendingTerminalTail === m1TerminalTail(debit.psamTerminalNumber)
  );
}

/**
 * Decides whether the torn debit of an open in-doubt record happened, from the purse as the
 * terminal found and repaired it. When this tap finished that very debit, its direction decides.
 * Otherwise the counter decides. An unchanged counter means no debit. A raised counter leaves it
 * to the record that took counter + 1, which is this debit when it carries its PSAM serial,
 * terminal and amount. The verdict is 'unknown' when nine later debits have overwritten that record.
 */
export async function decideM1InDoubt(io: M1CardIo, open: OpenInDoubt, purse: M1PurseState): Promise<M1DebitVerdict> {
  const debit = open.record.debit;
  const { finish } = purse;
  if (finish.kind !== 'none' && isThisDebit(finish.pending, debit)) return finish.kind === 'rolled-forward' ? 'debited' : 'not-debited';
  if (purse.info.counter === debit.cardCounter) return 'not-debited';

  const counterAfter = (debit.cardCounter + 1) & 0xffff;
  const record = parseM1Record(await io.readBlock(m1RecordBlock(counterAfter)));
  if (!record || record.counterAfter !== counterAfter) return 'unknown';
  const ours =
    record.amountFen === debit.amountFen && record.terminalSerial === debit.terminalSerial && record.terminalTail === m1TerminalTail(debit.psamTerminalNumber);
  return ours ? 'debited' : 'not-debited';
}
