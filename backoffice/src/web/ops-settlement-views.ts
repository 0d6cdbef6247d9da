import { type Language, type UiTextId, formatYuan } from '@busfare/shared-protocol';
import type { Finding, ReconciliationReport } from '../clearing/reconciliation.js';
import type { SettlementLine, SettlementReport } from '../clearing/settlement-report.js';
import type { RejectedQueueItem } from '../clearing/exception-service.js';
import type { InDoubtExceptionRow } from '../store/exception-store.js';
import { findingDetailParts } from './finding-details.js';
import { escapeHtml, formatLocalTime } from './html.js';
import { catalogueLabel, table, textFor } from './ops-layout.js';

const money = (fen: number) => `<span class="number">${formatYuan(fen)}</span>`;

/** The list of business days: settled ones and days with records still open. */
export function settlementListBody(language: Language, days: readonly { businessDay: string; settled: boolean; count: number; amountFen: number }[]): string {
  const t = textFor(language);
  return `<form method="get" action="/ops/settlement/open" class="stack">
  <label>${t('ops.settlement.day')} <input type="date" name="day" required></label>
  <button type="submit">${t('ops.settlement.open')}</button>
</form>
${table(
  'settlement-days',
  [t('ops.settlement.day'), t('export.state'), t('console.count'), t('export.amount')],
  days.map((day) => [
    `<a href="/ops/settlement/${day.businessDay}">${day.businessDay}</a>`,
    day.settled ? t('ops.settlement.settled') : t('ops.settlement.preview'),
    String(day.count),
    money(day.amountFen),
  ]),
  t('console.noData'),
)}`;
}

const SECTIONS: { title: UiTextId; key: UiTextId; lines: (report: SettlementReport) => SettlementLine[]; id: string }[] = [
  { id: 'by-issuer-group', title: 'export.sheet.issuerGroup', key: 'export.issuerGroup', lines: (report) => report.byIssuerGroup },
  { id: 'by-issuer', title: 'export.sheet.issuer', key: 'export.issuer', lines: (report) => report.byIssuer },
  { id: 'by-operator', title: 'export.sheet.operator', key: 'export.operator', lines: (report) => report.byOperator },
  { id: 'by-route', title: 'export.sheet.route', key: 'console.route', lines: (report) => report.byRoute },
  { id: 'by-vehicle', title: 'export.sheet.vehicle', key: 'console.vehicle', lines: (report) => report.byVehicle },
  { id: 'by-terminal', title: 'export.sheet.terminal', key: 'console.terminal', lines: (report) => report.byTerminal },
  { id: 'by-shift', title: 'export.sheet.shift', key: 'export.shift', lines: (report) => report.byShift },
  { id: 'by-card-type', title: 'export.sheet.cardType', key: 'console.cardType', lines: (report) => report.byCardType },
  { id: 'adjustments', title: 'export.sheet.adjustments', key: 'export.adjustmentKind', lines: (report) => report.adjustments },
];

/** One day's settlement report with its downloads, the settle button and out-of-town forwarding. */
export function settlementReportBody(language: Language, report: SettlementReport, canAct: boolean, offsetMinutes: number): string {
  const t = textFor(language);
  const day = report.businessDay;
  const settled = report.state === 'settled';
  const cardTypeLabel = (key: string) => catalogueLabel(language, 'cardType.', key);
  const downloads = settled
    ? `<p id="downloads">
  <a id="download-csv" href="/api/v1/settlements/${day}/export?format=csv&amp;lang=${language}" download>${t('ops.settlement.downloadCsv')}</a>
  <a id="download-xlsx" href="/api/v1/settlements/${day}/export?format=xlsx&amp;lang=${language}" download>${t('ops.settlement.downloadXlsx')}</a>
  ${report.partners.map((partner) => `<a class="download-partner" href="/api/v1/settlements/${day}/export?format=xlsx&amp;partner=${escapeHtml(partner.partnerCity)}&amp;lang=${language}" download>${escapeHtml(partner.partnerCity)} Excel</a>`).join(' ')}
</p>`
    : canAct
      ? `<form method="post" action="/ops/settlement/${day}/settle"><button type="submit" id="settle">${t('ops.settlement.settle')}</button></form>`
      : '';
  const lineRows = (lines: SettlementLine[], label: (key: string) => string = escapeHtml) =>
    lines.map((line) => [label(line.key), String(line.count), money(line.listFareFen), money(line.amountFen), money(line.discountFen)]);
  const lineHeaders = (key: UiTextId) => [t(key), t('console.count'), t('export.listFare'), t('export.amount'), t('export.discount')];

  const forwarding =
    canAct && report.awaitingIssuer.count > 0
      ? report.awaitingIssuer.byPartner
          .map((partner) => `<form method="post" action="/ops/settlement/${day}/forwarding" class="inline"><input type="hidden" name="partner" value="${escapeHtml(partner.partnerCity)}"><button type="submit">${t('ops.settlement.forward')} ${escapeHtml(partner.partnerCity)}</button></form>`)
          .join(' ')
      : '';
  const answerForm = canAct
    ? `<form method="post" action="/ops/settlement/answers" class="stack"><label>${t('ops.settlement.importAnswer')}<br><textarea name="content" rows="4" cols="80" required></textarea></label><button type="submit">${t('ops.cs.submit')}</button></form>`
    : '';

  const issuerGroupLabel = (key: string) => (key === 'local' ? t('issuerGroup.local') : t('issuerGroup.outOfTown', { city: key.replace(/^out-of-town:/, '') }));
  const labelFor = (sectionId: string) => {
    if (sectionId === 'by-card-type') return cardTypeLabel;
    if (sectionId === 'by-issuer-group') return issuerGroupLabel;
    return escapeHtml;
  };
  const settledLine = `${t('ops.settlement.settled')} ${formatLocalTime(report.settledAt ?? '', offsetMinutes)} ${escapeHtml(report.settledBy ?? '')}`;
  return `<p id="settlement-state">${settled ? settledLine : t('ops.settlement.preview')}</p>
${downloads}
<p><a href="/ops/reconciliation/${day}">${t('ops.nav.reconciliation')}</a></p>
<h2>${t('ops.settlement.totals')}</h2>
${table('settlement-totals', [t('console.count'), t('export.listFare'), t('export.amount'), t('export.discount')], [[String(report.totals.count), money(report.totals.listFareFen), money(report.totals.amountFen), money(report.totals.discountFen)]], '')}
<h2>${t('export.sheet.partners')}</h2>
${table('settlement-partners', [t('export.partnerCity'), t('console.count'), t('export.receivable'), t('export.payable'), t('export.net')], report.partners.map((partner) => [escapeHtml(partner.partnerCity), String(partner.count), money(partner.receivableFen), money(partner.payableFen), money(partner.netFen)]), t('console.noData'))}
${SECTIONS.map((section) => `<h2>${t(section.title)}</h2>\n${table(`settlement-${section.id}`, lineHeaders(section.key), lineRows(section.lines(report), labelFor(section.id)), t('console.noData'))}`).join('\n')}
<h2>${t('ops.settlement.late')}</h2>
${table('settlement-late', [t('console.terminal'), t('console.sequence'), t('export.businessDay'), t('export.amount')], report.late.items.map((item) => [escapeHtml(item.terminalId), String(item.sequence), item.businessDay, money(item.amountFen)]), t('console.noData'))}
<h2>${t('ops.settlement.awaitingIssuer')}</h2>
${table('settlement-awaiting', [t('export.partnerCity'), t('console.count'), t('export.amount')], report.awaitingIssuer.byPartner.map((partner) => [escapeHtml(partner.partnerCity), String(partner.count), money(partner.amountFen)]), t('console.noData'))}
${forwarding}
${answerForm}`;
}

/** Reconciliation findings with what to do about each. */
export function reconciliationBody(language: Language, report: ReconciliationReport): string {
  const t = textFor(language);
  const c = report.checked;
  const describe = (finding: Finding) => {
    const parts: string[] = [];
    if (finding.terminalId) parts.push(`${t('console.terminal')} ${escapeHtml(finding.terminalId)}`);
    if (finding.sequences) parts.push(`${t('console.sequence')} ${finding.sequences.from}${finding.sequences.to !== finding.sequences.from ? `–${finding.sequences.to}` : ''}`);
    if (finding.asn) parts.push(`${t('console.card')} ${escapeHtml(finding.asn)}`);
    if (finding.shiftId) parts.push(escapeHtml(finding.shiftId));
    parts.push(...findingDetailParts(finding.details, language));
    return parts.join(' · ');
  };
  return `<p id="reconcile-checked">${t('ops.reconcile.checked', c)}</p>
${table(
  'findings',
  [t('ops.reconcile.finding'), '', t('ops.reconcile.action')],
  report.findings.map((finding) => [
    `<span class="severity-${finding.severity}">${t(`reconcile.kind.${finding.kind}` as UiTextId)}</span>`,
    describe(finding),
    t(`reconcile.action.${finding.kind}` as UiTextId),
  ]),
  t('ops.reconcile.none'),
)}`;
}

/** The rejected and in-doubt queues with their actions. */
export function exceptionsBody(language: Language, rejected: readonly RejectedQueueItem[], inDoubt: readonly InDoubtExceptionRow[], canAct: boolean, offsetMinutes: number): string {
  const t = textFor(language);
  const reasonInput = `<label>${t('console.reason')} <input name="reason" required></label>`;
  const rejectedRows = rejected.map((item) => [
    String(item.id),
    escapeHtml(item.terminalId),
    item.sequence === null ? '' : String(item.sequence),
    t(`category.${item.category}` as UiTextId),
    escapeHtml(item.reason),
    formatLocalTime(item.receivedAt, offsetMinutes),
    canAct
      ? `<form method="post" action="/ops/exceptions/rejected/${item.id}/reprocess" class="inline"><button type="submit">${t('ops.exceptions.reprocess')}</button></form>
         <form method="post" action="/ops/exceptions/rejected/${item.id}/write-off" class="inline">${reasonInput}<button type="submit">${t('ops.exceptions.writeOff')}</button></form>`
      : '',
  ]);
  const inDoubtRows = inDoubt.map((row) => {
    const key = `${escapeHtml(row.terminalId)}/${row.sequence}`;
    return [
      escapeHtml(row.terminalId),
      String(row.sequence),
      escapeHtml(row.asn),
      String(row.cardCounter),
      money(row.amountFen),
      formatLocalTime(row.occurredAt, offsetMinutes),
      canAct
        ? `<form method="post" action="/ops/exceptions/in-doubt/${key}/resolve" class="resolve" data-key="${escapeHtml(row.terminalId)}#${row.sequence}">
  <label>${t('ops.exceptions.outcome')} <select name="outcome"><option value="">—</option><option value="debited">${t('outcome.debited')}</option><option value="not-debited">${t('outcome.not-debited')}</option></select></label>
  <label>${t('ops.exceptions.matched')} <input name="matched" placeholder="T001#42"></label>
  ${reasonInput}
  <button type="submit">${t('ops.exceptions.resolve')}</button>
</form>
<form method="post" action="/ops/exceptions/in-doubt/${key}/write-off" class="inline">${reasonInput}<button type="submit">${t('ops.exceptions.writeOff')}</button></form>`
        : '',
    ];
  });
  return `<h2>${t('ops.exceptions.rejected')} (${rejected.length})</h2>
${table('rejected-queue', ['#', t('console.terminal'), t('console.sequence'), t('ops.exceptions.category'), t('console.reason'), t('console.time'), t('ops.audit.action')], rejectedRows, t('console.noData'))}
<h2>${t('ops.exceptions.inDoubt')} (${inDoubt.length})</h2>
${table('in-doubt-queue', [t('console.terminal'), t('console.sequence'), t('console.card'), t('ops.exceptions.counter'), t('console.amount'), t('console.time'), t('ops.audit.action')], inDoubtRows, t('console.noData'))}`;
}
