import { DEFAULT_LANGUAGE, type Language, uiText } from '@busfare/shared-protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { ArrivalService } from '../arrivals/realtime/arrival-service.js';
import { routeQuery, stopQuery, vehicleQuery } from '../arrivals/realtime/rider-queries.js';
import { describeIssues } from '../zod-issues.js';
import { formatLocalTime } from './html.js';
import { renderRiderMessagePage, renderRiderStopPage } from './rider-page.js';

export interface RiderRoutesOptions {
  /** The running predictor; without one every rider route returns 503. */
  arrivals: ArrivalService | undefined;
  /** Offset of the riders' local time from UTC, for the page's clock. */
  timezoneOffsetMinutes: number;
}

/** GTFS ids: letters (any script), digits and _ . : - up to 64 characters. */
const idParams = z.strictObject({ id: z.string().regex(/^[\p{L}\p{N}_.:-]{1,64}$/u, 'must be 1-64 letters, digits or _ . : -') });
const pageQuery = z.object({ lang: z.enum(['zh', 'en']).optional() });
const PROTOBUF = 'application/x-protobuf';

function parseId(params: unknown, reply: FastifyReply): string | undefined {
  const result = idParams.safeParse(params);
  if (result.success) return result.data.id;
  void reply.code(400).send({ error: `invalid id: ${describeIssues(result.error).join('; ')}` });
  return undefined;
}

/**
 * Registers the rider API and page on the console server: `GET /api/rider/routes/:id`,
 * `/api/rider/stops/:id`, `/api/rider/vehicles/:id` (JSON, stop names as in the feed),
 * `GET /rider/stops/:id` (HTML, Chinese unless `?lang=en`), and the GTFS-realtime feeds
 * `GET /gtfs-rt/trip-updates` and `/gtfs-rt/vehicle-positions` (binary protobuf).
 */
export function registerRiderRoutes(app: FastifyInstance, options: RiderRoutesOptions): void {
  const { arrivals } = options;
  const unavailable = (reply: FastifyReply) => reply.code(503).send({ error: 'arrival predictions are not running: configure arrivals.gtfs' });

  app.get('/api/rider/routes/:id', async (request, reply) => {
    const id = parseId(request.params, reply);
    if (id === undefined) return reply;
    if (!arrivals) return unavailable(reply);
    const body = routeQuery(arrivals.schedule, arrivals.snapshot(), id);
    return body ?? reply.code(404).send({ error: `route ${id} not found` });
  });

  app.get('/api/rider/stops/:id', async (request, reply) => {
    const id = parseId(request.params, reply);
    if (id === undefined) return reply;
    if (!arrivals) return unavailable(reply);
    const body = stopQuery(arrivals.schedule, arrivals.snapshot(), id);
    return body ?? reply.code(404).send({ error: `stop ${id} not found` });
  });

  app.get('/api/rider/vehicles/:id', async (request, reply) => {
    const id = parseId(request.params, reply);
    if (id === undefined) return reply;
    if (!arrivals) return unavailable(reply);
    const body = vehicleQuery(arrivals.schedule, arrivals.snapshot(), id);
    return body ?? reply.code(404).send({ error: `vehicle ${id} is not on a trip now` });
  });

  app.get('/rider/stops/:id', async (request, reply) => {
    const query = pageQuery.safeParse(request.query);
    const language: Language = query.success ? (query.data.lang ?? DEFAULT_LANGUAGE) : DEFAULT_LANGUAGE;
    const html = (code: number, body: string) => reply.code(code).type('text/html; charset=utf-8').header('content-language', language === 'zh' ? 'zh-CN' : 'en').send(body);
    const params = idParams.safeParse(request.params);
    if (!params.success) return html(400, renderRiderMessagePage(language, uiText('rider.stop.notFound', language, { id: '?' })));
    if (!arrivals) return html(503, renderRiderMessagePage(language, uiText('rider.stop.unavailable', language)));
    const result = stopQuery(arrivals.schedule, arrivals.snapshot(), params.data.id);
    if (!result) return html(404, renderRiderMessagePage(language, uiText('rider.stop.notFound', language, { id: params.data.id })));
    const updatedAt = formatLocalTime(result.updatedAt, options.timezoneOffsetMinutes).slice(11);
    return html(200, renderRiderStopPage({ language, stop: result.stop, routes: result.routes, arrivals: result.arrivals, updatedAt }));
  });

  app.get('/gtfs-rt/trip-updates', async (_request, reply) => {
    if (!arrivals) return unavailable(reply);
    return reply.type(PROTOBUF).send(Buffer.from(arrivals.snapshot().feeds.tripUpdates));
  });

  app.get('/gtfs-rt/vehicle-positions', async (_request, reply) => {
    if (!arrivals) return unavailable(reply);
    return reply.type(PROTOBUF).send(Buffer.from(arrivals.snapshot().feeds.vehiclePositions));
  });
}
