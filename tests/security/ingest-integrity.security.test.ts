import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TransactionAck, type TransactionRecord, topics, transactionAckSchema } from '@busfare/shared-protocol';
import { type MqttClient, connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackOffice, createLogger, parseConfig, startBackOffice } from '@busfare/backoffice';
import { LOCAL_ISSUER_PREFIX, testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';
import { batchPayload, movedTo, recordWithEvidence } from './security-records.js';

const PSAMS: Record<string, string> = { TA: '000000001001', TB: '000000001002', TC: '000000001003' };

let directory: string;
let backOffice: BackOffice;
const terminals = new Map<string, MqttClient>();
const acks: TransactionAck[] = [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-integrity-security-'));
  const config = parseConfig({ db: join(directory, 'clearing.db'), mqtt: { port: 0 }, http: { port: 0 }, localIssuerPrefixes: [LOCAL_ISSUER_PREFIX], security: { evidenceChecks: true } });
  backOffice = await startBackOffice(config, { logger: createLogger('test', 'silent'), keyStore: testKeyStore() });
  for (const terminalId of Object.keys(PSAMS)) {
    const secret = await backOffice.credentials.add(terminalId);
    const client = await connectAsync(backOffice.brokerUrl, { protocolVersion: 4, clientId: terminalId, username: terminalId, password: secret, reconnectPeriod: 0, clean: true });
    client.on('message', (_topic, payload) => acks.push(transactionAckSchema.parse(JSON.parse(payload.toString('utf8')))));
    await client.subscribeAsync(topics.acks(terminalId), { qos: 1 });
    terminals.set(terminalId, client);
  }
});

afterAll(async () => {
  for (const client of terminals.values()) await client.endAsync(true).catch(() => undefined);
  await backOffice?.stop();
  rmSync(directory, { recursive: true, force: true });
});

async function send(terminalId: string, batchId: string, records: readonly TransactionRecord[]): Promise<TransactionAck> {
  const seen = acks.length;
  await terminals.get(terminalId)!.publishAsync(topics.transactions(terminalId), batchPayload(terminalId, batchId, records), { qos: 1 });
  for (;;) {
    const ack = acks.slice(seen).find((item) => item.terminalId === terminalId && item.batchId === batchId);
    if (ack) return ack;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function own(terminalId: string, sequence: number): TransactionRecord {
  return recordWithEvidence({ sequence, psam: PSAMS[terminalId]! });
}

describe('transaction integrity over the broker', () => {
  it('rejects a forged TAC and serves others', async () => {
    const forged = own('TA', 2);
    forged.debit.tac = 'DEADBEEF';

    const [forgedAck, otherAck] = await Promise.all([send('TA', 'a1', [own('TA', 1), forged, own('TA', 3)]), send('TB', 'b1', [own('TB', 1)])]);

    expect(forgedAck.rejected).toEqual([{ sequence: 2, reason: expect.stringMatching(/TAC does not match the issuer key/) }]);
    expect(forgedAck.stored).toBe(2);
    expect(forgedAck.ackedThrough).toBe(3);
    expect(otherAck).toMatchObject({ stored: 1, ackedThrough: 1, rejected: [] });
    expect(backOffice.repository.recentRejected(50).some((row) => row.terminalId === 'TA' && row.sequence === 2)).toBe(true);
  });

  it('stores a replayed batch once', async () => {
    const batch = [own('TC', 1), own('TC', 2)];
    const first = await send('TC', 'c1', batch);
    const replay = await send('TC', 'c1', batch);

    expect(first.stored).toBe(2);
    expect(replay).toMatchObject({ stored: 0, duplicates: 2, ackedThrough: 2, rejected: [] });
  });

  it('rejects a record moved between terminals', async () => {
    const genuine = own('TA', 4);
    await send('TA', 'a2', [genuine]);

    const [movedAck, otherAck] = await Promise.all([send('TB', 'b2', [movedTo(genuine, 2), own('TB', 3)]), send('TC', 'c2', [own('TC', 3)])]);

    expect(movedAck.rejected).toEqual([{ sequence: 2, reason: expect.stringMatching(/PSAM terminal number 000000001001 belongs to terminal TA, not TB/) }]);
    expect(movedAck.ackedThrough).toBe(3);
    expect(otherAck).toMatchObject({ stored: 1, ackedThrough: 3 });
    expect(backOffice.repository.findTransaction('TA', 4)?.verification).toBe('verified');
    expect(backOffice.repository.findTransaction('TB', 2)).toBeUndefined();
    expect(backOffice.evidence?.psamBinding(PSAMS.TA!)?.terminalId).toBe('TA');
  });

  it('rejects a replay under a new sequence', async () => {
    const ack = await send('TC', 'c3', [movedTo(own('TC', 1), 4)]);

    expect(ack.rejected).toEqual([{ sequence: 4, reason: expect.stringMatching(/replayed card evidence: card 990000\*{10}\d{4} counter 1 was already accepted as terminal TC sequence 1/) }]);
    expect(ack.ackedThrough).toBe(4);
  });
});
