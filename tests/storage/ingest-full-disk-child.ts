// Child process of ingest-full-disk.test.ts, run inside a private mount namespace with a small
// tmpfs mounted on argv[2]. The back office's clearing database lives on that tmpfs, and a
// terminal outbox in argv[3] (outside the tmpfs) sends it batches through an embedded broker on
// 127.0.0.1 while the tmpfs fills up. Then the filler file is deleted and the outbox drains. The
// child prints one JSON report on standard output.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { type LoggedLine, collectingLogger, fillDisk, freeBytes } from './child-support.js';
import type { TransactionAck } from '@busfare/shared-protocol';
import { startEmbeddedBroker } from '../../backoffice/src/broker/embedded-broker.js';
import { IngestService } from '../../backoffice/src/ingest/ingest-service.js';
import { TacVerifier } from '../../backoffice/src/ingest/tac-verifier.js';
import { TransactionIngestor } from '../../backoffice/src/ingest/transaction-ingest.js';
import { EvidenceLedger } from '../../backoffice/src/security/evidence-ledger.js';
import { SqliteClearingRepository } from '../../backoffice/src/store/sqlite-clearing-repository.js';
import { LOCAL_ISSUER_PREFIX, fakeRecord, testKeyStore } from '../../backoffice/src/testing/fake-terminal.js';
import { SqliteTransactionStore } from '../../terminal/src/store/sqlite-transaction-store.js';
import { TerminalUplink } from '../../terminal/src/uplink/mqtt-uplink.js';

const TERMINAL_ID = 'TFULL1';
/** Free bytes the filler file leaves, so the clearing database runs out after some batches. */
const LEFT_FREE_BYTES = 1024 * 1024;
/** Milliseconds the test waits, after the first failed commit, while the terminal keeps re-sending. */
const FULL_PERIOD_MS = 2_000;

export interface IngestFullDiskReport {
  /** Logged errors and warnings of the back office, as { level, msg, err }. */
  logs: LoggedLine[];
  /** Acknowledgements that claimed a sequence the database did not hold when they were published. */
  acksAheadOfStorage: { ackedThrough: number; storedAtOrBelow: number }[];
  whileFull: { terminalAckedThrough: number; storedRecords: number; resends: number };
  /** The error of a back-office start on the full disk; undefined when it started. */
  restartWhileFull?: string;
  /** Errors the back office logged while it ran on the full disk after the restart. */
  errorsAfterRestart: number;
  afterFreeing: { terminalAckedThrough: number; backlog: number; resends: number };
  /** Records the back office found stored already and acknowledged again, summed over its acknowledgements. */
  duplicatesAcknowledged: number;
  clearing: { integrity: string[]; sequences: number[]; distinctSequences: number; rejected: number };
}

const directory = process.argv[2];
const outboxDirectory = process.argv[3];
/** Records in the terminal's outbox, more than the free space left on the tmpfs takes. */
const outboxRecords = Number(process.argv[4]);
if (!directory || !outboxDirectory || !Number.isInteger(outboxRecords)) throw new Error('usage: ingest-full-disk-child TMPFS_DIRECTORY OUTBOX_DIRECTORY RECORDS');
const clearingPath = join(directory, 'clearing.db');
const fillerPath = join(directory, 'filler');

const { logger, logs } = collectingLogger();
const quiet = pino({ level: 'silent' });


/** Polls until the condition holds; on a timeout the error shows `state()`. */
async function waitFor(condition: () => boolean, timeoutMs: number, what: string, state: () => unknown): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; state: ${JSON.stringify(state())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const acksAheadOfStorage: IngestFullDiskReport['acksAheadOfStorage'] = [];
let duplicatesAcknowledged = 0;

/** Opens the clearing database and starts ingest on it, as the back office does at start-up. */
async function startIngest(brokerUrl: string) {
  const repository = new SqliteClearingRepository({ path: clearingPath });
  const transactions = new TransactionIngestor({
    repository,
    verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
    businessDay: { timezoneOffsetMinutes: 480, cutoff: '04:00' },
    evidence: new EvidenceLedger(repository.database),
  });
  const service = new IngestService({ brokerUrl, repository, transactions, logger, clientId: 'ingest-full-disk', database: repository.database });
  // Read when each acknowledgement is published, on the ingest connection: sequences are unique,
  // so all of 1..ackedThrough are stored exactly when ackedThrough of them are at or below it.
  const storedAtOrBelow = repository.database.prepare<[string, number], { count: number }>('SELECT COUNT(*) AS count FROM transactions WHERE terminal_id = ? AND sequence <= ?');
  service.on('ack', (ack: TransactionAck) => {
    duplicatesAcknowledged += ack.duplicates;
    const stored = storedAtOrBelow.get(TERMINAL_ID, ack.ackedThrough)?.count ?? 0;
    if (stored !== ack.ackedThrough) acksAheadOfStorage.push({ ackedThrough: ack.ackedThrough, storedAtOrBelow: stored });
  });
  const countStatement = repository.database.prepare<[string], { count: number }>('SELECT COUNT(*) AS count FROM transactions WHERE terminal_id = ?');
  await service.start();
  return {
    storedRecords: () => countStatement.get(TERMINAL_ID)?.count ?? 0,
    async stop() {
      await service.stop();
      repository.close();
    },
  };
}

async function main(): Promise<IngestFullDiskReport> {
  const broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger: quiet });
  let ingest = await startIngest(broker.url);

  const outbox = SqliteTransactionStore.open(join(outboxDirectory!, 'outbox.db'), { walReserveBytes: 0 });
  const records = Array.from({ length: outboxRecords }, (_, index) => fakeRecord({ sequence: index + 1, terminalId: TERMINAL_ID }));
  outbox.restoreSalvaged(
    records.map((record) => ({ record, state: 'ready' as const, inDoubtOpen: false })),
    { lastSequence: outboxRecords, ackedThrough: 0 },
  );

  fillDisk(fillerPath, directory!, LEFT_FREE_BYTES);
  const uplink = new TerminalUplink({
    terminalId: TERMINAL_ID,
    vehicleId: 'V-FULL1',
    brokerUrl: broker.url,
    store: outbox,
    logger: quiet,
    softwareVersion: 'test',
    batchSize: 100,
    ackTimeoutMs: 500,
    notifyDelayMs: 0,
  });
  uplink.start();

  await waitFor(() => logs.some((line) => line.level >= 50), 15_000, 'the back office to log a failed commit', () => ({
    storedRecords: ingest.storedRecords(),
    freeBytes: freeBytes(directory!),
    uplink: uplink.stats(),
  }));
  await new Promise((resolve) => setTimeout(resolve, FULL_PERIOD_MS));
  const whileFull = { terminalAckedThrough: outbox.ackedThrough(), storedRecords: ingest.storedRecords(), resends: uplink.stats().resends };

  // The back office restarts while the disk is still full.
  let restartWhileFull: string | undefined;
  await ingest.stop();
  const errorsBeforeRestart = logs.filter((line) => line.level >= 50).length;
  const errorsSinceRestart = () => logs.filter((line) => line.level >= 50).length - errorsBeforeRestart;
  try {
    ingest = await startIngest(broker.url);
  } catch (error) {
    restartWhileFull = (error as Error).message;
  }
  if (restartWhileFull === undefined) {
    await waitFor(() => errorsSinceRestart() > 0, 15_000, 'the restarted back office to log a failed commit', () => ({ storedRecords: ingest.storedRecords(), freeBytes: freeBytes(directory!), uplink: uplink.stats() }));
  }
  const errorsAfterRestart = errorsSinceRestart();

  rmSync(fillerPath);
  if (restartWhileFull !== undefined) ingest = await startIngest(broker.url);
  await waitFor(() => outbox.backlog() === 0, 20_000, 'the outbox to drain after the filler file was deleted', () => ({
    storedRecords: ingest.storedRecords(),
    freeBytes: freeBytes(directory!),
    uplink: uplink.stats(),
    logs: logs.slice(-5),
  }));
  const afterFreeing = { terminalAckedThrough: outbox.ackedThrough(), backlog: outbox.backlog(), resends: uplink.stats().resends };

  await uplink.stop();
  outbox.close();
  await ingest.stop();
  await broker.close();

  const db = new Database(clearingPath, { readonly: true, fileMustExist: true });
  try {
    const integrity = (db.pragma('integrity_check') as Array<Record<string, string>>).map((row) => Object.values(row)[0] ?? '');
    const sequences = (db.prepare('SELECT sequence FROM transactions WHERE terminal_id = ? ORDER BY sequence').all(TERMINAL_ID) as { sequence: number }[]).map((row) => row.sequence);
    const distinctSequences = (db.prepare('SELECT COUNT(DISTINCT sequence) AS count FROM transactions WHERE terminal_id = ?').get(TERMINAL_ID) as { count: number }).count;
    const rejected = (db.prepare('SELECT COUNT(*) AS count FROM rejected WHERE terminal_id = ?').get(TERMINAL_ID) as { count: number }).count;
    return { logs, acksAheadOfStorage, whileFull, restartWhileFull, errorsAfterRestart, afterFreeing, duplicatesAcknowledged, clearing: { integrity, sequences, distinctSequences, rejected } };
  } finally {
    db.close();
  }
}

const report = await main();
process.stdout.write(`${JSON.stringify(report)}\n`);
