import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHIFT_RECORD_SCHEMA, type ShiftRecord, type TransactionRecord, topics } from '@busfare/shared-protocol';
import { ClearingCentre } from '../clearing/clearing-centre.js';
import type { BusinessDayRule } from '../ingest/business-day.js';
import { TacVerifier } from '../ingest/tac-verifier.js';
import { TransactionIngestor } from '../ingest/transaction-ingest.js';
import { SqliteClearingRepository } from '../store/sqlite-clearing-repository.js';
import { LOCAL_ISSUER_PREFIX, fakeBatch, testKeyStore } from './fake-terminal.js';

/** A clock the test moves by hand. */
export class TestClock {
  constructor(public current: Date) {}
  now = (): Date => this.current;
  set(iso: string): void {
    this.current = new Date(iso);
  }
}

export interface ClearingFixture {
  dir: string;
  clock: TestClock;
  rule: BusinessDayRule;
  repository: SqliteClearingRepository;
  ingestor: TransactionIngestor;
  centre: ClearingCentre;
  /** Ingests a batch as the ingest service does, keeping the receipt for reconciliation. */
  ingest(terminalId: string, batchId: string, records: unknown[]): void;
  close(): void;
}

/** China Standard Time, business days starting at 03:00 local time. */
export const TEST_RULE: BusinessDayRule = { timezoneOffsetMinutes: 480, cutoff: '03:00' };

/** Opens a clearing centre on a fresh SQLite file with the test issuer keys. */
export function openClearingFixture(start = '2025-05-06T02:00:00Z'): ClearingFixture {
  const dir = mkdtempSync(join(tmpdir(), 'busfare-clearing-'));
  const clock = new TestClock(new Date(start));
  const repository = new SqliteClearingRepository({ path: join(dir, 'clearing.db'), now: clock.now });
  const ingestor = new TransactionIngestor({
    repository,
    verifier: new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] }),
    businessDay: TEST_RULE,
  });
  const centre = new ClearingCentre({ repository, ingestor, rule: TEST_RULE, localIssuerPrefixes: [LOCAL_ISSUER_PREFIX], now: clock.now });
  return {
    dir,
    clock,
    rule: TEST_RULE,
    repository,
    ingestor,
    centre,
    ingest(terminalId, batchId, records) {
      const outcome = ingestor.ingest(topics.transactions(terminalId), fakeBatch(terminalId, batchId, records));
      if (outcome.kind !== 'batch') throw new Error(`batch ${batchId} refused: ${outcome.reason}`);
      centre.recordBatchReceipt({ terminalId, sentAt: clock.now().toISOString(), receivedAt: clock.now(), ack: outcome.ack });
    },
    close() {
      repository.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A shift record whose counters match the given records, as a terminal would send at sign-off. */
export function shiftFor(terminalId: string, driverId: string, records: readonly TransactionRecord[], startedAt: string, endedAt: string): ShiftRecord {
  const accepted = records.filter((record) => record.kind === 'purchase' || (record.kind === 'resolution' && record.outcome === 'debited'));
  const amountFen = accepted.reduce((sum, record) => sum + record.debit.amountFen, 0);
  const sequences = records.map((record) => record.sequence);
  const compactStart = startedAt.replace(/[-:TZ]/g, '').slice(0, 14);
  return {
    schema: SHIFT_RECORD_SCHEMA,
    terminalId,
    vehicleId: records[0]?.trip.vehicleId ?? 'BUS-1',
    shiftId: `${terminalId}-${compactStart}`,
    driverId,
    route: '12',
    startedAt,
    endedAt,
    firstSequence: sequences.length > 0 ? Math.min(...sequences) : null,
    lastSequence: sequences.length > 0 ? Math.max(...sequences) : null,
    counters: {
      taps: records.length,
      accepted: accepted.length,
      refused: 0,
      inDoubt: records.filter((record) => record.kind === 'in-doubt').length,
      failed: 0,
      amountFen,
      byCardType: accepted.length > 0 ? { ordinary: { taps: accepted.length, amountFen } } : {},
    },
  };
}
