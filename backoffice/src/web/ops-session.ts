import { DEFAULT_LANGUAGE, type Language } from '@busfare/shared-protocol';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { type OperatorAccounts, type OperatorIdentity, hasRole } from '../operators/operator-accounts.js';
import type { OperatorRole } from '../store/operator-store.js';

/** Cookie that carries an operator's session token (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'busfare_session';
/** Cookie that keeps the operator's chosen console language. */
export const LANGUAGE_COOKIE = 'busfare_lang';

declare module 'fastify' {
  interface FastifyRequest {
    operator?: OperatorIdentity;
  }
}

/** The console language: `?lang=` first, then the language cookie, then Chinese. */
export function languageOfRequest(request: FastifyRequest): Language {
  const query = request.query as { lang?: unknown } | undefined;
  const fromQuery = query?.lang;
  if (fromQuery === 'zh' || fromQuery === 'en') return fromQuery;
  const fromCookie = request.cookies[LANGUAGE_COOKIE];
  return fromCookie === 'zh' || fromCookie === 'en' ? fromCookie : DEFAULT_LANGUAGE;
}

/** Remembers a `?lang=` choice in the language cookie. */
export function rememberLanguage(request: FastifyRequest, reply: FastifyReply): void {
  const query = request.query as { lang?: unknown } | undefined;
  if (query?.lang === 'zh' || query?.lang === 'en') {
    reply.setCookie(LANGUAGE_COOKIE, query.lang, { path: '/', sameSite: 'strict', httpOnly: true, maxAge: 365 * 86_400 });
  }
}

export function setSessionCookie(reply: FastifyReply, token: string, expiresAt: Date, secure: boolean): void {
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'strict', secure, expires: expiresAt });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

/**
 * A pre-handler that admits a request only with a live session of at least `role`. Pages
 * redirect to the login page; API routes answer 401 or 403 with a JSON error.
 */
export function requireOperator(accounts: OperatorAccounts, role: OperatorRole, kind: 'page' | 'api'): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    const operator = accounts.authenticate(request.cookies[SESSION_COOKIE]);
    if (!operator) {
      if (kind === 'api') return reply.code(401).send({ error: 'not logged in or the session has expired: log in at /api/v1/session' });
      const expired = request.cookies[SESSION_COOKIE] !== undefined;
      return reply.redirect(`/ops/login?next=${encodeURIComponent(request.url)}${expired ? '&expired=1' : ''}`, 303);
    }
    if (!hasRole(operator.role, role)) {
      return reply.code(403).send(kind === 'api' ? { error: `this action needs the ${role} role; you are ${operator.role}` } : `forbidden: needs the ${role} role`);
    }
    request.operator = operator;
  };
}

/**
 * Rejects a form post whose Origin header names another site. Session cookies are SameSite=Strict,
 * so browsers do not send them cross-site; this check also covers browsers that ignore SameSite.
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return origin === undefined;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
