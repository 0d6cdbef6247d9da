import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confirmAllAnswer } from '@busfare/backoffice';
import { ManualClock, type TapOutcome } from '@busfare/terminal';
import { SeededRandom } from '../cards/seeded-random.js';
import type { PopulationDevice } from '../cards/population.js';
import { createLogger } from '../logger.js';
import { BenchCity, waitFor } from './bench-city.js';
import type { BenchBus } from './bench-bus.js';
import { representInDoubtCards } from './bench-drain.js';
import type { TapRecordOutcome } from './bench-report.js';
import { CardPool } from './card-pool.js';
import { cityLedgerReport } from './city-report.js';
import { type DaysBenchReport, type SettledDaySummary, settlementMismatch } from './days-report.js';
import { SERVICE_END_HOUR, SERVICE_START_HOUR, hourWeights, localDateBefore, localInstant, nextDate } from './days-schedule.js';
import type { TearPlan } from './rider-flow.js';

/** China Standard Time, the bench back office's default business-day offset. */
const OFFSET_MINUTES = 480;
/** Wall time a simulated day may take (3 minutes) before the run logs a warning. */
const DAY_WALL_LIMIT_S = 180;
const DRAIN_TIMEOUT_MS = 60_000;
const PURCHASE_APDUS = 4;

export interface DaysBenchSettings {
  days: number;
  tapsPerBusPerDay: number;
  reportPath?: string;
  buses: number;
  cards: number;
  tearShare: number;
  seed: number;
  mqttPort: number;
  httpPort: number;
  dataDir?: string;
}

/**
 * Runs several simulated business days on a simulated clock. Each day the riders board through
 * the service hours, the backlogs drain, in-doubt cards are presented again, out-of-town records
 * are forwarded and confirmed by a simulated partner, and the back office settles the day. The
 * days lie in the past (ending yesterday), so each has ended when it is settled. When there are
 * two days or more, the last bus loses its link at the first day's final service hour. Whatever
 * it has not uploaded by then reaches the back office after that day is settled, so it lands in
 * the next day as late.
 * Returns the process exit code.
 */
export async function runDaysBench(settings: DaysBenchSettings): Promise<number> {
  const started = Date.now();
  const createdDataDir = settings.dataDir === undefined;
  const dataDir = settings.dataDir ?? mkdtempSync(join(tmpdir(), 'busfare-bench-'));
  const logFile = join(dataDir, 'bench.log');
  const logger = createLogger('busfare-bench', undefined, { file: logFile, consoleLevel: 'error' });
  const firstDay = localDateBefore(new Date(), settings.days, OFFSET_MINUTES);
  const clock = new ManualClock(localInstant(firstDay, SERVICE_START_HOUR, OFFSET_MINUTES));
  const city = new BenchCity({
    buses: settings.buses,
    cards: settings.cards,
    seed: settings.seed,
    mqttPort: settings.mqttPort,
    httpPort: settings.httpPort,
    dataDir,
    logger,
    gps: false,
    clock,
    fareTableEffectiveFrom: localInstant(firstDay, 0, OFFSET_MINUTES).toISOString(),
  });
  const taps: TapRecordOutcome[] = [];
  const summaries: SettledDaySummary[] = [];
  let settledAmountFen = 0;
  let offline: BenchBus | undefined;
  let cityStarted = false;

  try {
    await city.start();
    cityStarted = true;
    process.stderr.write(`控制台（运行期间） Console (while running): ${city.office.consoleUrl}ops\n数据目录 Data: ${city.dataDir}\n日志 Log: ${logFile}\n`);
    const random = new SeededRandom(settings.seed);
    const pool = new CardPool<PopulationDevice>(city.cards.map((entry) => entry.card));

    let day = firstDay;
    for (let index = 0; index < settings.days; index += 1, day = nextDate(day)) {
      const started = Date.now();
      const dayTaps: TapRecordOutcome[] = [];
      clock.setWall(localInstant(day, SERVICE_START_HOUR, OFFSET_MINUTES));
      if (offline) {
        offline.uplink.start();
        offline = undefined;
      }
      const linkLoss = index === 0 && settings.days >= 2 ? city.buses.at(-1) : undefined;
      await rideDay(city.buses, pool, clock, random, settings, dayTaps, linkLoss);
      offline = linkLoss;

      clock.setWall(localInstant(day, SERVICE_END_HOUR, OFFSET_MINUTES));
      await Promise.all(city.buses.map((bus) => bus.runtime.idle()));
      dayTaps.push(...(await representInDoubtCards(city)));
      const online = city.buses.filter((bus) => bus !== offline);
      for (const bus of online) bus.uplink.notify();
      await waitFor(() => online.every((bus) => bus.store.backlog() === 0), DRAIN_TIMEOUT_MS, 'every online terminal backlog to drain');
      taps.push(...dayTaps);

      const clearing = city.office.clearing;
      const files = clearing.forwardingFiles(day, 'bench');
      for (const file of files) clearing.importVerdicts(confirmAllAnswer(file, clearing.cityCode, day), 'bench');
      const report = clearing.settlement.settle(day, 'bench');
      settledAmountFen += report.totals.amountFen;
      const findings: Record<string, number> = {};
      for (const finding of clearing.reconcile(day).findings) findings[finding.kind] = (findings[finding.kind] ?? 0) + 1;

      const wallSeconds = Math.round((Date.now() - started) / 100) / 10;
      summaries.push({
        businessDay: day,
        tapsAttempted: dayTaps.length,
        settledCount: report.totals.count,
        settledAmountFen: report.totals.amountFen,
        lateCount: report.late.count,
        awaitingIssuerCount: report.awaitingIssuer.count,
        forwardedFiles: files.length,
        reconciliationFindings: findings,
        wallSeconds,
      });
      process.stderr.write(`业务日 day ${day}: 刷卡 taps ${dayTaps.length}, 结算 settled ${report.totals.count} / ¥${(report.totals.amountFen / 100).toFixed(2)}, ${wallSeconds}s\n`);
      if (wallSeconds > DAY_WALL_LIMIT_S) logger.warn({ day, wallSeconds }, 'a simulated day took longer than 3 minutes of wall time');
    }

    const ledger = cityLedgerReport(city, taps);
    const clearedFen = city.office.repository.clearedLedger().reduce((sum, row) => sum + row.amountFen, 0);
    const report: DaysBenchReport = {
      ...ledger,
      settledDays: summaries.length,
      settlementMismatch: settlementMismatch(settledAmountFen, clearedFen, city.cardBalanceDecreaseFen()),
      settledAmountFen,
      maxDayWallSeconds: Math.max(0, ...summaries.map((summary) => summary.wallSeconds)),
      durationS: Math.round((Date.now() - started) / 100) / 10,
      buses: city.buses.length,
      seed: settings.seed,
      days: summaries,
    };
    if (settings.reportPath) writeFileSync(settings.reportPath, `${JSON.stringify(report, null, 2)}\n`);
    // The console closes with the run. The data folder stays, so the back office can serve it again.
    process.stderr.write(`查看已结算的业务日 Browse the settled days: npx --no-install busfare-backoffice serve --db ${join(dataDir, 'backoffice.db')} --mqtt-port 0 --http-port 0 (运营控制台 /ops: admin; 密码 password: ${join(dataDir, 'backoffice.db.admin-password')})\n`);
    process.stderr.write(
      `台架报告 bench report: settledDays ${report.settledDays}, settlementMismatch ${report.settlementMismatch}, lost ${report.lost}, duplicates ${report.duplicates}, cardLedgerMismatch ${report.cardLedgerMismatch}, inDoubtOpen ${report.inDoubtOpen}\n`,
    );
    const healthy =
      report.settlementMismatch === 0 && report.lost === 0 && report.duplicates === 0 && report.cardLedgerMismatch === 0 && report.inDoubtOpen === 0 && report.settledDays === settings.days;
    if (!healthy) logger.error({ report }, 'bench invariants violated');
    return healthy ? 0 : 1;
  } finally {
    await city.stop();
    logger.flush();
    // As in runBench: after a failed start, a folder the bench made contains nothing worth keeping.
    if (!cityStarted && createdDataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Boards riders through one day's service hours, moving the simulated clock between taps. The
 * `linkLoss` bus stops its uplink for the final hour.
 */
async function rideDay(
  buses: readonly BenchBus[],
  pool: CardPool<PopulationDevice>,
  clock: ManualClock,
  random: SeededRandom,
  settings: DaysBenchSettings,
  taps: TapRecordOutcome[],
  linkLoss?: BenchBus,
): Promise<void> {
  const weights = hourWeights();
  const perHourMean = settings.tapsPerBusPerDay / weights.length;
  for (const [hourIndex, weight] of weights.entries()) {
    if (linkLoss && hourIndex === weights.length - 1) await linkLoss.uplink.stop();
    const boardings = Math.max(1, Math.round(perHourMean * weight)) * buses.length;
    const gapMs = Math.floor(3_600_000 / boardings);
    for (let index = 0; index < boardings; index += 1) {
      clock.advance(gapMs);
      const bus = buses[index % buses.length] as BenchBus;
      const card = pool.borrow(random);
      if (card === undefined) continue;
      try {
        const tear = random.next() < settings.tearShare ? tearPlan(random) : undefined;
        const outcome = await bus.tap(card, tear);
        taps.push({ terminalId: bus.terminalId, outcome });
        if (askedToTapAgain(outcome)) {
          clock.advance(1_000);
          taps.push({ terminalId: bus.terminalId, outcome: await bus.tap(card) });
        }
      } finally {
        pool.release(card);
      }
    }
  }
}

function askedToTapAgain(outcome: TapOutcome): boolean {
  return outcome.promptId === 'tap-again' || outcome.promptId === 'card-read-error';
}

function tearPlan(random: SeededRandom): TearPlan {
  return { apduIndex: random.integer(0, PURCHASE_APDUS - 1), phase: random.next() < 0.5 ? 'before-card' : 'after-card' };
}
