import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ClearingError } from '../clearing/clearing-error.js';
import type { OperatorAccounts, OperatorIdentity } from '../operators/operator-accounts.js';
import type { OperatorRole } from '../store/operator-store.js';
import { isStorageFullError } from '../store/storage-full.js';
import { describeIssues } from '../zod-issues.js';
import { requireOperator } from './ops-session.js';

type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface ApiContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The logged-in operator; absent only on routes without a role. */
  operator: OperatorIdentity;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** One JSON route of the HTTP API, with the zod schemas that validate it and describe it in OpenAPI. */
export interface ApiRoute<P extends AnyObject = AnyObject, Q extends AnyObject = AnyObject, B extends z.ZodType = z.ZodType> {
  method: 'GET' | 'POST' | 'DELETE';
  /** Fastify path, parameters written `:name`. */
  url: string;
  /** Least role allowed, or null for a route open without login. */
  role: OperatorRole | null;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  /** Schema of the 200 response, for the OpenAPI description. */
  response?: z.ZodType;
  /** Returns the JSON body, or undefined after sending a reply itself. */
  handler(context: ApiContext<z.infer<P>, z.infer<Q>, z.infer<B>>): unknown;
}

/** Declares a route with its types inferred from the schemas. */
export function apiRoute<P extends AnyObject, Q extends AnyObject, B extends z.ZodType>(route: ApiRoute<P, Q, B>): ApiRoute {
  return route as unknown as ApiRoute;
}

const HTTP_STATUS: Record<ClearingError['code'], number> = { invalid: 400, 'not-found': 404, conflict: 409, forbidden: 403 };

/** Registers API routes on Fastify: session check, zod validation, and errors as JSON with a status. */
export function registerApiRoutes(app: FastifyInstance, routes: readonly ApiRoute[], accounts: OperatorAccounts): void {
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      ...(route.role === null ? {} : { preHandler: requireOperator(accounts, route.role, 'api') }),
      handler: async (request, reply) => {
        const parts: Record<string, unknown> = {};
        for (const [name, schema, value] of [
          ['params', route.params, request.params],
          ['query', route.query, request.query],
          ['body', route.body, request.body],
        ] as const) {
          if (!schema) continue;
          const parsed = schema.safeParse(value ?? {});
          if (!parsed.success) return reply.code(400).send({ error: `invalid ${name}: ${describeIssues(parsed.error).join('; ')}` });
          parts[name] = parsed.data;
        }
        try {
          const result = await route.handler({
            params: parts.params,
            query: parts.query,
            body: parts.body,
            operator: request.operator as OperatorIdentity,
            request,
            reply,
          } as ApiContext<never, never, never>);
          if (reply.sent) return reply;
          return result;
        } catch (error) {
          if (isStorageFullError(error)) {
            request.log.error({ err: error, url: request.url, operator: request.operator?.username }, 'clearing request failed because the database disk is full');
            return reply.code(507).send({ error: 'the disk of the clearing database is full, so the request did not finish: free disk space and repeat it' });
          }
          if (!(error instanceof ClearingError) && !(error instanceof RangeError)) throw error;
          request.log.info({ url: request.url, operator: request.operator?.username, reason: error.message }, 'clearing request rejected');
          return reply.code(error instanceof ClearingError ? HTTP_STATUS[error.code] : 400).send({ error: error.message });
        }
      },
    });
  }
}

/** Builds the OpenAPI 3.1 description of the API from the routes' zod schemas. */
export function openApiDocument(routes: readonly ApiRoute[], info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:(\w+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [location, schema] of [['path', route.params], ['query', route.query]] as const) {
      if (!schema) continue;
      const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, property] of Object.entries(json.properties ?? {})) {
        parameters.push({ name, in: location, required: location === 'path' || (json.required ?? []).includes(name), schema: property });
      }
    }
    const operation: Record<string, unknown> = {
      summary: route.summary,
      tags: [route.tag],
      parameters,
      responses: {
        '200': { description: 'OK', ...(route.response ? { content: { 'application/json': { schema: z.toJSONSchema(route.response, { unrepresentable: 'any' }) } } } : {}) },
        '400': { description: 'Invalid request' },
        ...(route.role === null ? {} : { '401': { description: 'Not logged in' }, '403': { description: `Needs the ${route.role} role` } }),
      },
      ...(route.role === null ? { security: [] } : { 'x-required-role': route.role }),
    };
    if (route.body) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: z.toJSONSchema(route.body, { io: 'input', unrepresentable: 'any' }) } } };
    }
    paths[path] = { ...(paths[path] ?? {}), [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info,
    components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'busfare_session' } } },
    security: [{ session: [] }],
    paths,
  };
}
