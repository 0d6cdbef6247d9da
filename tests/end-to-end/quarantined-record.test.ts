import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../backoffice/src/broker/embedded-broker.js';
import { IngestService } from '../../backoffice/src/ingest/ingest-service.js';
import { TacVerifier } from '../../backoffice/src/ingest/tac-verifier.js';
import { TransactionIngestor } from '../../backoffice/src/ingest/transaction-ingest.js';
import { createLogger } from '../../backoffice/src/logger.js';
import { EvidenceLedger } from '../../backoffice/src/security/evidence-ledger.js';
import { SqliteClearingRepository } from '../../backoffice/src/store/sqlite-clearing-repository.js';
import { LOCAL_ISSUER_PREFIX, fakeRecord, testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';
import { waitFor } from '../../simulators/src/bench/bench-city.js';
import { createLogger as createTerminalLogger } from '../../terminal/src/logger.js';
import { MemoryDriverScreen } from '../../terminal/src/ports/driver-screen.js';
import { RECORD_QUARANTINED_ALERT, SqliteTransactionStore } from '../../terminal/src/store/sqlite-transaction-store.js';
import { TerminalUplink } from '../../terminal/src/uplink/mqtt-uplink.js';

const TERMINAL_ID = 'TQ1';
const RECORDS = 30;
const BUSINESS_DAY = { timezoneOffsetMinutes: 480, cutoff: '04:00' };

interface RejectedRow {
  sequence: number | null;
  reason: string;
  payload: string;
}

describe('damaged outbox record', () => {
  let directory: string;
  let broker: EmbeddedBroker;
  let repository: SqliteClearingRepository;
  let service: IngestService;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'busfare-quarantine-e2e-'));
    broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger: createLogger('test', 'silent') });
    repository = new SqliteClearingRepository({ path: join(directory, 'clearing.db') });
    const transactions = new TransactionIngestor({
      repository,
      verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
      businessDay: BUSINESS_DAY,
      evidence: new EvidenceLedger(repository.database),
    });
    service = new IngestService({ brokerUrl: broker.url, repository, transactions, logger: createLogger('test', 'silent'), clientId: 'ingest-quarantine', database: repository.database });
    await service.start();
  });

  afterEach(async () => {
    await service.stop();
    repository.close();
    await broker.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('quarantines damaged records and clears the rest', async () => {
    const outboxPath = join(directory, 'outbox.db');
    const filled = SqliteTransactionStore.open(outboxPath);
    const records = Array.from({ length: RECORDS }, (_, index) => fakeRecord({ sequence: index + 1, terminalId: TERMINAL_ID }));
    filled.restoreSalvaged(
      records.map((record) => ({ record, state: 'ready' as const, inDoubtOpen: false })),
      { lastSequence: RECORDS, ackedThrough: 0 },
    );
    filled.close();

    // Record 7 is cut short, record 18 names another sequence, and record 25 is JSON that fails
    // the record schema, which the back office rejects by itself.
    const damage = new Database(outboxPath);
    const textOf = (sequence: number) => (damage.prepare('SELECT record_json FROM records WHERE sequence = ?').get(sequence) as { record_json: string }).record_json;
    const cutShort = textOf(7).slice(0, 50);
    const invalidRecord = JSON.parse(textOf(25)) as { debit: { amountFen: unknown } };
    invalidRecord.debit.amountFen = 'two yuan';
    const setText = damage.prepare('UPDATE records SET record_json = ? WHERE sequence = ?');
    setText.run(cutShort, 7);
    setText.run(textOf(18).replace('"sequence":18', '"sequence":3'), 18);
    setText.run(JSON.stringify(invalidRecord), 25);
    damage.close();

    const screen = new MemoryDriverScreen();
    const logger = createTerminalLogger('test', 'silent');
    const store = SqliteTransactionStore.open(outboxPath, { screen, logger });
    const uplink = new TerminalUplink({ terminalId: TERMINAL_ID, vehicleId: 'V-TQ1', brokerUrl: broker.url, store, logger, softwareVersion: 'test', batchSize: 5, notifyDelayMs: 0 });
    try {
      uplink.start();
      await waitFor(() => store.backlog() === 0, 20_000, 'the outbox to drain');

      expect(store.ackedThrough()).toBe(RECORDS);
      expect(store.quarantined().map((record) => record.sequence)).toEqual([7, 18]);
      expect(store.quarantined()[0]!.bytes.toString('utf8')).toBe(cutShort);
      expect(screen.alerts.get(RECORD_QUARANTINED_ALERT.id)).toEqual(RECORD_QUARANTINED_ALERT);

      const stored = (repository.database.prepare('SELECT sequence FROM transactions WHERE terminal_id = ? ORDER BY sequence').all(TERMINAL_ID) as { sequence: number }[]).map((row) => row.sequence);
      expect(stored).toEqual(Array.from({ length: RECORDS }, (_, index) => index + 1).filter((sequence) => ![7, 18, 25].includes(sequence)));

      const rejected = repository.database.prepare('SELECT sequence, reason, payload FROM rejected WHERE terminal_id = ? ORDER BY sequence').all(TERMINAL_ID) as RejectedRow[];
      expect(rejected.map((row) => row.sequence)).toEqual([7, 18, 25]);
      expect(rejected[0]!.reason).toMatch(/^record damaged in the terminal's outbox and quarantined there \(stored text of 50 characters is not valid JSON\)/);
      expect(JSON.parse(rejected[0]!.payload).storedText).toBe(cutShort);
      expect(rejected[1]!.reason).toMatch(/stored text holds sequence 3, not 18/);
      expect(rejected[2]!.reason).toMatch(/^invalid record: /);
      expect(repository.progress(TERMINAL_ID).contiguousThrough).toBe(RECORDS);
    } finally {
      await uplink.stop();
      store.close();
    }
  });
});
