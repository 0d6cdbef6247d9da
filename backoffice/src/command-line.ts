import { parseArgs } from 'node:util';
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

const MAIN_HELP = `Usage: busfare-backoffice <command> [options]

The busfare clearing back office.

Commands:
  serve          Run the broker, ingest and the operator console until SIGINT or SIGTERM
  arrivals-eval  Score arrival predictions against recorded arrivals (JSON lines on stdout)
  params         Parameter sets: author, sign and publish them, dry-run a fare table, show lagging terminals
  terminals      Register, list and remove terminals' MQTT credentials

Options:
  -h, --help     Show this help; "busfare-backoffice <command> --help" shows a command's options
`;

const SERVE_HELP = `Usage: busfare-backoffice serve [options]

Runs the embedded MQTT broker (or connects to an external one), ingests terminal transactions,
positions and status into SQLite, and serves the operator console. Prints the console URL on
stderr. Options override the config file; an example config is backoffice/examples/backoffice.json
in the source tree. Every file and folder the config names is checked before anything is opened.

Options:
  --config FILE      JSON config file with the fields below
  --db FILE          SQLite database file (default busfare-backoffice.db)
  --mqtt-port N      TCP port of the embedded broker on 127.0.0.1 (default 1883; 0 = any free port)
  --http-port N      TCP port of the operator console on 127.0.0.1 (default 8080; 0 = any free port)
  --broker-url URL   Use this external broker (mqtt://host:port) in place of the embedded one
  --keys FILE        JSON file of issuer TAC master keys (keep it chmod 600)
  -h, --help         Show this help

Config fields (all optional):
  db                     SQLite database file; its folder must exist and be writable
  mqtt {port, host, externalUrl, terminalCredentials, serviceUsername, servicePassword,
      tls {cert, key, ca}, limits {maxPayloadBytes, messagesPerSecond, burstMessages}}
                         Embedded broker, or an external one; without tls on loopback only
  http {port, host, tls {cert, key, ca}}
                         Operator console; without tls on loopback only
  security {evidenceChecks (default true), allowTestKeys (default false)}
                         Replay and PSAM-binding checks; test issuer keys for benches only
  keys                   JSON file of issuer TAC master keys (mode 0600)
  pkcs11 {library, tokenLabel, pinVariable (default BUSFARE_HSM_PIN)}
                         Issuer keys in an HSM, in place of keys
  parameterSigningKey    Ed25519 private key (PEM, mode 0600) from "params keygen"
  localIssuerPrefixes    Issuer-id prefixes (2-16 hex digits) of the city's own card issuers
  businessDayCutoff      Local time HH:MM at which a business day begins (default 00:00)
  timezoneOffsetMinutes  Local offset from UTC in minutes (default 480, China Standard Time)
  arrivals {gtfs, refreshSeconds (1-30, default 10)}
                         GTFS folder of the routes for arrival predictions (off without it)

Exit codes: 0 after a clean stop, 1 on a runtime failure, 2 on invalid options, config or files.
`;

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(MAIN_HELP);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  try {
    if (command === 'serve') return await serve(rest);
    if (command === 'arrivals-eval') {
      runArrivalsEval(rest, (text) => process.stdout.write(text), (text) => process.stderr.write(text));
      return EXIT_OK;
    }
    if (command === 'params') return await paramsCommand(rest);
    if (command === 'terminals') return await (await import('./terminals/terminals-command.js')).terminalsCommand(rest);
    throw new UsageError(`unknown command "${command}". Run busfare-backoffice --help to list the commands.`);
  } catch (error) {
    return reportError(error);
  }
}

async function serve(args: string[]): Promise<number> {
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
    process.stdout.write(SERVE_HELP);
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
  if (error instanceof UsageError || error instanceof ArrivalsEvalUsageError) {
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
