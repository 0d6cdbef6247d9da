import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileCheck, OutboxFullDiskReport, TapSummary } from './outbox-full-disk-child.js';
import { type BundledChild, bundleChild, runInTmpfs, tmpfsUnavailableReason } from './tmpfs-namespace.js';

/** Size of the tmpfs: the outbox reserves 4 MiB for its WAL at open, and the rest is filled. */
const TMPFS_KIB = 6 * 1024;
const unavailable = tmpfsUnavailableReason();

/** Money records: purchases and resolutions that found the card debited. */
function moneyRows(check: FileCheck) {
  return check.rows.filter((row) => row.kind === 'purchase' || (row.kind === 'resolution' && row.outcome === 'debited'));
}

function sequencesOf(taps: readonly TapSummary[]): number[] {
  return taps.flatMap((tap) => (tap.sequence === undefined ? [] : [tap.sequence]));
}

/** Checks the outcome of a tap the outbox refused for want of space: no debit, and a prompt that does not ask for another tap. */
function expectRefusedForSpace(tap: TapSummary, spentFen: Map<string, number>, label: string): void {
  expect(tap.status, label).toBe('failed');
  expect(tap.promptId, label).toBe('terminal-fault');
  expect(tap.reason, label).toMatch(/outbox storage in .* is full/);
  expect(spentFen.get(tap.asn), label).toBe(0);
}

/** Checks an outbox file: intact, numbered without a gap, and every accepted tap stored once. */
function expectIntactOutbox(check: FileCheck, accepted: readonly TapSummary[]): void {
  expect(check.integrity).toEqual(['ok']);
  expect(check.rows.map((row) => row.sequence)).toEqual(Array.from({ length: check.lastSequence }, (_, index) => index + 1));
  const bySequence = new Map(check.rows.map((row) => [row.sequence, row]));
  for (const tap of accepted) {
    const row = bySequence.get(tap.sequence!);
    expect(row?.asn, `record ${tap.sequence}`).toBe(tap.asn);
    expect(row?.tac, `record ${tap.sequence}`).toMatch(/^[0-9A-F]{8}$/);
  }
  const debits = moneyRows(check).map((row) => `${row.asn}/${row.cardCounter}`);
  expect(new Set(debits).size).toBe(debits.length);
}

describe.skipIf(unavailable !== undefined)('terminal outbox on a full tmpfs', () => {
  let child: BundledChild;

  beforeAll(async () => {
    child = await bundleChild(fileURLToPath(new URL('./outbox-full-disk-child.ts', import.meta.url)));
  });

  afterAll(() => child?.dispose());

  async function runChild(mode: 'housekeeping' | 'taps-only'): Promise<OutboxFullDiskReport> {
    const mountPoint = join(child.directory, `disk-${mode}`);
    mkdirSync(mountPoint);
    const run = await runInTmpfs<OutboxFullDiskReport>(child.script, mountPoint, TMPFS_KIB, [mode], 60);
    if (run.exitCode !== 0 || run.report === undefined) throw new Error(`full-disk child exited with ${run.exitCode ?? run.signal}:\n${run.stderr}`);
    return run.report;
  }

  function expectNothingLostOrDoubled(report: OutboxFullDiskReport): void {
    const spentFen = new Map(report.cards.map((card) => [card.asn, card.spentFen]));

    // The disk ran out after some records, and the tap that found it full was refused before DEBIT.
    const accepted = report.untilFull.slice(0, -1);
    expect(accepted.length).toBeGreaterThan(10);
    expect(accepted.every((tap) => tap.status === 'accepted')).toBe(true);
    const firstRefused = report.untilFull.at(-1)!;
    expect(['failed', 'in-doubt']).toContain(firstRefused.status);
    if (firstRefused.status === 'failed') expectRefusedForSpace(firstRefused, spentFen, 'first refused tap');
    expect(report.alertsWhenFull).toContain('storage-full');
    for (const [index, tap] of report.whileFull.entries()) expectRefusedForSpace(tap, spentFen, `tap ${index + 1} while full`);
    expect(report.logs.map((line) => line.msg)).toContain('outbox storage is full, so new fares are refused');

    // Deleting the filler frees space: fares are taken again without a restart, numbered on.
    expect(report.afterFreeing.map((tap) => tap.status)).toEqual(Array(report.afterFreeing.length).fill('accepted'));
    expect(report.alertsAfterFreeing).not.toContain('storage-full');
    const resumedAt = report.afterFreeing[0]!.sequence!;
    expect(sequencesOf(report.afterFreeing)).toEqual(Array.from({ length: report.afterFreeing.length }, (_, index) => resumedAt + index));

    // A restart on the refilled disk opens the outbox as it was left: intact, every accepted record in it.
    const acceptedBeforeRestart = [...report.untilFull, ...report.afterFreeing, ...report.untilFullAgain].filter((tap) => tap.status === 'accepted');
    expect(report.reopenedWhileFull.error).toBeUndefined();
    expectIntactOutbox(report.reopenedWhileFull.check!, acceptedBeforeRestart);

    expect(report.afterFreeingAgain.map((tap) => tap.status)).toEqual(Array(report.afterFreeingAgain.length).fill('accepted'));

    // Closed and opened once more after every card left in doubt came back: each debit has
    // exactly one money record, and every fen taken from a card is recorded.
    const everyAccepted = [...acceptedBeforeRestart, ...report.afterRestartWhileFull, ...report.afterFreeingAgain].filter((tap) => tap.status === 'accepted');
    expectIntactOutbox(report.final, everyAccepted);
    expect(report.final.rows.filter((row) => row.state === 'pending')).toEqual([]);
    expect(report.final.rows.filter((row) => row.inDoubtOpen)).toEqual([]);
    const recordedFen = new Map<string, number>();
    for (const row of moneyRows(report.final)) recordedFen.set(row.asn, (recordedFen.get(row.asn) ?? 0) + (row.amountFen ?? 0));
    for (const card of report.cards) expect(recordedFen.get(card.asn) ?? 0, `card ${card.asn}`).toBe(card.spentFen);

    // No tap that debited a card ends with the status failed.
    const everyTap = [...report.untilFull, ...report.whileFull, ...report.afterFreeing, ...report.untilFullAgain, ...report.afterRestartWhileFull, ...report.afterFreeingAgain];
    for (const tap of everyTap.filter((candidate) => candidate.status === 'failed')) expect(spentFen.get(tap.asn), `failed tap of ${tap.asn}`).toBe(0);
  }

  it('refuses taps when a checkpoint cannot grow the file', async () => {
    const report = await runChild('housekeeping');
    expectNothingLostOrDoubled(report);
    expect(report.logs.some((line) => line.msg === 'outbox housekeeping between taps failed' && /disk is full/.test(line.err ?? ''))).toBe(true);
  });

  it('refuses taps when the WAL cannot grow', async () => {
    const report = await runChild('taps-only');
    expectNothingLostOrDoubled(report);
  });
});
