import { type FareTableBody, type ParameterSet, fareTableBodySchema } from '@busfare/shared-protocol';
import { type MqttClient, connectAsync } from 'mqtt';
import { type BrokerAccessHooks, startEmbeddedBroker } from './broker/embedded-broker.js';
import type { BackOfficeConfig } from './config.js';
import { IngestService } from './ingest/ingest-service.js';
import { TacVerifier } from './ingest/tac-verifier.js';
import { TransactionIngestor } from './ingest/transaction-ingest.js';
import { loadKeyFile } from './keys/file-key-store.js';
import { type KeyStore, MemoryKeyStore } from './keys/key-store.js';
import type { Logger } from './logger.js';
import { defaultFareTable } from './params/default-fare-table.js';
import { publishParameterSet } from './params/publisher.js';
import type { ClearingRepository, ClearingSummary } from './store/clearing-repository.js';
import { SqliteClearingRepository } from './store/sqlite-clearing-repository.js';
import { buildConsoleServer, listenConsole } from './web/console-server.js';

export interface BackOfficeOptions {
  logger: Logger;
  /** Keys to use in place of the config's key file (tests and benches). */
  keyStore?: KeyStore;
  /** Access hooks of the embedded broker; the default allows every client. */
  brokerAccess?: BrokerAccessHooks;
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
  repository: ClearingRepository;
  ingest: IngestService;
  publishFareTable(publication: FareTablePublication): Promise<ParameterSet>;
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
    const keyStore = options.keyStore ?? loadKeys(config, logger);
    if (config.localIssuerPrefixes.length === 0) {
      logger.warn('localIssuerPrefixes is empty: every T-Union issuer without a key is treated as out of town');
    }

    const repository = new SqliteClearingRepository({ path: config.db });
    cleanups.push(() => repository.close());
    logger.info({ db: config.db }, 'clearing database opened');

    let brokerUrl = config.mqtt.externalUrl;
    if (brokerUrl === undefined) {
      const broker = await startEmbeddedBroker({ port: config.mqtt.port, host: config.mqtt.host, logger, ...options.brokerAccess });
      cleanups.push(() => broker.close());
      brokerUrl = broker.url;
    }

    const transactions = new TransactionIngestor({
      repository,
      verifier: new TacVerifier({ keys: keyStore, localIssuerPrefixes: config.localIssuerPrefixes }),
      businessDay: { timezoneOffsetMinutes: config.timezoneOffsetMinutes, cutoff: config.businessDayCutoff },
    });
    const ingest = new IngestService({ brokerUrl, repository, transactions, logger });
    cleanups.push(() => ingest.stop());
    await ingest.start();

    const parameterClient: MqttClient = await connectAsync(brokerUrl, { protocolVersion: 4, clientId: 'busfare-params', reconnectPeriod: 1_000 });
    cleanups.push(() => parameterClient.endAsync());

    const web = buildConsoleServer({
      repository,
      timezoneOffsetMinutes: config.timezoneOffsetMinutes,
      logger,
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
      repository,
      ingest,
      async publishFareTable(publication) {
        const body = publication.body ?? defaultFareTableFor(config);
        const published = await publishParameterSet(
          parameterClient,
          'fare-table',
          publication.version,
          fareTableBodySchema.parse(body),
          publication.effectiveFrom ?? new Date().toISOString(),
        );
        logger.info({ kind: published.kind, version: published.version, bodySha256: published.bodySha256 }, 'parameter set published');
        return published;
      },
      summary: () => repository.summary(),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function loadKeys(config: BackOfficeConfig, logger: Logger): KeyStore {
  if (config.keys !== undefined) return loadKeyFile(config.keys, logger);
  logger.warn('no key file configured: only records of out-of-town T-Union issuers can clear');
  return new MemoryKeyStore([]);
}

function defaultFareTableFor(config: BackOfficeConfig): FareTableBody {
  if (config.localIssuerPrefixes.length === 0) {
    throw new Error('cannot build the default fare table: localIssuerPrefixes is empty; set it in the config or pass a fare table body');
  }
  return defaultFareTable(config.localIssuerPrefixes);
}
