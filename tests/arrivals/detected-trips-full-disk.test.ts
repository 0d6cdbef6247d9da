import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundledChild, bundleChild, runInTmpfs, tmpfsUnavailableReason } from '../storage/tmpfs-namespace.js';
import type { DetectedTripsFullDiskReport } from './detected-trips-full-disk-child.js';

const TMPFS_KIB = 1024;
const unavailable = tmpfsUnavailableReason();

describe.skipIf(unavailable !== undefined)('detected-trip store on a full disk', () => {
  let child: BundledChild;

  beforeAll(async () => {
    child = await bundleChild(fileURLToPath(new URL('./detected-trips-full-disk-child.ts', import.meta.url)));
  });

  afterAll(() => child?.dispose());

  it('keeps predicting and stores again once space returns', async () => {
    const mountPoint = join(child.directory, 'disk');
    mkdirSync(mountPoint);
    const run = await runInTmpfs<DetectedTripsFullDiskReport>(child.script, mountPoint, TMPFS_KIB, [], 60);
    if (run.exitCode !== 0 || run.report === undefined) throw new Error(`full-disk child exited with ${run.exitCode ?? run.signal}:\n${run.stderr}`);
    const report = run.report;

    expect(report.datesBefore).toEqual(['2026-03-02']);
    for (const vehicles of report.predictedWhileFull) expect(vehicles).toBeGreaterThan(0);
    // Two refreshes fail to store within the hour, so one warning names the full disk.
    expect(report.warnings, JSON.stringify(report.warnings)).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/^detected stop times not stored.*(full|disk)/i);
    // The stop times of the full refreshes are lost; the later ones of that day are stored.
    expect(report.datesAfter).toEqual(['2026-03-02', '2026-03-03', '2026-03-04']);
    expect(report.learnedDates).toEqual(['2026-03-02', '2026-03-03']);
  });
});
