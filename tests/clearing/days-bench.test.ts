import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type DaysBenchReport, runDaysBench } from '@busfare/simulators';

describe('multi-day bench', () => {
  let dir: string | undefined;
  afterEach(() => {
    vi.restoreAllMocks();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('settles every simulated day without mismatch', { timeout: 240_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-days-'));
    const reportPath = join(dir, 'report.json');
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
    const code = await runDaysBench({
      days: 2,
      tapsPerBusPerDay: 48,
      buses: 2,
      cards: 80,
      tearShare: 0.05,
      seed: 7,
      mqttPort: 0,
      httpPort: 0,
      dataDir: dir,
      reportPath,
    });
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as DaysBenchReport;
    expect(report.settledDays).toBe(2);
    expect(report.settlementMismatch).toBe(0);
    expect(report.lost).toBe(0);
    expect(report.duplicates).toBe(0);
    expect(report.inDoubtOpen).toBe(0);
    expect(report.days.every((day) => day.settledCount > 0)).toBe(true);
    // A clean bench day leaves nothing to reconcile but cards whose counters moved elsewhere.
    for (const day of report.days) {
      expect(Object.keys(day.reconciliationFindings).filter((kind) => kind !== 'card-counter-gap')).toEqual([]);
    }
    expect(report.days.map((day) => day.businessDay)[1]).not.toBe(report.days[0]?.businessDay);
    // The last bus lost its link for the first day's final hour, so those records settle late.
    expect(report.days[1]?.lateCount).toBeGreaterThan(0);
    expect(code).toBe(0);
    // The console closes with the run, so the last lines give the command that serves the kept database again.
    expect(stderr.join('')).toContain(`Browse the settled days: npx --no-install busfare-backoffice serve --db ${join(dir, 'backoffice.db')} --mqtt-port 0 --http-port 0 (运营控制台 /ops: admin; 密码 password: ${join(dir, 'backoffice.db.admin-password')})\n`);
  });
});
