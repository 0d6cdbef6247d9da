import type { AddressInfo } from 'node:net';
import { DEFAULT_LANGUAGE, type Language } from '@busfare/shared-protocol';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { LiveTap } from '../ingest/ingest-service.js';
import type { Logger } from '../logger.js';
import type { ClearingRepository } from '../store/clearing-repository.js';
import { type ClearingConsoleOptions, clearingConsolePlugin } from './clearing-console.js';
import { renderConsolePage } from './console-page.js';
import { LiveFeed } from './live-feed.js';
import { registerNotFoundHandler } from './not-found.js';
import { type RiderRoutesOptions, registerRiderRoutes } from './rider-api.js';
import { maskCardNumber } from '../security/card-masking.js';

/** Rows of recent taps and rejections the page shows when it loads. */
const RECENT_ROWS = 50;

export interface ConsoleServerOptions {
  repository: ClearingRepository;
  /** Registers a listener for newly stored taps and returns a function that removes it. */
  subscribeTaps: (listener: (tap: LiveTap) => void) => () => void;
  timezoneOffsetMinutes: number;
  logger: Logger;
  /** Serve HTTPS with this PEM certificate and key in place of plain HTTP. */
  https?: { cert: Buffer; key: Buffer };
  /** The operators' console pages (/ops) and HTTP API (/api/v1), when the clearing centre runs. */
  clearing?: ClearingConsoleOptions;
  /** The rider API, rider page and GTFS-realtime feeds; they answer 503 while no predictor runs. */
  rider?: RiderRoutesOptions;
}

/**
 * Builds the operator console: `GET /` (Chinese by default, `?lang=en` for English), the live taps
 * stream `GET /api/live` (Server-Sent Events), `GET /api/summary` and `GET /api/healthz`.
 * The caller listens, or uses `inject` in tests.
 */
export function buildConsoleServer(options: ConsoleServerOptions): FastifyInstance {
  const { repository } = options;
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'console' }) as FastifyBaseLogger,
    // NOTE: LogController replaces the deprecated disableRequestLogging option in the locked fastify
    // 5.12.8. The package.json range ^5.6.0 may admit releases without it, so raise it.
    logController: new LogController({ disableRequestLogging: true }),
    ...(options.https ? { https: { cert: options.https.cert, key: options.https.key, minVersion: 'TLSv1.2' as const } } : {}),
  }) as unknown as FastifyInstance;
  const feed = new LiveFeed();
  // The live page needs no login, so card numbers leave it masked.
  // Masking and serialising each stored record took about 1.5 µs of ingest even with no console open.
  const unsubscribe = options.subscribeTaps((tap) => {
    if (feed.size > 0) feed.publish({ ...tap, asn: maskCardNumber(tap.asn) });
  });

  if (options.clearing) {
    void app.register(clearingConsolePlugin, { ...options.clearing, secureCookies: options.clearing.secureCookies ?? options.https !== undefined });
  }

  registerNotFoundHandler(app, { opsConsole: options.clearing !== undefined });
  registerRiderRoutes(app, options.rider ?? { arrivals: undefined, timezoneOffsetMinutes: options.timezoneOffsetMinutes });

  app.addHook('preClose', async () => {
    unsubscribe();
    feed.close();
  });

  app.get<{ Querystring: { lang?: string } }>('/', async (request, reply) => {
    const language = languageOf(request.query.lang);
    const html = renderConsolePage({
      language,
      summary: repository.summary(),
      totals: repository.totalsByTerminalAndDay(),
      recentTaps: repository.recentTransactions(RECENT_ROWS),
      recentRejected: repository.recentRejected(RECENT_ROWS),
      timezoneOffsetMinutes: options.timezoneOffsetMinutes,
    });
    return reply
      .type('text/html; charset=utf-8')
      .header('content-language', language === 'zh' ? 'zh-CN' : 'en')
      .header('content-security-policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:")
      .send(html);
  });

  app.get('/api/summary', async () => repository.summary());
  app.get('/api/totals', async () => repository.totalsByTerminalAndDay());
  app.get('/api/in-doubt', async () => repository.openInDoubt());
  app.get('/api/healthz', async () => ({ status: 'ok' }));

  app.get('/api/live', (request, reply) => {
    reply.hijack();
    feed.open(reply.raw);
    request.log.debug({ streams: feed.size }, 'live taps stream opened');
  });

  return app;
}

/** Starts the console on a host and port (0 picks a free one) and returns its base URL. */
export async function listenConsole(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address() as AddressInfo;
  const scheme = app.initialConfig.https ? 'https' : 'http';
  return `${scheme}://${host}:${address.port}/`;
}

function languageOf(value: string | undefined): Language {
  return value === 'en' || value === 'zh' ? value : DEFAULT_LANGUAGE;
}
