/**
 * The driver page's browser script. It renders every state the server pushes over Server-Sent
 * Events, puts all data in with textContent (never as HTML) and takes every text from the
 * catalogue embedded in the page. Written as plain ES2020 without template literals, so this
 * module can hold it in String.raw.
 */
export const DRIVER_PAGE_SCRIPT = String.raw`
'use strict';
(function () {
  var catalogue = JSON.parse(document.getElementById('catalogue').textContent);
  var query = new URLSearchParams(location.search);
  var lang = query.get('lang') || localStorage.getItem('busfare.driver.lang') || catalogue.defaultLanguage;
  if (lang !== 'zh' && lang !== 'en') lang = catalogue.defaultLanguage;
  var state = null;
  var dismissedSummary = null;
  var signOffArmedUntil = 0;
  var connected = false;

  function $(id) { return document.getElementById(id); }

  function t(id, params) {
    var entry = catalogue.ui[id] || catalogue.prompts[id];
    if (!entry) return id;
    return entry[lang].replace(/\{(\w+)\}/g, function (whole, name) {
      return params && name in params ? String(params[name]) : whole;
    });
  }

  function yuan(fen) {
    var sign = fen < 0 ? '-' : '';
    var abs = Math.abs(fen);
    var cents = String(abs % 100);
    if (cents.length < 2) cents = '0' + cents;
    return t('driver.yuan', { amount: sign + Math.floor(abs / 100) + '.' + cents });
  }

  function setText(id, text) {
    var element = $(id);
    if (element.textContent !== text) element.textContent = text;
  }

  function show(viewId) {
    var views = document.querySelectorAll('.view');
    for (var i = 0; i < views.length; i += 1) views[i].classList.toggle('shown', views[i].id === viewId);
  }

  // Times show in the terminal's local time from the state, not in the browser's time zone, which
  // on a kiosk is often UTC. Before the first state the browser's own offset is used.
  function hoursMinutes(epochMs) {
    var offset = state ? state.utcOffsetMinutes : -new Date(epochMs).getTimezoneOffset();
    var local = new Date(epochMs + offset * 60000);
    function two(n) { return n < 10 ? '0' + n : String(n); }
    return two(local.getUTCHours()) + ':' + two(local.getUTCMinutes());
  }

  function time(iso) {
    return hoursMinutes(Date.parse(iso));
  }

  function serviceLabel(route, direction, separator) {
    if (route === undefined) return '';
    var label = t('driver.route', { route: route });
    if (direction === 0 || direction === 1) label += (separator === undefined ? ' ' : separator) + t('driver.direction.' + direction);
    return label;
  }

  function cardTypeName(cardType) {
    return cardType ? t('cardType.' + cardType) : '';
  }

  function tapClass(tap) {
    // A driver card that armed the sign-off waits for its second tap, so it is shown as a warning.
    if (tap.driverCard && tap.driverCard.action === 'sign-off-armed') return 'armed';
    if (tap.status === 'accepted' || tap.status === 'recovered') return 'ok';
    return tap.status;
  }

  function renderStaticText() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    var elements = document.querySelectorAll('[data-text]');
    for (var i = 0; i < elements.length; i += 1) elements[i].textContent = t(elements[i].getAttribute('data-text'));
    $('driver-number').placeholder = t('driver.signOn.driverNumber');
    document.title = t('driver.title');
  }

  function renderHeader() {
    var shift = state.shift;
    // Route over direction and driver over shift start, two lines each, so that the English
    // labels fit beside the buttons on an 800-pixel-wide panel.
    setText('route', shift ? serviceLabel(shift.route, shift.direction, '\n') : '');
    setText('driver', shift ? t('driver.driver') + ' ' + shift.driverId + '\n' + t('driver.shiftStart') + ' ' + time(shift.startedAt) : state.vehicleId);
    var link = $('link');
    link.className = 'chip ' + (state.link.connected ? 'online' : 'offline');
    setText('link', t(state.link.connected ? 'driver.link.online' : 'driver.link.offline'));
    var signOff = $('sign-off');
    signOff.hidden = !shift;
    var armed = Date.now() < signOffArmedUntil;
    signOff.classList.toggle('armed', armed);
    setText('sign-off', t(armed ? 'driver.signOff.confirm' : 'driver.signOff'));
  }

  function renderDuty() {
    var shift = state.shift;
    var tap = state.lastTap;
    var panel = $('last-tap');
    panel.className = 'panel tap' + (tap ? ' ' + tapClass(tap) : '');
    setText('tap-prompt', tap ? t(tap.promptId) : t('driver.noTap'));
    var cardType = tap ? cardTypeName(tap.cardType) : '';
    if (tap && tap.driverCard) cardType = tap.driverCard.driverId ? t('driver.driver') + ' ' + tap.driverCard.driverId : '';
    // A card-type prompt (学生卡, Student card) names the card already, so the line would repeat it.
    var promptNamesCard = tap && tap.promptId.indexOf('card-type-') === 0;
    setText('tap-card-type', promptNamesCard || cardType === t(tap ? tap.promptId : '') ? '' : cardType);
    setText('tap-fare', tap && tap.amountFen !== undefined ? t('driver.fare') + ' ' + yuan(tap.amountFen) : '');
    setText('tap-balance', tap && tap.balanceFen !== undefined ? t('driver.balance') + ' ' + yuan(tap.balanceFen) : '');
    setText('stop-current', state.stops.current || t('driver.stopUnknown'));
    setText('stop-next', state.stops.next || t('driver.stopUnknown'));
    var counters = shift.counters;
    setText('count-taps', String(counters.taps));
    setText('count-accepted', String(counters.accepted));
    setText('count-refused', String(counters.refused + counters.failed));
    setText('count-amount', yuan(counters.amountFen));
    setText('by-type', byTypeText(counters.byCardType));
  }

  function byTypeText(byCardType) {
    var parts = [];
    for (var type in byCardType) parts.push(cardTypeName(type) + ' ' + byCardType[type].taps);
    return parts.join(' · ');
  }

  function renderService() {
    var list = $('choices');
    var key = JSON.stringify(state.serviceChoices) + lang;
    if (list.getAttribute('data-key') === key) return;
    list.setAttribute('data-key', key);
    list.replaceChildren();
    state.serviceChoices.forEach(function (choice) {
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = serviceLabel(choice.route, choice.direction) + (choice.headsign ? ' → ' + choice.headsign : '');
      button.addEventListener('click', function () {
        post('/api/shift/service', { route: choice.route, direction: choice.direction }, 'service-error');
      });
      list.appendChild(button);
    });
    setText('service-none', state.serviceChoices.length === 0 ? t('driver.service.none') : '');
  }

  function renderSummary() {
    var last = state.lastShift;
    var record = last.record;
    var counters = record.counters;
    setText('summary-driver', record.driverId);
    setText('summary-route', serviceLabel(record.route, record.direction));
    setText('summary-time', time(record.startedAt) + ' – ' + time(record.endedAt));
    setText('summary-taps', String(counters.taps));
    setText('summary-accepted', String(counters.accepted));
    setText('summary-refused', String(counters.refused + counters.failed));
    setText('summary-in-doubt', String(counters.inDoubt));
    setText('summary-amount', yuan(counters.amountFen));
    setText('summary-by-type', byTypeText(counters.byCardType));
    setText('summary-sent', t(last.sentAt ? 'driver.summary.sent' : 'driver.summary.pending'));
  }

  function renderFooter() {
    var alerts = $('alerts');
    var key = JSON.stringify(state.alerts) + lang;
    if (alerts.getAttribute('data-key') !== key) {
      alerts.setAttribute('data-key', key);
      alerts.replaceChildren();
      state.alerts.forEach(function (alert) {
        var line = document.createElement('div');
        line.className = 'alert ' + alert.severity;
        line.setAttribute('data-alert', alert.id);
        line.textContent = t(alert.messageId);
        alerts.appendChild(line);
      });
    }
    var versions = [];
    // A kind without a catalogue name (from newer back-office software) shows as it is.
    for (var kind in state.parameters.active) versions.push((catalogue.ui['paramKind.' + kind] ? t('paramKind.' + kind) : kind) + ' v' + state.parameters.active[kind]);
    // Chinese text takes the full-width colon and the enumeration comma.
    var zh = lang === 'zh';
    setText('parameters', t('driver.parameters') + (zh ? '：' : ': ') + (versions.join(zh ? '、' : ', ') || '—'));
    setText('backlog', t('driver.backlog', { count: state.link.backlog }));
  }

  function render() {
    renderStaticText();
    $('disconnected').classList.toggle('shown', !connected);
    if (!state) return;
    // The first state may bring another time zone than the browser's, so the clock follows at once.
    tick();
    renderHeader();
    renderFooter();
    var shift = state.shift;
    if (shift && !shift.serviceConfirmed) {
      renderService();
      show('view-service');
    } else if (shift) {
      renderDuty();
      show('view-duty');
    } else if (state.lastShift && dismissedSummary !== state.lastShift.record.shiftId) {
      renderSummary();
      show('view-summary');
    } else {
      renderSignOn();
      show('view-sign-on');
    }
  }

  // Shows a driver card the terminal rejected since the last sign-off, so the driver can read why no shift started.
  function renderSignOn() {
    var tap = state.lastTap;
    var since = state.lastShift ? state.lastShift.record.endedAt : '';
    var rejected = tap && tap.driverCard && tap.driverCard.action === 'rejected' && tap.at > since;
    setText('sign-on-card', rejected ? t(tap.promptId) : '');
  }

  function post(path, body, errorId) {
    setText(errorId, '');
    return fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (response) {
        return response.json().then(function (payload) {
          if (!response.ok) setText(errorId, t('driver.error.' + (payload.code || 'request-failed')));
          return response.ok;
        });
      })
      .catch(function () {
        setText(errorId, t('driver.error.request-failed'));
        return false;
      });
  }

  $('sign-on-form').addEventListener('submit', function (event) {
    event.preventDefault();
    post('/api/shift/sign-on', { driverId: $('driver-number').value.trim() }, 'sign-on-error').then(function (ok) {
      if (ok) $('driver-number').value = '';
    });
  });

  $('sign-off').addEventListener('click', function () {
    if (Date.now() < signOffArmedUntil) {
      signOffArmedUntil = 0;
      post('/api/shift/sign-off', {}, 'service-error');
    } else {
      // A second press within five seconds signs off, so a stray touch cannot end the shift.
      signOffArmedUntil = Date.now() + 5000;
      setTimeout(render, 5100);
    }
    render();
  });

  $('new-shift').addEventListener('click', function () {
    dismissedSummary = state && state.lastShift ? state.lastShift.record.shiftId : null;
    render();
  });

  $('lang-toggle').addEventListener('click', function () {
    lang = lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem('busfare.driver.lang', lang);
    render();
  });

  function tick() {
    setText('clock', hoursMinutes(Date.now()));
  }
  setInterval(tick, 1000);
  tick();

  var source = new EventSource('/events');
  source.addEventListener('state', function (event) {
    state = JSON.parse(event.data);
    document.body.setAttribute('data-revision', String(Number(document.body.getAttribute('data-revision') || '0') + 1));
    render();
  });
  source.addEventListener('open', function () { connected = true; render(); });
  source.addEventListener('error', function () { connected = false; render(); });
  render();
})();
`;
