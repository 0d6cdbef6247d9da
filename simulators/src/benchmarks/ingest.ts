import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MemoryKeyStore, backOfficeConfigSchema, createLogger, startBackOffice, startEmbeddedBroker } from '@busfare/backoffice';
import { fromHex, topics } from '@busfare/shared-protocol';
import { connectAsync } from 'mqtt';
import { BENCH_LOCAL_CITY_CODE, backofficeTacKeyTable } from '../keys/test-keys.js';
import type { BenchmarkFigure, BenchmarkGroup } from './figure.js';
import { type PublishingTerminal, publishFleet } from './fleet-publisher.js';
import { batchPayloads, signedRecords } from './signed-records.js';

/**
 * A city peak has thousands of terminals, each with a few batches in flight. Fifty terminals with
 * the uplink's default window of 4 keep up to 200 batches waiting for the back office, which
 * is more than one commit group and one check in the worker can hold, as in the city. With 10
 * terminals the fleet itself capped the work in flight, because each terminal sends a new batch
 * only after an acknowledgement.
 */
const TERMINALS = 50;
const RECORDS_PER_TERMINAL = Number(process.env.BUSFARE_BENCH_RECORDS ?? 4_000);
/** 10,000 distinct cards over the fleet, each debited 20 times, as with 10 terminals of 1,000 cards. */
const CARDS_PER_TERMINAL = 200;
const BATCH_SIZE = 500;
const WINDOW = 4;

/**
 * Terminals → embedded aedes broker → ingest (schema check, TAC verification, durable SQLite
 * write with synchronous=FULL) → acknowledgement back to the terminal, against the same batches
 * through a second broker whose subscriber acknowledges without processing. Publishers, broker
 * and ingest share this one Node process, as the back office and its embedded broker do. A record
 * counts once its acknowledgement reached its terminal, which ingest sends after the commit.
 */
export const ingestBenchmark: BenchmarkGroup = async ({ log }) => {
  const directory = mkdtempSync(join(tmpdir(), 'busfare-bench-ingest-'));
  const logger = createLogger('bench-ingest', process.env.BUSFARE_LOG_LEVEL ?? 'warn');
  try {
    log(`signing ${TERMINALS * RECORDS_PER_TERMINAL} records`);
    // Payloads are kept as bytes, as a terminal sends them. As strings, the publishing clients
    // in this process encoded each 250 KB batch to UTF-8 again on every publish.
    const fleet = Array.from({ length: TERMINALS }, (_, index) => {
      const terminalId = `BI${String(index + 1).padStart(3, '0')}`;
      return { terminalId, payloads: batchPayloads(terminalId, signedRecords(terminalId, 1, RECORDS_PER_TERMINAL, { cards: CARDS_PER_TERMINAL }), BATCH_SIZE).map((text) => Buffer.from(text)) };
    });
    const total = TERMINALS * RECORDS_PER_TERMINAL;

    const rawMs = await measureRawBroker(fleet, logger);
    const rawRate = (total / rawMs) * 1000;
    log(`raw broker: ${total} records in ${rawMs.toFixed(0)} ms`);

    const config = backOfficeConfigSchema.parse({
      db: join(directory, 'clearing.db'),
      mqtt: { port: 0 },
      http: { port: 0 },
      localIssuerPrefixes: [BENCH_LOCAL_CITY_CODE],
    });
    const keyStore = new MemoryKeyStore(backofficeTacKeyTable().map((row) => ({ issuerId: row.issuerId, algorithm: row.algorithm, tacMasterKey: fromHex(row.tacMasterKeyHex), test: true })));
    const office = await startBackOffice(config, { logger, keyStore });
    let ingestMs: number;
    try {
      const terminals: PublishingTerminal[] = [];
      for (const terminal of fleet) terminals.push({ ...terminal, username: terminal.terminalId, password: await office.credentials.add(terminal.terminalId) });
      // The load counts from the first publish. Connecting checks each terminal's password with
      // scrypt on the thread pool, which is not part of ingest.
      let busy = performance.eventLoopUtilization();
      let cpu = process.cpuUsage();
      ingestMs = await publishFleet(office.brokerUrl, terminals, WINDOW, () => {
        busy = performance.eventLoopUtilization();
        cpu = process.cpuUsage();
      });
      log(describeLoad(performance.eventLoopUtilization(busy).utilization, process.cpuUsage(cpu), total));
      const summary = office.summary();
      if (summary.recordsCleared !== total) throw new Error(`ingest cleared ${summary.recordsCleared} of ${total} records`);
    } finally {
      await office.stop();
    }
    const ingestRate = (total / ingestMs) * 1000;
    log(`ingest: ${total} records in ${ingestMs.toFixed(0)} ms, every one TAC-verified and stored`);

    const figures: BenchmarkFigure[] = [
      { name: 'ingest_tx_per_s', value: Math.round(ingestRate), unit: 'tx/s' },
      { name: 'broker_raw_tx_per_s', value: Math.round(rawRate), unit: 'tx/s' },
      { name: 'ingest_to_raw_ratio', value: Number((ingestRate / rawRate).toFixed(3)), unit: 'ratio' },
    ];
    return figures;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
};

/** Measures the same batches through an embedded broker whose subscriber acknowledges each one unread. */
async function measureRawBroker(fleet: readonly PublishingTerminal[], logger: ReturnType<typeof createLogger>): Promise<number> {
  const broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger });
  const subscriber = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'bench-raw', clean: true, reconnectPeriod: 0 });
  try {
    const ackPayloads = new Map(fleet.map((terminal) => [topics.transactions(terminal.terminalId), { topic: topics.acks(terminal.terminalId), payload: '{}' }]));
    subscriber.on('message', (topic) => {
      const ack = ackPayloads.get(topic);
      if (ack) subscriber.publish(ack.topic, ack.payload, { qos: 1 });
    });
    await subscriber.subscribeAsync(topics.allTransactions, { qos: 1 });
    return await publishFleet(broker.url, fleet, WINDOW);
  } finally {
    await subscriber.endAsync(true);
    await broker.close();
  }
}

/** The share of the run the main thread was busy, and the process CPU time (every thread) per record. */
export function describeLoad(mainThreadBusy: number, cpu: NodeJS.CpuUsage, records: number): string {
  const cpuPerRecordUs = (cpu.user + cpu.system) / records;
  return `main thread busy ${(mainThreadBusy * 100).toFixed(0)}% of the run; process CPU ${cpuPerRecordUs.toFixed(1)} µs per record over all threads`;
}
