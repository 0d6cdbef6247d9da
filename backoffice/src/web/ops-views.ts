import { type Language, type TerminalStatus, type UiTextId, formatYuan, labelled } from '@busfare/shared-protocol';
import type { StoredTransactionRow } from '../store/clearing-repository.js';
import type { AdjustmentRow } from '../store/exception-store.js';
import type { AuditEntry, OperatorAccountRow } from '../store/operator-store.js';
import type { dashboardFigures } from './clearing-api.js';
import { escapeHtml, formatLocalTime } from './html.js';
import { catalogueLabel as labelOf, table, textFor } from './ops-layout.js';
import { type MapVehicle, type RouteShape, routeMapSvg } from './route-map.js';
import { hourlyChartSvg } from './svg-chart.js';
import type { TerminalParameterStatus } from '../params/fleet-parameter-status.js';

const money = (fen: number) => `<span class="number">${formatYuan(fen)}</span>`;

/** Returns the name of a parameter kind ("fare-table" is 票价表 / Fare table), escaped for HTML. */
export function parameterKindLabel(language: Language, kind: string): string {
  return labelOf(language, 'paramKind.', kind);
}

export function loginBody(language: Language, next: string): string {
  const t = textFor(language);
  return `<form method="post" action="/ops/login" class="stack" id="login-form">
  <input type="hidden" name="next" value="${escapeHtml(next)}">
  <label>${t('ops.login.username')} <input name="username" autocomplete="username" required></label>
  <label>${t('ops.login.password')} <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">${t('ops.login.submit')}</button>
</form>`;
}

export function dashboardBody(language: Language, figures: ReturnType<typeof dashboardFigures>): string {
  const t = textFor(language);
  const card = (id: string, label: string, value: string) => `<li id="${id}">${label}<span class="value">${value}</span></li>`;
  return `<p>${t('ops.settlement.day')} ${figures.businessDay}</p>
<ul class="cards">
  ${card('dash-taps', t('ops.dashboard.taps'), String(figures.taps))}
  ${card('dash-revenue', t('ops.dashboard.revenue'), formatYuan(figures.revenueFen))}
  ${card('dash-online', t('ops.dashboard.online'), `${figures.terminalsOnline} / ${figures.terminals}`)}
  ${card('dash-backlog', t('ops.dashboard.backlog'), String(figures.backlog))}
  ${card('dash-exceptions', t('ops.dashboard.exceptions'), String(figures.openRejected + figures.openInDoubt))}
</ul>
<h2>${t('ops.dashboard.hourly')}</h2>
${hourlyChartSvg(figures.hourly, { title: textFor(language)('ops.dashboard.hourly'), taps: textFor(language)('ops.dashboard.taps'), revenue: textFor(language)('ops.dashboard.revenue') })}`;
}

export interface TransactionFilterValues {
  card?: string;
  terminal?: string;
  route?: string;
  from?: string;
  to?: string;
}

export function transactionsBody(
  language: Language,
  filter: TransactionFilterValues,
  rows: readonly (StoredTransactionRow & { driverId: string | null; cardCounter: number })[] | undefined,
  offsetMinutes: number,
): string {
  const t = textFor(language);
  const value = (text: string | undefined) => escapeHtml(text ?? '');
  const form = `<form method="get" action="/ops/transactions" class="stack" id="search-form">
  <label>${t('console.card')} <input name="card" value="${value(filter.card)}" pattern="[0-9A-Fa-f]{8,20}"></label>
  <label>${t('console.terminal')} <input name="terminal" value="${value(filter.terminal)}"></label>
  <label>${t('console.route')} <input name="route" value="${value(filter.route)}"></label>
  <label>${t('ops.search.from')} <input name="from" type="datetime-local" value="${value(filter.from)}"></label>
  <label>${t('ops.search.to')} <input name="to" type="datetime-local" value="${value(filter.to)}"></label>
  <button type="submit">${t('ops.search.submit')}</button>
</form>`;
  if (rows === undefined) return form;
  return `${form}
<p id="search-count">${t('ops.search.results', { count: rows.length })}</p>
${table(
  'search-results',
  [t('console.time'), t('console.terminal'), t('console.sequence'), t('console.card'), t('console.cardType'), t('console.kind'), t('console.amount'), t('console.route'), t('console.vehicle'), t('export.driver'), t('ops.exceptions.counter'), t('console.verification')],
  rows.map((row) => [
    formatLocalTime(row.occurredAt, offsetMinutes),
    escapeHtml(row.terminalId),
    String(row.sequence),
    escapeHtml(row.asn),
    labelOf(language, 'cardType.', row.cardType),
    t(`kind.${row.kind}` as UiTextId),
    money(row.amountFen),
    escapeHtml(row.route ?? ''),
    escapeHtml(row.vehicleId),
    escapeHtml(row.driverId ?? ''),
    String(row.cardCounter),
    t(`verification.${row.verification}` as UiTextId),
  ]),
  t('console.noData'),
)}`;
}

export function fleetBody(language: Language, statuses: readonly TerminalStatus[], shapes: readonly RouteShape[], vehicles: readonly MapVehicle[], offsetMinutes: number): string {
  const t = textFor(language);
  const faults = (status: TerminalStatus) =>
    [
      ...Object.entries(status.devices ?? {}).filter(([, health]) => health !== 'ok' && health !== undefined).map(([device, health]) => `${device}: ${health}`),
      ...(status.alerts ?? []).map((alert) => `${alert.severity}: ${alert.messageId}`),
    ].join(', ');
  const map = routeMapSvg(shapes, vehicles, t('ops.fleet.map'));
  return `${table(
    'fleet',
    [t('console.terminal'), t('console.vehicle'), t('ops.fleet.state'), t('ops.fleet.lastContact'), t('ops.fleet.backlog'), t('ops.fleet.version'), t('ops.fleet.parameters'), t('ops.fleet.faults')],
    statuses.map((status) => [
      escapeHtml(status.terminalId),
      escapeHtml(status.vehicleId ?? ''),
      t(`state.${status.state}` as UiTextId),
      formatLocalTime(status.at, offsetMinutes),
      String(status.backlog ?? ''),
      escapeHtml(status.softwareVersion ?? ''),
      Object.entries(status.parameters?.active ?? {}).map(([kind, version]) => `${parameterKindLabel(language, kind)} v${version}`).join(', '),
      escapeHtml(faults(status)),
    ]),
    t('console.noData'),
  )}
${map ? `<h2>${t('ops.fleet.map')}</h2>\n${map}` : ''}`;
}

/**
 * Each terminal's active and pending parameter versions; with `lags`, a column says whether the
 * terminal is behind what the back office has published (unknown while its last status is the
 * offline last will).
 */
export function parametersBody(language: Language, statuses: readonly TerminalStatus[], lags?: readonly TerminalParameterStatus[]): string {
  const t = textFor(language);
  const kinds = [...new Set(statuses.flatMap((status) => [...Object.keys(status.parameters?.active ?? {}), ...Object.keys(status.parameters?.pending ?? {})]))].sort();
  const behindOf = new Map(lags?.map((lag) => [lag.terminalId, lag.behind]));
  const behindCell = (terminalId: string) => {
    const behind = behindOf.get(terminalId);
    if (behind === true) return `<strong class="behind">${t('ops.parameters.behind.yes')}</strong>`;
    return behind === false ? t('ops.parameters.behind.no') : t('ops.parameters.behind.unknown');
  };
  return table(
    'parameters',
    [t('console.terminal'), ...(lags ? [t('ops.parameters.behind')] : []), ...kinds.map((kind) => parameterKindLabel(language, kind))],
    statuses.map((status) => [
      escapeHtml(status.terminalId),
      ...(lags ? [behindCell(status.terminalId)] : []),
      ...kinds.map((kind) => {
        const active = status.parameters?.active[kind];
        const pending = status.parameters?.pending[kind];
        return `${active === undefined ? '' : `${t('ops.parameters.active')} v${active}`}${pending === undefined ? '' : ` ${t('ops.parameters.pending')} v${pending}`}`;
      }),
    ]),
    t('console.noData'),
  );
}

export function customerServiceBody(language: Language, rows: readonly AdjustmentRow[], canRequest: boolean, canApprove: boolean): string {
  const t = textFor(language);
  const reason = `<label>${t('console.reason')} <input name="reason" required></label>`;
  const forms = canRequest
    ? `<form method="post" action="/ops/customer-service/refund" class="stack"><h2>${t('ops.cs.refund')}</h2>
  <label>${t('console.card')} <input name="asn" required></label><label>${t('console.amount')} <input name="amountYuan" required inputmode="decimal"></label>${reason}
  <button type="submit">${t('ops.cs.submit')}</button></form>
<form method="post" action="/ops/customer-service/adjustment" class="stack"><h2>${t('ops.cs.adjustment')}</h2>
  <label>${t('console.card')} <input name="asn" required></label><label>${t('console.amount')} <input name="amountYuan" required inputmode="decimal"></label>${reason}
  <button type="submit">${t('ops.cs.submit')}</button></form>
<form method="post" action="/ops/customer-service/transfer" class="stack"><h2>${t('ops.cs.transfer')}</h2>
  <label>${t('console.card')} <input name="lostAsn" required></label><label>${t('ops.cs.replacement')} <input name="replacementAsn" required></label>${reason}
  <button type="submit">${t('ops.cs.submit')}</button></form>`
    : '';
  return `${table(
    'customer-service',
    ['#', t('console.kind'), t('console.card'), t('ops.cs.replacement'), t('console.amount'), t('console.reason'), t('ops.cs.requestedBy'), t('export.state'), t('ops.cs.decidedBy'), t('ops.audit.action')],
    rows.map((row) => [
      String(row.id),
      t(row.kind === 'refund' ? 'ops.cs.refund' : row.kind === 'adjustment' ? 'ops.cs.adjustment' : 'ops.cs.transfer'),
      escapeHtml(row.asn),
      escapeHtml(row.targetAsn ?? ''),
      money(row.amountFen),
      escapeHtml(row.reason),
      escapeHtml(row.requestedBy),
      escapeHtml(row.state),
      escapeHtml(row.decidedBy ?? ''),
      canApprove && row.state === 'pending'
        ? `<form method="post" action="/ops/customer-service/${row.id}/approved" class="inline"><button type="submit">${t('ops.cs.approve')}</button></form>
           <form method="post" action="/ops/customer-service/${row.id}/declined" class="inline"><button type="submit">${t('ops.cs.decline')}</button></form>`
        : '',
    ]),
    t('console.noData'),
  )}
${forms}`;
}

export function operatorsBody(language: Language, accounts: readonly Omit<OperatorAccountRow, 'passwordHash'>[]): string {
  const t = textFor(language);
  const roleOptions = (selected?: string) =>
    (['viewer', 'operator', 'administrator'] as const).map((role) => `<option value="${role}"${role === selected ? ' selected' : ''}>${t(`role.${role}`)}</option>`).join('');
  return `${table(
    'operators',
    [t('ops.login.username'), t('ops.operators.displayName'), t('ops.operators.role'), t('export.state'), t('ops.audit.action')],
    accounts.map((account) => [
      escapeHtml(account.username),
      escapeHtml(account.displayName),
      t(`role.${account.role}`),
      account.disabled ? t('ops.operators.disabled') : t('ops.operators.enabled'),
      `<form method="post" action="/ops/operators/${escapeHtml(account.username)}" class="inline"><select name="role" aria-label="${t('ops.operators.role')}">${roleOptions(account.role)}</select>
       <label><input type="checkbox" name="disabled" value="true"${account.disabled ? ' checked' : ''}>${t('ops.operators.disable')}</label><button type="submit">${t('ops.cs.submit')}</button></form>`,
    ]),
    t('console.noData'),
  )}
<form method="post" action="/ops/operators" class="stack"><h2>${t('ops.operators.create')}</h2>
  <label>${t('ops.login.username')} <input name="username" required></label>
  <label>${t('ops.operators.displayName')} <input name="displayName" required></label>
  <label>${t('ops.operators.role')} <select name="role">${roleOptions('viewer')}</select></label>
  <label>${t('ops.login.password')} <input name="password" type="password" required minlength="10" autocomplete="new-password"></label>
  <button type="submit">${t('ops.cs.submit')}</button>
</form>`;
}

export function auditBody(language: Language, entries: readonly AuditEntry[], offsetMinutes: number): string {
  const t = textFor(language);
  return table(
    'audit-log',
    ['#', t('console.time'), t('ops.audit.operator'), t('ops.audit.action'), t('ops.audit.target'), t('ops.audit.details')],
    entries.map((entry) => [
      String(entry.id),
      formatLocalTime(entry.at, offsetMinutes),
      escapeHtml(entry.operator),
      `<span title="${escapeHtml(entry.action)}">${labelOf(language, 'audit.action.', entry.action)}</span>`,
      escapeHtml(entry.target),
      auditDetailsText(language, entry.details),
    ]),
    t('console.noData'),
  );
}

/**
 * Lists an audit entry's details as "label: value" pairs in the operator's language. Amounts in
 * fen show as yuan, and keys without a catalogue label show as stored; null values are left out.
 */
function auditDetailsText(language: Language, details: Record<string, unknown>): string {
  const t = textFor(language);
  const valueText = (key: string, value: unknown): string => {
    if (typeof value === 'boolean') return t(value ? 'ops.value.yes' : 'ops.value.no');
    if (key === 'amountFen' && typeof value === 'number') return formatYuan(value);
    if (key === 'role' && typeof value === 'string') return labelOf(language, 'role.', value);
    if (key === 'outcome' && typeof value === 'string') return labelOf(language, 'outcome.', value);
    if (Array.isArray(value)) return escapeHtml(value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(', '));
    return escapeHtml(typeof value === 'string' ? value : JSON.stringify(value));
  };
  const pairs = Object.entries(details)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => `<span class="detail">${labelled(language, labelOf(language, 'audit.detail.', key), valueText(key, value))}</span>`);
  return pairs.join(language === 'zh' ? '；' : '; ');
}
