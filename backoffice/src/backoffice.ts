import { type FareTableBody, type ParameterSet, fareTableBodySchema } from '@busfare/shared-protocol';
import { type MqttClient, connectAsync } from 'mqtt';
import { type KeyObject, randomBytes } from 'node:crypto';
import { type BrokerAccessHooks, startEmbeddedBroker } from './broker/embedded-broker.js';
import { type ServiceAccount, terminalAccessHooks } from './broker/terminal-access.js';
import { withPublishLimits } from './broker/publish-limits.js';
import { PARAMETERS_CLIENT_ID } from './broker/service-client-ids.js';
import { EvidenceLedger } from './security/evidence-ledger.js';
import { maskCardNumber } from './security/card-masking.js';
import { readTlsFiles } from './security/tls-files.js';
import { GapResendRequester } from './ingest/gap-resend.js';
import { TerminalCredentialStore } from './terminals/credential-store.js';
import { FleetMonitor } from './terminals/fleet-monitor.js';
import { type TerminalReconciliation, TerminalReconciler } from './terminals/reconciliation.js';
import { blacklistLookup } from './clearing/blacklist-lookup.js';
import { ClearingCentre } from './clearing/clearing-centre.js';
import type { BackOfficeConfig } from './config.js';
import { type InitialAdministrator, ensureInitialAdministrator } from './operators/initial-administrator.js';
import { IngestService } from './ingest/ingest-service.js';
import { PayloadCheckWorker, bundledPayloadCheckScript } from './ingest/payload-check-thread.js';
import { type CloneFlagStore, SqliteCloneFlagStore } from './ingest/m1-clone-flags.js';
import { TacVerifier } from './ingest/tac-verifier.js';
import { TransactionIngestor } from './ingest/transaction-ingest.js';
import { openConfiguredKeyStore } from './keys/open-key-store.js';
import type { KeyStore } from './keys/key-store.js';
import type { Logger } from './logger.js';
import { defaultFareTable } from './params/default-fare-table.js';
import { type ParameterPublishing, startParameterPublishing } from './params/parameter-publishing.js';
import { loadSigningKey } from './params/signing-key-file.js';
import type { ClearingRepository, ClearingSummary } from './store/clearing-repository.js';
import { SqliteClearingRepository } from './store/sqlite-clearing-repository.js';
import { buildConsoleServer, listenConsole } from './web/console-server.js';
import { routeShapesFromParameters } from './web/route-map.js';
import { startArrivalService } from './arrivals/realtime/start-arrivals.js';
import { terminalParameterStatus } from './params/fleet-parameter-status.js';

/** Bytes a broker client may send in one packet before it authenticates: CONNECT with credentials and a will. */
const PACKET_SIZE_LIMIT_BEFORE_AUTH = 64 * 1024;

export interface BackOfficeOptions {
  logger: Logger;
  /** Keys to use in place of the config's key file (tests and benches). */
  keyStore?: KeyStore;
  /**
   * Access hooks of the embedded broker in place of the default: with `mqtt.terminalCredentials`,
   * registered terminals only; without it, every client.
   */
  brokerAccess?: BrokerAccessHooks;
  /** The first administrator to create when the database has none; a random password is written beside the database otherwise. */
  initialAdministrator?: InitialAdministrator;
  /** Parameter-signing key to use in place of the config's key file (benches). */
  parameterSigningKey?: KeyObject;
  /**
   * Built payload-check worker script in place of the one beside the bundle (tests), or null to
   * check payloads in the ingest thread.
   */
  payloadCheckScript?: URL | null;
}

export interface FareTablePublication {
  version: number;
  /** Defaults to the bench fare table with the configured local issuer prefixes. */
  body?: FareTableBody;
  /** Defaults to now. */
  effectiveFrom?: string;
}

export interface BackOffice {
  brokerUrl: string;
  consoleUrl: string;
  /** The first administrator when this start created it, and the file (mode 0600) holding its generated password. */
  createdAdministrator?: { username: string; passwordFile: string };
  repository: ClearingRepository;
  ingest: IngestService;
  /** Settlement, reconciliation, exception queues, customer service, operator accounts and audit log. */
  clearing: ClearingCentre;
  /** Per-terminal MQTT secrets in the clearing database. */
  credentials: TerminalCredentialStore;
  /** Heartbeats, last-will status and clock drift of every terminal. */
  fleet: FleetMonitor;
  /** Replay and PSAM-binding checks; undefined unless `security.evidenceChecks` is on. */
  evidence: EvidenceLedger | undefined;
  /** Asks terminals to re-send the sequences that ingest finds missing. */
  gapRequests: GapResendRequester;
  /** Clone checks of MIFARE Classic purses, run on every newly stored M1 debit. */
  cloneFlags: SqliteCloneFlagStore;
  /** Each terminal's counters against the clearing database. */
  reconcile(): TerminalReconciliation[];
  publishFareTable(publication: FareTablePublication): Promise<ParameterSet>;
  /** The publications outbox and, with a signing key, authoring of every parameter kind. */
  parameters: ParameterPublishing;
  summary(): ClearingSummary;
  stop(): Promise<void>;
}

/**
 * Starts the back office: the clearing database, the embedded broker (unless an external broker
 * URL is configured), ingest, the parameter publisher and the operator console. When a step
 * fails, the steps already started are stopped before the error is rethrown.
 */
export async function startBackOffice(config: BackOfficeConfig, options: BackOfficeOptions): Promise<BackOffice> {
  const { logger } = options;
  const cleanups: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        logger.error({ err: error }, 'failed to stop a back-office component');
      }
    }
  };

  try {
    const keyStore = options.keyStore ?? (await openConfiguredKeyStore(config, logger));
    if (keyStore.close) cleanups.push(() => keyStore.close?.());
    if (config.localIssuerPrefixes.length === 0) {
      logger.warn('localIssuerPrefixes is empty: every T-Union issuer without a key is treated as out of town');
    }

    const repository = new SqliteClearingRepository({ path: config.db });
    cleanups.push(() => repository.close());
    logger.info({ db: config.db }, 'clearing database opened');

    const credentials = new TerminalCredentialStore(config.db);
    cleanups.push(() => credentials.close());
    const reconciler = new TerminalReconciler(config.db);
    cleanups.push(() => reconciler.close());
    const evidence = config.security.evidenceChecks ? new EvidenceLedger(repository.database) : undefined;
    if (evidence) cleanups.push(() => evidence.close());
    const cloneFlags = SqliteCloneFlagStore.open(config.db);
    cleanups.push(() => cloneFlags.close());
    const mqttTls = config.mqtt.tls ? readTlsFiles(config.mqtt.tls) : undefined;
    const consoleTls = config.http.tls ? readTlsFiles(config.http.tls) : undefined;

    // The back office's own clients get a secret that lives only as long as this process.
    let service: ServiceAccount | undefined;
    let brokerUrl = config.mqtt.externalUrl;
    if (brokerUrl === undefined) {
      let access = options.brokerAccess;
      if (access === undefined && config.mqtt.terminalCredentials) {
        service = { username: 'busfare-backoffice', secret: randomBytes(24).toString('base64url') };
        access = withPublishLimits(terminalAccessHooks({ credentials, services: [service], logger }), { limits: config.mqtt.limits, exemptUsernames: [service.username], logger });
      }
      // Until a client authenticates, only a CONNECT-sized packet is read; publish-limits raises it.
      const packetLimit = service === undefined ? {} : { packetSizeLimitBeforeAuth: PACKET_SIZE_LIMIT_BEFORE_AUTH };
      const broker = await startEmbeddedBroker({ port: config.mqtt.port, host: config.mqtt.host, logger, ...access, ...packetLimit, ...(mqttTls ? { tls: mqttTls } : {}) });
      cleanups.push(() => broker.close());
      brokerUrl = broker.url;
    }
    const serviceLogin =
      service !== undefined
        ? { username: service.username, password: service.secret }
        : config.mqtt.serviceUsername !== undefined
          ? { username: config.mqtt.serviceUsername, password: config.mqtt.servicePassword }
          : {};
    // In-process clients trust the configured CA (a private CA for the embedded broker's certificate).
    const serviceTls = mqttTls?.ca ? { ca: mqttTls.ca } : {};

    const transactions = new TransactionIngestor({
      repository,
      verifier: new TacVerifier({ keys: keyStore, localIssuerPrefixes: config.localIssuerPrefixes }),
      businessDay: { timezoneOffsetMinutes: config.timezoneOffsetMinutes, cutoff: config.businessDayCutoff },
      ...(evidence ? { evidence } : {}),
      cloneFlags: loggingCloneFlags(cloneFlags, logger),
      logger,
    });
    const clearing = new ClearingCentre({
      repository,
      ingestor: transactions,
      rule: { timezoneOffsetMinutes: config.timezoneOffsetMinutes, cutoff: config.businessDayCutoff },
      localIssuerPrefixes: config.localIssuerPrefixes,
    });
    const passwordFile = config.db === ':memory:' ? undefined : `${config.db}.admin-password`;
    const administrator = await ensureInitialAdministrator(clearing.accounts, { given: options.initialAdministrator, passwordFile, logger });
    const createdAdministrator = administrator !== undefined && options.initialAdministrator === undefined && passwordFile !== undefined ? { username: administrator, passwordFile } : undefined;
    const payloadChecks = startPayloadChecks(options.payloadCheckScript === undefined ? bundledPayloadCheckScript() : options.payloadCheckScript, keyStore, config, logger);
    if (payloadChecks) cleanups.push(() => payloadChecks.close());
    const ingest = new IngestService({ brokerUrl, repository, transactions, logger, database: repository.database, ...serviceLogin, ...serviceTls, ...(payloadChecks ? { payloadChecks } : {}) });
    const fleet = new FleetMonitor({ logger });
    const gapRequests = new GapResendRequester({ logger, send: (terminalId, command) => ingest.sendCommand(terminalId, command) });
    ingest.on('status', (status, receivedAt, retained) => fleet.observeStatus(status, receivedAt, retained));
    ingest.on('batch', (receipt) => {
      fleet.observeBatch(receipt.terminalId, receipt.receivedAt);
      gapRequests.onAck(receipt.ack);
    });
    ingest.on('batch', (receipt) => clearing.recordBatchReceipt(receipt));
    cleanups.push(() => ingest.stop());
    await ingest.start();

    const parameterClient: MqttClient = await connectAsync(brokerUrl, { protocolVersion: 4, clientId: PARAMETERS_CLIENT_ID, reconnectPeriod: 1_000, ...serviceLogin, ...serviceTls });
    cleanups.push(() => parameterClient.endAsync());
    const signingKey = options.parameterSigningKey ?? (config.parameterSigningKey === undefined ? undefined : loadSigningKey(config.parameterSigningKey));
    const parameters = await startParameterPublishing({ databasePath: config.db, client: parameterClient, logger, ...(signingKey ? { signingKey } : {}) });
    clearing.customerService.useBlacklist(blacklistLookup(parameters.repository));
    cleanups.push(() => parameters.stop());

    const arrivals = startArrivalService(config.arrivals, config.db, logger);
    if (arrivals) cleanups.push(() => arrivals.stop());
    const web = buildConsoleServer({
      rider: { arrivals, timezoneOffsetMinutes: config.timezoneOffsetMinutes },
      repository,
      timezoneOffsetMinutes: config.timezoneOffsetMinutes,
      logger,
      ...(consoleTls ? { https: { cert: consoleTls.cert, key: consoleTls.key } } : {}),
      clearing: {
        centre: clearing,
        repository,
        parameterStatus: () => terminalParameterStatus(config.db, parameters.repository, new Date()),
        routeShapes: () => routeShapesFromParameters(parameters.repository),
        ...(parameters.authoring ? { parameterAuthoring: parameters.authoring } : {}),
      },
      subscribeTaps: (listener) => {
        ingest.on('tap', listener);
        return () => ingest.off('tap', listener);
      },
    });
    cleanups.push(() => web.close());
    const consoleUrl = await listenConsole(web, config.http.host, config.http.port);
    logger.info({ consoleUrl, brokerUrl }, 'back office started');

    return {
      brokerUrl,
      consoleUrl,
      ...(createdAdministrator ? { createdAdministrator } : {}),
      repository,
      ingest,
      clearing,
      credentials,
      fleet,
      evidence,
      gapRequests,
      cloneFlags,
      reconcile: () => reconciler.reconcile(),
      parameters,
      async publishFareTable(publication) {
        const body = fareTableBodySchema.parse(publication.body ?? defaultFareTableFor(config));
        return parameters.publish({ kind: 'fare-table', version: publication.version, body, ...(publication.effectiveFrom === undefined ? {} : { effectiveFrom: publication.effectiveFrom }) });
      },
      summary: () => repository.summary(),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Starts the worker thread that checks transaction payloads, when the key store can hand its keys
 * to it and the built worker script exists. An HSM key store, or a run from the TypeScript sources
 * (tests), checks payloads in the ingest thread.
 */
function startPayloadChecks(script: URL | null | undefined, keyStore: KeyStore, config: BackOfficeConfig, logger: Logger): PayloadCheckWorker | undefined {
  if (!script || keyStore.softwareKeyEntries === undefined) {
    logger.info({ reason: script ? 'keys stay in the key store' : 'no built worker script' }, 'transaction payloads are checked in the ingest thread');
    return undefined;
  }
  const businessDay = { timezoneOffsetMinutes: config.timezoneOffsetMinutes, cutoff: config.businessDayCutoff };
  logger.info('transaction payloads are checked in a worker thread');
  return new PayloadCheckWorker(script, { keys: keyStore.softwareKeyEntries(), localIssuerPrefixes: [...config.localIssuerPrefixes], businessDay });
}

function defaultFareTableFor(config: BackOfficeConfig): FareTableBody {
  if (config.localIssuerPrefixes.length === 0) {
    throw new Error('cannot build the default fare table: localIssuerPrefixes is empty; set it in the config or pass a fare table body');
  }
  return defaultFareTable(config.localIssuerPrefixes);
}

/** Logs every clone flag that ingest raises, with the card number masked, so an operator sees it as it happens. */
function loggingCloneFlags(store: CloneFlagStore, logger: Logger): CloneFlagStore {
  return {
    observe(terminalId, record, flaggedAt) {
      const flags = store.observe(terminalId, record, flaggedAt);
      for (const flag of flags) {
        logger.warn({ card: maskCardNumber(flag.asn), kind: flag.kind, terminalId: flag.terminalId, sequence: flag.sequence, otherTerminalId: flag.otherTerminalId, otherSequence: flag.otherSequence, detail: flag.detail }, 'M1 purse flagged as a possible clone');
      }
      return flags;
    },
    listCloneFlags: (limit) => store.listCloneFlags(limit),
  };
}
