import { SOFTWARE_VERSION } from './build-info.js';

const USAGE = `Usage: busfare-terminal COMMAND [options]

The busfare card-reader runtime.

Commands:
  nmea FILE|-        Run an NMEA 0183 recording through the terminal's parser and fix filter
  run --config FILE  Run the validator: reader, tap state machine, outbox, uplink and driver screen
  list-readers       List the PC/SC readers and slots that pcscd reports
  read-card          Read a T-Union card on a PC/SC reader and print its contents
  version            Print the software version

Run "busfare-terminal COMMAND --help" for the options of a command.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    case 'version':
    case '--version':
      process.stdout.write(`${SOFTWARE_VERSION}\n`);
      return 0;
    case 'nmea': {
      const { nmeaCommand } = await import('./cli/nmea-command.js');
      return nmeaCommand(args);
    }
    case 'list-readers': {
      const { listReadersCommand } = await import('./cli/list-readers-command.js');
      return listReadersCommand(args);
    }
    case 'read-card': {
      const { readCardCommand } = await import('./cli/read-card-command.js');
      return readCardCommand(args);
    }
    case 'run': {
      const { runCommand } = await import('./cli/run-command.js');
      return runCommand(args);
    }
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
    process.stderr.write(`busfare-terminal: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
