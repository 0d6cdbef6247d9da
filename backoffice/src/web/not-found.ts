import { DEFAULT_LANGUAGE, type Language, uiText } from '@busfare/shared-protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { escapeHtml } from './html.js';
import { CSP } from './ops-pages.js';
import { LANGUAGE_COOKIE } from './ops-session.js';

/** Path prefixes whose clients expect JSON (or protobuf) rather than a page. */
const MACHINE_PREFIXES = ['/api/', '/gtfs-rt/'];

const LANGUAGE_COOKIE_PATTERN = new RegExp(`(?:^|;\\s*)${LANGUAGE_COOKIE}=(zh|en)(?:;|$)`);

export interface NotFoundOptions {
  /** Whether the operators' console serves /ops, so that /ops paths can link back to it. */
  opsConsole: boolean;
}

/**
 * Sets the server's 404 response for unknown URLs. API and feed paths get a JSON `{ error }`,
 * and every other path gets a small page in the request's language with a link back to the
 * console home: `/ops` for paths under /ops while the operators' console runs, `/` otherwise.
 */
export function registerNotFoundHandler(app: FastifyInstance, options: NotFoundOptions): void {
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? request.url;
    const language = languageOfUnroutedRequest(request);
    request.log.debug({ method: request.method, path }, 'route not found');

    if (isMachinePath(path)) {
      return reply.code(404).send({ error: uiText('web.notFound.route', language, { method: request.method, path }) });
    }

    return reply
      .code(404)
      .type('text/html; charset=utf-8')
      .header('content-language', language === 'zh' ? 'zh-CN' : 'en')
      .header('content-security-policy', CSP)
      .header('cache-control', 'no-store')
      .send(renderNotFoundPage(language, options.opsConsole && isOpsPath(path)));
  });
}

/** Renders the not-found page, linking to the operators' console when `linkToOps` is set and to `/` otherwise. */
export function renderNotFoundPage(language: Language, linkToOps: boolean): string {
  const t = (id: Parameters<typeof uiText>[0]): string => escapeHtml(uiText(id, language));
  const home = `${linkToOps ? '/ops' : '/'}${language === DEFAULT_LANGUAGE ? '' : `?lang=${language}`}`;
  return `<!doctype html>
<html lang="${language === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${t('web.notFound.title')} - ${t('console.title')}</title>
<style>body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 2rem; color: #1b1b1b; }</style>
</head>
<body>
<main>
<h1>${t('web.notFound.title')}</h1>
<p>${t('web.notFound.text')}</p>
<p><a id="home" href="${home}">${t(linkToOps ? 'web.notFound.opsHome' : 'web.notFound.home')}</a></p>
</main>
</body>
</html>`;
}

function isMachinePath(path: string): boolean {
  return path === '/api' || path === '/gtfs-rt' || MACHINE_PREFIXES.some((prefix) => path.startsWith(prefix));
}

function isOpsPath(path: string): boolean {
  return path === '/ops' || path.startsWith('/ops/');
}

/**
 * Picks the language of a request that matched no route: `?lang=` first, then the console's language
 * cookie, then Chinese. The cookie header is read directly because the cookie parser is registered
 * only inside the operators' console plugin, which unknown URLs never reach.
 */
function languageOfUnroutedRequest(request: FastifyRequest): Language {
  const query = request.query as { lang?: unknown } | undefined;
  if (query?.lang === 'zh' || query?.lang === 'en') return query.lang;
  const cookie = request.headers.cookie;
  const fromCookie = cookie === undefined ? undefined : LANGUAGE_COOKIE_PATTERN.exec(cookie)?.[1];
  return fromCookie === 'zh' || fromCookie === 'en' ? fromCookie : DEFAULT_LANGUAGE;
}
