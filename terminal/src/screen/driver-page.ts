import { DEFAULT_LANGUAGE, RIDER_PROMPTS, UI_TEXT, type CatalogueEntry, type Language } from '@busfare/shared-protocol';

/** Catalogue prefixes the driver page reads. */
const PAGE_TEXT_PREFIXES = ['driver.', 'alert.', 'cardType.', 'rider.', 'paramKind.'];

/** The part of the message catalogue the page needs, as embedded in it. */
export function driverPageCatalogue(): { defaultLanguage: Language; ui: Record<string, CatalogueEntry>; prompts: Record<string, CatalogueEntry> } {
  const ui = Object.fromEntries(Object.entries(UI_TEXT).filter(([id]) => PAGE_TEXT_PREFIXES.some((prefix) => id.startsWith(prefix))));
  const prompts = Object.fromEntries(Object.entries(RIDER_PROMPTS).map(([id, entry]) => [id, { zh: entry.zh, en: entry.en }]));
  return { defaultLanguage: DEFAULT_LANGUAGE, ui, prompts };
}

/** JSON that is safe inside a script element: "<" cannot close it. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * The driver page. Its first paint is in the default language; the script fills in the state
 * and switches language without reloading.
 */
export function driverPageHtml(): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${UI_TEXT['driver.title'][DEFAULT_LANGUAGE]}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/driver.css">
</head>
<body>
<div class="app">
  <header>
    <span class="route" id="route"></span>
    <span class="driver" id="driver"></span>
    <span class="spacer"></span>
    <span class="chip" id="link"></span>
    <span class="clock" id="clock"></span>
    <button type="button" id="lang-toggle" data-text="driver.language"></button>
    <button type="button" class="danger" id="sign-off" hidden></button>
  </header>
  <main class="view form-view" id="view-sign-on">
    <form id="sign-on-form" class="form-view">
      <h1 data-text="driver.signOn.prompt"></h1>
      <input id="driver-number" name="driverId" inputmode="numeric" autocomplete="off" maxlength="16">
      <button type="submit" id="sign-on" data-text="driver.signOn.submit"></button>
      <div class="error" id="sign-on-error" role="alert"></div>
      <div class="error" id="sign-on-card" role="status"></div>
    </form>
  </main>
  <main class="view form-view" id="view-service">
    <h1 data-text="driver.service.choose"></h1>
    <div class="choices" id="choices"></div>
    <div class="error" id="service-none"></div>
    <div class="error" id="service-error" role="alert"></div>
  </main>
  <main class="view" id="view-duty">
    <section class="panel tap" id="last-tap">
      <div class="label" data-text="driver.lastTap"></div>
      <div class="prompt" id="tap-prompt"></div>
      <div class="card-type" id="tap-card-type"></div>
      <div class="money" id="tap-fare"></div>
      <div class="money" id="tap-balance"></div>
    </section>
    <div class="side">
      <section class="panel">
        <div class="label" data-text="driver.currentStop"></div>
        <div class="stop" id="stop-current"></div>
        <div class="label" data-text="driver.nextStop"></div>
        <div class="stop next" id="stop-next"></div>
      </section>
      <section class="panel counters">
        <div class="label" data-text="driver.counters"></div><div></div>
        <div data-text="driver.taps"></div><div class="value" id="count-taps"></div>
        <div data-text="driver.accepted"></div><div class="value" id="count-accepted"></div>
        <div data-text="driver.refused"></div><div class="value" id="count-refused"></div>
        <div data-text="driver.amount"></div><div class="value" id="count-amount"></div>
        <div class="by-type" id="by-type"></div>
      </section>
    </div>
  </main>
  <main class="view form-view" id="view-summary">
    <h1 data-text="driver.summary.title"></h1>
    <div class="summary">
      <div data-text="driver.driver"></div><div class="value" id="summary-driver"></div>
      <div data-text="driver.routeLabel"></div><div class="value" id="summary-route"></div>
      <div data-text="driver.shiftTime"></div><div class="value" id="summary-time"></div>
      <div data-text="driver.taps"></div><div class="value" id="summary-taps"></div>
      <div data-text="driver.accepted"></div><div class="value" id="summary-accepted"></div>
      <div data-text="driver.refused"></div><div class="value" id="summary-refused"></div>
      <div data-text="driver.inDoubt"></div><div class="value" id="summary-in-doubt"></div>
      <div data-text="driver.amount"></div><div class="value" id="summary-amount"></div>
    </div>
    <div class="label" id="summary-by-type"></div>
    <div class="label" id="summary-sent"></div>
    <button type="button" id="new-shift" data-text="driver.summary.newShift"></button>
  </main>
  <footer>
    <div id="alerts"></div>
    <div class="status-line"><span id="backlog"></span><span id="parameters"></span></div>
  </footer>
</div>
<div class="banner" id="disconnected" data-text="driver.disconnected"></div>
<script type="application/json" id="catalogue">${scriptJson(driverPageCatalogue())}</script>
<script src="/driver.js"></script>
</body>
</html>
`;
}
