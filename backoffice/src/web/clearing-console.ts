import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import type { ClearingCentre } from '../clearing/clearing-centre.js';
import type { ParameterAuthoring } from '../params/authoring.js';
import type { ClearingRepository } from '../store/clearing-repository.js';
import { openApiDocument, registerApiRoutes } from './api-route.js';
import { clearingApiRoutes } from './clearing-api.js';
import { registerConsoleProtection } from './console-protection.js';
import { registerViewerMasking } from './viewer-masking.js';
import type { LoginThrottle } from '../security/login-throttle.js';
import { registerOpsPages } from './ops-pages.js';
import type { RouteShape } from './route-map.js';
import type { TerminalParameterStatus } from '../params/fleet-parameter-status.js';

export interface ClearingConsoleOptions {
  centre: ClearingCentre;
  repository: ClearingRepository;
  /** Marks cookies Secure; set it when the console is served over HTTPS. */
  secureCookies?: boolean;
  /** Route lines for the fleet map; none by default. */
  routeShapes?: () => RouteShape[];
  /** Failed-login counter; a new one with the default limits when absent. */
  loginThrottle?: LoginThrottle;
  /** Signs and stores new parameter sets from the parameters page. Without it the page has no forms. */
  parameterAuthoring?: ParameterAuthoring;
  /** Each terminal's parameter versions against the published ones, for the parameters page. */
  parameterStatus?: () => TerminalParameterStatus[];
}

/**
 * The operators' console (/ops pages) and its HTTP API (/api/v1, described at
 * /api/openapi.json), as a Fastify plugin. Cookie and form parsing are registered inside the
 * plugin's own scope, so other route plugins on the same server are not affected.
 */
export async function clearingConsolePlugin(app: FastifyInstance, options: ClearingConsoleOptions): Promise<void> {
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  registerConsoleProtection(app, options.loginThrottle ? { throttle: options.loginThrottle } : {});
  registerViewerMasking(app);
  const secureCookies = options.secureCookies ?? false;
  const routes = clearingApiRoutes({ centre: options.centre, repository: options.repository, secureCookies });
  registerApiRoutes(app, routes, options.centre.accounts);
  const openApi = openApiDocument(routes, { title: 'busfare clearing centre API', version: '1' });
  app.get('/api/openapi.json', async () => openApi);
  registerOpsPages(app, { centre: options.centre, repository: options.repository, secureCookies, routeShapes: options.routeShapes ?? (() => []), ...(options.parameterAuthoring ? { parameterAuthoring: options.parameterAuthoring } : {}), ...(options.parameterStatus ? { parameterStatus: options.parameterStatus } : {}) });
}
