import { parseArgs } from 'node:util';
import { type Language, cliHelp, parseArgsErrorText } from '@busfare/shared-protocol';
import { SOFTWARE_VERSION } from '../build-info.js';

/** Runs `busfare-terminal version`: prints the software version, or its help with -h/--help. */
export function versionCommand(args: string[], language: Language): number {
  const usage = cliHelp('terminal.version', language);
  let options: { help?: boolean };
  try {
    options = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (error) {
    const message = parseArgsErrorText(error, language, 'busfare-terminal version') ?? (error as Error).message;
    process.stderr.write(`busfare-terminal version: ${message}\n\n${usage}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(usage);
    return 0;
  }
  process.stdout.write(`${SOFTWARE_VERSION}\n`);
  return 0;
}
