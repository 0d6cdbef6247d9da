import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TransactionAck, topics, transactionAckSchema } from '@busfare/shared-protocol';
import Database from 'better-sqlite3';
import { type MqttClient, connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackOffice, startBackOffice } from '../backoffice.js';
import { parseConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { LOCAL_ISSUER_PREFIX, LOCAL_SM4_ISSUER, OUT_OF_TOWN_ISSUER, fakeBatch, fakeRecord, testKeyStore } from '../testing/fake-terminal.js';
import type { IngestRejection } from './ingest-service.js';

let directory: string;
let backOffice: BackOffice;
let terminal: MqttClient;
const acks: TransactionAck[] = [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-ingest-'));
  const config = parseConfig({
    db: join(directory, 'clearing.db'),
    mqtt: { port: 0, terminalCredentials: false },
    http: { port: 0 },
    localIssuerPrefixes: [LOCAL_ISSUER_PREFIX],
  });
  backOffice = await startBackOffice(config, { logger: createLogger('test', 'silent'), keyStore: testKeyStore() });
  terminal = await connectAsync(backOffice.brokerUrl, { protocolVersion: 4, clientId: 'fake-terminal', clean: true });
  terminal.on('message', (_topic, payload) => acks.push(transactionAckSchema.parse(JSON.parse(payload.toString('utf8')))));
  await terminal.subscribeAsync(`${topics.acks('+')}`, { qos: 1 });
});

afterAll(async () => {
  await terminal?.endAsync();
  await backOffice?.stop();
  rmSync(directory, { recursive: true, force: true });
});

/** Publishes a payload as the terminal and resolves with the acknowledgement for that batch id. */
async function sendBatch(terminalId: string, batchId: string, records: unknown[]): Promise<TransactionAck> {
  const seen = acks.length;
  await terminal.publishAsync(topics.transactions(terminalId), fakeBatch(terminalId, batchId, records), { qos: 1 });
  return waitFor(() => acks.slice(seen).find((ack) => ack.batchId === batchId && ack.terminalId === terminalId));
}

/** Publishes a raw payload and resolves with the rejection that ingest reports for it. */
async function sendRaw(topic: string, payload: string): Promise<IngestRejection> {
  const rejection = new Promise<IngestRejection>((resolve) => backOffice.ingest.once('rejected', resolve));
  await terminal.publishAsync(topic, payload, { qos: 1 });
  return rejection;
}

async function waitFor<T>(probe: () => T | undefined): Promise<T> {
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('ingest over a real broker', () => {
  it('stores and acknowledges a valid batch', async () => {
    const ack = await sendBatch('T-VALID', 'b1', [fakeRecord({ terminalId: 'T-VALID', sequence: 1 }), fakeRecord({ terminalId: 'T-VALID', sequence: 2 }), fakeRecord({ terminalId: 'T-VALID', sequence: 3, amountFen: 100 })]);

    expect(ack.ackedThrough).toBe(3);
    expect(ack.stored).toBe(3);
    expect(ack.duplicates).toBe(0);
    expect(ack.rejected).toEqual([]);
    expect(ack.missing).toBeUndefined();
    const stored = backOffice.repository.findTransaction('T-VALID', 2);
    expect(stored?.verification).toBe('verified');
    expect(stored?.businessDay).toBe('2025-05-06');
    const totals = backOffice.repository.totalsByTerminalAndDay().filter((row) => row.terminalId === 'T-VALID');
    expect(totals).toEqual([{ terminalId: 'T-VALID', businessDay: '2025-05-06', count: 3, amountFen: 500 }]);
  });

  it('stores a duplicate batch once and acknowledges it twice', async () => {
    const records = [fakeRecord({ terminalId: 'T-DUP', sequence: 1 }), fakeRecord({ terminalId: 'T-DUP', sequence: 2 })];
    const first = await sendBatch('T-DUP', 'dup', records);
    const second = await sendBatch('T-DUP', 'dup', records);

    expect(first.stored).toBe(2);
    expect(second.stored).toBe(0);
    expect(second.duplicates).toBe(2);
    expect(second.ackedThrough).toBe(2);
    expect(backOffice.repository.recentTransactions(1000).filter((row) => row.terminalId === 'T-DUP')).toHaveLength(2);
  });

  it('rejects a forged TAC and still covers it in the ack', async () => {
    const ack = await sendBatch('T-FORGED', 'f1', [fakeRecord({ terminalId: 'T-FORGED', sequence: 1 }), fakeRecord({ terminalId: 'T-FORGED', sequence: 2, tac: 'DEADBEEF' }), fakeRecord({ terminalId: 'T-FORGED', sequence: 3 })]);

    expect(ack.ackedThrough).toBe(3);
    expect(ack.stored).toBe(2);
    expect(ack.rejected).toHaveLength(1);
    expect(ack.rejected[0]?.sequence).toBe(2);
    expect(ack.rejected[0]?.reason).toMatch(/TAC does not match/);
    const rejectedRow = backOffice.repository.recentRejected(1000).find((row) => row.terminalId === 'T-FORGED');
    expect(rejectedRow?.sequence).toBe(2);
    expect(rejectedRow?.payload).toContain('DEADBEEF');
    expect(backOffice.repository.findTransaction('T-FORGED', 2)).toBeUndefined();
  });

  it('keeps a forged TAC rejection once when the batch is resent', async () => {
    const records = [fakeRecord({ terminalId: 'T-FORGED-AGAIN', sequence: 1, tac: '00000000' })];
    await sendBatch('T-FORGED-AGAIN', 'f', records);
    const second = await sendBatch('T-FORGED-AGAIN', 'f', records);

    expect(second.ackedThrough).toBe(1);
    expect(second.duplicates).toBe(1);
    expect(backOffice.repository.recentRejected(1000).filter((row) => row.terminalId === 'T-FORGED-AGAIN')).toHaveLength(1);
  });

  it('rejects invalid JSON with the reason', async () => {
    const rejection = await sendRaw(topics.transactions('T-JSON'), '{"schema": "busfare.tx-batch/1", ');

    expect(rejection.terminalId).toBe('T-JSON');
    expect(rejection.reason).toMatch(/^invalid JSON/);
    const row = backOffice.repository.recentRejected(1000).find((item) => item.terminalId === 'T-JSON');
    expect(row?.reason).toMatch(/^invalid JSON/);
    expect(row?.payload).toBe('{"schema": "busfare.tx-batch/1", ');
    expect(row?.sequence).toBeNull();
  });

  it('rejects a schema-invalid batch with the zod issues', async () => {
    const payload = JSON.stringify({ schema: 'busfare.tx-batch/1', terminalId: 'T-SCHEMA', sentAt: 'yesterday', records: [] });
    const rejection = await sendRaw(topics.transactions('T-SCHEMA'), payload);

    expect(rejection.reason).toMatch(/^invalid transaction batch/);
    expect(rejection.reason).toContain('batchId:');
    expect(rejection.reason).toContain('sentAt:');
    expect(rejection.reason).toContain('records:');
    expect(backOffice.repository.recentRejected(1000).some((row) => row.terminalId === 'T-SCHEMA' && row.payload === payload)).toBe(true);
  });

  it('rejects a payload whose terminal id differs from the topic', async () => {
    const rejection = await sendRaw(topics.transactions('T-TOPIC'), fakeBatch('T-OTHER', 'x', [fakeRecord({ terminalId: 'T-OTHER', sequence: 1 })]));

    expect(rejection.terminalId).toBe('T-TOPIC');
    expect(rejection.reason).toBe('terminal id "T-OTHER" in the payload does not match "T-TOPIC" in the topic');
    expect(backOffice.repository.findTransaction('T-OTHER', 1)).toBeUndefined();
    expect(backOffice.repository.findTransaction('T-TOPIC', 1)).toBeUndefined();
  });

  it('rejects a bad record alone and stores the rest', async () => {
    const bad = { ...fakeRecord({ terminalId: 'T-ONE-BAD', sequence: 2 }), occurredAt: 'not a time' };
    const ack = await sendBatch('T-ONE-BAD', 'r1', [fakeRecord({ terminalId: 'T-ONE-BAD', sequence: 1 }), bad, fakeRecord({ terminalId: 'T-ONE-BAD', sequence: 3 })]);

    expect(ack.stored).toBe(2);
    expect(ack.ackedThrough).toBe(3);
    expect(ack.rejected).toEqual([{ sequence: 2, reason: expect.stringMatching(/^invalid record: occurredAt:/) }]);
  });

  it('queues an out-of-town issuer record for the issuer', async () => {
    const ack = await sendBatch('T-AWAY', 'a1', [fakeRecord({ terminalId: 'T-AWAY', sequence: 1, issuerId: OUT_OF_TOWN_ISSUER })]);

    expect(ack.stored).toBe(1);
    expect(backOffice.repository.findTransaction('T-AWAY', 1)?.verification).toBe('queued-for-issuer');
  });

  it('rejects a local issuer record without a key', async () => {
    const ack = await sendBatch('T-NOKEY', 'k1', [fakeRecord({ terminalId: 'T-NOKEY', sequence: 1, issuerId: '99000009FFFFFFFF' })]);

    expect(ack.stored).toBe(0);
    expect(ack.rejected[0]?.reason).toBe('no TAC key for local T-Union issuer 99000009FFFFFFFF');
  });

  it('verifies an SM4 record', async () => {
    const ack = await sendBatch('T-SM4', 's1', [fakeRecord({ terminalId: 'T-SM4', sequence: 1, issuerId: LOCAL_SM4_ISSUER })]);

    expect(ack.stored).toBe(1);
    expect(backOffice.repository.findTransaction('T-SM4', 1)?.verification).toBe('verified');
  });

  it('holds ackedThrough at a gap and reports it missing', async () => {
    const first = await sendBatch('T-GAP', 'g1', [fakeRecord({ terminalId: 'T-GAP', sequence: 1 }), fakeRecord({ terminalId: 'T-GAP', sequence: 2 })]);
    const afterGap = await sendBatch('T-GAP', 'g2', [fakeRecord({ terminalId: 'T-GAP', sequence: 5 }), fakeRecord({ terminalId: 'T-GAP', sequence: 6 })]);
    const filled = await sendBatch('T-GAP', 'g3', [fakeRecord({ terminalId: 'T-GAP', sequence: 3 }), fakeRecord({ terminalId: 'T-GAP', sequence: 4 })]);

    expect(first.ackedThrough).toBe(2);
    expect(afterGap.ackedThrough).toBe(2);
    expect(afterGap.missing).toEqual([{ from: 3, to: 4 }]);
    expect(filled.ackedThrough).toBe(6);
    expect(filled.missing).toBeUndefined();
  });

  it('closes an in-doubt record with its resolution', async () => {
    const inDoubt = fakeRecord({ terminalId: 'T-DOUBT', sequence: 1, kind: 'in-doubt', asn: '99000001000000004242' });
    await sendBatch('T-DOUBT', 'd1', [inDoubt]);
    const openBefore = backOffice.repository.openInDoubt().filter((row) => row.terminalId === 'T-DOUBT');
    const clearedBefore = backOffice.summary().recordsCleared;

    const resolution = fakeRecord({ terminalId: 'T-DOUBT', sequence: 2, kind: 'resolution', asn: '99000001000000004242', resolvesSequence: 1, outcome: 'debited' });
    const ack = await sendBatch('T-DOUBT', 'd2', [resolution]);

    expect(openBefore).toHaveLength(1);
    expect(ack.stored).toBe(1);
    expect(ack.ackedThrough).toBe(2);
    expect(backOffice.repository.openInDoubt().filter((row) => row.terminalId === 'T-DOUBT')).toEqual([]);
    expect(backOffice.repository.findTransaction('T-DOUBT', 1)?.verification).toBe('not-applicable');
    expect(backOffice.summary().recordsCleared).toBe(clearedBefore + 1);
  });

  it('rejects a resolution of a purchase record', async () => {
    await sendBatch('T-BADRES', 'p1', [fakeRecord({ terminalId: 'T-BADRES', sequence: 1 })]);
    const ack = await sendBatch('T-BADRES', 'p2', [fakeRecord({ terminalId: 'T-BADRES', sequence: 2, kind: 'resolution', resolvesSequence: 1, outcome: 'not-debited' })]);

    expect(ack.rejected[0]?.reason).toBe('resolution 2 settles sequence 1, which is a purchase record, not an in-doubt one');
    expect(ack.ackedThrough).toBe(2);
  });

  it('reports stored taps as live events', async () => {
    const taps: string[] = [];
    const listener = (tap: { terminalId: string; sequence: number }) => taps.push(`${tap.terminalId}#${tap.sequence}`);
    backOffice.ingest.on('tap', listener);
    await sendBatch('T-LIVE', 'l1', [fakeRecord({ terminalId: 'T-LIVE', sequence: 1 })]);
    await sendBatch('T-LIVE', 'l1', [fakeRecord({ terminalId: 'T-LIVE', sequence: 1 })]);
    backOffice.ingest.off('tap', listener);

    expect(taps).toEqual(['T-LIVE#1']);
  });

  it('reports a record repeated in a batch once', async () => {
    const taps: number[] = [];
    const listener = (tap: { sequence: number }) => taps.push(tap.sequence);
    backOffice.ingest.on('tap', listener);
    const record = fakeRecord({ terminalId: 'T-TWICE', sequence: 1 });
    const ack = await sendBatch('T-TWICE', 't1', [record, record, fakeRecord({ terminalId: 'T-TWICE', sequence: 2 })]);
    backOffice.ingest.off('tap', listener);

    expect(ack.stored).toBe(2);
    expect(ack.duplicates).toBe(1);
    expect(taps).toEqual([1, 2]);
  });

  it('acknowledges grouped batches after commit', async () => {
    // Another connection reads only committed rows, so its count at each ack shows the commit came first.
    const reader = new Database(join(directory, 'clearing.db'), { readonly: true });
    const count = reader.prepare<[string], number>('SELECT COUNT(*) FROM transactions WHERE terminal_id = ?').pluck();
    const storedAtAck: number[] = [];
    const listener = (ack: TransactionAck) => {
      if (ack.terminalId.startsWith('T-GROUP')) storedAtAck.push(count.get(ack.terminalId) ?? 0);
    };
    backOffice.ingest.on('ack', listener);
    const terminalIds = ['T-GROUP1', 'T-GROUP2', 'T-GROUP3', 'T-GROUP4'];
    const seen = acks.length;
    try {
      await Promise.all(
        terminalIds.map((terminalId) =>
          terminal.publishAsync(topics.transactions(terminalId), fakeBatch(terminalId, 'g1', [fakeRecord({ terminalId, sequence: 1 }), fakeRecord({ terminalId, sequence: 2 })]), { qos: 1 }),
        ),
      );
      await waitFor(() => (acks.slice(seen).filter((ack) => ack.batchId === 'g1').length === terminalIds.length ? true : undefined));
    } finally {
      backOffice.ingest.off('ack', listener);
      reader.close();
    }

    expect(storedAtAck).toEqual([2, 2, 2, 2]);
  });

  it('counts every outcome in the summary', () => {
    const summary = backOffice.summary();

    expect(summary.byTerminal).toContainEqual({ terminalId: 'T-GAP', ackedThrough: 6 });
    expect(summary.duplicatesIgnored).toBeGreaterThanOrEqual(4);
    expect(summary.inDoubtOpen).toBe(0);
    expect(summary.recordsRejected).toBeGreaterThanOrEqual(7);
  });
});
