import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger } from '../logger.js';
import { UsageError } from './run-command.js';
import { runTearingSweep } from './tearing-sweep.js';
import { reportPathProblem } from './report-path.js';

export const TEARING_USAGE = `Usage: busfare-bench tearing [options]

Tears the card away at every APDU of the purchase (before and after the card answers), for every
card kind (T-Union card, SM4 card, SIM and HCE phones, MOHURD card, dual-application card paying
from either purse, MIFARE Classic purse), on a flat-fare route and on a tap-on/tap-off route, where
both the boarding and the alighting tap are torn. After each torn tap the rider
taps the same card again, taps another card first, or is torn again and then taps again. The run
happens in this process, through the in-process reader, the software PSAM and the terminal's
SQLite outbox; each record's TAC (an M1 record's PSAM MAC) is checked with the back office's
verifier.

Options:
  --report FILE     Write the report (JSON) to FILE
  --rounds N        Rounds over every kind, APDU and phase (default 6, at least 1,000 torn taps)
  --seed N          Seed of the second tears (default 2026)
  --data-dir DIR    Folder for the SQLite outbox (default: a temporary folder)
  -h, --help        Show this help
`;

/** Runs \`busfare-bench tearing\`; returns the exit code. */
export async function tearingCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      report: { type: 'string' },
      rounds: { type: 'string' },
      seed: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(TEARING_USAGE);
    return 0;
  }
  const reportProblem = values.report === undefined ? undefined : reportPathProblem(values.report);
  if (reportProblem !== undefined) throw new UsageError(reportProblem);
  const rounds = wholeNumber('--rounds', values.rounds ?? '6', 1, 1_000);
  const seed = wholeNumber('--seed', values.seed ?? '2026', 0, 2 ** 31);
  const logger = createLogger('busfare-bench');
  const started = Date.now();
  const report = await runTearingSweep({ rounds, seed, logger, dataDir: values['data-dir'], onProgress: (line) => process.stderr.write(`${line}\n`) });
  const full = { ...report, durationS: Math.round((Date.now() - started) / 100) / 10, seed };
  if (values.report) writeFileSync(values.report, `${JSON.stringify(full, null, 2)}\n`);
  process.stderr.write(
    `tearing report: tornTaps ${report.tornTaps}, recoveredByProof ${report.recoveredByProof}, doubleDebits ${report.doubleDebits}, unrecordedDebits ${report.unrecordedDebits}, lost ${report.lost}, cardLedgerMismatch ${report.cardLedgerMismatch}, inDoubtOpen ${report.inDoubtOpen}\n`,
  );
  const healthy = report.doubleDebits === 0 && report.unrecordedDebits === 0 && report.lost === 0 && report.duplicates === 0 && report.cardLedgerMismatch === 0 && report.inDoubtOpen === 0;
  logger.flush();
  return healthy ? 0 : 1;
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`invalid ${flag} "${text}": expected a whole number from ${min} to ${max}`);
  return value;
}
