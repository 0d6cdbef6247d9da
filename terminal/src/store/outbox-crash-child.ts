/**
 * Child process of the crash test (outbox-crash.test.ts): runs a fixed script of outbox steps on
 * the file in argv[2] and kills itself with SIGKILL right after step number argv[3]. Each finished
 * step is written to stdout as one JSON line before the next step starts. Node writes to a pipe
 * synchronously on Linux, so every line printed reaches the parent.
 */
import { SqliteTransactionStore } from './sqlite-transaction-store.js';
import { sampleLock, samplePurchase } from './transaction-fixtures.js';

export interface CrashStep {
  step: number;
  action: 'appended' | 'debited' | 'told' | 'in-doubt' | 'resolved' | 'locked' | 'acknowledged' | 'pruned' | 'checkpointed';
  sequence?: number;
  serial?: number;
}

const [, , path, killAfterText] = process.argv;
const killAfter = Number(killAfterText);
let step = 0;

function done(entry: Omit<CrashStep, 'step'>): void {
  step += 1;
  process.stdout.write(`${JSON.stringify({ step, ...entry })}\n`);
  if (step === killAfter) process.kill(process.pid, 'SIGKILL');
}

const store = SqliteTransactionStore.open(path!, { walReserveBytes: 64 * 1024 });
for (let serial = 1; serial <= 4; serial += 1) {
  const asn = `31040000000000${String(serial).padStart(2, '0')}`;
  const sequence = store.appendPending(samplePurchase(asn, undefined, serial));
  done({ action: 'appended', sequence, serial });
  if (serial === 3) {
    // The card did not respond to DEBIT.
    store.markInDoubt(sequence);
    done({ action: 'in-doubt', sequence, serial });
    continue;
  }
  const tac = `A1B2C3${String(serial).padStart(2, '0')}`;
  store.recordDebit(sequence, { tac, balanceAfterFen: 4800 });
  done({ action: 'debited', sequence, serial });
  store.complete(sequence, { tac, balanceAfterFen: 4800, mac2Verified: true });
  done({ action: 'told', sequence, serial });
}
const inDoubt = store.findOpenInDoubt('3104000000000003');
const resolution = store.appendResolution(inDoubt!.sequence, 'not-debited', { occurredAt: '2026-01-05T08:10:00+08:00' });
done({ action: 'resolved', sequence: resolution.sequence });
const lock = store.appendLock(sampleLock());
done({ action: 'locked', sequence: lock.sequence });
store.acknowledge(3);
done({ action: 'acknowledged', sequence: 3 });
store.pruneAcknowledged(new Date('2030-01-01T00:00:00Z'));
done({ action: 'pruned' });
store.maintainWhileIdle();
store.acknowledge(store.lastSequence());
done({ action: 'acknowledged', sequence: store.lastSequence() });
store.pruneAcknowledged(new Date('2030-01-01T00:00:00Z'));
done({ action: 'pruned' });
store.close();
done({ action: 'checkpointed' });
