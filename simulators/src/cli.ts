import { RUN_USAGE, UsageError, parseRunArgs, runBench } from './bench/run-command.js';
import { benchmarkCommand } from './benchmarks/benchmark-command.js';
import { tearingCommand } from './bench/tearing-command.js';

const USAGE = `Usage: busfare-bench [COMMAND] [options]

Runs busfare on one machine: back office, simulated buses, virtual cards and riders.

Commands:
  run                The bench city (default command; see "busfare-bench run --help")
  tearing            Tear cards away at every APDU of the purchase and check no fare is lost or taken twice
  chaos              A fleet of terminal processes under crashes and broken links (see "busfare-bench chaos --help")
  benchmark GROUP    One benchmark group, one JSON line per figure (npm run -s bench -- GROUP)

Run "busfare-bench COMMAND --help" for the options of a command.
`;

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = first === undefined || first.startsWith('-') ? 'run' : first;
  const args = command === first ? rest : argv;
  switch (command) {
    case 'run': {
      const settings = parseRunArgs(args);
      if (settings === 'help') {
        process.stdout.write(RUN_USAGE);
        return 0;
      }
      return runBench(settings);
    }
    case 'tearing':
      return tearingCommand(args);
    case 'chaos': {
      const { CHAOS_USAGE, parseChaosArgs, runChaos } = await import('./bench/chaos-command.js');
      const settings = parseChaosArgs(args);
      if (settings === 'help') {
        process.stdout.write(CHAOS_USAGE);
        return 0;
      }
      return runChaos(settings);
    }
    case 'benchmark':
      return benchmarkCommand(args);
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as Error).name === 'ChaosUsageError' || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (error as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      process.stderr.write(`busfare-bench: ${(error as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    const failure = error as NodeJS.ErrnoException & { port?: number };
    if (failure.code === 'EADDRINUSE') {
      process.stderr.write(
        `busfare-bench: port ${failure.port ?? ''} on 127.0.0.1 is already in use: stop the program that holds it, or pass --port 0 to pick free ports (or --http-port, --mqtt-port, --screen-port)\n`,
      );
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`busfare-bench: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
