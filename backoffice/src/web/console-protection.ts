import { uiText } from '@busfare/shared-protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LoginThrottle } from '../security/login-throttle.js';
import { languageOfRequest } from './ops-session.js';

/** Routes that check a password: the console's login form and the API's session endpoint. */
const LOGIN_ROUTES = new Set(['POST /ops/login', 'POST /api/v1/session']);
const STATE_CHANGING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface ConsoleProtectionOptions {
  throttle?: LoginThrottle;
}

interface LoginAttempt {
  username: string;
  address: string;
}

const attempts = new WeakMap<FastifyRequest, LoginAttempt>();

/**
 * Adds two guards to every route of the console's scope (register it before the routes):
 * - a cross-site request check: a state-changing request whose `Sec-Fetch-Site`, `Origin` or
 *   `Referer` shows another site gets 403 before any handler runs. Requests without those headers
 *   (scripts, curl) pass, because browsers send `Origin` on every cross-site POST;
 * - a login throttle: failed logins are counted per user name and per client address, and a
 *   locked one gets 429 with `Retry-After` without its password being checked.
 */
export function registerConsoleProtection(app: FastifyInstance, options: ConsoleProtectionOptions = {}): void {
  const throttle = options.throttle ?? new LoginThrottle();

  app.addHook('onRequest', async (request, reply) => {
    if (!STATE_CHANGING_METHODS.has(request.method) || isSameSite(request)) return;
    request.log.warn({ method: request.method, url: request.url, origin: request.headers.origin, address: request.ip }, 'cross-site request rejected');
    return sendError(request, reply, 403, uiText('ops.request.crossSite', languageOfRequest(request)));
  });

  app.addHook('preHandler', async (request, reply) => {
    if (!LOGIN_ROUTES.has(`${request.method} ${request.routeOptions.url}`)) return;
    const body = request.body as { username?: unknown } | undefined;
    const attempt = { username: typeof body?.username === 'string' ? body.username : '', address: request.ip };
    const waitMs = throttle.retryAfterMs(attempt.username, attempt.address);
    if (waitMs > 0) {
      const minutes = Math.ceil(waitMs / 60_000);
      reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
      return sendError(request, reply, 429, uiText('ops.login.locked', languageOfRequest(request), { minutes }));
    }
    attempts.set(request, attempt);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const attempt = attempts.get(request);
    if (!attempt) return payload;
    if (loginFailed(reply)) {
      throttle.recordFailure(attempt.username, attempt.address);
      if (throttle.retryAfterMs(attempt.username, attempt.address) > 0) request.log.warn({ username: attempt.username, address: attempt.address }, 'console login locked after repeated failures');
    } else if (reply.statusCode < 400) {
      throttle.recordSuccess(attempt.username);
    }
    return payload;
  });
}

/** A failed API login returns 401, and a failed form login redirects back with `failed=1`. */
function loginFailed(reply: FastifyReply): boolean {
  if (reply.statusCode === 401) return true;
  const location = reply.getHeader('location');
  return reply.statusCode === 303 && typeof location === 'string' && /[?&]failed=1(&|$)/.test(location);
}

function isSameSite(request: FastifyRequest): boolean {
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') return false;
  const origin = request.headers.origin;
  if (origin !== undefined) return hostOf(origin) === request.headers.host;
  const referer = request.headers.referer;
  if (referer !== undefined) return hostOf(referer) === request.headers.host;
  return true;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

function sendError(request: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
  if (request.url.startsWith('/api/')) return reply.code(status).send({ error: message });
  return reply.code(status).type('text/plain; charset=utf-8').send(message);
}
