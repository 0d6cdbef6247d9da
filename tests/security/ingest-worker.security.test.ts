import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { type MqttClient, connectAsync } from 'mqtt';
import { type TransactionAck, type TransactionRecord, parseCommonRecord, topics, transactionRecordSchema } from '@busfare/shared-protocol';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../backoffice/src/broker/embedded-broker.js';
import { IngestService } from '../../backoffice/src/ingest/ingest-service.js';
import { PayloadChecker } from '../../backoffice/src/ingest/payload-check.js';
import { PayloadCheckWorker } from '../../backoffice/src/ingest/payload-check-thread.js';
import { createLogger } from '../../backoffice/src/logger.js';
import { TacVerifier } from '../../backoffice/src/ingest/tac-verifier.js';
import { type GroupedIngestResult, TransactionIngestor } from '../../backoffice/src/ingest/transaction-ingest.js';
import { EvidenceLedger } from '../../backoffice/src/security/evidence-ledger.js';
import { SqliteClearingRepository } from '../../backoffice/src/store/sqlite-clearing-repository.js';
import { LOCAL_ISSUER_PREFIX, OUT_OF_TOWN_ISSUER, TEST_KEY_ENTRIES, fakeBatch, fakeRecord, testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';
import { plainCheckedPayload } from '../../backoffice/src/testing/checked-payload.js';
import { ManualClock } from '../../terminal/src/ports/clock.js';
import { createLogger as createTerminalLogger } from '../../terminal/src/logger.js';
import { SqliteTransactionStore, WAL_RESERVE_BYTES } from '../../terminal/src/store/sqlite-transaction-store.js';
import { TRANSACTION_MIGRATIONS } from '../../terminal/src/store/sqlite-schema.js';
import { sampleCompletion, samplePurchase } from '../../terminal/src/store/transaction-fixtures.js';
import { BatchWindow } from '../../terminal/src/uplink/batch-window.js';
import { LogLimiter } from '../../terminal/src/uplink/log-limiter.js';
import { batchPayload, movedTo, randomSource, recordWithEvidence } from './security-records.js';

/** Fails writeSync with ENOSPC once `writeBudget` bytes were written, as a nearly full disk does. */
const diskFull = vi.hoisted(() => ({ writeBudget: Number.POSITIVE_INFINITY }));
vi.mock('node:fs', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((descriptor: number, buffer: NodeJS.ArrayBufferView, offset?: number, length?: number, position?: number | null) => {
    const bytes = length ?? buffer.byteLength;
    if (bytes > diskFull.writeBudget) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    diskFull.writeBudget -= bytes;
    return original.writeSync(descriptor, buffer, offset, length, position);
  }) as typeof original.writeSync;
  return { ...original, default: { ...original, writeSync }, writeSync };
});

const BUSINESS_DAY = { timezoneOffsetMinutes: 480, cutoff: '04:00' };

const ODD_VALUES: unknown[] = [
  -0, 0, 1, -1, 0.5, 1.5, 6, 9, 255, 256, 0xffff, 0x10000, 0xffffffff, 0x100000000, 100_000_000, 100_000_001,
  Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 53 + 2, 1e21, -90, 90, 90.0000001, -180.5, 180, 1e-300, Number.MIN_VALUE,
  '', ' ', 'x'.repeat(32), 'x'.repeat(33), 'x'.repeat(64), 'x'.repeat(65), '\u{1F68C}'.repeat(16), '\u{1F68C}'.repeat(17), 'é'.repeat(32),
  '\u0000', '12', '6', 'true', 'purchase', 'lock', 'debited', 'not-debited', 'tunion', 'mohurd', 'm1', 'card', 'phone',
  '0123456789ABCDEF', '0123456789abcdef', '0123456789ABCDE', '0123456789ABCDEF0', '01234567', '0123456G', '000000001001', '00000000100a',
  '20260101120000', '2026010112000', '２０２６０１０１１２００００', '20260101120000\n',
  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00+08:00', '2026-01-01T00:00:00', '2026-02-30T00:00:00Z', '2026-01-01T24:00:00Z',
  '2026-01-01T00:00:00.123456789Z', '2026-01-01T00:00:00+0800', '2026-01-01 00:00:00Z', '2026-01-01T00:00:00z', '+02026-01-01T00:00:00Z',
  '2026-01-01T00:00:00Z\n', '2026-01-01T00:00:60Z', '2026-01-01T00:00:00+24:00',
  null, true, false, [], [1], {}, { nested: { deeper: [] } },
];

const FIELD_PATHS: string[][] = [
  ['sequence'], ['kind'], ['occurredAt'], ['resolvesSequence'], ['outcome'], ['card'], ['debit'], ['trip'],
  ['card', 'application'], ['card', 'medium'], ['card', 'asn'], ['card', 'issuerId'], ['card', 'cardType'],
  ['debit', 'transactionType'], ['debit', 'amountFen'], ['debit', 'listFareFen'], ['debit', 'balanceBeforeFen'], ['debit', 'balanceAfterFen'],
  ['debit', 'cardCounter'], ['debit', 'cardRandom'], ['debit', 'keyVersion'], ['debit', 'algorithmId'], ['debit', 'psamTerminalNumber'],
  ['debit', 'terminalSerial'], ['debit', 'cardDateTime'], ['debit', 'tac'], ['debit', 'mac2Verified'], ['debit', 'm1'],
  ['trip', 'vehicleId'], ['trip', 'route'], ['trip', 'direction'], ['trip', 'stopId'], ['trip', 'driverId'], ['trip', 'lat'], ['trip', 'lon'],
  ['__proto__'], ['constructor'], ['toString'], ['card', '__proto__'], ['debit', 'constructor'], ['trip', 'hasOwnProperty'], ['extra'],
];

function baseRecords(): Record<string, unknown>[] {
  const purchase = fakeRecord({ sequence: 7, terminalId: 'T1' });
  const inDoubt = fakeRecord({ sequence: 8, terminalId: 'T1', kind: 'in-doubt' });
  const resolution = fakeRecord({ sequence: 9, terminalId: 'T1', kind: 'resolution', resolvesSequence: 8, outcome: 'debited' });
  const notDebited = fakeRecord({ sequence: 10, terminalId: 'T1', kind: 'resolution', resolvesSequence: 8, outcome: 'not-debited' });
  const full = structuredClone(purchase) as TransactionRecord;
  full.trip = { vehicleId: 'V1', route: '12', direction: 1, stopId: 'S1', driverId: 'D1', lat: 22.5, lon: 114.05 };
  full.debit.balanceAfterFen = 100;
  full.debit.mac2Verified = true;
  return [purchase, inDoubt, resolution, notDebited, full].map((record) => JSON.parse(JSON.stringify(record)) as Record<string, unknown>);
}

/** Sets (or deletes) the value at `path` as own data properties, the way JSON.parse builds them. */
function mutate(record: Record<string, unknown>, path: string[], value: unknown, remove: boolean): void {
  let target: Record<string, unknown> = record;
  for (const key of path.slice(0, -1)) {
    const next = Object.prototype.hasOwnProperty.call(target, key) ? target[key] : undefined;
    if (typeof next !== 'object' || next === null) return;
    target = next as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (remove) delete target[last];
  else Object.defineProperty(target, last, { value: structuredClone(value), enumerable: true, writable: true, configurable: true });
}

/** Returns the disagreement between the fast parser and zod on a record the fast parser accepts. */
function compare(input: unknown): { fastAccepted: boolean; problem?: string } {
  const fast = parseCommonRecord(input);
  if (fast === undefined) return { fastAccepted: false };
  const zod = transactionRecordSchema.safeParse(input);
  if (!zod.success) return { fastAccepted: true, problem: `zod rejects what the fast parser accepts: ${JSON.stringify(input)}` };
  const sameText = JSON.stringify(fast) === JSON.stringify(zod.data);
  const sameShape = sameValue(fast, zod.data);
  if (!sameText || !sameShape) return { fastAccepted: true, problem: `outputs differ for ${JSON.stringify(input)}: ${JSON.stringify(fast)} vs ${JSON.stringify(zod.data)}` };
  return { fastAccepted: true };
}

/** Compares deeply, with -0 unequal to 0 and key order significant. */
function sameValue(left: unknown, right: unknown): boolean {
  if (typeof left !== 'object' || left === null || typeof right !== 'object' || right === null) return Object.is(left, right);
  const leftKeys = Object.keys(left);
  const rightKeys = Object.keys(right);
  if (leftKeys.join('\u0000') !== rightKeys.join('\u0000')) return false;
  return leftKeys.every((key) => sameValue((left as Record<string, unknown>)[key], (right as Record<string, unknown>)[key]));
}

describe('fast record parser against the zod schema', () => {
  it('matches zod on random mutations', () => {
    const random = randomSource(20261205);
    const problems: string[] = [];
    let accepted = 0;
    const bases = baseRecords();
    for (let round = 0; round < 30_000; round += 1) {
      const record = structuredClone(bases[Math.floor(random() * bases.length)]!);
      const mutations = 1 + Math.floor(random() * 3);
      for (let index = 0; index < mutations; index += 1) {
        const path = FIELD_PATHS[Math.floor(random() * FIELD_PATHS.length)]!;
        mutate(record, path, ODD_VALUES[Math.floor(random() * ODD_VALUES.length)], random() < 0.15);
      }
      const result = compare(record);
      if (result.fastAccepted) accepted += 1;
      if (result.problem && problems.length < 5) problems.push(result.problem);
    }

    expect(problems).toEqual([]);
    // The mutations must still leave many records on the fast path, or the test proves little.
    expect(accepted).toBeGreaterThan(1_000);
  });

  it('matches zod on valid records and -0', () => {
    for (const base of baseRecords()) {
      expect(compare(base).problem).toBeUndefined();
      expect(parseCommonRecord(base)).toBeDefined();
      const text = JSON.stringify(base).replace('"cardCounter":7', '"cardCounter":-0').replace('"keyVersion":', '"keyVersion":-0,"keyVersion":');
      expect(compare(JSON.parse(text)).problem).toBeUndefined();
    }
  });

  it('ignores __proto__ and constructor keys', () => {
    const [purchase] = baseRecords();
    const text = JSON.stringify(purchase).replace(/^\{/, '{"__proto__":{"kind":"lock","polluted":true},"constructor":{"prototype":{"x":1}},');
    const input = JSON.parse(text) as Record<string, unknown>;

    expect(compare(input).problem).toBeUndefined();
    const parsed = parseCommonRecord(input);
    expect(parsed).toBeDefined();
    expect(Object.keys(parsed!)).not.toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('leaves a missing card to zod', () => {
    const [purchase] = baseRecords();
    const withoutCard = JSON.parse(JSON.stringify(purchase).replace(/"card":\{[^}]*\},/, '"__proto__":{"card":{}},')) as Record<string, unknown>;

    expect(parseCommonRecord(withoutCard)).toBeUndefined();
    expect(transactionRecordSchema.safeParse(withoutCard).success).toBe(false);
  });
});

const PSAM_A = '000000001001';
const PSAM_B = '000000001002';
const TOPIC_A = topics.transactions('TA');
const TOPIC_B = topics.transactions('TB');

type Message = { topic: string; payload: string };

interface Harness {
  repository: SqliteClearingRepository;
  ledger: EvidenceLedger;
  ingestor: TransactionIngestor;
}

let workDirectory: string;
let harnessCount = 0;

function openHarness(recordByRecord: boolean): Harness {
  harnessCount += 1;
  const repository = new SqliteClearingRepository({ path: join(workDirectory, `clearing-${harnessCount}.db`), now: () => new Date('2026-12-05T00:00:00Z') });
  const ledger = new EvidenceLedger(repository.database, () => new Date('2026-12-05T00:00:00Z'));
  // The record-by-record path is the reference: with the multi-row inserts switched off, screen() decides every record alone.
  if (recordByRecord) (ledger as unknown as { claimAllFresh: () => boolean }).claimAllFresh = () => false;
  const ingestor = new TransactionIngestor({
    repository,
    verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
    businessDay: BUSINESS_DAY,
    evidence: ledger,
  });
  return { repository, ledger, ingestor };
}

function summarise(results: GroupedIngestResult[]): unknown[] {
  return results.map((result) => {
    if ('error' in result) return { error: String(result.error) };
    if (result.outcome.kind === 'payload-rejected') return { payloadRejected: result.outcome.reason };
    const { ack, stored } = result.outcome;
    return { ack, stored: stored.map((item) => item.record.sequence) };
  });
}

function dump(repository: SqliteClearingRepository): unknown {
  const db = repository.database;
  return {
    claims: db.prepare("SELECT hex(claim_key) AS key, terminal_id AS terminalId, sequence FROM card_claims ORDER BY key").all(),
    bindings: db.prepare('SELECT psam_terminal_number AS psam, terminal_id AS terminalId, source FROM psam_bindings ORDER BY psam').all(),
    transactions: db.prepare('SELECT terminal_id AS terminalId, sequence, kind FROM transactions ORDER BY terminal_id, sequence').all(),
    rejected: db.prepare('SELECT terminal_id AS terminalId, sequence, reason FROM rejected ORDER BY id').all(),
  };
}

/** Runs the same groups through the multi-row path and the record-by-record path and returns both. */
function runBoth(groups: Message[][], prepare?: (harness: Harness) => void): { fast: { results: unknown[]; state: unknown }; reference: { results: unknown[]; state: unknown } } {
  const run = (recordByRecord: boolean) => {
    const harness = openHarness(recordByRecord);
    try {
      prepare?.(harness);
      const results = groups.flatMap((group) => summarise(harness.ingestor.ingestMany(group)));
      return { results, state: dump(harness.repository) };
    } finally {
      harness.repository.close();
    }
  };
  return { fast: run(false), reference: run(true) };
}

function own(sequence: number, psam = PSAM_A, extra: Partial<Parameters<typeof recordWithEvidence>[0]> = {}): TransactionRecord {
  return recordWithEvidence({ sequence, psam, ...extra });
}

function claimCount(repository: SqliteClearingRepository): number {
  return (repository.database.prepare('SELECT count(*) AS n FROM card_claims').get() as { n: number }).n;
}

describe('evidence claims: multi-row inserts against record by record', () => {
  beforeEach(() => {
    workDirectory = mkdtempSync(join(tmpdir(), 'busfare-ingest-worker-security-'));
  });
  afterEach(() => {
    rmSync(workDirectory, { recursive: true, force: true });
  });

  it('rejects a counter claimed twice in a batch', () => {
    const first = own(1, PSAM_A, { asn: '9900000100000001', cardCounter: 40 });
    const copy = own(2, PSAM_A, { asn: '9900000100000001', cardCounter: 40 });
    const { fast, reference } = runBoth([[{ topic: TOPIC_A, payload: batchPayload('TA', 'a1', [first, copy, own(3)]) }]]);

    expect(fast).toEqual(reference);
    const ack = (fast.results[0] as { ack: TransactionAck }).ack;
    expect(ack.stored).toBe(2);
    expect(ack.rejected).toEqual([{ sequence: 2, reason: expect.stringMatching(/replayed card evidence/) }]);
  });

  it('rejects copies within one grouped commit', () => {
    const records = Array.from({ length: 3 }, (_, index) => own(index + 1));
    const group: Message[] = [
      { topic: TOPIC_A, payload: batchPayload('TA', 'a1', records) },
      { topic: TOPIC_A, payload: batchPayload('TA', 'a2', [own(4), movedTo(records[1]!, 5)]) },
      { topic: TOPIC_B, payload: batchPayload('TB', 'b1', [movedTo(records[2]!, 1), own(2, PSAM_B)]) },
    ];
    const { fast, reference } = runBoth([group]);

    expect(fast).toEqual(reference);
    const acks = fast.results.map((result) => (result as { ack: TransactionAck }).ack);
    expect(acks.map((ack) => ack.stored)).toEqual([3, 1, 1]);
    expect(acks[1]!.rejected.map((item) => item.sequence)).toEqual([5]);
    expect(acks[2]!.rejected).toEqual([{ sequence: 1, reason: expect.stringMatching(/PSAM terminal number 000000001001 belongs to terminal TA/) }]);
  });

  it('keeps resent batches idempotent', () => {
    const records = Array.from({ length: 70 }, (_, index) => own(index + 1));
    const { fast, reference } = runBoth([
      [{ topic: TOPIC_A, payload: batchPayload('TA', 'a1', records) }],
      [{ topic: TOPIC_A, payload: batchPayload('TA', 'a1', records) }, { topic: TOPIC_A, payload: batchPayload('TA', 'a2', [...records.slice(60), own(71)]) }],
    ]);

    expect(fast).toEqual(reference);
    const acks = fast.results.map((result) => (result as { ack: TransactionAck }).ack);
    expect(acks.map((ack) => [ack.stored, ack.duplicates, ack.rejected.length, ack.ackedThrough])).toEqual([
      [70, 0, 0, 70],
      [0, 70, 0, 70],
      [1, 10, 0, 71],
    ]);
  });

  it('rejects collisions in a 150-record batch', () => {
    const stored = own(1, PSAM_A, { asn: '9900000100000077', cardCounter: 9 });
    const batch = Array.from({ length: 150 }, (_, index) => own(index + 2));
    batch[30] = own(32, PSAM_A, { asn: '9900000100000077', cardCounter: 9 });
    batch[140] = movedTo(stored, 142);
    const { fast, reference } = runBoth([[{ topic: TOPIC_A, payload: batchPayload('TA', 'a1', [stored]) }], [{ topic: TOPIC_A, payload: batchPayload('TA', 'a2', batch) }]]);

    expect(fast).toEqual(reference);
    const ack = (fast.results[1] as { ack: TransactionAck }).ack;
    expect(ack.stored).toBe(148);
    expect(ack.rejected.map((item) => item.sequence)).toEqual([32, 142]);
  });

  it('rejects a PSAM bound elsewhere', () => {
    const { fast, reference } = runBoth([[{ topic: TOPIC_B, payload: batchPayload('TB', 'b1', [own(1, PSAM_B), own(2, PSAM_A)]) }]], (harness) => harness.ledger.bindPsam(PSAM_A, 'TA'));

    expect(fast).toEqual(reference);
    const ack = (fast.results[0] as { ack: TransactionAck }).ack;
    expect(ack.stored).toBe(1);
    expect(ack.rejected.map((item) => item.sequence)).toEqual([2]);
  });

  it('rolls back claims of a failed payload', () => {
    const harness = openHarness(false);
    try {
      const original = harness.repository.writeBatch.bind(harness.repository);
      // The group runs once without savepoints and, after the error, again payload by payload, so
      // the write fails for as long as the first group is being stored.
      let failing = true;
      harness.repository.writeBatch = (terminalId, accepted, rejected, locks) => {
        if (terminalId === 'TB' && failing) throw new Error('disk went away while writing');
        return original(terminalId, accepted, rejected, locks);
      };
      const results = harness.ingestor.ingestMany([
        { topic: TOPIC_A, payload: batchPayload('TA', 'a1', [own(1), own(2)]) },
        { topic: TOPIC_B, payload: batchPayload('TB', 'b1', [own(1, PSAM_B), own(2, PSAM_B)]) },
        { topic: TOPIC_A, payload: batchPayload('TA', 'a2', [own(3)]) },
      ]);
      failing = false;

      expect(results.map((result) => ('error' in result ? 'error' : result.outcome.kind))).toEqual(['batch', 'error', 'batch']);
      expect(claimCount(harness.repository)).toBe(6);
      expect(harness.ledger.psamBinding(PSAM_B)).toBeUndefined();

      const resent = harness.ingestor.ingestMany([{ topic: TOPIC_B, payload: batchPayload('TB', 'b1', [own(1, PSAM_B), own(2, PSAM_B)]) }]);
      expect(resent.map((result) => ('outcome' in result && result.outcome.kind === 'batch' ? result.outcome.ack.stored : -1))).toEqual([2]);
      expect(claimCount(harness.repository)).toBe(10);
    } finally {
      harness.repository.close();
    }
  });

  it('stores a group after a passing error', () => {
    const harness = openHarness(false);
    try {
      const original = harness.repository.writeBatch.bind(harness.repository);
      let failures = 1;
      harness.repository.writeBatch = (terminalId, accepted, rejected, locks) => {
        if (terminalId === 'TB' && failures > 0) {
          failures -= 1;
          throw new Error('database busy for a moment');
        }
        return original(terminalId, accepted, rejected, locks);
      };
      const results = harness.ingestor.ingestMany([
        { topic: TOPIC_A, payload: batchPayload('TA', 'a1', [own(1), own(2)]) },
        { topic: TOPIC_B, payload: batchPayload('TB', 'b1', [own(1, PSAM_B), own(2, PSAM_B)]) },
      ]);

      // The first run of the group failed and left nothing. The second, payload by payload, stored both.
      expect(results.map((result) => ('outcome' in result && result.outcome.kind === 'batch' ? result.outcome.ack.stored : -1))).toEqual([2, 2]);
      expect(claimCount(harness.repository)).toBe(8);
      expect(harness.repository.progress('TA').contiguousThrough).toBe(2);
      expect(harness.repository.progress('TB').contiguousThrough).toBe(2);
    } finally {
      harness.repository.close();
    }
  });

  it('stores a record repeated in a batch once', () => {
    const record = own(1);
    const { fast, reference } = runBoth([[{ topic: TOPIC_A, payload: batchPayload('TA', 'a1', [record, own(2), record]) }]]);

    expect(fast).toEqual(reference);
    const ack = (fast.results[0] as { ack: TransactionAck }).ack;
    expect(ack.stored).toBe(2);
    expect(ack.rejected).toEqual([]);
  });

  it('accepts a resend after the PSAM was rebound', () => {
    const records = [own(1), own(2)];
    const { fast, reference } = runBoth(
      [[{ topic: TOPIC_A, payload: batchPayload('TA', 'a1', records) }], [{ topic: TOPIC_A, payload: batchPayload('TA', 'a1', [...records, own(3)]) }]],
      (harness) => {
        // The rebinding lands between the two commits.
        const ingestMany = harness.ingestor.ingestMany.bind(harness.ingestor);
        let calls = 0;
        harness.ingestor.ingestMany = (messages) => {
          calls += 1;
          if (calls === 2) harness.ledger.bindPsam(PSAM_A, 'TB');
          return ingestMany(messages);
        };
      },
    );

    expect(fast).toEqual(reference);
    const ack = (fast.results[1] as { ack: TransactionAck }).ack;
    expect(ack.duplicates).toBe(2);
    expect(ack.rejected.map((item) => item.sequence)).toEqual([3]);
  });

  it('ingests fuzzed batches without errors', () => {
    const random = randomSource(99);
    const bases: Record<string, unknown>[] = [...baseRecords(), ...baseRecords().map((record) => ({ ...record, card: { ...(record.card as object), issuerId: OUT_OF_TOWN_ISSUER } }))];
    const harness = openHarness(false);
    try {
      const errors: string[] = [];
      for (let group = 0; group < 20; group += 1) {
        const messages = Array.from({ length: 8 }, (_, batch) => {
          const records = Array.from({ length: 25 }, () => {
            const record = structuredClone(bases[Math.floor(random() * bases.length)]!);
            record.sequence = 1 + Math.floor(random() * 400);
            // Each record its own card, so evidence claims reject only what the mutations copy.
            (record.card as { asn: string }).asn = `9900${String(Math.floor(random() * 1e12)).padStart(12, '0')}`;
            if (random() < 0.7) mutate(record, FIELD_PATHS[Math.floor(random() * FIELD_PATHS.length)]!, ODD_VALUES[Math.floor(random() * ODD_VALUES.length)], random() < 0.15);
            return record;
          });
          return { topic: TOPIC_A, payload: batchPayload('TA', `g${group}-${batch}`, records) };
        });
        for (const result of harness.ingestor.ingestMany(messages)) if ('error' in result) errors.push(String(result.error));
      }

      expect(errors).toEqual([]);
      // Enough records pass validation to reach the evidence claims and the writes.
      expect((harness.repository.database.prepare('SELECT count(*) AS n FROM transactions').get() as { n: number }).n).toBeGreaterThan(100);
      expect(claimCount(harness.repository)).toBeGreaterThan(100);
    } finally {
      harness.repository.close();
    }
  });

  it('releases claims of a rejected record', () => {
    const { fast, reference } = runBoth([
      [{ topic: TOPIC_A, payload: batchPayload('TA', 'a1', [own(1, PSAM_A, { asn: '9900000100000055', cardCounter: 3 })]) }],
      // Sequence 3 repeats the card counter of sequence 1 but carries a TAC key of its own, which must not stay claimed.
      [{ topic: TOPIC_A, payload: batchPayload('TA', 'a2', [own(2), own(3, PSAM_A, { asn: '9900000100000055', cardCounter: 3 }), own(4)]) }],
    ]);

    expect(fast).toEqual(reference);
    const claims = (fast.state as { claims: { sequence: number }[] }).claims;
    expect(claims.filter((claim) => claim.sequence === 3)).toEqual([]);
    expect(claims).toHaveLength(6);
  });
});

describe('payload checks of a batch nested too deeply to serialise', () => {
  it('rejects only the deeply nested record', () => {
    const checker = new PayloadChecker({ verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }), businessDay: BUSINESS_DAY });
    const payload = fakeBatch('T1', 'deep', [fakeRecord({ sequence: 1, terminalId: 'T1' }), { sequence: 2, kind: 'purchase', x: 0 }]).replace('"x":0', `"x":${'['.repeat(20_000)}${']'.repeat(20_000)}`);

    const checked = checker.check(topics.transactions('T1'), payload);

    expect(checked.kind).toBe('checked-batch');
    if (checked.kind !== 'checked-batch') return;
    expect(checked.accepted.map((item) => item.record.sequence)).toEqual([1]);
    expect(checked.rejected.map((item) => item.sequence)).toEqual([2]);
    expect(checked.rejected[0]!.payload.length).toBeLessThan(200);
  });
});

describe('ingest over a broker while the payload-check worker fails', () => {
  let directory: string;
  let script: URL;
  let broker: EmbeddedBroker;
  let repository: SqliteClearingRepository;
  let service: IngestService;
  let worker: PayloadCheckWorker;
  let terminal: MqttClient;
  const acks: TransactionAck[] = [];
  const TOPIC = topics.transactions('T1');

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'busfare-ingest-worker-broker-'));
    const outfile = join(directory, 'payload-check-worker.js');
    await build({
      entryPoints: [fileURLToPath(new URL('../../backoffice/src/ingest/payload-check-worker.ts', import.meta.url))],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      tsconfig: fileURLToPath(new URL('../../tsconfig.base.json', import.meta.url)),
      logLevel: 'silent',
    });
    // A worker that dies the moment it is sent the batch with id "die", before it replies to it.
    const dying = join(directory, 'dying-worker.js');
    writeFileSync(
      dying,
      [
        "import { parentPort } from 'node:worker_threads';",
        'const handlers = [];',
        'const early = [];',
        'const on = parentPort.on.bind(parentPort);',
        "parentPort.on = (event, handler) => { if (event === 'message') handlers.push(handler); else on(event, handler); return parentPort; };",
        // Ingest sends the received bytes, so the script decodes them to find the batch id.
        "const textOf = (payload) => (typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));",
        "const deliver = (request) => { if (textOf(request.payload).includes('\"batchId\":\"die\"')) process.exit(3); for (const handler of handlers) handler(request); };",
        "on('message', (request) => (handlers.length === 0 ? early.push(request) : deliver(request)));",
        "await import('./payload-check-worker.js');",
        'for (const request of early.splice(0)) deliver(request);',
        '',
      ].join('\n'),
    );
    script = pathToFileURL(dying);
    broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger: createLogger('test', 'silent') });
  });

  afterAll(async () => {
    await broker?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  beforeEach(async () => {
    harnessCount += 1;
    repository = new SqliteClearingRepository({ path: join(directory, `clearing-${harnessCount}.db`) });
    const transactions = new TransactionIngestor({
      repository,
      verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
      businessDay: BUSINESS_DAY,
      evidence: new EvidenceLedger(repository.database),
    });
    worker = new PayloadCheckWorker(script, { keys: TEST_KEY_ENTRIES, localIssuerPrefixes: [LOCAL_ISSUER_PREFIX], businessDay: BUSINESS_DAY });
    service = new IngestService({ brokerUrl: broker.url, repository, transactions, logger: createLogger('test', 'silent'), clientId: `ingest-${harnessCount}`, payloadChecks: worker });
    await service.start();
    acks.length = 0;
    terminal = await connectAsync(broker.url, { protocolVersion: 4, clientId: `terminal-${harnessCount}`, clean: true });
    terminal.on('message', (_topic, payload) => acks.push(JSON.parse(payload.toString('utf8')) as TransactionAck));
    await terminal.subscribeAsync(topics.acks('T1'), { qos: 1 });
  });

  afterEach(async () => {
    await terminal.endAsync();
    await service.stop();
    await worker.close();
    repository.close();
  });

  async function acksFor(batchIds: readonly string[]): Promise<TransactionAck[]> {
    for (;;) {
      if (batchIds.every((batchId) => acks.some((ack) => ack.batchId === batchId))) return acks.filter((ack) => batchIds.includes(ack.batchId!));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  function storedSequences(): number[] {
    return (repository.database.prepare("SELECT sequence FROM transactions WHERE terminal_id = 'T1' ORDER BY sequence").all() as { sequence: number }[]).map((row) => row.sequence);
  }

  const RECORDS_PER_BATCH = 25;
  const BATCHES = 40;
  const recordsOf = (batch: number) => Array.from({ length: RECORDS_PER_BATCH }, (_, index) => fakeRecord({ sequence: batch * RECORDS_PER_BATCH + index + 1, terminalId: 'T1' }));

  async function publishAll(batchIds: string[]): Promise<void> {
    await Promise.all(batchIds.map((batchId, batch) => terminal.publishAsync(TOPIC, fakeBatch('T1', batchId, recordsOf(batch)), { qos: 1 })));
  }

  function expectEveryRecordOnce(received: TransactionAck[], batchIds: string[]): void {
    expect(received.map((ack) => ack.batchId)).toEqual(batchIds);
    expect(received.reduce((sum, ack) => sum + ack.stored, 0)).toBe(BATCHES * RECORDS_PER_BATCH);
    expect(received.every((ack) => ack.duplicates === 0 && ack.rejected.length === 0)).toBe(true);
    // Each acknowledgement covers its own batch at least, and they rise in the order the batches were sent.
    received.forEach((ack, batch) => expect(ack.ackedThrough).toBeGreaterThanOrEqual((batch + 1) * RECORDS_PER_BATCH));
    expect(received.at(-1)!.ackedThrough).toBe(BATCHES * RECORDS_PER_BATCH);
    expect(storedSequences()).toEqual(Array.from({ length: BATCHES * RECORDS_PER_BATCH }, (_, index) => index + 1));
  }

  it('checks fuzzed batches as the ingest thread does', async () => {
    const random = randomSource(7);
    const bases = baseRecords();
    const inThread = new PayloadChecker({ verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }), businessDay: BUSINESS_DAY });
    const payloads = Array.from({ length: 200 }, (_, batch) => {
      const records = Array.from({ length: 20 }, () => {
        const record = structuredClone(bases[Math.floor(random() * bases.length)]!);
        if (random() < 0.5) mutate(record, FIELD_PATHS[Math.floor(random() * FIELD_PATHS.length)]!, ODD_VALUES[Math.floor(random() * ODD_VALUES.length)], random() < 0.15);
        return record;
      });
      return fakeBatch('T1', `f${batch}`, records);
    });

    const fromWorker = await Promise.all(payloads.map((payload) => worker.check(TOPIC, payload)));

    expect(fromWorker.map(plainCheckedPayload)).toEqual(payloads.map((payload) => plainCheckedPayload(inThread.check(TOPIC, payload))));
  });

  it('survives worker termination mid-stream', async () => {
    let terminated = false;
    service.on('ack', () => {
      if (terminated) return;
      terminated = true;
      void (worker as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    });
    const batchIds = Array.from({ length: BATCHES }, (_, batch) => `k${batch}`);
    await publishAll(batchIds);
    const received = await acksFor(batchIds);

    expect(terminated).toBe(true);
    expect(worker.usable).toBe(false);
    expectEveryRecordOnce(received, batchIds);
  });

  it('stores the batch the worker died on', async () => {
    const batchIds = Array.from({ length: BATCHES }, (_, batch) => (batch === 5 ? 'die' : `d${batch}`));
    await publishAll(batchIds);
    const received = await acksFor(batchIds);

    expect(worker.usable).toBe(false);
    expectEveryRecordOnce(received, batchIds);
  });

  it('acknowledges a batch with deep nesting', async () => {
    const payload = fakeBatch('T1', 'deep', [fakeRecord({ sequence: 1, terminalId: 'T1' }), { sequence: 2, kind: 'purchase', x: 0 }, fakeRecord({ sequence: 3, terminalId: 'T1' })]).replace(
      '"x":0',
      `"x":${'['.repeat(20_000)}${']'.repeat(20_000)}`,
    );
    await terminal.publishAsync(TOPIC, payload, { qos: 1 });
    const [ack] = await acksFor(['deep']);

    expect(ack!.stored).toBe(2);
    expect(ack!.rejected.map((item) => item.sequence)).toEqual([2]);
    expect(ack!.ackedThrough).toBe(3);
    expect(worker.usable).toBe(true);
  });

  it('rejects a batch over the record limit', async () => {
    const rejected: string[] = [];
    service.on('rejected', (rejection) => rejected.push(rejection.reason));
    const oversized = Array.from({ length: 501 }, (_, index) => fakeRecord({ sequence: index + 1, terminalId: 'T1' }));
    await terminal.publishAsync(TOPIC, fakeBatch('T1', 'big', oversized), { qos: 1 });
    await terminal.publishAsync(TOPIC, fakeBatch('T1', 'next', oversized.slice(0, 500)), { qos: 1 });
    const received = await acksFor(['next']);

    expect(acks.some((ack) => ack.batchId === 'big')).toBe(false);
    expect(rejected).toEqual([expect.stringMatching(/^invalid transaction batch: records/)]);
    expect(received[0]!.stored).toBe(500);
    expect(storedSequences()).toHaveLength(500);
  });
});

describe('terminal outbox text on its way to the back office', () => {
  let directory: string;
  const checker = () => new PayloadChecker({ verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }), businessDay: BUSINESS_DAY });
  const terminalLogger = createTerminalLogger('test', 'silent');

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'busfare-outbox-text-'));
    diskFull.writeBudget = Number.POSITIVE_INFINITY;
  });
  afterEach(() => {
    diskFull.writeBudget = Number.POSITIVE_INFINITY;
    rmSync(directory, { recursive: true, force: true });
  });

  /** Sends everything ready through a BatchWindow and returns the payloads it published. */
  function drain(store: SqliteTransactionStore): string[] {
    const payloads: string[] = [];
    const clock = new ManualClock();
    const window = new BatchWindow({
      terminalId: 'T1',
      store,
      clock,
      logger: terminalLogger,
      limiter: new LogLimiter(terminalLogger, clock),
      batchSize: 50,
      maxInFlightBatches: 4,
      ackTimeoutMs: 60_000,
      publish: (_batchId, payload) => payloads.push(payload),
    });
    window.start();
    window.pause();
    return payloads;
  }

  function tap(store: SqliteTransactionStore, asn: string): number {
    const sequence = store.appendPending(samplePurchase(asn));
    store.recordDebit(sequence, { tac: 'A1B2C3D4', balanceAfterFen: 4800 });
    store.complete(sequence, sampleCompletion);
    return sequence;
  }

  it('sends version 1 records acceptably', () => {
    const path = join(directory, 'outbox.db');
    const donor = SqliteTransactionStore.open(join(directory, 'donor.db'), { walReserveBytes: 0 });
    const records = [tap(donor, '3104000000000001'), tap(donor, '3104000000000002')].map((sequence) => donor.get(sequence)!.record);
    donor.close();
    // A version 1 file, written as that software wrote it: pretty-printed JSON, keys in another order.
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(TRANSACTION_MIGRATIONS[1]!);
    old.pragma('user_version = 1');
    const insert = old.prepare("INSERT INTO records (sequence, state, kind, asn, acknowledged, in_doubt_open, occurred_at_ms, record_json) VALUES (?, 'ready', ?, ?, 0, 0, ?, ?)");
    for (const record of records) {
      const reordered = Object.fromEntries(Object.entries(record).reverse());
      insert.run(record.sequence, record.kind, record.card.asn, Date.parse(record.occurredAt), JSON.stringify(reordered, null, 2).replace('"kind"', '"\\u006bind"'));
    }
    old.prepare("UPDATE meta SET value = 2 WHERE key = 'last_sequence'").run();
    old.close();

    const store = SqliteTransactionStore.open(path);
    const payloads = drain(store);
    store.close();

    expect(payloads).toHaveLength(1);
    const checked = checker().check(topics.transactions('T1'), payloads[0]!);
    expect(checked.kind).toBe('checked-batch');
    if (checked.kind !== 'checked-batch') return;
    expect(checked.rejected).toEqual([]);
    expect(checked.accepted.map((item) => item.record)).toEqual(records);
  });

  it('quarantines a record with damaged text', () => {
    const path = join(directory, 'outbox.db');
    const store = SqliteTransactionStore.open(path, { walReserveBytes: 0 });
    for (let index = 1; index <= 5; index += 1) tap(store, `310400000000000${index}`);
    store.close();
    const damage = new Database(path);
    damage.prepare("UPDATE records SET record_json = substr(record_json, 1, 40) WHERE sequence = 3").run();
    damage.close();

    const reopened = SqliteTransactionStore.open(path, { walReserveBytes: 0 });
    const payloads = drain(reopened);
    reopened.close();

    // The terminal sends a quarantine notice in place of the damaged text, so the batch stays valid
    // JSON: the back office stores the other records and keeps the notice as rejected sequence 3.
    const checked = checker().check(topics.transactions('T1'), payloads[0]!);
    expect(checked.kind).toBe('checked-batch');
    if (checked.kind !== 'checked-batch') return;
    expect(checked.accepted.map((item) => item.record.sequence)).toEqual([1, 2, 4, 5]);
    expect(checked.rejected.map((item) => item.sequence)).toEqual([3]);
    expect(checked.rejected[0]!.reason).toMatch(/^record damaged in the terminal's outbox and quarantined there \(stored text of 40 characters is not valid JSON\)/);
  });

  it('recovers a power cut with the reserve', () => {
    const path = join(directory, 'outbox.db');
    const store = SqliteTransactionStore.open(path);
    const sequences = Array.from({ length: 30 }, (_, index) => tap(store, `31040000000${String(index).padStart(5, '0')}`));
    store.maintainWhileIdle();
    const later = Array.from({ length: 3 }, (_, index) => tap(store, `31040000001${String(index).padStart(5, '0')}`));
    // A copy taken while the store is open is what a power cut leaves: frames, then zeros.
    const copy = join(directory, 'copy.db');
    writeFileSync(copy, readFileSync(path));
    writeFileSync(`${copy}-wal`, readFileSync(`${path}-wal`));
    store.close();

    const recovered = SqliteTransactionStore.open(copy);
    expect(statSync(`${copy}-wal`).size).toBe(WAL_RESERVE_BYTES);
    expect(recovered.lastSequence()).toBe(33);
    const next = tap(recovered, '3104000000200000');
    const payloads = drain(recovered);
    recovered.close();

    expect(next).toBe(34);
    const reopened = SqliteTransactionStore.open(copy);
    expect(reopened.lastSequence()).toBe(34);
    expect(reopened.get(later[2]!)?.state).toBe('ready');
    reopened.close();
    const sent = payloads.flatMap((payload) => (JSON.parse(payload) as { records: { sequence: number }[] }).records.map((record) => record.sequence));
    expect(sent).toEqual([...sequences, ...later, next]);
  });

  it('reserves beside frames left by a crash', () => {
    const path = join(directory, 'outbox.db');
    const store = SqliteTransactionStore.open(path, { walReserveBytes: 0 });
    const sequences = Array.from({ length: 5 }, (_, index) => tap(store, `310400000000000${index}`));
    const copy = join(directory, 'copy.db');
    writeFileSync(copy, readFileSync(path));
    writeFileSync(`${copy}-wal`, readFileSync(`${path}-wal`));
    store.close();
    expect(statSync(`${copy}-wal`).size).toBeLessThan(WAL_RESERVE_BYTES);

    const recovered = SqliteTransactionStore.open(copy);
    const next = tap(recovered, '3104000000000099');
    recovered.close();
    const reopened = SqliteTransactionStore.open(copy);

    expect(reopened.lastSequence()).toBe(6);
    expect(next).toBe(6);
    for (const sequence of [...sequences, next]) expect(reopened.get(sequence)?.state).toBe('ready');
    reopened.close();
  });

  it('opens when the disk fills while reserving', () => {
    const path = join(directory, 'outbox.db');
    const warnings: unknown[] = [];
    const logger = Object.assign(Object.create(terminalLogger) as typeof terminalLogger, { warn: (fields: unknown) => warnings.push(fields) });
    diskFull.writeBudget = 1024 * 1024 + 100;

    const store = SqliteTransactionStore.open(path, { logger });
    diskFull.writeBudget = Number.POSITIVE_INFINITY;
    const sequence = tap(store, '3104000000000001');
    store.close();

    expect(warnings).toHaveLength(1);
    expect(statSync(path).size).toBeGreaterThan(0);
    const reopened = SqliteTransactionStore.open(path);
    expect(reopened.get(sequence)?.state).toBe('ready');
    expect(statSync(`${path}-wal`).size).toBe(WAL_RESERVE_BYTES);
    reopened.close();
  });
});
