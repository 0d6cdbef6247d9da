import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestFullDiskReport } from './ingest-full-disk-child.js';
import { type BundledChild, bundleChild, runInTmpfs, tmpfsUnavailableReason } from './tmpfs-namespace.js';

/** Size of the tmpfs for the clearing database and the filler file. */
const TMPFS_KIB = 16 * 1024;
/** Records in the terminal's outbox, many more than fit in the space the filler file leaves. */
const OUTBOX_RECORDS = 1_000;
const unavailable = tmpfsUnavailableReason();

describe.skipIf(unavailable !== undefined)('back-office ingest on a full tmpfs', () => {
  let child: BundledChild;

  beforeAll(async () => {
    child = await bundleChild(fileURLToPath(new URL('./ingest-full-disk-child.ts', import.meta.url)));
  });

  afterAll(() => child?.dispose());

  it('acknowledges only stored batches', async () => {
    const mountPoint = join(child.directory, 'disk');
    const outboxDirectory = join(child.directory, 'outbox');
    mkdirSync(mountPoint);
    mkdirSync(outboxDirectory);
    const run = await runInTmpfs<IngestFullDiskReport>(child.script, mountPoint, TMPFS_KIB, [outboxDirectory, String(OUTBOX_RECORDS)], 90);
    if (run.exitCode !== 0 || run.report === undefined) throw new Error(`full-disk child exited with ${run.exitCode ?? run.signal}:\n${run.stderr}`);
    const report = run.report;

    // While the disk is full, commits fail with a logged error, and no acknowledgement covers a
    // record that is not stored, so the terminal keeps the rest and sends it again.
    const failedCommits = report.logs.filter((line) => line.msg === 'failed to store transaction batches');
    expect(failedCommits.length).toBeGreaterThan(0);
    expect(failedCommits[0]?.err).toMatch(/disk is full/);
    expect(report.acksAheadOfStorage).toEqual([]);
    expect(report.whileFull.terminalAckedThrough).toBeLessThan(OUTBOX_RECORDS);
    expect(report.whileFull.terminalAckedThrough).toBeLessThanOrEqual(report.whileFull.storedRecords);
    expect(report.whileFull.resends).toBeGreaterThan(0);

    // A back office restarted on the full disk starts, and its commits fail the same way.
    expect(report.restartWhileFull).toBeUndefined();
    expect(report.errorsAfterRestart).toBeGreaterThan(0);

    // Once the filler is deleted, the re-sent batches are stored once each and acknowledged.
    expect(report.afterFreeing.backlog).toBe(0);
    expect(report.afterFreeing.terminalAckedThrough).toBe(OUTBOX_RECORDS);
    expect(report.clearing.integrity).toEqual(['ok']);
    expect(report.clearing.sequences).toEqual(Array.from({ length: OUTBOX_RECORDS }, (_, index) => index + 1));
    expect(report.clearing.distinctSequences).toBe(OUTBOX_RECORDS);
    expect(report.clearing.rejected).toBe(0);
  });
});
