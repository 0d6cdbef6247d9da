import { z } from 'zod';
import type { ClearingCentre } from '../clearing/clearing-centre.js';
import type { ClearingRepository } from '../store/clearing-repository.js';
import { type ApiRoute, apiRoute } from './api-route.js';
import { clearSessionCookie, languageOfRequest, SESSION_COOKIE, setSessionCookie } from './ops-session.js';

const dayParams = z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a business day YYYY-MM-DD') });
const terminalIdField = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'terminal id must be 1-32 letters, digits, "_" or "-"');
const asnField = z.string().regex(/^[0-9A-F]{8,20}$/, 'card number must be 8-20 digits or upper-case hex digits');
const reasonField = z.string().trim().min(1, 'a reason is required').max(500);
const roleField = z.enum(['viewer', 'operator', 'administrator']);
const keyField = z.object({ terminalId: terminalIdField, sequence: z.coerce.number().int().min(1) });

export const transactionQuerySchema = z.object({
  card: asnField.optional(),
  terminal: terminalIdField.optional(),
  route: z.string().min(1).max(32).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const resolveInDoubtSchema = z
  .object({
    reason: reasonField,
    outcome: z.enum(['debited', 'not-debited']).optional(),
    matched: keyField.optional(),
  })
  .refine((body) => body.outcome !== undefined || body.matched !== undefined, { message: 'give an outcome or a matched later record', path: ['outcome'] });

const findingSchema = z.object({
  kind: z.string(),
  severity: z.enum(['info', 'warning', 'error']),
  terminalId: z.string().optional(),
  sequences: z.object({ from: z.number(), to: z.number() }).optional(),
  asn: z.string().optional(),
  shiftId: z.string().optional(),
  details: z.record(z.string(), z.union([z.string(), z.number()])),
});

const lineSchema = z.object({ key: z.string(), count: z.number(), amountFen: z.number(), listFareFen: z.number(), discountFen: z.number() });
const settlementReportSchema = z.object({
  businessDay: z.string(),
  state: z.enum(['settled', 'preview']),
  settledAt: z.string().optional(),
  settledBy: z.string().optional(),
  totals: lineSchema.omit({ key: true }),
  late: z.object({ count: z.number(), amountFen: z.number(), items: z.array(z.object({ terminalId: z.string(), sequence: z.number(), businessDay: z.string(), amountFen: z.number() })) }),
  awaitingIssuer: z.object({ count: z.number(), amountFen: z.number(), byPartner: z.array(z.object({ partnerCity: z.string(), count: z.number(), amountFen: z.number() })) }),
  partners: z.array(z.object({ partnerCity: z.string(), count: z.number(), receivableFen: z.number(), payableFen: z.number(), netFen: z.number() })),
  byIssuerGroup: z.array(lineSchema),
  byIssuer: z.array(lineSchema),
  byOperator: z.array(lineSchema),
  byRoute: z.array(lineSchema),
  byVehicle: z.array(lineSchema),
  byTerminal: z.array(lineSchema),
  byShift: z.array(lineSchema),
  byCardType: z.array(lineSchema),
  adjustments: z.array(lineSchema),
});

export interface ClearingApiOptions {
  centre: ClearingCentre;
  repository: ClearingRepository;
  /** Whether cookies need HTTPS (set when the console is served over TLS). */
  secureCookies: boolean;
}

/** Declares the HTTP API behind the operators' console, under /api/v1. */
export function clearingApiRoutes({ centre, repository, secureCookies }: ClearingApiOptions): ApiRoute[] {
  return [
    apiRoute({
      method: 'POST',
      url: '/api/v1/session',
      role: null,
      tag: 'session',
      summary: 'Log in; sets the HttpOnly session cookie',
      body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }),
      response: z.object({ username: z.string(), displayName: z.string(), role: roleField, expiresAt: z.string() }),
      async handler({ body, reply }) {
        const session = await centre.accounts.login(body.username, body.password);
        if (!session) return reply.code(401).send({ error: 'wrong username or password' });
        setSessionCookie(reply, session.token, session.expiresAt, secureCookies);
        return { ...session.identity, expiresAt: session.expiresAt.toISOString() };
      },
    }),
    apiRoute({
      method: 'DELETE',
      url: '/api/v1/session',
      role: 'viewer',
      tag: 'session',
      summary: 'Log out',
      handler({ request, reply, operator }) {
        centre.accounts.logout(request.cookies[SESSION_COOKIE], operator.username);
        clearSessionCookie(reply);
        return { loggedOut: true };
      },
    }),
    apiRoute({
      method: 'GET',
      url: '/api/v1/dashboard',
      role: 'viewer',
      tag: 'dashboard',
      summary: "Today's taps and revenue per hour, terminals online, backlog and open exceptions",
      handler: () => dashboardFigures(centre, repository),
    }),
    apiRoute({
      method: 'GET',
      url: '/api/v1/transactions',
      role: 'viewer',
      tag: 'transactions',
      summary: 'Search stored transactions by card number, terminal, route and time',
      query: transactionQuerySchema,
      handler: ({ query }) => centre.queries.search({ asn: query.card, terminalId: query.terminal, route: query.route, from: query.from, to: query.to, limit: query.limit }),
    }),
    apiRoute({
      method: 'GET',
      url: '/api/v1/card-locks',
      role: 'viewer',
      tag: 'transactions',
      summary: 'Blacklisted cards that terminals locked at the door, or failed to lock, newest first',
      query: z.object({ limit: z.coerce.number().int().min(1).max(1_000).default(100) }),
      handler: ({ query }) => repository.recentCardLocks(query.limit),
    }),
    apiRoute({ method: 'GET', url: '/api/v1/settlements', role: 'viewer', tag: 'settlement', summary: 'Settled business days', handler: () => centre.settlement.days() }),
    apiRoute({
      method: 'GET',
      url: '/api/v1/settlements/:day',
      role: 'viewer',
      tag: 'settlement',
      summary: 'Settlement report of a day: frozen when settled, a preview otherwise',
      params: dayParams,
      response: settlementReportSchema,
      handler: ({ params }) => centre.settlement.report(params.day),
    }),
    apiRoute({
      method: 'POST',
      url: '/api/v1/settlements/:day/settle',
      role: 'operator',
      tag: 'settlement',
      summary: 'Settle and freeze a business day',
      params: dayParams,
      response: settlementReportSchema,
      handler: ({ params, operator }) => centre.settlement.settle(params.day, operator.username),
    }),
    apiRoute({
      method: 'GET',
      url: '/api/v1/settlements/:day/export',
      role: 'viewer',
      tag: 'settlement',
      summary: 'Download a settled day as CSV or Excel, optionally one partner city only',
      params: dayParams,
      query: z.object({ format: z.enum(['csv', 'xlsx']), partner: z.string().optional(), lang: z.enum(['zh', 'en']).optional() }),
      async handler({ params, query, request, reply }) {
        const file = await centre.settlementExport(params.day, query.format, languageOfRequest(request), query.partner);
        return reply.header('content-type', file.contentType).header('content-disposition', `attachment; filename="${file.fileName}"`).send(file.body);
      },
    }),
    apiRoute({
      method: 'GET',
      url: '/api/v1/reconciliation/:day',
      role: 'viewer',
      tag: 'reconciliation',
      summary: 'Reconcile a business day and list the differences',
      params: dayParams,
      response: z.object({ businessDay: z.string(), checked: z.record(z.string(), z.number()), findings: z.array(findingSchema) }),
      handler: ({ params }) => centre.reconcile(params.day),
    }),
    apiRoute({
      method: 'POST',
      url: '/api/v1/forwarding/:day',
      role: 'operator',
      tag: 'out-of-town',
      summary: 'Build the forwarding file of each partner city for out-of-town records awaiting verification',
      params: dayParams,
      handler: ({ params, operator }) => centre.forwardingFiles(params.day, operator.username).map(({ keys: _keys, ...file }) => file),
    }),
    apiRoute({
      method: 'POST',
      url: '/api/v1/forwarding/answers',
      role: 'operator',
      tag: 'out-of-town',
      summary: "Import a partner's answer file",
      body: z.object({ content: z.string().min(1).max(50_000_000) }),
      handler: ({ body, operator }) => centre.importVerdicts(body.content, operator.username),
    }),
    apiRoute({
      method: 'GET',
      url: '/api/v1/exceptions/rejected',
      role: 'viewer',
      tag: 'exceptions',
      summary: 'Rejected records with their reason and category',
      query: z.object({ all: z.enum(['true', 'false']).optional() }),
      handler: ({ query }) => centre.exceptions.rejected(query.all !== 'true'),
    }),
    apiRoute({
      method: 'POST',
      url: '/api/v1/exceptions/rejected/:id/reprocess',
      role: 'operator',
      tag: 'exceptions',
      summary: 'Run a rejected record through ingest again',
      params: z.object({ id: z.coerce.number().int().min(1) }),
      handler: ({ params, operator }) => centre.exceptions.reprocess(params.id, operator.username),
    }),
    apiRoute({
      method: 'POST',
      url: '/api/v1/exceptions/rejected/:id/write-off',
      role: 'operator',
      tag: 'exceptions',
      summary: 'Write off a rejected record with a reason',
      params: z.object({ id: z.coerce.number().int().min(1) }),
      body: z.object({ reason: reasonField }),
      handler({ params, body, operator }) {
        centre.exceptions.writeOffRejected(params.id, body.reason, operator.username);
        return { writtenOff: true };
      },
    }),
    apiRoute({
      method: 'GET',
      url: '/api/v1/exceptions/in-doubt',
      role: 'viewer',
      tag: 'exceptions',
      summary: 'In-doubt records; open ones by default',
      query: z.object({ all: z.enum(['true', 'false']).optional() }),
      handler: ({ query }) => centre.exceptions.inDoubt(query.all !== 'true'),
    }),
    apiRoute({
      method: 'POST',
      url: '/api/v1/exceptions/in-doubt/:terminalId/:sequence/resolve',
      role: 'operator',
      tag: 'exceptions',
      summary: 'Resolve an in-doubt record from a later record of the card, or by hand with a reason',
      params: keyField,
      body: resolveInDoubtSchema,
      handler: ({ params, body, operator }) => ({ outcome: centre.exceptions.resolveInDoubt({ ...params, ...body }, operator.username) }),
    }),
    apiRoute({
      method: 'POST',
      url: '/api/v1/exceptions/in-doubt/:terminalId/:sequence/write-off',
      role: 'operator',
      tag: 'exceptions',
      summary: 'Write off an in-doubt record with a reason',
      params: keyField,
      body: z.object({ reason: reasonField }),
      handler({ params, body, operator }) {
        centre.exceptions.writeOffInDoubt(params.terminalId, params.sequence, body.reason, operator.username);
        return { writtenOff: true };
      },
    }),
    apiRoute({ method: 'GET', url: '/api/v1/customer-service', role: 'viewer', tag: 'customer service', summary: 'Refunds, adjustments and balance transfers', handler: () => centre.customerService.list() }),
    apiRoute({
      method: 'POST',
      url: '/api/v1/customer-service/refunds',
      role: 'operator',
      tag: 'customer service',
      summary: 'Request a refund to a card (needs an administrator to approve)',
      body: z.object({ asn: asnField, amountFen: z.number().int().min(1), reason: reasonField }),
      handler: ({ body, operator }) => centre.customerService.requestRefund(body, operator.username),
    }),
    apiRoute({
      method: 'POST',
      url: '/api/v1/customer-service/adjustments',
      role: 'operator',
      tag: 'customer service',
      summary: 'Request an adjustment, positive or negative, in fen',
      body: z.object({ asn: asnField, amountFen: z.number().int(), reason: reasonField }),
      handler: ({ body, operator }) => centre.customerService.requestAdjustment(body, operator.username),
    }),
    apiRoute({
      method: 'POST',
      url: '/api/v1/customer-service/balance-transfers',
      role: 'operator',
      tag: 'customer service',
      summary: 'Move the balance of a blacklisted lost card to its replacement',
      body: z.object({ lostAsn: asnField, replacementAsn: asnField, reason: reasonField }),
      handler: ({ body, operator }) => centre.customerService.requestBalanceTransfer(body, operator.username),
    }),
    apiRoute({
      method: 'POST',
      url: '/api/v1/customer-service/:id/decision',
      role: 'administrator',
      tag: 'customer service',
      summary: 'Approve or decline a pending item (not your own)',
      params: z.object({ id: z.coerce.number().int().min(1) }),
      body: z.object({ decision: z.enum(['approved', 'declined']) }),
      handler: ({ params, body, operator }) => centre.customerService.decide(params.id, body.decision, operator.username),
    }),
    apiRoute({ method: 'GET', url: '/api/v1/operators', role: 'administrator', tag: 'operators', summary: 'Operator accounts', handler: () => centre.accounts.list() }),
    apiRoute({
      method: 'POST',
      url: '/api/v1/operators',
      role: 'administrator',
      tag: 'operators',
      summary: 'Create an operator account',
      body: z.object({ username: z.string(), displayName: z.string().min(1).max(64), role: roleField, password: z.string().max(256) }),
      handler: ({ body, operator }) => centre.accounts.create(body, operator.username),
    }),
    apiRoute({
      method: 'POST',
      url: '/api/v1/operators/:username',
      role: 'administrator',
      tag: 'operators',
      summary: "Change an account's role, password or disabled state; ends its sessions",
      params: z.object({ username: z.string().min(1).max(64) }),
      body: z.object({ role: roleField.optional(), disabled: z.boolean().optional(), password: z.string().max(256).optional() }),
      async handler({ params, body, operator }) {
        await centre.accounts.update(params.username, body, operator.username);
        return { updated: true };
      },
    }),
    apiRoute({
      method: 'GET',
      url: '/api/v1/audit',
      role: 'viewer',
      tag: 'audit',
      summary: 'The audit log, newest first',
      query: z.object({ operator: z.string().max(64).optional(), action: z.string().max(64).optional(), limit: z.coerce.number().int().min(1).max(5000).default(500) }),
      handler: ({ query }) => centre.stores.operators.listAudit(query.limit, { operator: query.operator, action: query.action }),
    }),
  ];
}

/** Computes the dashboard's figures for the current business day. */
export function dashboardFigures(centre: ClearingCentre, repository: ClearingRepository) {
  const day = centre.businessDayOf(centre.currentTime());
  const hourly = centre.queries.hourly(day, centre.rule.timezoneOffsetMinutes);
  const statuses = repository.latestStatuses();
  return {
    businessDay: day,
    taps: hourly.reduce((sum, hour) => sum + hour.taps, 0),
    revenueFen: hourly.reduce((sum, hour) => sum + hour.amountFen, 0),
    hourly,
    terminals: statuses.length,
    terminalsOnline: statuses.filter((status) => status.state === 'online').length,
    backlog: statuses.reduce((sum, status) => sum + (status.backlog ?? 0), 0),
    openRejected: centre.exceptions.rejected(true).length,
    openInDoubt: centre.exceptions.inDoubt(true).length,
  };
}
