import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MqttClient, connectAsync } from 'mqtt';
import pino from 'pino';
import { type TransactionAck, topics } from '@busfare/shared-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../broker/embedded-broker.js';
import { EvidenceLedger } from '../security/evidence-ledger.js';
import { SqliteClearingRepository } from '../store/sqlite-clearing-repository.js';
import { LOCAL_ISSUER_PREFIX, fakeBatch, fakeRecord, testKeyStore } from '../testing/fake-terminal.js';
import { IngestService } from './ingest-service.js';
import { type CheckedPayload, PayloadChecker } from './payload-check.js';
import type { PayloadCheckWorker } from './payload-check-thread.js';
import { TacVerifier } from './tac-verifier.js';
import { type IngestInput, TransactionIngestor } from './transaction-ingest.js';

const silent = pino({ level: 'silent' });
const BUSINESS_DAY = { timezoneOffsetMinutes: 480, cutoff: '04:00' };
const TERMINAL = 'T-GATHER';

/**
 * A check worker whose replies the test releases: each check runs PayloadChecker in this thread
 * and waits until `release()` lets it through, in arrival order.
 */
class HeldChecks {
  readonly usable = true;
  private readonly waiting: (() => void)[] = [];
  private readonly checker = new PayloadChecker({ verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }), businessDay: BUSINESS_DAY });
  hold = true;

  check(topic: string, payload: string | Uint8Array): Promise<CheckedPayload> {
    const checked = this.checker.check(topic, typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
    if (!this.hold) return Promise.resolve(checked);
    return new Promise((resolve) => this.waiting.push(() => resolve(checked)));
  }

  get held(): number {
    return this.waiting.length;
  }

  /** Lets the oldest held check reply. */
  release(): void {
    this.waiting.shift()?.();
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('commit gathering under load', () => {
  let directory: string;
  let broker: EmbeddedBroker;
  let repository: SqliteClearingRepository;
  let checks: HeldChecks;
  let service: IngestService | undefined;
  let terminal: MqttClient;
  /** Payloads per commit, in commit order. */
  let commits: number[];
  let acks: TransactionAck[];

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'busfare-gather-'));
    broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger: silent });
    repository = new SqliteClearingRepository({ path: join(directory, 'clearing.db') });
    checks = new HeldChecks();
    commits = [];
    acks = [];
    terminal = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'terminal-gather', clean: true });
    terminal.on('message', (_topic, payload) => acks.push(JSON.parse(payload.toString('utf8')) as TransactionAck));
    await terminal.subscribeAsync(topics.acks(TERMINAL), { qos: 1 });
  });

  afterEach(async () => {
    checks.hold = false;
    while (checks.held > 0) checks.release();
    await terminal.endAsync();
    await service?.stop();
    service = undefined;
    repository.close();
    await broker.close();
    rmSync(directory, { recursive: true, force: true });
  });

  async function start(gather: { records: number; waitMs: number }): Promise<void> {
    const transactions = new TransactionIngestor({
      repository,
      verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
      businessDay: BUSINESS_DAY,
      evidence: new EvidenceLedger(repository.database),
    });
    const ingestMany = transactions.ingestMany.bind(transactions);
    transactions.ingestMany = (messages: readonly IngestInput[]) => {
      commits.push(messages.length);
      return ingestMany(messages);
    };
    service = new IngestService({
      brokerUrl: broker.url,
      repository,
      transactions,
      logger: silent,
      clientId: 'ingest-gather',
      database: repository.database,
      payloadChecks: checks as unknown as PayloadCheckWorker,
      gather,
    });
    await service.start();
  }

  /** Publishes a batch of `count` records from `first` on and waits until its check is held. */
  async function publish(batchId: string, first: number, count: number): Promise<void> {
    const heldBefore = checks.held;
    const records = Array.from({ length: count }, (_, index) => fakeRecord({ terminalId: TERMINAL, sequence: first + index }));
    await terminal.publishAsync(topics.transactions(TERMINAL), fakeBatch(TERMINAL, batchId, records), { qos: 1 });
    await until(() => checks.held === heldBefore + 1, `the check of ${batchId}`);
  }

  it('commits a lone batch without waiting', async () => {
    // A wait of a minute would time the test out, so an acknowledgement proves no wait happened.
    await start({ records: 1_000, waitMs: 60_000 });
    await publish('b1', 1, 3);
    checks.release();

    await until(() => acks.length === 1, 'the acknowledgement');
    expect(commits).toEqual([1]);
    expect(acks[0]!.ackedThrough).toBe(3);
  });

  it('waits while the worker holds payloads, then stores them in one commit', async () => {
    await start({ records: 1_000, waitMs: 60_000 });
    await publish('b1', 1, 3);
    await publish('b2', 4, 3);
    await publish('b3', 7, 3);

    checks.release();
    checks.release();
    // Two payloads are checked and one is still in the worker, so no commit runs yet.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(commits).toEqual([]);

    checks.release();
    await until(() => acks.length === 3, 'three acknowledgements');
    expect(commits).toEqual([3]);
    expect(acks.map((ack) => ack.ackedThrough)).toEqual([3, 6, 9]);
  });

  it('commits once enough records are queued', async () => {
    await start({ records: 6, waitMs: 60_000 });
    await publish('b1', 1, 3);
    await publish('b2', 4, 3);
    await publish('b3', 7, 3);

    checks.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(commits).toEqual([]);
    // The second payload brings the queue to 6 records while the third is still held.
    checks.release();
    await until(() => acks.length === 2, 'two acknowledgements');
    expect(commits).toEqual([2]);

    checks.release();
    await until(() => acks.length === 3, 'the third acknowledgement');
    expect(commits).toEqual([2, 1]);
  });

  it('commits after the wait while a check is still held', async () => {
    await start({ records: 1_000, waitMs: 50 });
    await publish('b1', 1, 3);
    await publish('b2', 4, 3);

    checks.release();
    await until(() => acks.length === 1, 'the acknowledgement of the first batch');
    expect(commits).toEqual([1]);
    expect(checks.held).toBe(1);
  });

  it('stores what is queued when it stops', async () => {
    await start({ records: 1_000, waitMs: 60_000 });
    await publish('b1', 1, 3);
    await publish('b2', 4, 3);
    checks.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(commits).toEqual([]);

    const stopped = service!.stop();
    checks.release();
    await stopped;
    service = undefined;
    expect(commits).toEqual([2]);
    expect(repository.progress(TERMINAL).contiguousThrough).toBe(6);
  });
});
