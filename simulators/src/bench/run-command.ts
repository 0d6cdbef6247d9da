import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DRIVER_SCREEN_PORT } from '@busfare/terminal';
import { createLogger } from '../logger.js';
import { SeededRandom } from '../cards/seeded-random.js';
import type { CardMix, PopulationDevice } from '../cards/population.js';
import { CardPool } from './card-pool.js';
import { BenchCity } from './bench-city.js';
import { drainBacklogs, representInDoubtCards } from './bench-drain.js';
import type { BenchReport, TapRecordOutcome } from './bench-report.js';
import { DRAINING_LINE, addressLines, cityProgress, reportLine, summaryLine } from './run-console.js';
import { cityLedgerReport } from './city-report.js';
import { runDaysBench } from './days-runner.js';
import { RiderFlow } from './rider-flow.js';
import { reportPathProblem } from './report-path.js';

export const RUN_USAGE = `Usage: busfare-bench run [options]

Runs the bench: the back office with its embedded MQTT broker and console, a fleet of buses
with their own terminals, riders and GPS replayed from real recordings, all in this process.
Stops on Ctrl-C or after --duration, drains every backlog, settles in-doubt taps and checks
that every fare reached clearing exactly once.

Options:
  --duration SECONDS     Stop the riders after this many seconds, counted from when the buses
                         start (default: run until Ctrl-C). The start-up before it, and settling
                         in-doubt taps and draining the backlogs after it (at most 60 s), add to
                         the run's wall time
  --report FILE          Write the bench report (JSON) to FILE when the run ends
  --buses N              Number of buses (default 3)
  --cards N              Number of virtual cards in the city (default 400)
  --rate PER_SECOND      Mean boardings per second at each bus (default 0.6, a peak hour)
  --tear-share SHARE     Share of taps in which the rider pulls the card away (default 0.02)
  --seed N               Seed of the card population and the riders (default 2026)
  --mqtt-port PORT       Port of the embedded broker (default 1883; 0 picks a free port)
  --http-port PORT       Port of the operator console (default 8080; 0 picks a free port)
  --screen-port PORT     Port of the first bus's driver page; the other buses take the next
                         ports (default 8091; 0 picks free ports)
  --port 0               Pick free ports for the broker, the console and the driver pages
  --data-dir DIR         Folder for the SQLite files and bench.log, the structured log; stderr
                         shows only its error entries, and warnings stay in bench.log (default:
                         a new temporary folder, kept after the run for inspection)
  --no-gps               Do not replay GPS recordings
  --days N               Run N simulated business days on a simulated clock, settling each one;
                         the report adds settledDays and settlementMismatch
  --taps-per-day N       With --days: boardings per bus and day (default 300)
  -h, --help             Show this help
`;

const SUMMARY_INTERVAL_MS = 5_000;
const DRAIN_TIMEOUT_MS = 60_000;

export interface RunSettings {
  durationS?: number;
  reportPath?: string;
  buses: number;
  cards: number;
  rate: number;
  tearShare: number;
  seed: number;
  mqttPort: number;
  httpPort: number;
  screenPort: number;
  dataDir?: string;
  gps: boolean;
  days?: number;
  tapsPerDay: number;
}

/** Parses `busfare-bench run` arguments; throws a UsageError with the problem. */
export function parseRunArgs(args: string[]): RunSettings | 'help' {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string' },
      report: { type: 'string' },
      buses: { type: 'string' },
      cards: { type: 'string' },
      rate: { type: 'string' },
      'tear-share': { type: 'string' },
      seed: { type: 'string' },
      'mqtt-port': { type: 'string' },
      'http-port': { type: 'string' },
      port: { type: 'string' },
      'screen-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'no-gps': { type: 'boolean' },
      days: { type: 'string' },
      'taps-per-day': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const reportProblem = values.report === undefined ? undefined : reportPathProblem(values.report);
  if (reportProblem !== undefined) throw new UsageError(reportProblem);
  if (values.port !== undefined && values.port !== '0') throw new UsageError(`invalid --port "${values.port}": only --port 0 (free ports for all) is accepted; choose ports with --mqtt-port, --http-port and --screen-port`);
  const port = values.port === undefined ? undefined : 0;
  const settings: RunSettings = {
    durationS: values.duration === undefined ? undefined : number('--duration', values.duration, 1, 7 * 24 * 3600),
    reportPath: values.report,
    buses: values.buses === undefined ? 3 : integer('--buses', values.buses, 1, 50),
    cards: values.cards === undefined ? 400 : integer('--cards', values.cards, 20, 1_000_000),
    rate: values.rate === undefined ? 0.6 : number('--rate', values.rate, 0.01, 20),
    tearShare: values['tear-share'] === undefined ? 0.02 : number('--tear-share', values['tear-share'], 0, 1),
    seed: values.seed === undefined ? 2026 : integer('--seed', values.seed, 0, 2 ** 31),
    mqttPort: values['mqtt-port'] === undefined ? (port ?? 1883) : integer('--mqtt-port', values['mqtt-port'], 0, 65535),
    httpPort: values['http-port'] === undefined ? (port ?? 8080) : integer('--http-port', values['http-port'], 0, 65535),
    screenPort: values['screen-port'] === undefined ? (port ?? DEFAULT_DRIVER_SCREEN_PORT) : integer('--screen-port', values['screen-port'], 0, 65535),
    dataDir: values['data-dir'],
    gps: !values['no-gps'],
    days: values.days === undefined ? undefined : integer('--days', values.days, 1, 366),
    tapsPerDay: values['taps-per-day'] === undefined ? 300 : integer('--taps-per-day', values['taps-per-day'], 16, 100_000),
  };
  checkPortsDistinct(settings);
  return settings;
}

/**
 * Rejects settings in which two of the bench's own servers would take one port, because the second
 * would fail with "port in use" against the bench itself. Port 0 picks a free port and never collides.
 */
function checkPortsDistinct(settings: RunSettings): void {
  const { mqttPort, httpPort, screenPort, buses } = settings;
  if (mqttPort !== 0 && mqttPort === httpPort) {
    throw new UsageError(`--mqtt-port and --http-port are both ${mqttPort}: the broker and the console need different ports`);
  }
  if (screenPort === 0) return;
  // Bus i serves its driver page on screenPort + i.
  const lastScreenPort = screenPort + buses - 1;
  for (const [option, value] of [['--mqtt-port', mqttPort], ['--http-port', httpPort]] as const) {
    if (value !== 0 && value >= screenPort && value <= lastScreenPort) {
      throw new UsageError(`${option} and --screen-port overlap: the ${buses} driver pages take ports ${screenPort}-${lastScreenPort}, which include ${value}; choose ports outside that range`);
    }
  }
}

export class UsageError extends Error {
  override name = 'UsageError';
}

function number(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) throw new UsageError(`invalid ${flag} "${text}": expected a number from ${min} to ${max}`);
  return value;
}

function integer(flag: string, text: string, min: number, max: number): number {
  const value = number(flag, text, min, max);
  if (!Number.isInteger(value)) throw new UsageError(`invalid ${flag} "${text}": expected a whole number`);
  return value;
}

/** Small shares of MOHURD, dual-application and M1 cards among the riders' cards of `run`. */
export const RUN_CARD_MIX: CardMix = { mohurdShare: 0.04, dualShare: 0.03, m1Share: 0.04 };

/** Runs the bench city with riders; returns the process exit code. */
export async function runBench(settings: RunSettings): Promise<number> {
  if (settings.days !== undefined) return runDaysBench({ ...settings, days: settings.days, tapsPerBusPerDay: settings.tapsPerDay });
  const createdDataDir = settings.dataDir === undefined;
  const dataDir = settings.dataDir ?? mkdtempSync(join(tmpdir(), 'busfare-bench-'));
  const logFile = join(dataDir, 'bench.log');
  // The bench injects pulled cards and the like on purpose, so their warnings stay in the file.
  const logger = createLogger('busfare-bench', undefined, { file: logFile, consoleLevel: 'error' });
  const city = new BenchCity({
    buses: settings.buses,
    cards: settings.cards,
    seed: settings.seed,
    mqttPort: settings.mqttPort,
    httpPort: settings.httpPort,
    driverScreenPort: settings.screenPort,
    dataDir,
    logger,
    gps: settings.gps,
    cardMix: RUN_CARD_MIX,
  });
  const taps: TapRecordOutcome[] = [];
  const started = Date.now();
  let summaryTimer: NodeJS.Timeout | undefined;
  let stopRequested: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  const onSignal = () => stopRequested();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let cityStarted = false;

  try {
    await city.start();
    cityStarted = true;
    process.stderr.write(`${addressLines(city, logFile).join('\n')}\n`);

    const random = new SeededRandom(settings.seed);
    const pool = new CardPool<PopulationDevice>(city.cards.map((entry) => entry.card));
    const flows = city.buses.map(
      (bus) =>
        new RiderFlow(bus, pool, {
          ratePerSecond: settings.rate,
          tearProbability: settings.tearShare,
          retapProbability: 0.8,
          purchaseApdus: 4,
          random: new SeededRandom(random.integer(0, 2 ** 31)),
          onTap: (terminalId, outcome) => taps.push({ terminalId, outcome }),
        }),
    );
    for (const flow of flows) flow.start();
    summaryTimer = setInterval(() => process.stderr.write(`${summaryLine(taps, cityProgress(city, started))}\n`), SUMMARY_INTERVAL_MS);

    const timer = settings.durationS === undefined ? undefined : setTimeout(() => stopRequested(), settings.durationS * 1000);
    await stopped;
    if (timer) clearTimeout(timer);

    process.stderr.write(`${DRAINING_LINE}\n`);
    await Promise.all(flows.map((flow) => flow.stop()));
    await Promise.all(city.buses.map((bus) => bus.runtime.idle()));
    const settled = await representInDoubtCards(city);
    taps.push(...settled);
    await drainBacklogs(city, DRAIN_TIMEOUT_MS);
    process.stderr.write(`${summaryLine(taps, cityProgress(city, started))}\n`);

    const report = buildReport(city, taps, settings, started);
    if (settings.reportPath) writeFileSync(settings.reportPath, `${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`${reportLine(report)}\n`);
    const healthy = report.lost === 0 && report.duplicates === 0 && report.cardLedgerMismatch === 0 && report.inDoubtOpen === 0;
    if (!healthy) logger.error({ report }, 'bench invariants violated');
    return healthy ? 0 : 1;
  } finally {
    if (summaryTimer) clearInterval(summaryTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await city.stop();
    logger.flush();
    // A failed start (a port in use, say) leaves only the generated GTFS feed, a new database
    // and the log in a folder the bench made. The command prints the cause on stderr, so the folder goes.
    if (!cityStarted && createdDataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

export function buildReport(city: BenchCity, taps: TapRecordOutcome[], settings: Partial<RunSettings>, started: number): BenchReport {
  return { ...cityLedgerReport(city, taps), durationS: Math.round((Date.now() - started) / 100) / 10, buses: city.buses.length, seed: settings.seed };
}
