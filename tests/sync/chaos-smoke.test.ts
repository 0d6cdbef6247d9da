import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChaos } from '@busfare/simulators';
import { afterEach, describe, expect, it } from 'vitest';

let directory: string | undefined;

afterEach(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = undefined;
});

// Spawns `busfare-terminal run` processes from the terminal workspace's built dist/ (npm ci builds
// it); BUSFARE_TERMINAL_BIN points at another build.
describe('chaos bench', () => {
  it('loses and doubles nothing in a short run', async () => {
    directory = mkdtempSync(join(tmpdir(), 'busfare-chaos-test-'));
    const reportPath = join(directory, 'report.json');
    const exitCode = await runChaos({ durationS: 10, buses: 2, cards: 80, rate: 2, seed: 17, dataDir: join(directory, 'data'), reportPath });
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as Record<string, number>;

    expect(exitCode).toBe(0);
    expect(report.tapsAccepted).toBeGreaterThan(0);
    expect(report.terminalKills).toBeGreaterThan(0);
    expect(report.brokerRestarts).toBeGreaterThan(0);
    expect(report.linkCuts).toBeGreaterThan(0);
    expect(report.lost).toBe(0);
    expect(report.duplicates).toBe(0);
    expect(report.cardLedgerMismatch).toBe(0);
    expect(report.inDoubtOpen).toBe(0);
  }, 180_000);
});
