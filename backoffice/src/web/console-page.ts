import { type Language, UI_TEXT, type UiTextId, formatYuan, uiText } from '@busfare/shared-protocol';
import type { ClearingSummary, DayTotal, RejectedRow, StoredTransactionRow } from '../store/clearing-repository.js';
import { CONSOLE_SCRIPT } from './console-script.js';
import { escapeHtml, formatLocalTime, jsonForScript } from './html.js';
import { maskCardNumber } from '../security/card-masking.js';

/** The fields of a stored record that the live taps table shows. */
export type TapView = Pick<
  StoredTransactionRow,
  'terminalId' | 'sequence' | 'kind' | 'occurredAt' | 'asn' | 'cardType' | 'amountFen' | 'route' | 'verification'
>;

export interface ConsolePageData {
  language: Language;
  summary: ClearingSummary;
  totals: DayTotal[];
  recentTaps: TapView[];
  recentRejected: RejectedRow[];
  timezoneOffsetMinutes: number;
}

/** Columns of the live taps table, shared by the server rendering and the inline script. */
const TAP_COLUMNS: UiTextId[] = [
  'console.time',
  'console.terminal',
  'console.sequence',
  'console.card',
  'console.cardType',
  'console.kind',
  'console.amount',
  'console.route',
  'console.verification',
];

/** Renders the operator console: totals per terminal and day, and the live taps, in one language. */
export function renderConsolePage(data: ConsolePageData): string {
  const { language } = data;
  const t = (id: UiTextId) => escapeHtml(uiText(id, language));
  const otherLanguage: Language = language === 'zh' ? 'en' : 'zh';

  const labels = {
    kind: labelMap('kind.', language),
    cardType: labelMap('cardType.', language),
    verification: labelMap('verification.', language),
    connected: uiText('console.live.connected', language),
    disconnected: uiText('console.live.disconnected', language),
  };

  return `<!doctype html>
<html lang="${language === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${t('console.title')}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>${t('console.title')}</h1>
  <a id="language-switch" href="?lang=${otherLanguage}" hreflang="${otherLanguage === 'zh' ? 'zh-CN' : 'en'}">${t('console.language')}</a>
</header>
<main>
<section aria-labelledby="summary-heading">
  <h2 id="summary-heading">${t('console.summary')}</h2>
  <dl class="summary">
    ${summaryItem(t('console.cleared'), String(data.summary.recordsCleared), 'summary-cleared')}
    ${summaryItem(t('console.clearedAmount'), formatYuan(data.summary.clearedAmountFen), 'summary-amount')}
    ${summaryItem(t('console.rejected'), String(data.summary.recordsRejected), 'summary-rejected')}
    ${summaryItem(t('console.inDoubt'), String(data.summary.inDoubtOpen), 'summary-in-doubt')}
    ${summaryItem(t('console.duplicates'), String(data.summary.duplicatesIgnored), 'summary-duplicates')}
  </dl>
</section>
<section aria-labelledby="totals-heading">
  <h2 id="totals-heading">${t('console.totals')}</h2>
  ${renderTotals(data.totals, language)}
</section>
<section aria-labelledby="live-heading">
  <h2 id="live-heading">${t('console.liveTaps')} <span id="live-status" class="status" role="status"></span></h2>
  <table id="live-taps">
    <thead><tr>${TAP_COLUMNS.map((id) => `<th scope="col">${t(id)}</th>`).join('')}</tr></thead>
    <tbody>${data.recentTaps.map((tap) => renderTapRow(tap, labels, data.timezoneOffsetMinutes)).join('\n')}</tbody>
  </table>
  ${data.recentTaps.length === 0 ? `<p id="live-empty">${t('console.noData')}</p>` : ''}
</section>
<section aria-labelledby="rejected-heading">
  <h2 id="rejected-heading">${t('console.rejected')}</h2>
  ${renderRejected(data.recentRejected, language, data.timezoneOffsetMinutes)}
</section>
</main>
<script>
const CONSOLE = ${jsonForScript({ labels, timezoneOffsetMinutes: data.timezoneOffsetMinutes })};
${CONSOLE_SCRIPT}
</script>
</body>
</html>
`;
}

function summaryItem(label: string, value: string, id: string): string {
  return `<div><dt>${label}</dt><dd id="${id}">${escapeHtml(value)}</dd></div>`;
}

/**
 * Renders the totals table, hidden while there are none, and its "no data" line. The page script
 * fills the same table from GET /api/totals as taps arrive.
 */
function renderTotals(totals: readonly DayTotal[], language: Language): string {
  const empty = totals.length === 0;
  const head = (['console.day', 'console.terminal', 'console.count', 'console.amount'] as const)
    .map((id) => `<th scope="col">${escapeHtml(uiText(id, language))}</th>`)
    .join('');
  const rows = totals
    .map(
      (total) =>
        `<tr><td>${escapeHtml(total.businessDay)}</td><td>${escapeHtml(total.terminalId)}</td><td class="number">${total.count}</td><td class="number">${formatYuan(total.amountFen)}</td></tr>`,
    )
    .join('\n');
  return (
    `<table id="totals"${empty ? ' hidden' : ''}><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>\n` +
    `  <p id="totals-empty"${empty ? '' : ' hidden'}>${escapeHtml(uiText('console.noData', language))}</p>`
  );
}

interface TapLabels {
  kind: Record<string, string>;
  cardType: Record<string, string>;
  verification: Record<string, string>;
}

function renderTapRow(tap: TapView, labels: TapLabels, offsetMinutes: number): string {
  const cells = [
    formatLocalTime(tap.occurredAt, offsetMinutes),
    tap.terminalId,
    String(tap.sequence),
    maskCardNumber(tap.asn),
    labels.cardType[tap.cardType] ?? tap.cardType,
    labels.kind[tap.kind] ?? tap.kind,
    formatYuan(tap.amountFen),
    tap.route ?? '',
    labels.verification[tap.verification] ?? tap.verification,
  ];
  return `<tr>${cells.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`;
}

function renderRejected(rows: readonly RejectedRow[], language: Language, offsetMinutes: number): string {
  if (rows.length === 0) return `<p>${escapeHtml(uiText('console.noData', language))}</p>`;
  const head = (['console.time', 'console.terminal', 'console.sequence', 'console.reason'] as const)
    .map((id) => `<th scope="col">${escapeHtml(uiText(id, language))}</th>`)
    .join('');
  const body = rows
    .map((row) => {
      const cells = [formatLocalTime(row.receivedAt, offsetMinutes), row.terminalId, row.sequence === null ? '' : String(row.sequence), row.reason];
      return `<tr>${cells.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<table id="rejected"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Catalogue entries under a prefix, keyed by the rest of their id ("kind.purchase" → "purchase"). */
function labelMap(prefix: string, language: Language): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const id of Object.keys(UI_TEXT) as UiTextId[]) {
    if (id.startsWith(prefix)) labels[id.slice(prefix.length)] = uiText(id, language);
  }
  return labels;
}

const STYLE = `
  :root { color-scheme: light; }
  body { margin: 0; font: 16px/1.5 system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: #111; background: #fff; }
  header { display: flex; align-items: center; justify-content: space-between; padding: 12px 24px; background: #0b3d91; color: #fff; }
  header h1 { margin: 0; font-size: 1.5rem; }
  header a { color: #fff; font-weight: bold; text-decoration: underline; padding: 6px 10px; border: 2px solid #fff; border-radius: 4px; }
  header a:focus { outline: 3px solid #ffbf00; }
  main { padding: 8px 24px 32px; }
  h2 { font-size: 1.25rem; margin: 24px 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border: 1px solid #555; padding: 4px 8px; text-align: left; }
  th { background: #e8e8e8; }
  td.number { text-align: right; font-variant-numeric: tabular-nums; }
  .summary { display: flex; flex-wrap: wrap; gap: 12px; margin: 0; }
  .summary div { border: 2px solid #111; padding: 8px 16px; min-width: 9rem; }
  .summary dt { font-size: 0.9rem; }
  .summary dd { margin: 0; font-size: 1.5rem; font-weight: bold; font-variant-numeric: tabular-nums; }
  .status { font-size: 0.9rem; font-weight: normal; margin-left: 8px; }
  .status.down { color: #a00000; font-weight: bold; }
`;
