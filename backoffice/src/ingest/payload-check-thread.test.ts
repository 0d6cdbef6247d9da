import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { type TransactionAck, topics, transactionAckSchema } from '@busfare/shared-protocol';
import { build } from 'esbuild';
import { type MqttClient, connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackOffice, startBackOffice } from '../backoffice.js';
import { parseConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { LOCAL_ISSUER_PREFIX, OUT_OF_TOWN_ISSUER, TEST_KEY_ENTRIES, fakeBatch, fakeRecord, testKeyStore } from '../testing/fake-terminal.js';
import { PayloadChecker, type RejectedPayload } from './payload-check.js';
import { plainCheckedPayload } from '../testing/checked-payload.js';
import { CLAIM_KEYS_BYTES, claimKeyPair } from '../security/claim-keys.js';
import { columnsOf, recordColumns } from '../store/record-columns.js';
import { type PackedCheckedPayload, PayloadCheckWorker, bundledPayloadCheckScript, packCheckedPayload, packedBuffers, unpackCheckedPayload } from './payload-check-thread.js';
import { TacVerifier } from './tac-verifier.js';

const BUSINESS_DAY = { timezoneOffsetMinutes: 480, cutoff: '04:00' };
const TOPIC = topics.transactions('T1');

let directory: string;
let script: URL;

// The worker runs as built JavaScript, as in the tsup bundles, so the test builds it from the sources first.
beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-payload-check-'));
  const outfile = join(directory, 'payload-check-worker.js');
  await build({
    entryPoints: [fileURLToPath(new URL('./payload-check-worker.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    tsconfig: fileURLToPath(new URL('../../../tsconfig.base.json', import.meta.url)),
    logLevel: 'silent',
  });
  script = pathToFileURL(outfile);
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

function workerOf(): PayloadCheckWorker {
  return new PayloadCheckWorker(script, { keys: TEST_KEY_ENTRIES, localIssuerPrefixes: [LOCAL_ISSUER_PREFIX], businessDay: BUSINESS_DAY });
}

function mixedBatch(batchId: string): string {
  return fakeBatch('T1', batchId, [
    fakeRecord({ sequence: 1, terminalId: 'T1' }),
    fakeRecord({ sequence: 2, terminalId: 'T1', tac: '00000000' }),
    { sequence: 3, kind: 'purchase' },
    fakeRecord({ sequence: 4, terminalId: 'T1', issuerId: OUT_OF_TOWN_ISSUER }),
  ]);
}

describe('PayloadCheckWorker', () => {
  it('checks as the ingest thread does', async () => {
    const worker = workerOf();
    const inThread = new PayloadChecker({ verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }), businessDay: BUSINESS_DAY });
    try {
      const payload = mixedBatch('b1');
      const checked = await worker.check(TOPIC, payload);

      expect(plainCheckedPayload(checked)).toEqual(plainCheckedPayload(inThread.check(TOPIC, payload)));
      expect(checked.kind).toBe('checked-batch');
      if (checked.kind !== 'checked-batch') return;
      expect(checked.accepted.map((item) => [item.record.sequence, item.verification])).toEqual([
        [1, 'verified'],
        [4, 'queued-for-issuer'],
      ]);
      expect(checked.rejected.map((item) => item.sequence)).toEqual([2, 3]);
    } finally {
      await worker.close();
    }
  });

  it('decodes a payload sent as bytes', async () => {
    const worker = workerOf();
    const inThread = new PayloadChecker({ verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }), businessDay: BUSINESS_DAY });
    try {
      const payload = mixedBatch('b1');
      // A view into a larger buffer, as MQTT clients hand payloads over.
      const bytes = Buffer.from(`xx${payload}yy`).subarray(2, 2 + Buffer.byteLength(payload));
      const invalid = Buffer.from([0x7b, 0xff, 0xfe]);

      expect(plainCheckedPayload(await worker.check(TOPIC, bytes))).toEqual(plainCheckedPayload(inThread.check(TOPIC, payload)));
      expect(await worker.check(TOPIC, invalid)).toEqual(inThread.check(TOPIC, invalid.toString('utf8')));
    } finally {
      await worker.close();
    }
  });

  it('rejects invalid JSON as a payload', async () => {
    const worker = workerOf();
    try {
      const checked = await worker.check(TOPIC, '{"records": [');

      expect(checked.kind).toBe('payload-rejected');
      expect((checked as RejectedPayload).reason).toMatch(/^invalid JSON/);
    } finally {
      await worker.close();
    }
  });

  it('replies in request order', async () => {
    const worker = workerOf();
    try {
      const batchIds = Array.from({ length: 20 }, (_, index) => `b${index}`);
      const checked = await Promise.all(batchIds.map((batchId) => worker.check(TOPIC, mixedBatch(batchId))));

      expect(checked.map((item) => (item.kind === 'checked-batch' ? item.batchId : item.reason))).toEqual(batchIds);
    } finally {
      await worker.close();
    }
  });

  it('rejects checks after close', async () => {
    const worker = workerOf();
    const pending = expect(worker.check(TOPIC, mixedBatch('b1'))).rejects.toThrow(/closed/);
    await worker.close();

    await pending;
    await expect(worker.check(TOPIC, mixedBatch('b2'))).rejects.toThrow(/closed/);
    expect(worker.usable).toBe(false);
  });

  it('stops a worker that never replies', async () => {
    const silent = join(directory, 'silent-worker.mjs');
    writeFileSync(silent, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => {});\n");
    const worker = new PayloadCheckWorker(pathToFileURL(silent), { keys: [], localIssuerPrefixes: [], businessDay: BUSINESS_DAY }, 200);

    await expect(worker.check(TOPIC, mixedBatch('b1'))).rejects.toThrow(/timed out: no reply for 200 ms with 1 checks pending/);
    expect(worker.usable).toBe(false);
    await worker.close();
  });

  it('finds no built script beside the sources', () => {
    expect(bundledPayloadCheckScript()).toBeUndefined();
  });
});

describe('ingest with the payload-check worker', () => {
  let backOffice: BackOffice;
  let terminal: MqttClient;
  const acks: TransactionAck[] = [];

  beforeAll(async () => {
    const config = parseConfig({ db: join(directory, 'clearing.db'), mqtt: { port: 0, terminalCredentials: false }, http: { port: 0 }, localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] });
    backOffice = await startBackOffice(config, { logger: createLogger('test', 'silent'), keyStore: testKeyStore(), payloadCheckScript: script });
    terminal = await connectAsync(backOffice.brokerUrl, { protocolVersion: 4, clientId: 'fake-terminal', clean: true });
    terminal.on('message', (_topic, payload) => acks.push(transactionAckSchema.parse(JSON.parse(payload.toString('utf8')))));
    await terminal.subscribeAsync(topics.acks('+'), { qos: 1 });
  });

  afterAll(async () => {
    await terminal?.endAsync();
    await backOffice?.stop();
  });

  async function sendBatch(batchId: string, records: unknown[]): Promise<TransactionAck> {
    const seen = acks.length;
    await terminal.publishAsync(TOPIC, fakeBatch('T1', batchId, records), { qos: 1 });
    for (;;) {
      const ack = acks.slice(seen).find((item) => item.batchId === batchId);
      if (ack) return ack;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('stores and acknowledges checked batches', async () => {
    const records = Array.from({ length: 40 }, (_, index) => fakeRecord({ sequence: index + 1, terminalId: 'T1' }));
    const acksInOrder = await Promise.all([sendBatch('w1', records.slice(0, 20)), sendBatch('w2', records.slice(20))]);

    expect(acksInOrder.map((ack) => ack.stored)).toEqual([20, 20]);
    expect(acksInOrder[1]!.ackedThrough).toBe(40);
    expect(backOffice.summary().recordsCleared).toBe(40);
  });

  it('rejects a forged TAC checked in the worker', async () => {
    const ack = await sendBatch('w3', [fakeRecord({ sequence: 41, terminalId: 'T1', tac: '00000000' })]);

    expect(ack.stored).toBe(0);
    expect(ack.rejected[0]?.reason).toMatch(/TAC does not match/);
    expect(ack.ackedThrough).toBe(41);
  });

  it('rejects a resolution of a purchase', async () => {
    const ack = await sendBatch('w4', [fakeRecord({ sequence: 42, terminalId: 'T1', kind: 'resolution', resolvesSequence: 40, outcome: 'debited' })]);

    expect(ack.rejected[0]?.reason).toMatch(/settles sequence 40, which is a purchase record/);
  });
});

describe('ingest with a failing payload-check worker', () => {
  it('checks payloads in the ingest thread instead', async () => {
    const broken = join(directory, 'broken-worker.js');
    writeFileSync(broken, "throw new Error('worker start-up failed');\n");
    const config = parseConfig({ db: join(directory, 'broken.db'), mqtt: { port: 0, terminalCredentials: false }, http: { port: 0 }, localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] });
    const backOffice = await startBackOffice(config, { logger: createLogger('test', 'silent'), keyStore: testKeyStore(), payloadCheckScript: pathToFileURL(broken) });
    const terminal = await connectAsync(backOffice.brokerUrl, { protocolVersion: 4, clientId: 'fake-terminal-2', clean: true });
    try {
      const acked = new Promise<TransactionAck>((resolve) => terminal.on('message', (_topic, payload) => resolve(transactionAckSchema.parse(JSON.parse(payload.toString('utf8'))))));
      await terminal.subscribeAsync(topics.acks('T1'), { qos: 1 });
      await terminal.publishAsync(TOPIC, fakeBatch('T1', 'f1', [fakeRecord({ sequence: 1, terminalId: 'T1' })]), { qos: 1 });
      const ack = await acked;

      expect(ack.stored).toBe(1);
      expect(ack.ackedThrough).toBe(1);
    } finally {
      await terminal.endAsync();
      await backOffice.stop();
    }
  });
});

describe('packCheckedPayload and unpackCheckedPayload', () => {
  const checker = () => new PayloadChecker({ verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }), businessDay: BUSINESS_DAY });

  function packedBatch(): Extract<PackedCheckedPayload, { kind: 'checked-batch' }> {
    const packed = packCheckedPayload(checker().check(TOPIC, mixedBatch('b1')));
    if (packed.kind !== 'checked-batch') throw new Error('expected a checked batch');
    return packed;
  }

  it('round-trips accepted records, columns and texts', () => {
    const checked = checker().check(TOPIC, mixedBatch('b1'));
    const unpacked = unpackCheckedPayload(packCheckedPayload(checked));
    expect(plainCheckedPayload(unpacked)).toEqual(plainCheckedPayload(checked));
    if (unpacked.kind !== 'checked-batch' || checked.kind !== 'checked-batch') throw new Error('expected checked batches');
    expect(unpacked.accepted.map((item) => item.raw)).toStrictEqual(checked.accepted.map((item) => item.raw));
    expect(unpacked.accepted).toHaveLength(2);
  });

  it('passes rejected payloads through', () => {
    const rejected = checker().check(TOPIC, 'not json');
    if (rejected.kind !== 'payload-rejected') throw new Error('expected a rejected payload');
    expect(packCheckedPayload(rejected)).toBe(rejected);
    expect(unpackCheckedPayload(rejected)).toBe(rejected);
  });

  it('unpacks a batch without accepted records', () => {
    const checked = checker().check(TOPIC, fakeBatch('T1', 'b2', [{ sequence: 3, kind: 'purchase' }]));
    const unpacked = unpackCheckedPayload(packCheckedPayload(checked));
    expect(unpacked.kind).toBe('checked-batch');
    expect(unpacked.kind === 'checked-batch' ? unpacked.accepted : undefined).toEqual([]);
  });

  it('gives each record columns that match its text', () => {
    const unpacked = unpackCheckedPayload(packedBatch());
    if (unpacked.kind !== 'checked-batch') throw new Error('expected a checked batch');
    for (const item of unpacked.accepted) {
      const { claimKeys, ...columns } = columnsOf(item);
      expect(columns).toEqual(recordColumns(JSON.parse(item.raw)));
      expect(claimKeys).toBeInstanceOf(Buffer);
    }
  });

  it('packs the claim keys the ledger would pack', () => {
    const unpacked = unpackCheckedPayload(packedBatch());
    if (unpacked.kind !== 'checked-batch') throw new Error('expected a checked batch');
    for (const item of unpacked.accepted) {
      const { claimKeys, ...columns } = columnsOf(item);
      expect(claimKeyPair(columnsOf(item))).toEqual(claimKeyPair(columns));
      expect(claimKeys).toHaveLength(CLAIM_KEYS_BYTES);
    }
  });

  it('leaves keys that cannot be packed to the storing thread', () => {
    const checked = checker().check(TOPIC, mixedBatch('b1'));
    if (checked.kind !== 'checked-batch') throw new Error('expected a checked batch');
    checked.accepted[0]!.columns = { ...columnsOf(checked.accepted[0]!), psamTerminalNumber: 'not hex' };
    const unpacked = unpackCheckedPayload(packCheckedPayload(checked));
    if (unpacked.kind !== 'checked-batch') throw new Error('expected a checked batch');

    expect(columnsOf(unpacked.accepted[0]!).claimKeys).toBeUndefined();
    expect(() => claimKeyPair(columnsOf(unpacked.accepted[0]!))).toThrow(/invalid PSAM terminal number "not hex"/);
  });

  it('rejects a batch whose columns do not match its texts', () => {
    const packed = packedBatch();
    packed.accepted.columns.pop();
    expect(() => unpackCheckedPayload(packed)).toThrow(/invalid packed batch: 2 text ends, \d+ text bytes, 2 verifications, 2 business days, 33 column values/);
  });

  it('rejects a batch without claim keys', () => {
    const packed = packedBatch();
    const { claimKeys: _claimKeys, hasClaimKeys: _hasClaimKeys, ...older } = packed.accepted;
    expect(() => unpackCheckedPayload({ ...packed, accepted: older as typeof packed.accepted })).toThrow(/invalid packed batch: .* no claim flags and no claim key bytes/);
  });

  it('rejects a batch with a text more than its verifications', () => {
    const packed = packedBatch();
    const ends = packed.accepted.rawEnds;
    packed.accepted.rawEnds = Uint32Array.of(...ends, ends.at(-1)!);
    expect(() => unpackCheckedPayload(packed)).toThrow(/invalid packed batch: 3 text ends, \d+ text bytes, 2 verifications/);
  });

  it('rejects text bytes short of the ends', () => {
    const packed = packedBatch();
    const last = packed.accepted.rawEnds.at(-1)!;
    packed.accepted.rawText = packed.accepted.rawText.subarray(0, last - 1);
    expect(() => unpackCheckedPayload(packed)).toThrow(new RegExp(`invalid packed batch: 2 text ends, ${last - 1} text bytes`));
  });

  it('rejects text ends out of order', () => {
    const packed = packedBatch();
    const [first, second] = packed.accepted.rawEnds;
    packed.accepted.rawEnds = Uint32Array.of(second!, second!);
    packed.accepted.rawText = packed.accepted.rawText.subarray(0, second);
    expect(unpackCheckedPayload({ ...packed, accepted: { ...packed.accepted } }).kind).toBe('checked-batch');
    packed.accepted.rawEnds = Uint32Array.of(second!, first!);
    packed.accepted.rawText = packed.accepted.rawText.subarray(0, first);
    expect(() => unpackCheckedPayload(packed)).toThrow(/invalid packed batch: 2 text ends/);
  });

  it('rejects texts sent as strings', () => {
    const packed = packedBatch();
    const { rawText: _rawText, rawEnds: _rawEnds, ...rest } = packed.accepted;
    const older = { ...rest, raws: ['{}', '{}'] };
    expect(() => unpackCheckedPayload({ ...packed, accepted: older as unknown as typeof packed.accepted })).toThrow(/invalid packed batch: no text ends, no text bytes/);
  });

  it('splits multi-byte texts correctly', () => {
    const checked = checker().check(
      TOPIC,
      fakeBatch(
        'T1',
        'b1',
        ['游1路', '2', '夜班𠀀3'].map((route, index) => {
          const record = fakeRecord({ sequence: index + 1, terminalId: 'T1' });
          return { ...record, trip: { ...record.trip, route } };
        }),
      ),
    );
    if (checked.kind !== 'checked-batch') throw new Error('expected a checked batch');
    const packed = packCheckedPayload(checked);
    if (packed.kind !== 'checked-batch') throw new Error('expected a checked batch');
    expect(packed.accepted.rawText.length).toBe(Buffer.byteLength(checked.accepted.map((item) => item.raw).join('')));
    const unpacked = unpackCheckedPayload(packed);
    if (unpacked.kind !== 'checked-batch') throw new Error('expected a checked batch');
    expect(unpacked.accepted.map((item) => item.raw)).toStrictEqual(checked.accepted.map((item) => item.raw));
    expect(unpacked.accepted.map((item) => item.rawBytes?.toString('utf8'))).toStrictEqual(checked.accepted.map((item) => item.raw));
    expect(unpacked.accepted.map((item) => item.record.trip.route)).toStrictEqual(['游1路', '2', '夜班𠀀3']);
  });

  it('transfers packed buffers without copying', async () => {
    const packed = packedBatch();
    const buffers = packedBuffers(packed);
    expect(new Set(buffers).size).toBe(3);
    const channel = new MessageChannel();
    const received = new Promise<PackedCheckedPayload>((resolve) => channel.port2.once('message', resolve));
    channel.port1.postMessage(packed, buffers);
    const arrived = await received;
    channel.port1.close();
    // A transferred ArrayBuffer is detached where it was sent from.
    expect(buffers.every((buffer) => buffer.byteLength === 0)).toBe(true);
    const unpacked = unpackCheckedPayload(arrived);
    if (unpacked.kind !== 'checked-batch') throw new Error('expected a checked batch');
    expect(unpacked.accepted.map((item) => item.record.sequence)).toStrictEqual([1, 4]);
  });

  it('transfers nothing for a rejected payload', () => {
    const rejected = packCheckedPayload(checker().check(TOPIC, 'not json'));
    expect(packedBuffers(rejected)).toStrictEqual([]);
  });
});
