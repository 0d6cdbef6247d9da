import { type Language, uiText } from '@busfare/shared-protocol';
import type { RiderArrival, RiderRouteRef, RiderStop } from '../arrivals/realtime/rider-queries.js';
import { escapeHtml } from './html.js';

export interface RiderPageModel {
  language: Language;
  stop: RiderStop;
  routes: RiderRouteRef[];
  arrivals: RiderArrival[];
  /** Local time of the predictions, hh:mm:ss. */
  updatedAt: string;
}

/** Seconds between page reloads; the predictions behind it refresh at least every 30 s. */
const RELOAD_S = 30;

/**
 * Renders the rider page of one stop: the routes serving it and the next buses within the hour,
 * with minutes to arrival. Every word comes from the message catalogue; the page reloads itself.
 */
export function renderRiderStopPage(model: RiderPageModel): string {
  const t = (id: Parameters<typeof uiText>[0], params: Record<string, string | number> = {}): string => escapeHtml(uiText(id, model.language, params));
  const otherLanguage = model.language === 'zh' ? 'en' : 'zh';
  const rows = model.arrivals
    .map((arrival) => {
      const when = arrival.minutes < 1 ? t('rider.stop.arriving') : t('rider.stop.minutes', { minutes: arrival.minutes });
      return `<tr><td>${escapeHtml(arrival.routeName)}</td><td>${escapeHtml(arrival.towards)}</td><td class="eta">${when}</td><td>${escapeHtml(arrival.vehicleId)}</td></tr>`;
    })
    .join('');
  const routes = model.routes.map((route) => `<li>${escapeHtml(route.name)} · ${t('rider.stop.towards')} ${escapeHtml(route.towards)}</li>`).join('');
  const table = model.arrivals.length === 0
    ? `<p id="none">${t('rider.stop.none')}</p>`
    : `<table id="arrivals"><thead><tr><th>${t('rider.stop.route')}</th><th>${t('rider.stop.towards')}</th><th>${t('rider.stop.eta')}</th><th>${t('rider.stop.vehicle')}</th></tr></thead><tbody>${rows}</tbody></table>`;
  return `<!doctype html>
<html lang="${model.language === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${RELOAD_S}">
<title>${t('rider.stop.title', { name: model.stop.name })}</title>
<link rel="icon" href="data:,">
<style>body{font-family:sans-serif;margin:1rem;max-width:40rem}table{border-collapse:collapse;width:100%}td,th{padding:.4rem;border-bottom:1px solid #ddd;text-align:left}.eta{font-weight:bold}</style>
</head>
<body>
<nav><a id="language" href="?lang=${otherLanguage}">${t('rider.stop.otherLanguage')}</a></nav>
<h1>${t('rider.stop.title', { name: model.stop.name })}</h1>
<h2>${t('rider.stop.arrivals')}</h2>
${table}
<h2>${t('rider.stop.routes')}</h2>
<ul id="routes">${routes}</ul>
<p id="updated">${t('rider.stop.updated', { time: model.updatedAt })}</p>
</body>
</html>
`;
}

/** Renders the page for a stop that does not exist or while predictions are off. */
export function renderRiderMessagePage(language: Language, message: string): string {
  return `<!doctype html>
<html lang="${language === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><title>${escapeHtml(message)}</title><link rel="icon" href="data:,"></head>
<body><p id="message">${escapeHtml(message)}</p></body></html>
`;
}
