import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MemoryKeyStore, backOfficeConfigSchema, createLogger, startBackOffice } from '@busfare/backoffice';
import { fromHex } from '@busfare/shared-protocol';
import { SOFTWARE_VERSION, SqliteTransactionStore, TerminalUplink } from '@busfare/terminal';
import { waitFor } from '../bench/bench-city.js';
import { BENCH_LOCAL_CITY_CODE, backofficeTacKeyTable } from '../keys/test-keys.js';
import type { BenchmarkGroup } from './figure.js';
import { describeLoad } from './ingest.js';
import { signedRecords } from './signed-records.js';

const RECORDS = 100_000;
const TERMINAL_ID = 'BD001';

/**
 * One terminal whose outbox contains 100,000 completed records (as after days without a link)
 * reconnects: the time from uplink start until the back office has acknowledged every record,
 * through the embedded broker with per-terminal credentials, TAC verification and durable writes.
 */
export const drainBenchmark: BenchmarkGroup = async ({ log }) => {
  const directory = mkdtempSync(join(tmpdir(), 'busfare-bench-drain-'));
  const logger = createLogger('bench-drain', process.env.BUSFARE_LOG_LEVEL ?? 'warn');
  const store = SqliteTransactionStore.open(join(directory, 'transactions.db'));
  try {
    log(`filling the outbox with ${RECORDS} signed records`);
    const records = signedRecords(TERMINAL_ID, 1, RECORDS);
    store.restoreSalvaged(
      records.map((record) => ({ record, state: 'ready' as const, inDoubtOpen: false })),
      { lastSequence: RECORDS, ackedThrough: 0 },
    );

    const config = backOfficeConfigSchema.parse({ db: join(directory, 'clearing.db'), mqtt: { port: 0 }, http: { port: 0 }, localIssuerPrefixes: [BENCH_LOCAL_CITY_CODE] });
    const keyStore = new MemoryKeyStore(backofficeTacKeyTable().map((row) => ({ issuerId: row.issuerId, algorithm: row.algorithm, tacMasterKey: fromHex(row.tacMasterKeyHex), test: true })));
    const office = await startBackOffice(config, { logger, keyStore });
    const uplink = new TerminalUplink({
      terminalId: TERMINAL_ID,
      vehicleId: 'V-BD001',
      brokerUrl: office.brokerUrl,
      username: TERMINAL_ID,
      password: await office.credentials.add(TERMINAL_ID),
      store,
      logger,
      softwareVersion: SOFTWARE_VERSION,
      batchSize: 500,
      // A draining terminal keeps 32 batches (16,000 records) in flight, so the back office
      // always has batches to check while it commits others. 8 drained about a fifth slower.
      maxInFlightBatches: 32,
      notifyDelayMs: 0,
    });
    let elapsedMs: number;
    try {
      const busy = performance.eventLoopUtilization();
      const cpu = process.cpuUsage();
      const started = performance.now();
      uplink.start();
      // The counter is one row, where backlog() counts the unacknowledged rows, which took about
      // 0.7 µs per record of the run's main thread.
      await waitFor(() => store.ackedThrough() === RECORDS, 300_000, 'the outbox to drain');
      elapsedMs = performance.now() - started;
      log(describeLoad(performance.eventLoopUtilization(busy).utilization, process.cpuUsage(cpu), RECORDS));
      const cleared = office.summary().recordsCleared;
      if (cleared !== RECORDS) throw new Error(`the back office cleared ${cleared} of ${RECORDS} records`);
    } finally {
      await uplink.stop();
      await office.stop();
    }
    log(`drained ${RECORDS} records in ${elapsedMs.toFixed(0)} ms`);
    return [{ name: 'backlog_drain_tx_per_s', value: Math.round((RECORDS / elapsedMs) * 1000), unit: 'tx/s' }];
  } finally {
    store.close();
    rmSync(directory, { recursive: true, force: true });
  }
};
