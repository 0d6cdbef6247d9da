import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { TransactionRecord } from '@busfare/shared-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrashStep } from './outbox-crash-child.js';
import { SqliteTransactionStore } from './sqlite-transaction-store.js';
import { samplePurchase } from './transaction-fixtures.js';

/** Steps the child script runs when it is not killed. */
const STEP_COUNT = 18;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface ChildRun {
  steps: CrashStep[];
  signal: NodeJS.Signals | null;
}

describe('outbox killed with SIGKILL', () => {
  let dir: string;
  let child: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-crash-'));
    child = join(dir, 'outbox-crash-child.cjs');
    await build({
      entryPoints: [fileURLToPath(new URL('./outbox-crash-child.ts', import.meta.url))],
      outfile: child,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['better-sqlite3'],
      alias: { '@busfare/shared-protocol': join(ROOT, 'shared-protocol/src/index.ts') },
      logLevel: 'silent',
    });
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function runChild(path: string, killAfter: number): ChildRun {
    const result = spawnSync(process.execPath, [child, path, String(killAfter)], {
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
    });
    if (result.error) throw result.error;
    if (result.signal === null && result.status !== 0) throw new Error(`crash child failed with status ${result.status}: ${result.stderr}`);
    const steps = result.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as CrashStep);
    return { steps, signal: result.signal };
  }

  it('runs the whole script without a kill', () => {
    const run = runChild(join(dir, 'complete.db'), 0);
    expect(run.signal).toBeNull();
    expect(run.steps.length).toBe(STEP_COUNT);
  });

  for (let killAfter = 1; killAfter < STEP_COUNT; killAfter += 1) {
    it(`keeps every record after a kill at step ${killAfter}`, () => {
      const path = join(dir, `killed-${killAfter}.db`);
      const run = runChild(path, killAfter);
      expect(run.signal).toBe('SIGKILL');
      expect(run.steps.length).toBe(killAfter);

      const store = SqliteTransactionStore.open(path, { walReserveBytes: 0 });
      try {
        store.recoverPending();
        const printed = run.steps.filter((step) => step.sequence !== undefined);
        const highestPrinted = Math.max(0, ...printed.map((step) => step.sequence!));
        const ackedPrinted = Math.max(0, ...run.steps.filter((step) => step.action === 'acknowledged').map((step) => step.sequence!));
        const prunedAfterAck = run.steps.some((step) => step.action === 'pruned');

        expect(store.lastSequence()).toBeGreaterThanOrEqual(highestPrinted);
        expect(store.ackedThrough()).toBe(ackedPrinted);

        const records: TransactionRecord[] = [];
        for (let sequence = 1; sequence <= store.lastSequence(); sequence += 1) {
          const stored = store.get(sequence);
          if (stored === undefined) {
            // Only an acknowledged record may be gone, and only once pruning ran.
            expect(prunedAfterAck, `record ${sequence} is missing before any prune`).toBe(true);
            expect(sequence, `unacknowledged record ${sequence} is missing`).toBeLessThanOrEqual(store.ackedThrough());
            continue;
          }
          expect(stored.state, `record ${sequence} is still pending`).toBe('ready');
          if (stored.record.kind !== 'lock') records.push(stored.record);
        }

        for (const step of run.steps) {
          if (step.serial === undefined || store.get(step.sequence!) === undefined) continue;
          const record = store.get(step.sequence!)!.record as TransactionRecord;
          const debited = run.steps.some((other) => other.serial === step.serial && other.action === 'debited');
          // A debit whose TAC was stored is a purchase; any other attempt stays in doubt.
          expect(record.kind, `record ${step.sequence}`).toBe(debited ? 'purchase' : 'in-doubt');
        }
        for (const record of records.filter((candidate) => candidate.kind === 'purchase')) {
          expect(record.debit.tac, `purchase ${record.sequence} has no TAC`).toBeDefined();
          expect(run.steps.some((step) => step.sequence === record.sequence && step.action === 'debited'), `purchase ${record.sequence} was never debited`).toBe(true);
        }
        const serials = records.filter((record) => record.kind === 'purchase').map((record) => record.debit.terminalSerial);
        expect(new Set(serials).size, 'a debit is stored twice').toBe(serials.length);

        expect(store.appendPending(samplePurchase('3104000000000099'))).toBeGreaterThan(highestPrinted);
      } finally {
        store.close();
      }
    });
  }
});
