import { TX_ACK_SCHEMA, type TerminalCommand, type TransactionAck } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { GapResendRequester } from './gap-resend.js';

function ack(missing?: { from: number; to: number }[], terminalId = 'T1'): TransactionAck {
  return { schema: TX_ACK_SCHEMA, terminalId, batchId: 'b', ackedThrough: 2, stored: 1, duplicates: 0, rejected: [], ...(missing ? { missing } : {}) };
}

function requester() {
  const sent: { terminalId: string; command: TerminalCommand }[] = [];
  let nowMs = 0;
  const gaps = new GapResendRequester({
    logger: createLogger('test', 'silent'),
    send: async (terminalId, command) => {
      sent.push({ terminalId, command });
      return true;
    },
    monotonicMs: () => nowMs,
    repeatAfterMs: 5_000,
    maxRangesPerRequest: 2,
  });
  return { gaps, sent, advance: (ms: number) => (nowMs += ms) };
}

describe('GapResendRequester', () => {
  it('sends nothing without gaps', () => {
    const { gaps, sent } = requester();
    expect(gaps.onAck(ack())).toBe(0);
    expect(sent).toHaveLength(0);
  });

  it('requests each missing range', () => {
    const { gaps, sent } = requester();
    expect(gaps.onAck(ack([{ from: 3, to: 4 }, { from: 7, to: 7 }, { from: 9, to: 12 }]))).toBe(2);
    expect(sent.map((item) => item.command)).toEqual([
      expect.objectContaining({ command: 'resend', fromSequence: 3, toSequence: 4 }),
      expect.objectContaining({ command: 'resend', fromSequence: 7, toSequence: 7 }),
    ]);
  });

  it('waits before asking again', () => {
    const { gaps, sent, advance } = requester();
    gaps.onAck(ack([{ from: 3, to: 4 }]));
    gaps.onAck(ack([{ from: 3, to: 4 }]));
    expect(sent).toHaveLength(1);
    advance(5_000);
    gaps.onAck(ack([{ from: 3, to: 4 }]));
    expect(sent).toHaveLength(2);
  });

  it('waits before asking for part of a requested range', () => {
    const { gaps, sent, advance } = requester();
    gaps.onAck(ack([{ from: 1, to: 800 }]));
    // The terminal re-sends the range batch by batch, so each acknowledgement reports less of it missing.
    gaps.onAck(ack([{ from: 201, to: 800 }]));
    gaps.onAck(ack([{ from: 401, to: 800 }]));
    expect(sent).toHaveLength(1);

    advance(5_000);
    gaps.onAck(ack([{ from: 601, to: 800 }]));

    expect(sent.map((item) => item.command)).toEqual([
      expect.objectContaining({ fromSequence: 1, toSequence: 800 }),
      expect.objectContaining({ fromSequence: 601, toSequence: 800 }),
    ]);
  });

  it('asks for a range wider than the one requested', () => {
    const { gaps, sent } = requester();
    gaps.onAck(ack([{ from: 3, to: 4 }]));
    gaps.onAck(ack([{ from: 3, to: 6 }]));

    expect(sent.map((item) => item.command)).toEqual([
      expect.objectContaining({ fromSequence: 3, toSequence: 4 }),
      expect.objectContaining({ fromSequence: 3, toSequence: 6 }),
    ]);
  });

  it('keeps terminals apart', () => {
    const { gaps, sent } = requester();
    gaps.onAck(ack([{ from: 3, to: 4 }], 'T1'));
    gaps.onAck(ack([{ from: 3, to: 4 }], 'T2'));
    expect(sent.map((item) => item.terminalId)).toEqual(['T1', 'T2']);
  });
});
