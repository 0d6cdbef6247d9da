import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SOFTWARE_VERSION } from '../build-info.js';
import { createLogger, type Logger } from '../logger.js';
import type { Clock } from '../ports/clock.js';
import type { DriverAlert, DriverScreen } from '../ports/driver-screen.js';
import type { RiderFeedback } from '../ports/rider-feedback.js';
import { ParameterStore } from '../params/parameter-store.js';
import { SocketReaderLink } from '../readers/socket/socket-reader-link.js';
import { TerminalRuntime } from '../runtime/terminal-runtime.js';
import { TerminalConfigError, type TerminalConfig, loadTerminalConfig } from '../runtime/terminal-config.js';
import { openOutbox } from '../store/database-salvage.js';
import { StorageGuardedStore } from '../store/storage-guard.js';
import { ApduSecureAccessModule } from '../tap/apdu-secure-access-module.js';
import { TerminalUplink } from '../uplink/mqtt-uplink.js';

export const RUN_USAGE = `Usage: busfare-terminal run --config FILE

Runs one validator: the tap state machine on the configured reader, the durable outbox
(checked with PRAGMA integrity_check at start; a damaged file is moved aside and salvaged), the
MQTT uplink and the parameter store, until SIGINT or SIGTERM.

Options:
  --config FILE   JSON config: terminalId, vehicleId, dataDir, broker {url, username, password},
                  parameterPublicKeyFile, reader {kind: "socket", path}, service, uplink,
                  storage, clockOffsetMs
  -h, --help      Show this help

Exit status: 0 after a clean stop, 1 on a runtime failure, 2 on invalid arguments or config.
`;

/** Runs `busfare-terminal run`; returns the exit code. */
export async function runCommand(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({ args, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    process.stderr.write(`busfare-terminal run: ${(error as Error).message}\n\n${RUN_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(RUN_USAGE);
    return 0;
  }
  if (values.config === undefined) {
    process.stderr.write(`busfare-terminal run: missing --config FILE\n\n${RUN_USAGE}`);
    return 2;
  }
  let config: TerminalConfig;
  try {
    config = loadTerminalConfig(values.config);
  } catch (error) {
    if (!(error instanceof TerminalConfigError)) throw error;
    process.stderr.write(`busfare-terminal: ${error.message}\n`);
    return 2;
  }

  const logger = createLogger('terminal').child({ terminalId: config.terminalId });
  const terminal = await startTerminal(config, logger);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  logger.info({ signal }, 'stopping the terminal');
  await terminal.stop();
  logger.flush();
  return 0;
}

export interface RunningTerminal {
  runtime: TerminalRuntime;
  uplink: TerminalUplink;
  stop(): Promise<void>;
}

/** Opens the stores, connects the reader link and the uplink, and starts taking taps. */
export async function startTerminal(config: TerminalConfig, logger: Logger): Promise<RunningTerminal> {
  const clock: Clock = {
    now: () => new Date(Date.now() + config.clockOffsetMs),
    monotonicMs: () => performance.now(),
  };
  const screen = new LoggingDriverScreen(logger);
  const { store: outbox, salvage } = openOutbox(join(config.dataDir, `${config.terminalId}-transactions.db`), { logger, screen });
  if (salvage) logger.error({ ...salvage }, 'started on a salvaged outbox');
  const store = new StorageGuardedStore(outbox, { directory: config.dataDir, screen, logger, ...config.storage });
  store.check();
  const publicKey = createPublicKey(readFileSync(config.parameterPublicKeyFile));
  const parameters = ParameterStore.open(join(config.dataDir, `${config.terminalId}-parameters.db`), { logger, publicKey, clock, driverScreen: screen });

  const uplink = new TerminalUplink({
    terminalId: config.terminalId,
    vehicleId: config.vehicleId,
    brokerUrl: config.broker.url,
    ...(config.broker.username === undefined ? {} : { username: config.broker.username }),
    ...(config.broker.password === undefined ? {} : { password: config.broker.password }),
    store,
    clock,
    logger,
    softwareVersion: SOFTWARE_VERSION,
    parameters,
    ...config.uplink,
    statusProvider: () => ({ alerts: [...screen.alerts.values()] }),
  });
  const reader = new SocketReaderLink({ path: config.reader.path, terminalId: config.terminalId, logger });
  const feedback: RiderFeedback = { show: (message) => logger.debug({ message }, 'rider feedback') };
  const runtime = new TerminalRuntime({
    terminalId: config.terminalId,
    vehicleId: config.vehicleId,
    reader,
    sam: new ApduSecureAccessModule(reader.psam),
    store,
    fareTables: { activeFareTable: (now) => parameters.activeFareTable(now)?.body },
    blacklist: parameters.blacklistLookup(),
    feedback,
    clock,
    logger,
    uplink,
    service: config.service,
    utcOffsetMinutes: config.utcOffsetMinutes,
  });
  runtime.on('tap', (outcome, session) => reader.sendOutcome(session.id, outcome));

  // Pending records of a killed run become in-doubt before the reader accepts the next card, so
  // that card's tap can settle them.
  const recovered = store.recoverPending();
  if (recovered > 0) logger.warn({ recovered }, 'pending records from an interrupted run are now in doubt');
  uplink.start();
  // The PSAM sits behind the reader link, so the link must be up before the runtime opens it.
  await reader.start();
  await runtime.start();
  return {
    runtime,
    uplink,
    async stop() {
      await runtime.stop();
      await uplink.stop();
      store.close();
      parameters.close();
    },
  };
}

/** A headless driver screen: alerts are logged and reported in the terminal's status. */
class LoggingDriverScreen implements DriverScreen {
  readonly alerts = new Map<string, DriverAlert>();

  constructor(private readonly logger: Logger) {}

  raiseAlert(alert: DriverAlert): void {
    if (!this.alerts.has(alert.id)) this.logger.warn({ alert }, 'driver alert raised');
    this.alerts.set(alert.id, alert);
  }

  clearAlert(id: string): void {
    if (this.alerts.delete(id)) this.logger.info({ alertId: id }, 'driver alert cleared');
  }
}
