import { LanguageOptionError, parseArgsErrorText, takeLanguageOption } from '@busfare/shared-protocol';
import { RUN_USAGE, type RunSettings, UsageError, parseRunArgs, runBench } from './bench/run-command.js';
import { portInUseText } from './port-in-use.js';
import { benchmarkCommand } from './benchmarks/benchmark-command.js';
import { tearingCommand } from './bench/tearing-command.js';

/**
 * busfare-bench takes --lang and BUSFARE_LANG like busfare-backoffice and busfare-terminal, so one
 * command line works for all three, but its texts are for developers and stay English.
 */
const LANGUAGE_NOTE = `Language:
  --lang zh|en           Accepted and ignored, like BUSFARE_LANG: busfare-bench prints English only
`;

const USAGE = `Usage: busfare-bench [COMMAND] [options]

Runs busfare on one machine: back office, simulated buses, virtual cards and riders.

Commands:
  run                The bench city (default command; see "busfare-bench run --help")
  tearing            Tear cards away at every APDU of the purchase and check no fare is lost or taken twice
  chaos              A fleet of terminal processes under crashes and broken links (see "busfare-bench chaos --help")
  benchmark GROUP    One benchmark group, one JSON line per figure (npm run -s bench -- GROUP)

Run "busfare-bench COMMAND --help" for the options of a command.

${LANGUAGE_NOTE}`;

/** The command that main runs, for the help that an error points to and the ports it chose. */
interface Invocation {
  command?: string;
  /** Arguments after the command name. */
  args?: string[];
  settings?: RunSettings;
}

async function runCommand(commandLine: string[], invocation: Invocation): Promise<number> {
  // The environment is not passed, so an invalid BUSFARE_LANG is ignored without a warning.
  const argv = takeLanguageOption(commandLine, undefined).args;
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = first === undefined || first.startsWith('-') ? 'run' : first;
  const args = command === first ? rest : argv;
  invocation.command = command;
  invocation.args = args;
  switch (command) {
    case 'run': {
      const settings = parseRunArgs(args);
      if (settings === 'help') {
        process.stdout.write(`${RUN_USAGE}\n${LANGUAGE_NOTE}`);
        return 0;
      }
      invocation.settings = settings;
      return runBench(settings);
    }
    case 'tearing':
      return tearingCommand(args);
    case 'chaos': {
      const { CHAOS_USAGE, parseChaosArgs, runChaos } = await import('./bench/chaos-command.js');
      const settings = parseChaosArgs(args);
      if (settings === 'help') {
        process.stdout.write(`${CHAOS_USAGE}\n${LANGUAGE_NOTE}`);
        return 0;
      }
      return runChaos(settings);
    }
    case 'benchmark':
      return benchmarkCommand(args);
    default:
      process.stderr.write(`busfare-bench: unknown command "${command}". Run "busfare-bench --help" to list the commands.\n\n${USAGE}`);
      return 2;
  }
}

/**
 * Runs `busfare-bench` and returns the exit code: 0 done, 1 on a failure, 2 on invalid options.
 * --lang and BUSFARE_LANG are accepted and ignored, because its texts are English only.
 */
export async function main(argv: string[]): Promise<number> {
  const invocation: Invocation = {};
  try {
    return await runCommand(argv, invocation);
  } catch (error) {
    return reportFailure(error, invocation);
  }
}

function reportFailure(error: unknown, invocation: Invocation): number {
  // Node's own parseArgs messages ("Unknown option '--x'") are worded as the other programs' are,
  // and point to the help of the command whose options were parsed.
  const helpProgram = invocation.command === undefined ? 'busfare-bench' : `busfare-bench ${invocation.command}`;
  const parseProblem = parseArgsErrorText(error, 'en', helpProgram);
  if (parseProblem !== undefined) {
    process.stderr.write(`busfare-bench: ${parseProblem}\n`);
    return 2;
  }
  if (error instanceof UsageError || error instanceof LanguageOptionError || (error as Error).name === 'ChaosUsageError') {
    process.stderr.write(`busfare-bench: ${(error as Error).message}\n`);
    return 2;
  }
  const failure = error as NodeJS.ErrnoException & { port?: number };
  if (failure.code === 'EADDRINUSE') {
    process.stderr.write(`busfare-bench: ${portInUseText(failure.port, invocation.settings, invocation.args ?? [])}\n`);
    return 1;
  }
  process.stderr.write(`busfare-bench: ${(error as Error).stack ?? String(error)}\n`);
  return 1;
}
