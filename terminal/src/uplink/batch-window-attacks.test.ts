import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { TX_ACK_SCHEMA, type TransactionAck } from '@busfare/shared-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../ports/clock.js';
import { SqliteTransactionStore } from '../store/sqlite-transaction-store.js';
import { sampleCompletion, samplePurchase } from '../store/transaction-fixtures.js';
import { BatchWindow } from './batch-window.js';
import { LogLimiter } from './log-limiter.js';

const logger = pino({ level: 'silent' });
const BATCH_SIZE = 10;
const WINDOW = 2;
const ACK_TIMEOUT_MS = 10_000;

interface Sent {
  batchId: string;
  sequences: number[];
}

function ack(ackedThrough: number, batchId = 'unknown'): TransactionAck {
  return { schema: TX_ACK_SCHEMA, terminalId: 'T-0001', batchId, ackedThrough, stored: 0, duplicates: 0, rejected: [] };
}

describe('BatchWindow under a misbehaving back office', () => {
  let dir: string;
  let store: SqliteTransactionStore;
  let clock: ManualClock;
  let sent: Sent[];
  let window: BatchWindow;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-window-'));
    store = SqliteTransactionStore.open(join(dir, 'transactions.db'), { walReserveBytes: 0 });
    for (let serial = 1; serial <= 100; serial += 1) store.complete(store.appendPending(samplePurchase(undefined, undefined, serial)), sampleCompletion);
    clock = new ManualClock();
    sent = [];
    window = new BatchWindow({
      terminalId: 'T-0001',
      store,
      clock,
      logger,
      limiter: new LogLimiter(logger, clock),
      batchSize: BATCH_SIZE,
      maxInFlightBatches: WINDOW,
      ackTimeoutMs: ACK_TIMEOUT_MS,
      publish: (batchId, payload) => {
        const records = (JSON.parse(payload) as { records: Array<{ sequence: number }> }).records;
        sent.push({ batchId, sequences: records.map((record) => record.sequence) });
      },
    });
  });

  afterEach(() => {
    window.pause();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ignores an ack above every sequence sent', () => {
    window.start();
    expect(sent.flatMap((batch) => batch.sequences).at(-1)).toBe(20);

    window.handleAck(ack(100));

    // Records 21..100 never left the terminal, so an ack for them must not let them be pruned.
    expect(store.ackedThrough()).toBe(0);
    expect(window.counters.acksIgnored).toBe(1);
  });

  it('applies an ack of every sequence sent', () => {
    window.start();
    window.handleAck(ack(20, sent[1]!.batchId));
    expect(store.ackedThrough()).toBe(20);
  });

  it('accepts a later ack after a resend', () => {
    window.start();
    window.handleAck(ack(20, sent[1]!.batchId));
    window.handleAck(ack(40, sent.at(-1)!.batchId));
    expect(store.ackedThrough()).toBe(40);
  });

  it('keeps its place after an ack that goes backwards', () => {
    window.start();
    window.handleAck(ack(20, sent[1]!.batchId));
    window.handleAck(ack(5, sent[0]!.batchId));
    expect(store.ackedThrough()).toBe(20);
    expect(store.backlog()).toBe(80);
  });

  it('sends nothing for a resend of pruned records', () => {
    window.start();
    window.handleAck(ack(20, sent[1]!.batchId));
    clock.setWall(new Date('2027-06-01T00:00:00Z'));
    expect(store.pruneAcknowledged(clock.now())).toBe(20);
    const before = sent.length;

    expect(window.resendRange(1, 20)).toBe(0);
    expect(sent.length).toBe(before);
  });

  it('caps a resend of a huge range', () => {
    window.start();
    expect(window.resendRange(1, Number.MAX_SAFE_INTEGER)).toBeLessThanOrEqual(BATCH_SIZE * WINDOW);
  });

  it('limits a flood of resend commands', () => {
    window.start();
    const before = sent.flatMap((batch) => batch.sequences).length;
    // 500 commands within one second.
    for (let command = 0; command < 500; command += 1) {
      window.resendRange(1, 20);
      clock.advance(2);
    }
    const resent = sent.flatMap((batch) => batch.sequences).length - before;
    // One window of records per ack timeout is what a lost window costs to send again.
    expect(resent).toBeLessThanOrEqual(BATCH_SIZE * WINDOW);
    expect(resent).toBeGreaterThan(0);
  });

  it('serves a resend again after the ack timeout', () => {
    window.start();
    window.resendRange(1, 20);
    clock.advance(ACK_TIMEOUT_MS);
    const before = sent.length;
    expect(window.resendRange(1, 20)).toBe(20);
    expect(sent.length).toBeGreaterThan(before);
  });
});
