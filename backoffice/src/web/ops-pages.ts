import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type UiTextId, uiText, zodIssueLines } from '@busfare/shared-protocol';
import type { ClearingCentre } from '../clearing/clearing-centre.js';
import { ClearingError } from '../clearing/clearing-error.js';
import { hasRole } from '../operators/operator-accounts.js';
import type { ParameterAuthoring } from '../params/authoring.js';
import type { ClearingRepository } from '../store/clearing-repository.js';
import type { OperatorRole } from '../store/operator-store.js';
import { isStorageFullError } from '../store/storage-full.js';
import { dashboardFigures, transactionQuerySchema } from './clearing-api.js';
import { ConsoleInputError, cardNumberOf, yuanToFen } from './console-input.js';
import { type FlashMessage, FlashStore, flashText } from './ops-flash.js';
import { type OpsPageId, renderOpsPage } from './ops-layout.js';
import { type ParameterFormsView, parameterFormsBody } from './ops-parameter-views.js';
import { parameterFormAction } from './ops-parameter-actions.js';
import { exceptionsBody, reconciliationBody, settlementListBody, settlementReportBody } from './ops-settlement-views.js';
import { SESSION_COOKIE, clearSessionCookie, languageOfRequest, rememberLanguage, requireOperator, sameOrigin, setSessionCookie } from './ops-session.js';
import { auditBody, customerServiceBody, dashboardBody, fleetBody, loginBody, operatorsBody, parametersBody, transactionsBody } from './ops-views.js';
import type { MapVehicle, RouteShape } from './route-map.js';
import { maskCardFields } from './viewer-masking.js';
import type { TerminalParameterStatus } from '../params/fleet-parameter-status.js';

export interface OpsPagesOptions {
  centre: ClearingCentre;
  repository: ClearingRepository;
  secureCookies: boolean;
  /** Route lines for the fleet map, usually from the GTFS feed. */
  routeShapes: () => RouteShape[];
  /** Signs and stores new parameter sets. Without it the parameters page shows no forms. */
  parameterAuthoring?: ParameterAuthoring;
  parameterStatus?: () => TerminalParameterStatus[];
}

type Form = Record<string, string | undefined>;

/** Content-Security-Policy of the /ops pages and the not-found page: no scripts, no external content, no framing. */
export const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'";

/**
 * The operators' console pages under /ops, rendered on the server in the operator's language.
 * Forms post to /ops routes, which act through the clearing services and redirect back with the
 * outcome, so the pages need no script.
 */
export function registerOpsPages(app: FastifyInstance, options: OpsPagesOptions): void {
  const { centre, repository } = options;
  const offset = centre.rule.timezoneOffsetMinutes;
  const guard = (role: OperatorRole) => requireOperator(centre.accounts, role, 'page');

  const flashes = new FlashStore();

  type Flash = { kind: 'ok' | 'error'; text: string };
  /**
   * Sends a console page. The banner shows `ownFlash`, or the one-time flash whose id the `flash`
   * query parameter names, or "done" for `done=1`. Free text in the query is never shown.
   */
  const send = (request: FastifyRequest, reply: FastifyReply, active: OpsPageId | undefined, title: string, body: string, ownFlash?: Flash, currentUrl = request.url) => {
    rememberLanguage(request, reply);
    const query = request.query as { done?: string; flash?: string };
    const language = languageOfRequest(request);
    const stored = flashes.take(request.cookies[SESSION_COOKIE], query.flash);
    const flash =
      ownFlash ?? (stored !== undefined
        ? { kind: stored.kind, text: flashText(stored, language) }
        : query.done !== undefined
          ? { kind: 'ok' as const, text: uiText('ops.done', language) }
          : undefined);
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', CSP)
      .header('cache-control', 'no-store')
      .send(renderOpsPage({ language, operator: request.operator, active, title, body, flash, currentUrl }));
  };
  const title = (request: FastifyRequest, id: Parameters<typeof uiText>[0]) => uiText(id, languageOfRequest(request));

  /** Logs a rejected request and redirects to `target` with a one-time error flash for the operator's session. */
  const redirectWithError = (request: FastifyRequest, reply: FastifyReply, target: string, message: Omit<FlashMessage, 'kind'>) => {
    request.log.info({ url: request.url, operator: request.operator?.username, messageId: message.messageId, detail: message.detail }, 'console request rejected');
    const id = flashes.put(request.cookies[SESSION_COOKIE] ?? '', { kind: 'error', ...message });
    return reply.redirect(`${target}${target.includes('?') ? '&' : '?'}flash=${id}`, 303);
  };
  /** Builds the flash for an error a console action may raise, or returns undefined for errors the operator cannot fix. */
  const errorFlash = (error: unknown): Omit<FlashMessage, 'kind'> | undefined => {
    if (error instanceof ConsoleInputError) return { messageId: error.messageId, params: error.params, ...(error.detail === undefined ? {} : { detail: error.detail }) };
    if (error instanceof ClearingError || error instanceof RangeError) return { detail: error.message };
    if (isStorageFullError(error)) return { messageId: 'ops.error.storageFull' };
    return undefined;
  };

  /** Runs a form action and redirects back with `done` or an error flash, unless the action sent its own reply. */
  const act = (role: OperatorRole, back: (request: FastifyRequest) => string, action: (request: FastifyRequest, form: Form, reply: FastifyReply) => unknown) => ({
    preHandler: guard(role),
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      if (!sameOrigin(request)) return reply.code(403).send('cross-site form post rejected');
      const target = back(request);
      const join = target.includes('?') ? '&' : '?';
      try {
        const result = await action(request, (request.body ?? {}) as Form, reply);
        if (reply.sent) return reply;
        void result;
        return reply.redirect(`${target}${join}done=1`, 303);
      } catch (error) {
        const flash = errorFlash(error);
        if (flash === undefined) throw error;
        if (isStorageFullError(error)) request.log.error({ err: error, url: request.url, operator: request.operator?.username }, 'console action failed because the database disk is full');
        return redirectWithError(request, reply, target, flash);
      }
    },
  });

  app.get('/ops/login', async (request, reply) => {
    const query = request.query as { next?: string; failed?: string; expired?: string };
    const language = languageOfRequest(request);
    rememberLanguage(request, reply);
    const flash = query.failed ? { kind: 'error' as const, text: uiText('ops.login.failed', language) } : query.expired ? { kind: 'error' as const, text: uiText('ops.login.expired', language) } : undefined;
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', CSP)
      .send(renderOpsPage({ language, title: uiText('ops.login.title', language), body: loginBody(language, safeNext(query.next)), flash, currentUrl: request.url }));
  });

  app.post('/ops/login', async (request, reply) => {
    if (!sameOrigin(request)) return reply.code(403).send('cross-site form post rejected');
    const form = (request.body ?? {}) as Form;
    const next = safeNext(form.next);
    const session = await centre.accounts.login(form.username ?? '', form.password ?? '');
    if (!session) return reply.redirect(`/ops/login?failed=1&next=${encodeURIComponent(next)}`, 303);
    setSessionCookie(reply, session.token, session.expiresAt, options.secureCookies);
    return reply.redirect(next, 303);
  });

  app.post('/ops/logout', { preHandler: guard('viewer') }, async (request, reply) => {
    if (!sameOrigin(request)) return reply.code(403).send('cross-site form post rejected');
    centre.accounts.logout(request.cookies[SESSION_COOKIE], request.operator?.username ?? '');
    clearSessionCookie(reply);
    return reply.redirect('/ops/login', 303);
  });

  app.get('/ops', { preHandler: guard('viewer') }, async (request, reply) =>
    send(request, reply, 'dashboard', title(request, 'ops.nav.dashboard'), dashboardBody(languageOfRequest(request), dashboardFigures(centre, repository))),
  );

  app.get('/ops/transactions', { preHandler: guard('viewer') }, async (request, reply) => {
    const raw = request.query as Record<string, string | undefined>;
    const filter = { card: nonEmpty(raw.card), terminal: nonEmpty(raw.terminal), route: nonEmpty(raw.route), from: nonEmpty(raw.from), to: nonEmpty(raw.to) };
    const searched = Object.values(filter).some((value) => value !== undefined);
    let rows;
    let body: string;
    const language = languageOfRequest(request);
    if (searched) {
      let card: string | undefined;
      try {
        card = filter.card === undefined ? undefined : cardNumberOf(filter.card);
      } catch (error) {
        return redirectWithError(request, reply, '/ops/transactions', errorFlash(error) ?? {});
      }
      const parsed = transactionQuerySchema.safeParse({ ...filter, card, from: localToIso(filter.from, offset), to: localToIso(filter.to, offset) });
      if (!parsed.success) {
        const detail = zodIssueLines(parsed.error.issues, language).join(language === 'zh' ? '；' : '; ');
        return redirectWithError(request, reply, '/ops/transactions', { messageId: 'ops.input.search', detail });
      }
      rows = centre.queries.search({ asn: parsed.data.card, terminalId: parsed.data.terminal, route: parsed.data.route, from: parsed.data.from, to: parsed.data.to, limit: parsed.data.limit });
    }
    body = transactionsBody(language, filter, rows && forRole(request, rows), offset);
    return send(request, reply, 'transactions', title(request, 'ops.nav.transactions'), body);
  });

  app.get('/ops/settlement', { preHandler: guard('viewer') }, async (request, reply) => {
    const settled = new Map(centre.settlement.days().map((day) => [day.businessDay, day]));
    const recorded = new Map<string, { count: number; amountFen: number }>();
    for (const total of repository.totalsByTerminalAndDay()) {
      const entry = recorded.get(total.businessDay) ?? { count: 0, amountFen: 0 };
      entry.count += total.count;
      entry.amountFen += total.amountFen;
      recorded.set(total.businessDay, entry);
    }
    const days = [...new Set([...settled.keys(), ...recorded.keys()])].sort().reverse().map((businessDay) => {
      const done = settled.get(businessDay);
      return done
        ? { businessDay, settled: true, count: done.recordCount, amountFen: done.amountFen }
        : { businessDay, settled: false, count: recorded.get(businessDay)?.count ?? 0, amountFen: recorded.get(businessDay)?.amountFen ?? 0 };
    });
    return send(request, reply, 'settlement', title(request, 'ops.nav.settlement'), settlementListBody(languageOfRequest(request), days));
  });

  app.get('/ops/settlement/open', { preHandler: guard('viewer') }, async (request, reply) => {
    const day = (request.query as { day?: string }).day ?? '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return redirectWithError(request, reply, '/ops/settlement', { messageId: 'ops.input.day' });
    return reply.redirect(`/ops/settlement/${day}`, 303);
  });

  app.get<{ Params: { day: string } }>('/ops/settlement/:day', { preHandler: guard('viewer') }, async (request, reply) => {
    const language = languageOfRequest(request);
    try {
      const report = centre.settlement.report(request.params.day);
      const canAct = hasRole(request.operator?.role ?? 'viewer', 'operator');
      return send(request, reply, 'settlement', `${title(request, 'ops.nav.settlement')} ${report.businessDay}`, settlementReportBody(language, report, canAct, offset));
    } catch (error) {
      if (error instanceof RangeError) return redirectWithError(request, reply, '/ops/settlement', { detail: error.message });
      throw error;
    }
  });

  app.post<{ Params: { day: string } }>(
    '/ops/settlement/:day/settle',
    act('operator', (request) => `/ops/settlement/${(request.params as { day: string }).day}`, (request) => centre.settlement.settle((request.params as { day: string }).day, request.operator?.username ?? '')),
  );

  app.post<{ Params: { day: string } }>('/ops/settlement/:day/forwarding', {
    preHandler: guard('operator'),
    handler: async (request, reply) => {
      if (!sameOrigin(request)) return reply.code(403).send('cross-site form post rejected');
      const partner = ((request.body ?? {}) as Form).partner ?? '';
      try {
        const file = centre.forwardingFiles(request.params.day, request.operator?.username ?? '').find((candidate) => candidate.partnerCity === partner.toUpperCase());
        if (!file) return redirectWithError(request, reply, `/ops/settlement/${request.params.day}`, { messageId: 'ops.input.noForwarding', params: { partner } });
        return reply.header('content-type', 'text/plain; charset=utf-8').header('content-disposition', `attachment; filename="${file.fileName}"`).send(file.content);
      } catch (error) {
        if (error instanceof ClearingError || error instanceof RangeError) return redirectWithError(request, reply, '/ops/settlement', { detail: error.message });
        throw error;
      }
    },
  });

  app.post('/ops/settlement/answers', act('operator', () => '/ops/settlement', (request, form) => centre.importVerdicts(form.content ?? '', request.operator?.username ?? '')));

  app.get<{ Params: { day: string } }>('/ops/reconciliation/:day', { preHandler: guard('viewer') }, async (request, reply) => {
    try {
      const report = centre.reconcile(request.params.day);
      return send(request, reply, 'settlement', `${title(request, 'ops.nav.reconciliation')} ${report.businessDay}`, reconciliationBody(languageOfRequest(request), forRole(request, report)));
    } catch (error) {
      if (error instanceof RangeError) return redirectWithError(request, reply, '/ops/settlement', { detail: error.message });
      throw error;
    }
  });

  app.get('/ops/exceptions', { preHandler: guard('viewer') }, async (request, reply) => {
    const canAct = hasRole(request.operator?.role ?? 'viewer', 'operator');
    const body = exceptionsBody(languageOfRequest(request), centre.exceptions.rejected(true), forRole(request, centre.exceptions.inDoubt(true)), canAct, offset);
    return send(request, reply, 'exceptions', title(request, 'ops.nav.exceptions'), body);
  });

  const idOf = (request: FastifyRequest) => Number((request.params as { id: string }).id);
  const keyOf = (request: FastifyRequest) => {
    const params = request.params as { terminalId: string; sequence: string };
    return { terminalId: params.terminalId, sequence: Number(params.sequence) };
  };
  app.post('/ops/exceptions/rejected/:id/reprocess', act('operator', () => '/ops/exceptions', (request) => {
    const result = centre.exceptions.reprocess(idOf(request), request.operator?.username ?? '');
    if (result.outcome !== 'stored') throw new ClearingError('conflict', result.reason ?? 'rejected again');
  }));
  app.post('/ops/exceptions/rejected/:id/write-off', act('operator', () => '/ops/exceptions', (request, form) => centre.exceptions.writeOffRejected(idOf(request), form.reason ?? '', request.operator?.username ?? '')));
  app.post('/ops/exceptions/in-doubt/:terminalId/:sequence/resolve', act('operator', () => '/ops/exceptions', (request, form) => {
    const matchedText = nonEmpty(form.matched);
    let matched: { terminalId: string; sequence: number } | undefined;
    if (matchedText !== undefined) {
      const match = /^([A-Za-z0-9_-]{1,32})#(\d+)$/.exec(matchedText);
      if (!match) throw new ConsoleInputError('ops.input.matchedRecord', { value: matchedText });
      matched = { terminalId: match[1] as string, sequence: Number(match[2]) };
    }
    const outcome = form.outcome === 'debited' || form.outcome === 'not-debited' ? form.outcome : undefined;
    return centre.exceptions.resolveInDoubt({ ...keyOf(request), reason: form.reason ?? '', outcome, matched }, request.operator?.username ?? '');
  }));
  app.post('/ops/exceptions/in-doubt/:terminalId/:sequence/write-off', act('operator', () => '/ops/exceptions', (request, form) => {
    const key = keyOf(request);
    centre.exceptions.writeOffInDoubt(key.terminalId, key.sequence, form.reason ?? '', request.operator?.username ?? '');
  }));

  app.get('/ops/fleet', { preHandler: guard('viewer') }, async (request, reply) => {
    const statuses = repository.latestStatuses();
    const online = new Set(statuses.filter((status) => status.state === 'online').map((status) => status.terminalId));
    const vehicles: MapVehicle[] = centre.queries.latestPositions().map((position) => ({ ...position, online: online.has(position.terminalId) }));
    return send(request, reply, 'fleet', title(request, 'ops.nav.fleet'), fleetBody(languageOfRequest(request), statuses, options.routeShapes(), vehicles, offset));
  });

  /** Renders the parameters page; operators and above also get the authoring forms. */
  const sendParameters = (request: FastifyRequest, reply: FastifyReply, forms: Omit<ParameterFormsView, 'available'> = {}, flash?: Flash) => {
    const language = languageOfRequest(request);
    const canAuthor = hasRole(request.operator?.role ?? 'viewer', 'operator');
    const formsHtml = canAuthor ? parameterFormsBody(language, { available: options.parameterAuthoring !== undefined, ...forms }) : '';
    return send(request, reply, 'parameters', title(request, 'ops.nav.parameters'), `${parametersBody(language, repository.latestStatuses(), options.parameterStatus?.())}\n${formsHtml}`, flash, '/ops/parameters');
  };

  app.get('/ops/parameters', { preHandler: guard('viewer') }, async (request, reply) => {
    const query = request.query as { published?: string; version?: string };
    const published = query.published === 'blacklist' || query.published === 'fare-table' ? query.published : undefined;
    const language = languageOfRequest(request);
    const kindName = published && uiText(`paramKind.${published}` satisfies UiTextId, language);
    const flash = kindName && /^\d+$/.test(query.version ?? '') ? { kind: 'ok' as const, text: uiText('ops.params.published', language, { kind: kindName, version: query.version ?? '' }) } : undefined;
    return sendParameters(request, reply, {}, flash);
  });
  for (const kind of ['blacklist', 'fare-table'] as const) {
    app.post(`/ops/parameters/${kind}`, act('operator', () => '/ops/parameters', async (request, form, reply) => {
      const outcome = parameterFormAction(kind, form, {
        authoring: options.parameterAuthoring,
        audit: centre.audit,
        operator: request.operator?.username ?? '',
        language: languageOfRequest(request),
        localToIso: (value) => localToIso(value, offset),
      });
      if (outcome.ok) return reply.redirect(`/ops/parameters?published=${kind}&version=${outcome.version}`, 303);
      request.log.info({ url: request.url, operator: request.operator?.username, problems: outcome.problems.length }, 'parameter set rejected');
      const flash = { kind: 'error' as const, text: uiText('ops.params.rejected', languageOfRequest(request)) };
      return sendParameters(request, reply.code(422), { problems: outcome.problems, values: outcome.values }, flash);
    }));
  }

  app.get('/ops/customer-service', { preHandler: guard('viewer') }, async (request, reply) => {
    const role = request.operator?.role ?? 'viewer';
    return send(request, reply, 'customer-service', title(request, 'ops.nav.customerService'), customerServiceBody(languageOfRequest(request), forRole(request, centre.customerService.list()), hasRole(role, 'operator'), hasRole(role, 'administrator')));
  });
  app.post('/ops/customer-service/refund', act('operator', () => '/ops/customer-service', (request, form) =>
    centre.customerService.requestRefund({ asn: cardNumberOf(form.asn), amountFen: yuanToFen(form.amountYuan), reason: form.reason ?? '' }, request.operator?.username ?? ''),
  ));
  app.post('/ops/customer-service/adjustment', act('operator', () => '/ops/customer-service', (request, form) =>
    centre.customerService.requestAdjustment({ asn: cardNumberOf(form.asn), amountFen: yuanToFen(form.amountYuan), reason: form.reason ?? '' }, request.operator?.username ?? ''),
  ));
  app.post('/ops/customer-service/transfer', act('operator', () => '/ops/customer-service', (request, form) =>
    centre.customerService.requestBalanceTransfer({ lostAsn: cardNumberOf(form.lostAsn), replacementAsn: cardNumberOf(form.replacementAsn), reason: form.reason ?? '' }, request.operator?.username ?? ''),
  ));
  app.post('/ops/customer-service/:id/:decision', act('administrator', () => '/ops/customer-service', (request) => {
    const decision = (request.params as { decision: string }).decision;
    if (decision !== 'approved' && decision !== 'declined') throw new ClearingError('invalid', `invalid decision "${decision}"`);
    return centre.customerService.decide(idOf(request), decision, request.operator?.username ?? '');
  }));

  app.get('/ops/operators', { preHandler: guard('administrator') }, async (request, reply) =>
    send(request, reply, 'operators', title(request, 'ops.nav.operators'), operatorsBody(languageOfRequest(request), centre.accounts.list())),
  );
  app.post('/ops/operators', act('administrator', () => '/ops/operators', (request, form) => {
    const role = form.role === 'operator' || form.role === 'administrator' ? form.role : 'viewer';
    return centre.accounts.create({ username: form.username ?? '', displayName: form.displayName ?? '', role, password: form.password ?? '' }, request.operator?.username ?? '');
  }));
  app.post('/ops/operators/:username', act('administrator', () => '/ops/operators', (request, form) => {
    const role = form.role === 'viewer' || form.role === 'operator' || form.role === 'administrator' ? form.role : undefined;
    return centre.accounts.update((request.params as { username: string }).username, { role, disabled: form.disabled === 'true' }, request.operator?.username ?? '');
  }));

  app.get('/ops/audit', { preHandler: guard('viewer') }, async (request, reply) =>
    send(request, reply, 'audit', title(request, 'ops.nav.audit'), auditBody(languageOfRequest(request), forRole(request, centre.stores.operators.listAudit(500)), offset)),
  );
}

/** Only same-site paths may follow a login, so the form cannot send an operator elsewhere. */
function safeNext(next: string | undefined): string {
  return next !== undefined && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/ops';
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** Converts a datetime-local value (local wall time) to an ISO instant at the centre's offset. */
function localToIso(value: string | undefined, offsetMinutes: number): string | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$/.exec(value);
  if (!match) return value;
  const instant = Date.parse(`${match[1]}T${match[2]}${match[3] ?? ':00'}Z`) - offsetMinutes * 60_000;
  return new Date(instant).toISOString();
}

/**
 * Masks every card number in what a page shows an operator of the viewer role, who may see counts
 * and amounts but not whole card numbers; operators and administrators see them whole, because
 * customer service needs them.
 */
function forRole<T>(request: FastifyRequest, value: T): T {
  return request.operator?.role === 'viewer' ? (maskCardFields(value) as T) : value;
}
