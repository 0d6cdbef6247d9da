import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Language, TranslatedError, cliHelp, cliText, cliTextEntry, parseArgsErrorText, problemListText } from '@busfare/shared-protocol';
import { takeCommandLanguage } from './cli-options.js';
import { BUILD_DATE, SOFTWARE_VERSION } from '../build-info.js';
import { createLogger, type Logger } from '../logger.js';
import type { Clock } from '../ports/clock.js';
import type { DeviceHealth, RoutesBody } from '@busfare/shared-protocol';
import type { CardReader } from '../ports/card-reader.js';
import type { DriverScreen } from '../ports/driver-screen.js';
import type { PositionSource } from '../ports/position-source.js';
import type { RiderFeedback } from '../ports/rider-feedback.js';
import { OutdatedParameterCheck } from '../params/outdated-parameter-check.js';
import { ParameterStore } from '../params/parameter-store.js';
import { GpsdPositionSource } from '../gnss/gpsd-position-source.js';
import { NmeaFileReplaySource } from '../gnss/nmea-file-replay-source.js';
import { SerialNmeaPositionSource } from '../gnss/serial-nmea-position-source.js';
import type { ApduTransport } from '../ports/apdu-transport.js';
import type { NfcPcscReader } from '../readers/pcsc/nfc-pcsc-module.js';
import { PcscApduTransport } from '../readers/pcsc/pcsc-apdu-transport.js';
import { PcscCardReader } from '../readers/pcsc/pcsc-card-reader.js';
import { PcscService } from '../readers/pcsc/pcsc-service.js';
import { DriverScreenServiceAlert } from '../readers/pcsc/service-alert.js';
import { SerialCardReader } from '../readers/serial/serial-card-reader.js';
import { SocketReaderLink } from '../readers/socket/socket-reader-link.js';
import { AlertingPsam } from '../runtime/alerting-psam.js';
import { ClockCheck } from '../runtime/clock-check.js';
import { TerminalRuntime } from '../runtime/terminal-runtime.js';
import { TerminalConfigError, type TerminalConfig, loadTerminalConfig, parseReaderNameFilter } from '../runtime/terminal-config.js';
import { missingTerminalNodeFlags } from '../runtime/node-flags.js';
import { checkTerminalPaths } from '../runtime/terminal-paths-check.js';
import type { StatusDetails } from '../uplink/status-message.js';
import { openOutbox } from '../store/database-salvage.js';
import { StorageGuardedStore } from '../store/storage-guard.js';
import { AlertRelay } from '../screen/alert-relay.js';
import { DriverScreenService } from '../screen/driver-screen-service.js';
import { TerminalUplink } from '../uplink/mqtt-uplink.js';

/**
 * Runs `busfare-terminal run`; returns the exit code. `language` is the help language that
 * busfare-terminal chose. A --lang in args overrides it, and without either BUSFARE_LANG applies.
 */
export async function runCommand(args: string[], language?: Language): Promise<number> {
  const selection = takeCommandLanguage(args, language, (text) => process.stderr.write(`busfare-terminal run: ${text}`));
  if (selection === undefined) return 2;
  const usage = cliHelp('terminal.run', selection.language);
  let values;
  try {
    values = parseArgs({ args: selection.args, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const message = parseArgsErrorText(error, selection.language, 'busfare-terminal run') ?? (error as Error).message;
    process.stderr.write(`busfare-terminal run: ${message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (values.config === undefined) {
    process.stderr.write(`busfare-terminal run: ${cliText('cli.missingConfig', selection.language)}\n\n${usage}`);
    return 2;
  }
  let config: TerminalConfig;
  try {
    config = loadTerminalConfig(values.config);
    checkTerminalPaths(config, values.config);
  } catch (error) {
    if (!(error instanceof TerminalConfigError)) throw error;
    process.stderr.write(`busfare-terminal: ${problemListText(cliText('cli.terminalConfigInvalid', selection.language, { source: error.source }), error.problemsIn(selection.language))}\n`);
    return 2;
  }

  const logger = createLogger('terminal').child({ terminalId: config.terminalId });
  const missingFlags = missingTerminalNodeFlags();
  if (missingFlags.length > 0) logger.warn({ missingFlags }, 'node runs without the terminal\'s V8 flags, so idle-time garbage collections can delay taps');
  let terminal: RunningTerminal;
  try {
    terminal = await startTerminal(config, logger);
  } catch (error) {
    if (!(error instanceof TranslatedError)) throw error;
    process.stderr.write(`busfare-terminal: ${error.textIn(selection.language)}\n`);
    return 1;
  }
  if (terminal.driverScreenUrl) process.stdout.write(`${cliText('cli.terminal.driverScreen', selection.language, { url: terminal.driverScreenUrl })}\n`);
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
  reader: CardReader;
  parameters: ParameterStore;
  /** The driver's shift, its screen state and its page server. */
  driver: DriverScreenService;
  /** URL of the driver's page, such as http://127.0.0.1:8091/. Undefined when `driverScreen.enabled` is false. */
  driverScreenUrl: string | undefined;
  /** The checks behind the clock-wrong and parameters-outdated alerts. */
  alertChecks: { clock: ClockCheck; parameters: OutdatedParameterCheck };
  stop(): Promise<void>;
}

/**
 * Opens the stores, starts the driver's screen, connects the reader link and the uplink, and
 * starts taking taps. When a step fails, for example the page's port is in use or the PSAM does
 * not open, it stops what it started and closes the stores before it throws.
 */
export async function startTerminal(config: TerminalConfig, logger: Logger): Promise<RunningTerminal> {
  const clock: Clock = {
    now: () => new Date(Date.now() + config.clockOffsetMs),
    monotonicMs: () => performance.now(),
  };
  const screen = new AlertRelay(logger);
  const { store: outbox, salvage } = openOutbox(join(config.dataDir, `${config.terminalId}-transactions.db`), { logger, screen });
  if (salvage) logger.error({ ...salvage }, 'started on a salvaged outbox');
  const store = new StorageGuardedStore(outbox, { directory: config.dataDir, screen, logger, ...config.storage });
  store.check();
  const publicKey = createPublicKey(readFileSync(config.parameterPublicKeyFile));
  const parameters = ParameterStore.open(join(config.dataDir, `${config.terminalId}-parameters.db`), { logger, publicKey, clock, driverScreen: screen });

  const parameterCheck: OutdatedParameterCheck = new OutdatedParameterCheck({
    store: parameters,
    clock,
    screen,
    logger,
    linkConnected: () => uplink.stats().connected,
    graceMinutes: config.alerts?.parameterGraceMinutes,
    maxOfflineHours: config.alerts?.parameterMaxOfflineHours,
  });
  const clockCheck = new ClockCheck({
    clock,
    screen,
    logger,
    buildDate: BUILD_DATE,
    maxOffsetSeconds: config.alerts?.clockMaxOffsetSeconds,
    consecutiveFixes: config.alerts?.clockConsecutiveFixes,
  });

  const devices = new DeviceLinks(config, logger, screen);
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
    parameters: parameterCheck,
    ...config.uplink,
    statusProvider: () => ({ devices: devices.health(), alerts: screen.statusAlerts() }),
  });
  const feedback: RiderFeedback = { show: (message) => logger.debug({ message }, 'rider feedback') };
  const positions = createPositionSource(config, clock, logger);
  const runtime = new TerminalRuntime({
    terminalId: config.terminalId,
    vehicleId: config.vehicleId,
    reader: devices.reader,
    sam: new AlertingPsam(devices.psam, screen),
    store,
    fareTables: { activeFareTable: (now) => parameters.activeFareTable(now)?.body },
    blacklist: parameters.blacklistLookup(),
    feedback,
    clock,
    logger,
    uplink,
    ...(positions === undefined ? {} : { positions }),
    service: config.service,
    routes: () => parameters.active('routes', clock.now())?.body as RoutesBody | undefined,
    utcOffsetMinutes: config.utcOffsetMinutes,
    samStartup: config.reader.kind === 'socket' ? 'required' : 'retry',
    driverCards: config.driverCards,
  });
  const driver = new DriverScreenService({
    terminalId: config.terminalId,
    vehicleId: config.vehicleId,
    shiftDbPath: config.driverScreen.shiftDb ?? join(config.dataDir, `${config.terminalId}-shifts.db`),
    runtime,
    reader: devices.reader,
    ...(positions === undefined ? {} : { positions }),
    transactions: store,
    parameters,
    uplink,
    ...(config.service.route === undefined || config.service.direction === undefined ? {} : { defaultService: { route: config.service.route, direction: config.service.direction } }),
    clock,
    logger,
    port: config.driverScreen.enabled ? config.driverScreen.port : null,
    ...(config.driverScreen.signOffTapWindowSeconds === undefined ? {} : { signOffTapWindowSeconds: config.driverScreen.signOffTapWindowSeconds }),
    ...(config.driverScreen.riderTapsWithoutShift === undefined ? {} : { riderTapsWithoutShift: config.driverScreen.riderTapsWithoutShift }),
  });
  screen.forwardTo(driver.state);
  const socketLink = devices.socketLink;
  if (socketLink) runtime.on('tap', (outcome, session) => socketLink.sendOutcome(session.id, outcome));
  devices.onSamReset((reason) => void runtime.reopenSam(reason));
  positions?.on('health', (health) => (devices.gpsHealth = health));
  positions?.on('error', (error) => logger.warn({ err: error }, 'GPS receiver error'));

  // Pending records of a killed run become in-doubt before the reader accepts the next card, so
  // that card's tap can settle them.
  const recovered = store.recoverPending();
  if (recovered > 0) logger.warn({ recovered }, 'pending records from an interrupted run recovered: completed where the TAC was stored, in doubt otherwise');
  // The page starts before the reader link, so a port already in use stops the terminal before
  // anything connects, and the first driver card tapped reaches the shift.
  let driverScreenUrl: string | undefined;
  try {
    driverScreenUrl = await driver.start();
  } catch (error) {
    await driver.stop().catch((stopError: Error) => logger.error({ err: stopError }, 'failed to stop the driver screen after its start failed'));
    store.close();
    parameters.close();
    const code = (error as NodeJS.ErrnoException).code;
    const id = code === 'EADDRINUSE' || code === 'EACCES' ? 'cli.terminal.driverScreenPortUnavailable' : 'cli.terminal.driverScreenFailed';
    throw new TranslatedError(cliTextEntry(id, { port: config.driverScreen.port, message: (error as Error).message }), { cause: error });
  }
  const stop = async () => {
    clockCheck.stop();
    parameterCheck.stop();
    await runtime.stop();
    // Stopping the shift waits for a record still being sent, so the uplink stays up until then.
    await driver.stop();
    screen.forwardTo(undefined);
    await devices.stop();
    await uplink.stop();
    store.close();
    parameters.close();
  };
  try {
    clockCheck.start(positions);
    parameterCheck.start();
    uplink.start();
    // The PSAM sits behind the reader link or in a PC/SC slot, so that must be up before the runtime opens it.
    await devices.start();
    await runtime.start();
  } catch (error) {
    await stop().catch((stopError: Error) => logger.error({ err: stopError }, 'failed to stop the terminal after its start failed'));
    throw error;
  }
  devices.armSamResets();
  return { runtime, uplink, reader: devices.reader, parameters, driver, driverScreenUrl, alertChecks: { clock: clockCheck, parameters: parameterCheck }, stop };
}

/** Builds the configured GPS/BeiDou receiver, or undefined when the config has none. */
function createPositionSource(config: TerminalConfig, clock: Clock, logger: Logger): PositionSource | undefined {
  const gps = config.gps;
  const gpsLogger = logger.child({ component: 'gps' });
  switch (gps?.kind) {
    case undefined:
      return undefined;
    case 'serial':
      return new SerialNmeaPositionSource({
        path: gps.path,
        ...(gps.baudRate === undefined ? {} : { baudRate: gps.baudRate }),
        ...(gps.rescanPattern === undefined ? {} : { rescanPattern: gps.rescanPattern }),
        clock,
        logger: gpsLogger,
      });
    case 'gpsd':
      return new GpsdPositionSource({ ...(gps.host === undefined ? {} : { host: gps.host }), ...(gps.port === undefined ? {} : { port: gps.port }), clock, logger: gpsLogger });
    case 'nmea-file':
      return new NmeaFileReplaySource(gps.path, { ...(gps.speed === undefined ? {} : { speed: gps.speed }), ...(gps.loop === undefined ? {} : { loop: gps.loop }), clock });
  }
}

/**
 * The card reader and the PSAM transport of the configured kind, with their health for the status
 * topic. Under PC/SC one PcscService serves both, its outages raise "reader service down" on the
 * driver's screen, and every sign that the PSAM was powered again (its slot reporting a card, or
 * the reader coming back after a fault) is passed to `onSamReset`.
 */
class DeviceLinks {
  readonly reader: CardReader;
  readonly psam: ApduTransport;
  readonly socketLink: SocketReaderLink | undefined;
  gpsHealth: DeviceHealth | undefined;
  /** The PC/SC side: always the PSAM slot, and also the card reader unless the cards are read by a serial module. */
  private readonly pcsc: { service: PcscService; reader: CardReader; slot: PcscApduTransport } | undefined;
  private readerHealth: DeviceHealth = 'unknown';
  private samResetListener: ((reason: string) => void) | undefined;
  private armed = false;

  constructor(
    config: TerminalConfig,
    private readonly logger: Logger,
    screen: DriverScreen,
  ) {
    const reader = config.reader;
    if (reader.kind === 'socket') {
      this.socketLink = new SocketReaderLink({ path: reader.path, terminalId: config.terminalId, logger });
      this.reader = this.socketLink;
      this.psam = this.socketLink.psam;
      return;
    }
    const pcscLogger = logger.child({ component: 'pcsc' });
    const service = new PcscService({ logger: pcscLogger });
    const cardReader: CardReader =
      reader.kind === 'serial'
        ? new SerialCardReader({ path: reader.path, ...(reader.baudRate === undefined ? {} : { baudRate: reader.baudRate }), logger: logger.child({ component: 'serial-reader' }) })
        : new PcscCardReader({
            logger: pcscLogger,
            service,
            serviceAlert: new DriverScreenServiceAlert({ screen }),
            ...(reader.readerName === undefined ? {} : { readerName: parseReaderNameFilter(reader.readerName) }),
          });
    const slot = new PcscApduTransport({ logger: pcscLogger, service, ...(reader.psamReaderName === undefined ? {} : { readerName: parseReaderNameFilter(reader.psamReaderName) }) });
    // A PC/SC reader coming back means its SAM slot was powered again too. A serial module has no SAM slot.
    if (reader.kind === 'pcsc') cardReader.on('health', (health) => this.readerHealthChanged(health));
    else cardReader.on('health', (health) => (this.readerHealth = health));
    // Registered after the slot's own listener, so the slot has adopted its reader when this runs.
    service.on('reader', (pcscReader: NfcPcscReader) => {
      if (pcscReader.name !== slot.name) return;
      pcscReader.on('card', () => this.samReset(`PSAM powered in slot "${pcscReader.name}"`));
    });
    this.pcsc = { service, reader: cardReader, slot };
    this.reader = cardReader;
    this.psam = slot;
  }

  onSamReset(listener: (reason: string) => void): void {
    this.samResetListener = listener;
  }

  /** From now on a PSAM reset reopens the SAM; the runtime's own start opened it the first time. */
  armSamResets(): void {
    this.armed = true;
  }

  health(): NonNullable<StatusDetails['devices']> {
    const reader = this.pcsc ? this.readerHealth : 'ok';
    return { reader, ...(this.gpsHealth === undefined ? {} : { gps: this.gpsHealth }) };
  }

  /** Connects the socket link, or starts pcscd's context and waits a little for the PSAM. */
  async start(): Promise<void> {
    if (this.socketLink) return this.socketLink.start();
    const pcsc = this.pcsc!;
    await pcsc.reader.start();
    const slotReady = pcsc.slot.start();
    await pcsc.service.start();
    // Without a PSAM the terminal still starts: the runtime keeps trying to open it and the
    // driver's screen shows why taps fail.
    await slotReady.catch((error: Error) => this.logger.error({ err: error }, 'PSAM slot not ready at start'));
  }

  async stop(): Promise<void> {
    if (!this.pcsc) return;
    await this.pcsc.slot.stop();
    await this.pcsc.service.stop();
  }

  private readerHealthChanged(health: DeviceHealth): void {
    const previous = this.readerHealth;
    this.readerHealth = health;
    if (health === 'ok' && (previous === 'down' || previous === 'degraded')) this.samReset(`card reader back after "${previous}"`);
  }

  private samReset(reason: string): void {
    if (this.armed) this.samResetListener?.(reason);
  }
}
