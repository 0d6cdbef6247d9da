// Child process of wal-index-full-disk.test.ts, run inside a private mount namespace with a tmpfs
// mounted on argv[2]. The outbox's WAL is reserved large enough that tap commits never grow it,
// and a filler file takes the rest of the disk. The commit whose frames need a new 32 KiB region
// of the WAL index (-shm) then fails for want of space. The child prints one JSON report.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { MemoryDriverScreen, SqliteTransactionStore, StorageGuardedStore, type PendingPurchase } from '@busfare/terminal';

const MIB = 1024 * 1024;
/** WAL bytes reserved at open: more than the 4,096 frames that the first WAL-index region covers. */
const WAL_RESERVE_BYTES = 20 * MIB;
const MAX_TAPS = 4_000;
const TORN_ASN = '3104000000009999';

export interface ErrorSummary {
  name: string;
  code?: string;
  message: string;
}

export interface WalIndexFullDiskReport {
  /** Taps stored before the first failure. */
  tapsStored: number;
  firstFailure?: ErrorSummary & { operation: string };
  alertsWhenFull: string[];
  /** The in-doubt mark of a debit whose outcome is unknown, tried while the disk is full. */
  markInDoubtError?: ErrorSummary;
  /** The open in-doubt record of the torn card, looked up once the filler is deleted. */
  foundAfterFreeing?: number;
}

function purchase(asn: string, serial: number): PendingPurchase {
  return {
    occurredAt: new Date(Date.UTC(2026, 0, 5, 0, 0, serial % 60)).toISOString(),
    card: { application: 'tunion', medium: 'card', asn, issuerId: '3104000000000000', cardType: '01' },
    trip: { vehicleId: 'BUS-1', route: '42' },
    debit: {
      transactionType: 0x06,
      amountFen: 200,
      listFareFen: 200,
      balanceBeforeFen: 5000,
      cardCounter: serial,
      cardRandom: '1A2B3C4D',
      keyVersion: 1,
      algorithmId: 0,
      psamTerminalNumber: '000000000001',
      terminalSerial: serial,
      cardDateTime: '20260105080000',
    },
  };
}

function summary(error: unknown): ErrorSummary {
  const failure = error as Error & { code?: unknown };
  return { name: failure.name, code: typeof failure.code === 'string' ? failure.code : undefined, message: failure.message };
}

const directory = process.argv[2]!;
const logger = pino({ level: 'silent' });
const screen = new MemoryDriverScreen();
const inner = SqliteTransactionStore.open(join(directory, 'transactions.db'), { walReserveBytes: WAL_RESERVE_BYTES, logger });
// No free-space margin, so every commit reaches SQLite and the guard receives SQLite's own error.
const store = new StorageGuardedStore(inner, { directory, screen, logger, warnFreeBytes: 0, refuseFreeBytes: 0, checkIntervalMs: 0 });

// A debit whose outcome is unknown, left pending before the disk fills.
const torn = store.appendPending(purchase(TORN_ASN, 1));

const filler = join(directory, 'filler');
try {
  const block = Buffer.alloc(64 * 1024);
  for (;;) writeFileSync(filler, block, { flag: 'a' });
} catch {
  // ENOSPC: the disk is full.
}

const report: WalIndexFullDiskReport = { tapsStored: 0, alertsWhenFull: [] };
for (let serial = 2; serial < MAX_TAPS && report.firstFailure === undefined; serial += 1) {
  let operation = 'appendPending';
  try {
    const sequence = store.appendPending(purchase(`31040000${String(serial).padStart(8, '0')}`, serial));
    operation = 'recordDebit';
    store.recordDebit(sequence, { tac: '0A0B0C0D', balanceAfterFen: 4800 });
    operation = 'complete';
    store.complete(sequence, { tac: '0A0B0C0D', balanceAfterFen: 4800, mac2Verified: true });
    report.tapsStored += 1;
  } catch (error) {
    report.firstFailure = { operation, ...summary(error) };
  }
}
report.alertsWhenFull = [...screen.alerts.keys()];

try {
  store.markInDoubt(torn);
} catch (error) {
  report.markInDoubtError = summary(error);
}

rmSync(filler);
report.foundAfterFreeing = store.findOpenInDoubt(TORN_ASN)?.sequence;
store.close();
process.stdout.write(`${JSON.stringify(report)}\n`);
