import type { AddressInfo } from 'node:net';
import { DEFAULT_LANGUAGE, type Language } from '@busfare/shared-protocol';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { LiveTap } from '../ingest/ingest-service.js';
import type { Logger } from '../logger.js';
import type { ClearingRepository } from '../store/clearing-repository.js';
import { renderConsolePage } from './console-page.js';
import { LiveFeed } from './live-feed.js';

/** Rows of recent taps and rejections the page shows when it loads. */
const RECENT_ROWS = 50;

export interface ConsoleServerOptions {
  repository: ClearingRepository;
  /** Registers a listener for newly stored taps and returns a function that removes it. */
  subscribeTaps: (listener: (tap: LiveTap) => void) => () => void;
  timezoneOffsetMinutes: number;
  logger: Logger;
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
  });
  const feed = new LiveFeed();
  const unsubscribe = options.subscribeTaps((tap) => feed.publish(tap));

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
      .header('content-security-policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
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
  return `http://${host}:${address.port}/`;
}

function languageOf(value: string | undefined): Language {
  return value === 'en' || value === 'zh' ? value : DEFAULT_LANGUAGE;
}
