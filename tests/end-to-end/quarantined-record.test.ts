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
import { type DriverAlert, type DriverScreen, MemoryDriverScreen } from '../../terminal/src/ports/driver-screen.js';
import { RECORD_QUARANTINED_ALERT, SqliteTransactionStore } from '../../terminal/src/store/sqlite-transaction-store.js';
import { TerminalUplink } from '../../terminal/src/uplink/mqtt-uplink.js';

const TERMINAL_ID = 'TQ1';
const RECORDS = 30;
const BUSINESS_DAY = { timezoneOffsetMinutes: 480, cutoff: '04:00' };

/** A driver screen that also records every raise and clear, in order. */
class RecordingScreen extends MemoryDriverScreen implements DriverScreen {
  readonly events: string[] = [];

  override raiseAlert(alert: DriverAlert): void {
    this.events.push(`raise ${alert.id}`);
    super.raiseAlert(alert);
  }

  override clearAlert(id: string): void {
    this.events.push(`clear ${id}`);
    super.clearAlert(id);
  }
}

/** Flips bit 5 of the first hex letter A-F in the string value of `key`, which makes it lower case. */
function lowerFirstHexLetter(text: string, key: string): string {
  const start = text.indexOf(`"${key}":"`) + key.length + 4;
  const end = text.indexOf('"', start);
  const offset = text.slice(start, end).search(/[A-F]/);
  if (start < key.length + 4 || offset < 0) throw new Error(`no upper-case hex letter in ${key}`);
  const at = start + offset;
  return `${text.slice(0, at)}${String.fromCharCode(text.charCodeAt(at) ^ 0x20)}${text.slice(at + 1)}`;
}

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

    // Record 7 is cut short and record 18 names another sequence. Records 12, 21 and 25 are JSON
    // of their own sequence that fails the record schema: a hex letter of the issuer id turned
    // lower case by one flipped bit, a missing field and an amount as text.
    const damage = new Database(outboxPath);
    const textOf = (sequence: number) => (damage.prepare('SELECT record_json FROM records WHERE sequence = ?').get(sequence) as { record_json: string }).record_json;
    const cutShort = textOf(7).slice(0, 50);
    const lowerCaseHex = lowerFirstHexLetter(textOf(12), 'issuerId');
    const missingField = textOf(21).replace(/"cardDateTime":"\d{14}",?/, '');
    const invalidRecord = JSON.parse(textOf(25)) as { debit: { amountFen: unknown } };
    invalidRecord.debit.amountFen = 'two yuan';
    const amountAsText = JSON.stringify(invalidRecord);
    const setText = damage.prepare('UPDATE records SET record_json = ? WHERE sequence = ?');
    setText.run(cutShort, 7);
    setText.run(lowerCaseHex, 12);
    setText.run(textOf(18).replace('"sequence":18', '"sequence":3'), 18);
    setText.run(missingField, 21);
    setText.run(amountAsText, 25);
    damage.close();
    expect(missingField).not.toContain('"cardDateTime"');

    const screen = new RecordingScreen();
    const logger = createTerminalLogger('test', 'silent');
    const store = SqliteTransactionStore.open(outboxPath, { screen, logger });
    const uplink = new TerminalUplink({ terminalId: TERMINAL_ID, vehicleId: 'V-TQ1', brokerUrl: broker.url, store, logger, softwareVersion: 'test', batchSize: 5, notifyDelayMs: 0 });
    try {
      uplink.start();
      await waitFor(() => store.backlog() === 0, 20_000, 'the outbox to drain');

      expect(store.ackedThrough()).toBe(RECORDS);
      const quarantined = store.quarantined();
      expect(quarantined.map((record) => record.sequence)).toEqual([7, 12, 18, 21, 25]);
      expect(quarantined[0]!.bytes.toString('utf8')).toBe(cutShort);
      expect(quarantined[1]!.bytes.toString('utf8')).toBe(lowerCaseHex);
      expect(quarantined[4]!.bytes.toString('utf8')).toBe(amountAsText);

      const stored = (repository.database.prepare('SELECT sequence FROM transactions WHERE terminal_id = ? ORDER BY sequence').all(TERMINAL_ID) as { sequence: number }[]).map((row) => row.sequence);
      expect(stored).toEqual(Array.from({ length: RECORDS }, (_, index) => index + 1).filter((sequence) => ![7, 12, 18, 21, 25].includes(sequence)));

      const rejected = repository.database.prepare('SELECT sequence, reason, payload FROM rejected WHERE terminal_id = ? ORDER BY sequence').all(TERMINAL_ID) as RejectedRow[];
      expect(rejected.map((row) => row.sequence)).toEqual([7, 12, 18, 21, 25]);
      expect(rejected[0]!.reason).toMatch(/^record damaged in the terminal's outbox and quarantined there \(stored text of 50 characters is not valid JSON\)/);
      expect(JSON.parse(rejected[0]!.payload).storedText).toBe(cutShort);
      expect(rejected[1]!.reason).toMatch(/^record damaged in the terminal's outbox and quarantined there \(stored text fails the record schema: card\.issuerId: expected 8 bytes as upper-case hex\)/);
      expect(JSON.parse(rejected[1]!.payload).storedText).toBe(lowerCaseHex);
      expect(rejected[2]!.reason).toMatch(/stored text holds sequence 3, not 18/);
      expect(rejected[3]!.reason).toMatch(/quarantined there \(stored text fails the record schema: debit\.cardDateTime: required, but missing/);
      expect(rejected[4]!.reason).toMatch(/quarantined there \(stored text fails the record schema: debit\.amountFen: /);
      expect(JSON.parse(rejected[4]!.payload).storedText).toBe(amountAsText);
      expect(repository.progress(TERMINAL_ID).contiguousThrough).toBe(RECORDS);

      // Every notice is in the rejected table, so the alert raised on the way is cleared.
      expect(screen.events[0]).toBe(`raise ${RECORD_QUARANTINED_ALERT.id}`);
      expect(screen.events.at(-1)).toBe(`clear ${RECORD_QUARANTINED_ALERT.id}`);
      expect(screen.alerts.has(RECORD_QUARANTINED_ALERT.id)).toBe(false);
    } finally {
      await uplink.stop();
      store.close();
    }

    const restartScreen = new RecordingScreen();
    const restarted = SqliteTransactionStore.open(outboxPath, { screen: restartScreen, logger });
    try {
      expect(restarted.backlog()).toBe(0);
      expect(restarted.quarantined().map((record) => record.sequence)).toEqual([7, 12, 18, 21, 25]);
      expect(restartScreen.events).toEqual([]);
    } finally {
      restarted.close();
    }
  });
});
