import { parseArgs } from 'node:util';
import { DEFAULT_LANGUAGE, LANGUAGE_VARIABLE, type Language, LanguageOptionError, TranslatedError, cliHelp, cliText, parseArgsErrorText, problemListText, takeLanguageOption } from '@busfare/shared-protocol';
import { type BackOffice, startBackOffice } from './backoffice.js';
import { ArrivalsEvalUsageError, runArrivalsEval } from './cli/arrivals-eval-command.js';
import { paramsCommand } from './cli/params-command.js';
import { ConfigError, type ConfigOverrides, loadConfig } from './config.js';
import { checkConfiguredPaths } from './config-paths-check.js';
import { GtfsFeedError } from './gtfs/gtfs-feed.js';
import { KeyFileError } from './keys/file-key-store.js';
import { SigningKeyError } from './params/signing-key-file.js';
import { createLogger } from './logger.js';

/** Exit codes shared by every busfare command. */
const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

class UsageError extends Error {}

/**
 * Runs `busfare-backoffice` and returns the exit code. `--lang zh|en` anywhere on the command line,
 * else BUSFARE_LANG, else zh sets the language of help texts, usage errors, config errors and
 * the lines that serve prints at start.
 */
export async function main(argv: string[]): Promise<number> {
  let language: Language;
  let args: string[];
  try {
    let warning: string | undefined;
    ({ language, args, warning } = takeLanguageOption(argv, process.env[LANGUAGE_VARIABLE]));
    if (warning !== undefined) process.stderr.write(`busfare-backoffice: ${warning}`);
  } catch (error) {
    return reportError(error, DEFAULT_LANGUAGE);
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
    throw new UsageError(cliText('cli.unknownCommand', language, { command, program: 'busfare-backoffice' }));
  } catch (error) {
    return reportError(error, language);
  }
}

async function serve(args: string[], language: Language): Promise<number> {
  const { values } = parseCommandArgs(args, language, 'busfare-backoffice serve', {
    config: { type: 'string' },
    db: { type: 'string' },
    'mqtt-port': { type: 'string' },
    'http-port': { type: 'string' },
    port: { type: 'string' },
    'broker-url': { type: 'string' },
    keys: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(cliHelp('backoffice.serve', language));
    return EXIT_OK;
  }

  const overrides = serveOverrides(values, language);
  const configPath = typeof values.config === 'string' ? values.config : undefined;
  const config = loadConfig(configPath, overrides);
  const checked = checkConfiguredPaths(config, configPath ?? 'defaults');

  const logger = createLogger('backoffice');
  const backOffice = await startBackOffice(config, { logger, ...checked });
  process.stderr.write(startLines(backOffice, language));

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

/** Option values of `serve` that override the config file. */
export interface ServeOptionValues {
  db?: string | boolean | undefined;
  keys?: string | boolean | undefined;
  'broker-url'?: string | boolean | undefined;
  'mqtt-port'?: string | boolean | undefined;
  'http-port'?: string | boolean | undefined;
  port?: string | boolean | undefined;
}

/**
 * Turns the options of `serve` into config overrides. `--port 0` picks free ports for the broker
 * and the console, and --mqtt-port or --http-port still choose their own port beside it. Throws a
 * usage error for any other --port value, since one port cannot serve both.
 */
export function serveOverrides(values: ServeOptionValues, language: Language): ConfigOverrides {
  const overrides: ConfigOverrides = {};
  if (typeof values.db === 'string') overrides.db = values.db;
  if (typeof values.keys === 'string') overrides.keys = values.keys;
  if (typeof values['broker-url'] === 'string') overrides.brokerUrl = values['broker-url'];
  if (typeof values.port === 'string') {
    if (values.port !== '0') throw new UsageError(cliText('cli.serve.portOnlyZero', language, { value: values.port }));
    overrides.mqttPort = 0;
    overrides.httpPort = 0;
  }
  if (typeof values['mqtt-port'] === 'string') overrides.mqttPort = parsePort('--mqtt-port', values['mqtt-port'], language);
  if (typeof values['http-port'] === 'string') overrides.httpPort = parsePort('--http-port', values['http-port'], language);
  return overrides;
}

/** Formats the lines serve prints once it listens: console, /ops and broker URLs, and a new administrator's password file. */
function startLines(backOffice: BackOffice, language: Language): string {
  const lines = [
    cliText('cli.serve.console', language, { url: backOffice.consoleUrl }),
    cliText('cli.serve.ops', language, { url: new URL('/ops', backOffice.consoleUrl).href }),
    cliText('cli.serve.broker', language, { url: backOffice.brokerUrl }),
  ];
  const administrator = backOffice.createdAdministrator;
  if (administrator) lines.push(cliText('cli.serve.adminCreated', language, { username: administrator.username, file: administrator.passwordFile }));
  return lines.map((line) => `busfare-backoffice: ${line}\n`).join('');
}

function parseCommandArgs<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], language: Language, program: string, options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError(parseArgsErrorText(error, language, program) ?? (error instanceof Error ? error.message : String(error)));
  }
}

function parsePort(flag: string, text: string, language: Language): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(cliText('cli.invalidPort', language, { option: flag, value: text }));
  return port;
}

function reportError(error: unknown, language: Language): number {
  if (error instanceof ArrivalsEvalUsageError) {
    const message = parseArgsErrorText(error.cause, language, 'busfare-backoffice arrivals-eval') ?? error.message;
    process.stderr.write(`busfare-backoffice: ${message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof UsageError || error instanceof LanguageOptionError) {
    process.stderr.write(`busfare-backoffice: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`busfare-backoffice: ${problemListText(cliText('cli.configInvalid', language, { source: error.source }), error.problemsIn(language))}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof KeyFileError) {
    process.stderr.write(`busfare-backoffice: ${problemListText(cliText('cli.keyFileInvalid', language, { source: error.path }), error.problemsIn(language))}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof SigningKeyError) {
    process.stderr.write(`busfare-backoffice: ${error.textIn(language)}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof GtfsFeedError) {
    process.stderr.write(`busfare-backoffice: ${problemListText(cliText('cli.params.gtfsInvalid', language, { folder: error.folder }), error.problemsIn(language))}\n`);
    return EXIT_FAILURE;
  }
  // Pkcs11KeyStoreError, for one: the HSM that contains the issuer keys cannot be opened.
  if (error instanceof TranslatedError) {
    process.stderr.write(`busfare-backoffice: ${error.textIn(language)}\n`);
    return EXIT_FAILURE;
  }
  const failure = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (failure.code === 'EADDRINUSE') {
    const where = failure.port === undefined ? '' : ` ${failure.address ?? '127.0.0.1'}:${failure.port}`;
    process.stderr.write(`busfare-backoffice: ${cliText('cli.addressInUse', language, { address: where })}\n`);
    return EXIT_FAILURE;
  }
  process.stderr.write(`busfare-backoffice: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT_FAILURE;
}
