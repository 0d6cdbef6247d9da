import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WalIndexFullDiskReport } from './wal-index-full-disk-child.js';
import { type BundledChild, bundleChild, runInTmpfs, tmpfsUnavailableReason } from './tmpfs-namespace.js';

/** Size of the tmpfs: the 20 MiB WAL reservation and a little room for the database file. */
const TMPFS_KIB = 24 * 1024;
const unavailable = tmpfsUnavailableReason();

describe.skipIf(unavailable !== undefined)('terminal outbox when the WAL index cannot grow', () => {
  let child: BundledChild;

  beforeAll(async () => {
    child = await bundleChild(fileURLToPath(new URL('./wal-index-full-disk-child.ts', import.meta.url)));
  });

  afterAll(() => child?.dispose());

  it('treats a full WAL index as a full disk', async () => {
    const mountPoint = join(child.directory, 'disk');
    mkdirSync(mountPoint);
    const run = await runInTmpfs<WalIndexFullDiskReport>(child.script, mountPoint, TMPFS_KIB, [], 60);
    if (run.exitCode !== 0 || run.report === undefined) throw new Error(`WAL-index child exited with ${run.exitCode ?? run.signal}:\n${run.stderr}`);
    const report = run.report;

    // The commit that needs a new region of the -shm file fails, and the guard calls it a full disk.
    expect(report.tapsStored).toBeGreaterThan(100);
    expect(report.firstFailure).toMatchObject({ name: 'TransactionStoreError', code: 'storage-full' });
    expect(report.alertsWhenFull).toContain('storage-full');

    // The in-doubt mark is kept for a retry, so the card's next tap finds the record once space returns.
    expect(report.markInDoubtError).toMatchObject({ name: 'TransactionStoreError', code: 'storage-full' });
    expect(report.foundAfterFreeing).toBe(1);
  });
});
