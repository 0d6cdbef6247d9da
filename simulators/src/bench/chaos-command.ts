import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TerminalCredentialStore, terminalAccessHooks } from '@busfare/backoffice';
import { generateParameterSigningKeys } from '@busfare/shared-protocol';
import { type Logger, type TapOutcome, readOutboxSnapshot } from '@busfare/terminal';
import type { ApduCard } from '../cards/apdu-card.js';
import { cardDebitsOf, cardNumbersOf } from '../cards/population.js';
import { SeededRandom } from '../cards/seeded-random.js';
import { createLogger } from '../logger.js';
import { BenchCity, waitFor } from './bench-city.js';
import { type BenchReport, type TapRecordOutcome, computeLedgerReport } from './bench-report.js';
import { CardPool } from './card-pool.js';
import { ChaosBus } from './chaos-bus.js';
import { DuplicateDelivery, FaultSchedule, RestartableBroker, sleep } from './chaos-faults.js';
import { RiderFlow } from './rider-flow.js';
import { DRAINING_LINE } from './run-console.js';
import { reportPathProblem } from './report-path.js';

export const CHAOS_USAGE = `Usage: busfare-bench chaos [--duration SECONDS] [--report FILE] [options]

Runs a fleet of terminal processes (busfare-terminal run) against the back office under faults:
kill -9 of terminals (half of them right after the card processed DEBIT), restarts with clock
jumps, broker and back-office restarts, link cuts, stalls and slowdowns through a TCP proxy per
bus, and duplicated deliveries. The virtual cards and PSAMs stay in this process, behind
socket-attached readers. Then it drains every backlog, presents every card with an open in-doubt
record once more and checks that every fare reached clearing exactly once.

Options:
  --duration SECONDS   Length of the fault phase (default 120)
  --report FILE        Write the report (JSON) to FILE; without it the report goes to stdout
  --buses N            Terminal processes (default 4)
  --cards N            Virtual cards (default 300)
  --rate PER_SECOND    Mean boardings per second at each bus (default 2)
  --seed N             Seed of cards, riders and faults (default 2026)
  --data-dir DIR       Folder for databases, sockets, configs and chaos.log, the structured log
                       (default: a new temporary folder, kept after the run for inspection)
  -h, --help           Show this help

Exit status: 0 when nothing was lost, doubled or left open; 1 otherwise; 2 on invalid arguments.
`;

export interface ChaosSettings {
  durationS: number;
  reportPath?: string;
  buses: number;
  cards: number;
  rate: number;
  seed: number;
  dataDir?: string;
}

export class ChaosUsageError extends Error {
  override name = 'ChaosUsageError';
}

export function parseChaosArgs(args: string[]): ChaosSettings | 'help' {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: 'string' },
      report: { type: 'string' },
      buses: { type: 'string' },
      cards: { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const reportProblem = values.report === undefined ? undefined : reportPathProblem(values.report);
  if (reportProblem !== undefined) throw new ChaosUsageError(reportProblem);
  const number = (flag: string, text: string | undefined, fallback: number, min: number): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new ChaosUsageError(`invalid --${flag} "${text}": expected a number of at least ${min}`);
    return value;
  };
  return {
    durationS: number('duration', values.duration, 120, 5),
    reportPath: values.report,
    buses: Math.trunc(number('buses', values.buses, 4, 1)),
    cards: Math.trunc(number('cards', values.cards, 300, 10)),
    rate: number('rate', values.rate, 2, 0.05),
    seed: Math.trunc(number('seed', values.seed, 2026, 0)),
    dataDir: values['data-dir'],
  };
}

const DRAIN_TIMEOUT_MS = 120_000;
const PROGRESS_INTERVAL_MS = 10_000;

function progressLine(started: number, taps: number, counters: { terminalKills: number; brokerRestarts: number; linkCuts: number; officeRestarts: number }): string {
  const seconds = Math.round((Date.now() - started) / 1000);
  return `[${seconds}s] 刷卡 taps ${taps}  终端强杀 kills ${counters.terminalKills}  服务器重启 broker restarts ${counters.brokerRestarts}  断链 link cuts ${counters.linkCuts}  后台重启 office restarts ${counters.officeRestarts}`;
}

function resultLine(report: BenchReport): string {
  return (
    `chaos report 故障测试报告: terminalKills ${report.terminalKills}, brokerRestarts ${report.brokerRestarts}, linkCuts ${report.linkCuts}, ` +
    `tapsAccepted ${report.tapsAccepted}, recordsCleared ${report.recordsCleared}, lost ${report.lost}, duplicates ${report.duplicates}, ` +
    `cardLedgerMismatch ${report.cardLedgerMismatch}, inDoubtOpen ${report.inDoubtOpen}, durationS ${report.durationS}`
  );
}

/** Runs `busfare-bench chaos`; returns the exit code. */
export async function runChaos(settings: ChaosSettings): Promise<number> {
  const started = Date.now();
  const dataDir = settings.dataDir ?? mkdtempSync(join(tmpdir(), 'busfare-chaos-'));
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(dataDir, 'chaos.log');
  // Every fault logs warnings and errors on purpose (refused connections, killed processes), so
  // the log goes to the file and stderr keeps the progress and result lines.
  const logger = createLogger('bench-chaos', undefined, { file: logFile, consoleLevel: 'fatal' });
  process.stderr.write(`数据目录 Data: ${dataDir}\n日志 Log: ${logFile}\n`);
  const random = new SeededRandom(settings.seed);
  const service = { username: 'busfare-backoffice', password: randomBytes(24).toString('base64url') };
  const duplicatesLogin = { username: 'chaos-duplicates', password: randomBytes(24).toString('base64url') };
  const credentials = new TerminalCredentialStore(join(dataDir, 'backoffice.db'));
  const broker = new RestartableBroker(
    terminalAccessHooks({ credentials, services: [{ username: service.username, secret: service.password }, { username: duplicatesLogin.username, secret: duplicatesLogin.password }], logger }),
    logger,
  );
  await broker.start();
  const parameterKeys = generateParameterSigningKeys();
  const city = new BenchCity({
    buses: 0,
    cards: settings.cards,
    seed: settings.seed,
    mqttPort: 0,
    httpPort: 0,
    dataDir,
    logger,
    gps: false,
    externalBrokerUrl: broker.url,
    externalBrokerLogin: service,
    parameterSigningKey: parameterKeys.privateKey,
    // Terminals whose clock jumps back by minutes must still find the fare table in force.
    fareTableEffectiveFrom: new Date(Date.now() - 24 * 3600_000).toISOString(),
  });
  const buses: ChaosBus[] = [];
  const duplicates = new DuplicateDelivery(broker.url, duplicatesLogin);
  const taps: TapRecordOutcome[] = [];
  try {
    await city.start();
    const publicKeyFile = join(dataDir, 'parameter-signing.pub.pem');
    writeFileSync(publicKeyFile, parameterKeys.publicKey.export({ type: 'spki', format: 'pem' }));
    for (let index = 0; index < settings.buses; index += 1) {
      const terminalId = `C${String(index + 1).padStart(3, '0')}`;
      const password = await credentials.add(terminalId, { replace: true });
      const bus = new ChaosBus({ index, dataDir, brokerPort: broker.port, password, parameterPublicKeyFile: publicKeyFile, logger, cardLatencyMs: 2, psamLatencyMs: 2 });
      buses.push(bus);
      await bus.start();
    }
    await waitFor(() => buses.every((bus) => bus.host.connected), 30_000, 'every terminal process to attach to its reader');
    await duplicates.start();
    logger.info({ buses: buses.length, dataDir }, 'chaos bench started');

    // Cards with an open in-doubt record stay with their rider until the final presentation,
    // because the transaction proof settles only the card's last transaction.
    const held = new Set<ApduCard>();
    const pool = new HoldingPool(city.cards.map((entry) => entry.card as ApduCard), held);
    const flows = buses.map(
      (bus) =>
        new RiderFlow<ApduCard>(
          {
            terminalId: bus.terminalId,
            tap: async (card, tear) => {
              const outcome = await bus.tap(card, tear);
              if (outcome.status === 'in-doubt') held.add(card);
              else if (outcome.status === 'accepted' || outcome.status === 'recovered') held.delete(card);
              return outcome;
            },
          },
          pool,
          {
            ratePerSecond: settings.rate,
            tearProbability: 0.03,
            retapProbability: 0.8,
            purchaseApdus: 4,
            random: new SeededRandom(settings.seed + 1 + buses.indexOf(bus)),
            onTap: (terminalId, outcome) => taps.push({ terminalId, outcome }),
          },
        ),
    );
    for (const flow of flows) flow.start();

    const schedule = new FaultSchedule({ durationMs: settings.durationS * 1000, buses, broker, duplicates, restartOffice: () => city.restartOffice(), random, logger });
    const progress = setInterval(() => process.stderr.write(`${progressLine(started, taps.length, schedule.counters)}\n`), PROGRESS_INTERVAL_MS);
    try {
      await schedule.run();
    } finally {
      clearInterval(progress);
    }
    process.stderr.write(`${DRAINING_LINE}\n`);
    for (const flow of flows) await flow.stop();
    logger.info({ ...schedule.counters, taps: taps.length }, 'fault phase over, settling and draining');

    await waitFor(() => buses.every((bus) => bus.host.connected), 30_000, 'every terminal process to attach to its reader');
    taps.push(...(await presentInDoubtCards(buses, city, logger)));
    await waitFor(() => buses.every((bus) => readOutboxSnapshot(bus.outboxPath).backlog === 0), DRAIN_TIMEOUT_MS, 'every terminal backlog to drain');

    const snapshots = buses.map((bus) => readOutboxSnapshot(bus.outboxPath));
    const summary = city.office.summary();
    const ledger = computeLedgerReport({
      taps,
      cleared: city.office.repository.clearedLedger(),
      cardDebits: city.cards.flatMap((entry) => cardDebitsOf(entry.card)),
      cardBalanceDecreaseFen: city.cardBalanceDecreaseFen(),
      recordsRejectedAtIngest: summary.recordsRejected,
      inDoubtOpen: Math.max(summary.inDoubtOpen, snapshots.reduce((sum, snapshot) => sum + snapshot.openInDoubt.length, 0)),
    });
    const report: BenchReport = {
      ...ledger,
      terminalKills: schedule.counters.terminalKills,
      brokerRestarts: schedule.counters.brokerRestarts,
      linkCuts: schedule.counters.linkCuts,
      killsAfterDebit: schedule.counters.debitKills,
      backOfficeRestarts: schedule.counters.officeRestarts,
      linkStalls: schedule.counters.linkStalls,
      linkSlowdowns: schedule.counters.linkSlowdowns,
      duplicateDeliveries: schedule.counters.duplicateDeliveries,
      clockJumps: schedule.counters.clockJumps,
      clockDriftFlagged: city.office.fleet.snapshot().filter((health) => health.clockDriftFlagged).map((health) => health.terminalId),
      reconciliation: city.office.reconcile().map(({ terminalId, state, outstanding, clearedRecords, clearedAmountFen }) => ({ terminalId, state, outstanding, clearedRecords, clearedAmountFen })),
      tapsByTerminal: Object.fromEntries(buses.map((bus) => [bus.terminalId, countStatuses(taps.filter((tap) => tap.terminalId === bus.terminalId))])),
      durationS: Math.round((Date.now() - started) / 100) / 10,
    };
    const text = `${JSON.stringify(report, null, 2)}\n`;
    if (settings.reportPath) writeFileSync(settings.reportPath, text);
    else process.stdout.write(text);
    process.stderr.write(`${resultLine(report)}\n`);
    const clean = report.lost === 0 && report.duplicates === 0 && report.cardLedgerMismatch === 0 && report.inDoubtOpen === 0;
    if (!clean) logger.error({ lost: report.lost, duplicates: report.duplicates, cardLedgerMismatch: report.cardLedgerMismatch, inDoubtOpen: report.inDoubtOpen }, 'chaos run found lost, doubled or open fares');
    return clean ? 0 : 1;
  } finally {
    await duplicates.stop();
    for (const bus of buses) {
      try {
        await bus.stop();
      } catch (error) {
        logger.error({ err: error, terminalId: bus.terminalId }, 'failed to stop a chaos bus');
      }
    }
    await city.stop();
    await broker.stop();
    credentials.close();
  }
}

/**
 * Presents every card with an open in-doubt record at the bus whose outbox contains the record,
 * in up to five rounds, as its rider would on the next trip. A killed terminal turned its
 * pending records into in-doubt records when it restarted.
 */
async function presentInDoubtCards(buses: readonly ChaosBus[], city: BenchCity, logger: Logger): Promise<TapRecordOutcome[]> {
  const cardsByAsn = new Map(city.cards.flatMap((entry) => cardNumbersOf(entry.card).map((asn) => [asn, entry.card as ApduCard] as const)));
  const outcomes: TapRecordOutcome[] = [];
  for (let round = 0; round < 5; round += 1) {
    let presented = 0;
    for (const bus of buses) {
      for (const open of readOutboxSnapshot(bus.outboxPath).openInDoubt) {
        // A terminal may still be starting (integrity check, salvage) after its last restart.
        await bus.host.waitConnected(15_000);
        const card = cardsByAsn.get(open.record.card.asn);
        if (!card) continue;
        const outcome: TapOutcome = await bus.tap(card);
        outcomes.push({ terminalId: bus.terminalId, outcome });
        if (outcome.status !== 'recovered' && outcome.status !== 'accepted') {
          logger.warn({ terminalId: bus.terminalId, sequence: open.sequence, asn: open.record.card.asn, status: outcome.status, reason: outcome.reason }, 'presenting an in-doubt card did not settle it');
        }
        presented += 1;
      }
    }
    if (presented === 0) break;
    await sleep(200);
  }
  return outcomes;
}

function countStatuses(taps: readonly TapRecordOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const tap of taps) counts[tap.outcome.status] = (counts[tap.outcome.status] ?? 0) + 1;
  return counts;
}

/** A card pool that keeps held cards out of circulation when their rider returns them. */
class HoldingPool extends CardPool<ApduCard> {
  constructor(
    cards: readonly ApduCard[],
    private readonly held: ReadonlySet<ApduCard>,
  ) {
    super(cards);
  }

  override release(card: ApduCard): void {
    if (this.held.has(card)) return;
    super.release(card);
  }
}
