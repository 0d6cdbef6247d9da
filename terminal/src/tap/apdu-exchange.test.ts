import { buildApdu, toHex } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import type { ApduTransport } from '../ports/apdu-transport.js';
import { exchange } from './apdu-exchange.js';

/** A card that returns the listed responses in turn and records every command it receives. */
function scriptedCard(answers: string[]): ApduTransport & { commands: string[] } {
  const commands: string[] = [];
  return {
    commands,
    transmit: async (command) => {
      commands.push(toHex(command));
      const answer = answers.shift();
      if (answer === undefined) throw new Error(`no scripted answer for command ${toHex(command)}`);
      return Uint8Array.from(Buffer.from(answer, 'hex'));
    },
  };
}

describe('exchange', () => {
  it('reissues a command with Le after 6Cxx', async () => {
    const card = scriptedCard(['6C17', `${'AB'.repeat(0x17)}9000`]);
    const response = await exchange(card, buildApdu({ cla: 0x00, ins: 0xb2, p1: 1, p2: 0xc4, le: 0x10 }), { apdus: 0 });

    expect(card.commands).toEqual(['00B201C410', '00B201C417']);
    expect(response.sw).toBe(0x9000);
    expect(response.data).toHaveLength(0x17);
  });

  it('changes only Le of a command with data', async () => {
    const card = scriptedCard(['6C08', '11223344556677889000']);
    await exchange(card, buildApdu({ cla: 0x80, ins: 0x5a, p1: 0, p2: 0x06, data: Uint8Array.of(0x00, 0x2a), le: 0x04 }), { apdus: 0 });

    expect(card.commands).toEqual(['805A000602002A04', '805A000602002A08']);
  });

  it('never alters a command without Le', async () => {
    // A write carries no Le, so 6Cxx cannot name a corrected one. Its last byte belongs to the data.
    const write = buildApdu({ cla: 0xff, ins: 0xd6, p1: 0, p2: 8, data: Uint8Array.from({ length: 16 }, (_, index) => index) });
    const card = scriptedCard(['6C10']);
    const counter = { apdus: 0 };
    const response = await exchange(card, write, counter);

    expect(card.commands).toEqual([toHex(write)]);
    expect(response.sw).toBe(0x6c10);
    expect(counter.apdus).toBe(1);
  });

  it('ignores 6Cxx to a bare header', async () => {
    const card = scriptedCard(['6C04']);
    const response = await exchange(card, Uint8Array.of(0x80, 0xca, 0x00, 0x00), { apdus: 0 });

    expect(card.commands).toEqual(['80CA0000']);
    expect(response.sw).toBe(0x6c04);
  });

  it('stops a 61xx chain after eight GET RESPONSE rounds', async () => {
    const card = scriptedCard(Array.from({ length: 20 }, () => '016101'));
    const counter = { apdus: 0 };
    const response = await exchange(card, buildApdu({ cla: 0x00, ins: 0xb0, p1: 0x95, p2: 0, le: 0x1e }), counter);

    expect(counter.apdus).toBe(9);
    expect(response.sw).toBe(0x6101);
    expect(response.data).toHaveLength(9);
  });
});
