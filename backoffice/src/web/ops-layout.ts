import { type Language, UI_TEXT, type UiTextId, uiText } from '@busfare/shared-protocol';
import { type OperatorIdentity, hasRole } from '../operators/operator-accounts.js';
import type { OperatorRole } from '../store/operator-store.js';
import { escapeHtml } from './html.js';

/** Pages of the operators' console, in navigation order, with their path and catalogue title. */
export const OPS_PAGES = [
  { id: 'dashboard', path: '/ops', title: 'ops.nav.dashboard', role: 'viewer' },
  { id: 'transactions', path: '/ops/transactions', title: 'ops.nav.transactions', role: 'viewer' },
  { id: 'settlement', path: '/ops/settlement', title: 'ops.nav.settlement', role: 'viewer' },
  { id: 'exceptions', path: '/ops/exceptions', title: 'ops.nav.exceptions', role: 'viewer' },
  { id: 'fleet', path: '/ops/fleet', title: 'ops.nav.fleet', role: 'viewer' },
  { id: 'parameters', path: '/ops/parameters', title: 'ops.nav.parameters', role: 'viewer' },
  { id: 'customer-service', path: '/ops/customer-service', title: 'ops.nav.customerService', role: 'viewer' },
  { id: 'operators', path: '/ops/operators', title: 'ops.nav.operators', role: 'administrator' },
  { id: 'audit', path: '/ops/audit', title: 'ops.nav.audit', role: 'viewer' },
] as const satisfies readonly { id: string; path: string; title: UiTextId; role: OperatorRole }[];

export type OpsPageId = (typeof OPS_PAGES)[number]['id'];

export interface OpsPage {
  language: Language;
  operator?: OperatorIdentity;
  active?: OpsPageId;
  title: string;
  body: string;
  /** A message shown above the content: the result of the last action. */
  flash?: { kind: 'ok' | 'error'; text: string };
  /** The page's path and query, for the language switch. */
  currentUrl: string;
}

/** Text helper bound to a language that escapes for HTML. */
export function textFor(language: Language): (id: UiTextId, params?: Record<string, string | number>) => string {
  return (id, params) => escapeHtml(uiText(id, language, params));
}

/** Looks up the catalogue text of `prefix` + `key`, escaped for HTML, or returns the escaped key when the catalogue has no entry. */
export function catalogueLabel(language: Language, prefix: string, key: string): string {
  const id = `${prefix}${key}`;
  return id in UI_TEXT ? textFor(language)(id as UiTextId) : escapeHtml(key);
}

/** Wraps a page body in the console's frame: header, navigation, language switch and logout. */
export function renderOpsPage(page: OpsPage): string {
  const t = textFor(page.language);
  const other: Language = page.language === 'zh' ? 'en' : 'zh';
  const switchUrl = withQuery(page.currentUrl, 'lang', other);
  const operator = page.operator;
  const nav = operator
    ? `<nav aria-label="main"><ul>${OPS_PAGES.filter((entry) => hasRole(operator.role, entry.role)).map(
        (entry) => `<li><a href="${entry.path}"${entry.id === page.active ? ' aria-current="page"' : ''}>${t(entry.title)}</a></li>`,
      ).join('')}</ul></nav>`
    : '';
  const account = page.operator
    ? `<span id="signed-in">${t('ops.signedInAs', { name: page.operator.displayName, role: uiText(`role.${page.operator.role}`, page.language) })}</span>
       <form method="post" action="/ops/logout" class="inline"><button type="submit" id="logout">${t('ops.logout')}</button></form>`
    : '';
  const flash = page.flash ? `<p class="flash ${page.flash.kind}" role="${page.flash.kind === 'error' ? 'alert' : 'status'}">${escapeHtml(page.flash.text)}</p>` : '';
  return `<!doctype html>
<html lang="${page.language === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(page.title)} - ${t('console.title')}</title>
<style>${OPS_STYLE}</style>
</head>
<body>
<header>
  <strong>${t('console.title')}</strong>
  ${account}
  <a id="language-switch" href="${escapeHtml(switchUrl)}" hreflang="${other === 'zh' ? 'zh-CN' : 'en'}">${t('console.language')}</a>
</header>
${nav}
<main>
<h1>${escapeHtml(page.title)}</h1>
${flash}
${page.body}
</main>
</body>
</html>`;
}

/** Replaces or adds one query parameter of a path. */
export function withQuery(url: string, name: string, value: string): string {
  const parsed = new URL(url, 'http://console.invalid');
  parsed.searchParams.set(name, value);
  return `${parsed.pathname}${parsed.search}`;
}

/** Renders a table; cells are HTML already escaped by the caller. */
export function table(id: string, headers: readonly string[], rows: readonly string[][], empty: string): string {
  if (rows.length === 0) return `<p class="empty" id="${id}-empty">${empty}</p>`;
  return `<table id="${id}"><thead><tr>${headers.map((header) => `<th scope="col">${header}</th>`).join('')}</tr></thead>
<tbody>${rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`;
}

const OPS_STYLE = `
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 0; color: #1b1b1b; background: #f6f7f9; }
header { display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; background: #0b4f8a; color: #fff; }
header a { color: #fff; }
header button { color: #fff; background: transparent; border: 1px solid #fff; border-radius: 3px; cursor: pointer; }
header strong { flex: 1; }
nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: .5rem 1rem; background: #e3e9f0; }
nav a[aria-current="page"] { font-weight: bold; }
main { padding: 1rem; }
h1 { font-size: 1.3rem; margin-top: 0; }
h2 { font-size: 1.1rem; }
table { border-collapse: collapse; background: #fff; margin-bottom: 1rem; }
th, td { border: 1px solid #c9d1da; padding: .25rem .5rem; text-align: left; font-variant-numeric: tabular-nums; }
td.number, th.number { text-align: right; }
.flash { padding: .5rem; border-radius: 4px; }
.flash.ok { background: #e2f4e2; }
.flash.error { background: #fbe3e3; }
.inline { display: inline; }
form.stack label { display: block; margin: .25rem 0; }
.cards { display: flex; flex-wrap: wrap; gap: 1rem; padding: 0; list-style: none; }
.cards li { background: #fff; border: 1px solid #c9d1da; padding: .5rem 1rem; min-width: 9rem; }
.cards .value { font-size: 1.4rem; display: block; }
.severity-error { color: #a40000; }
.hint { color: #4a5560; font-size: .9rem; margin: .25rem 0; max-width: 40rem; }
.severity-warning { color: #8a5a00; }
svg text { font-size: 10px; }
`;
