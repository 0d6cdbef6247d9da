import { parseArgs } from 'node:util';
import { LANGUAGE_VARIABLE, type Language, LanguageOptionError, cliHelp, takeLanguageOption } from '@busfare/shared-protocol';
import { startBackOffice } from './backoffice.js';
import { ArrivalsEvalUsageError, runArrivalsEval } from './cli/arrivals-eval-command.js';
import { paramsCommand } from './cli/params-command.js';
import { ConfigError, type ConfigOverrides, loadConfig } from './config.js';
import { checkConfiguredPaths } from './config-paths-check.js';
import { KeyFileError } from './keys/file-key-store.js';
import { createLogger } from './logger.js';

/** Exit codes shared by every busfare command. */
const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

class UsageError extends Error {}

/**
 * Runs `busfare-backoffice` and returns the exit code. `--lang zh|en` anywhere on the command line,
 * else BUSFARE_LANG, else zh sets the language of help and usage texts.
 */
export async function main(argv: string[]): Promise<number> {
  let language: Language;
  let args: string[];
  try {
    let warning: string | undefined;
    ({ language, args, warning } = takeLanguageOption(argv, process.env[LANGUAGE_VARIABLE]));
    if (warning !== undefined) process.stderr.write(`busfare-backoffice: ${warning}`);
  } catch (error) {
    return reportError(error);
  }
  const [command, ...rest] = args;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(cliHelp('backoffice.main', language));
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  try {
    if (command === 'serve') return await serve(rest, language);
    if (command === 'arrivals-eval') {
      runArrivalsEval(rest, (text) => process.stdout.write(text), (text) => process.stderr.write(text), language);
      return EXIT_OK;
    }
    if (command === 'params') return await paramsCommand(rest, undefined, language);
    if (command === 'terminals') return await (await import('./terminals/terminals-command.js')).terminalsCommand(rest, language);
    throw new UsageError(`unknown command "${command}". Run busfare-backoffice --help to list the commands.`);
  } catch (error) {
    return reportError(error);
  }
}

async function serve(args: string[], language: Language): Promise<number> {
  const { values } = parseCommandArgs(args, {
    config: { type: 'string' },
    db: { type: 'string' },
    'mqtt-port': { type: 'string' },
    'http-port': { type: 'string' },
    'broker-url': { type: 'string' },
    keys: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(cliHelp('backoffice.serve', language));
    return EXIT_OK;
  }

  const overrides: ConfigOverrides = {};
  if (typeof values.db === 'string') overrides.db = values.db;
  if (typeof values.keys === 'string') overrides.keys = values.keys;
  if (typeof values['broker-url'] === 'string') overrides.brokerUrl = values['broker-url'];
  if (typeof values['mqtt-port'] === 'string') overrides.mqttPort = parsePort('--mqtt-port', values['mqtt-port']);
  if (typeof values['http-port'] === 'string') overrides.httpPort = parsePort('--http-port', values['http-port']);
  const configPath = typeof values.config === 'string' ? values.config : undefined;
  const config = loadConfig(configPath, overrides);
  const checked = checkConfiguredPaths(config, configPath ?? 'defaults');

  const logger = createLogger('backoffice');
  const backOffice = await startBackOffice(config, { logger, ...checked });
  process.stderr.write(`busfare back office console: ${backOffice.consoleUrl}\nMQTT broker: ${backOffice.brokerUrl}\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  logger.info({ signal }, 'stopping the back office');
  await backOffice.stop();
  logger.info('back office stopped');
  logger.flush();
  return EXIT_OK;
}

function parseCommandArgs<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function parsePort(flag: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`invalid ${flag} "${text}": expected a TCP port 0-65535 (0 = any free port)`);
  return port;
}

function reportError(error: unknown): number {
  if (error instanceof UsageError || error instanceof ArrivalsEvalUsageError || error instanceof LanguageOptionError) {
    process.stderr.write(`busfare-backoffice: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof ConfigError || error instanceof KeyFileError) {
    const problems = error.problems.map((problem) => `  ${problem}`).join('\n');
    const source = error instanceof ConfigError ? error.source : error.path;
    const what = error instanceof ConfigError ? 'configuration' : 'key file';
    process.stderr.write(`busfare-backoffice: invalid ${what} (${source}):\n${problems}\n`);
    return EXIT_USAGE;
  }
  const failure = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (failure.code === 'EADDRINUSE') {
    const where = failure.port === undefined ? '' : ` ${failure.address ?? '127.0.0.1'}:${failure.port}`;
    process.stderr.write(`busfare-backoffice: listen failed, address${where} already in use. Stop the program that uses it, or pick other ports with --mqtt-port and --http-port (0 = any free port)\n`);
    return EXIT_FAILURE;
  }
  process.stderr.write(`busfare-backoffice: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT_FAILURE;
}
