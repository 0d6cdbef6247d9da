import { cliHelp, cliText } from '@busfare/shared-protocol';
import { takeCommandLanguage } from './cli-options.js';

/**
 * Runs `busfare-terminal COMMAND ...` and returns the exit status. `--lang zh|en` anywhere on the
 * command line, else BUSFARE_LANG, else zh sets the language of help and usage texts.
 */
export async function terminalMain(argv: string[]): Promise<number> {
  const selection = takeCommandLanguage(argv, undefined, (text) => process.stderr.write(`busfare-terminal: ${text}`));
  if (selection === undefined) return 2;
  const { language, warning } = selection;
  if (warning !== undefined) process.stderr.write(`busfare-terminal: ${warning}`);
  const [command, ...args] = selection.args;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(cliHelp('terminal.main', language));
      return command === undefined ? 2 : 0;
    case 'version':
    case '--version': {
      const { versionCommand } = await import('./version-command.js');
      return versionCommand(args, language);
    }
    case 'nmea': {
      const { nmeaCommand } = await import('./nmea-command.js');
      return nmeaCommand(args, {}, language);
    }
    case 'list-readers': {
      const { listReadersCommand } = await import('./list-readers-command.js');
      return listReadersCommand(args, language);
    }
    case 'read-card': {
      const { readCardCommand } = await import('./read-card-command.js');
      return readCardCommand(args, language);
    }
    case 'run': {
      const { runCommand } = await import('./run-command.js');
      return runCommand(args, language);
    }
    default:
      process.stderr.write(`busfare-terminal: ${cliText('cli.unknownCommand', language, { command, program: 'busfare-terminal' })}\n\n${cliHelp('terminal.main', language)}`);
      return 2;
  }
}
