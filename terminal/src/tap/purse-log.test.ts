import { type DebitEvidence, TRANSACTION_TYPE, encodePurseLogRecord } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { counterIsBefore, findLoggedTransaction } from './purse-log.js';

const OURS = { psamTerminalNumber: '000000000001', cardDateTime: '20261206080000', amountFen: 200 };
const DEBIT = OURS as unknown as DebitEvidence;

/** Creates a card whose purse log contains `serials` as purchases, newest first, with ours at `oursAt`. */
function cardWithLog(serials: number[], oursAt: number): { transmit: (command: Uint8Array) => Promise<Uint8Array> } {
  return {
    transmit(command: Uint8Array): Promise<Uint8Array> {
      const index = (command[2] ?? 1) - 1;
      const serial = serials[index];
      if (serial === undefined) return Promise.resolve(Uint8Array.of(0x6a, 0x83));
      const terminalNumber = index === oursAt ? OURS.psamTerminalNumber : '000000000002';
      const record = encodePurseLogRecord({ serial, overdraftLimitFen: 0, amountFen: 200, transactionType: TRANSACTION_TYPE.purchase, terminalNumber, dateTime: OURS.cardDateTime });
      return Promise.resolve(Uint8Array.from([...record, 0x90, 0x00]));
    },
  };
}

describe('counterIsBefore', () => {
  it('orders counters', () => {
    expect(counterIsBefore(4, 5)).toBe(true);
    expect(counterIsBefore(5, 4)).toBe(false);
    expect(counterIsBefore(5, 5)).toBe(false);
  });

  it('orders across the wrap', () => {
    expect(counterIsBefore(0xffff, 0)).toBe(true);
    expect(counterIsBefore(0, 0xffff)).toBe(false);
  });
});

describe('findLoggedTransaction across the counter wrap', () => {
  it('finds a debit at FFFF under a newer 0000', async () => {
    const card = cardWithLog([0x0000, 0xffff, 0xfffe], 1);
    expect(await findLoggedTransaction(card, { apdus: 0 }, 0xffff, DEBIT)).toBe('debited');
  });

  it('finds a debit at 0000 above FFFF', async () => {
    const card = cardWithLog([0x0000, 0xffff], 0);
    expect(await findLoggedTransaction(card, { apdus: 0 }, 0x0000, DEBIT)).toBe('debited');
  });

  it('sees an older FFFF as not debited', async () => {
    const card = cardWithLog([0xffff], 5);
    expect(await findLoggedTransaction(card, { apdus: 0 }, 0x0000, DEBIT)).toBe('not-debited');
  });
});
