/**
 * Browser script of the console page. It expects a global CONSOLE object with the labels and the
 * UTC offset, adds each tap from GET /api/live at the top of the live taps table, and refreshes
 * the summary figures from GET /api/summary and the totals table from GET /api/totals at most
 * once a second while taps arrive.
 */
export const CONSOLE_SCRIPT = `
(() => {
  const MAX_ROWS = 50;
  const body = document.querySelector('#live-taps tbody');
  const status = document.getElementById('live-status');
  const empty = document.getElementById('live-empty');

  const pad = (value) => String(value).padStart(2, '0');
  const localTime = (iso) => {
    const instant = Date.parse(iso);
    if (Number.isNaN(instant)) return iso;
    return new Date(instant + CONSOLE.timezoneOffsetMinutes * 60000).toISOString().slice(0, 19).replace('T', ' ');
  };
  const yuan = (fen) => (fen < 0 ? '-' : '') + Math.floor(Math.abs(fen) / 100) + '.' + pad(Math.abs(fen) % 100);
  const label = (map, key) => (Object.prototype.hasOwnProperty.call(map, key) ? map[key] : key);

  const addTap = (tap) => {
    const row = document.createElement('tr');
    const cells = [
      localTime(tap.occurredAt), tap.terminalId, String(tap.sequence), tap.asn,
      label(CONSOLE.labels.cardType, tap.cardType), label(CONSOLE.labels.kind, tap.kind),
      yuan(tap.amountFen), tap.route || '', label(CONSOLE.labels.verification, tap.verification),
    ];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.appendChild(cell);
    }
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
    if (empty) empty.hidden = true;
  };

  const totalsTable = document.getElementById('totals');
  const totalsEmpty = document.getElementById('totals-empty');
  const showTotals = (totals) => {
    const rows = totals.map((total) => {
      const row = document.createElement('tr');
      const cells = [[total.businessDay, ''], [total.terminalId, ''], [String(total.count), 'number'], [yuan(total.amountFen), 'number']];
      for (const [text, className] of cells) {
        const cell = document.createElement('td');
        cell.textContent = text;
        if (className) cell.className = className;
        row.appendChild(cell);
      }
      return row;
    });
    totalsTable.tBodies[0].replaceChildren(...rows);
    totalsTable.hidden = totals.length === 0;
    totalsEmpty.hidden = totals.length > 0;
  };

  let refreshPending = false;
  const refreshSummary = () => {
    if (refreshPending) return;
    refreshPending = true;
    setTimeout(async () => {
      refreshPending = false;
      try {
        const summary = await (await fetch('/api/summary')).json();
        document.getElementById('summary-cleared').textContent = String(summary.recordsCleared);
        document.getElementById('summary-amount').textContent = yuan(summary.clearedAmountFen);
        document.getElementById('summary-rejected').textContent = String(summary.recordsRejected);
        document.getElementById('summary-in-doubt').textContent = String(summary.inDoubtOpen);
        document.getElementById('summary-duplicates').textContent = String(summary.duplicatesIgnored);
        showTotals(await (await fetch('/api/totals')).json());
      } catch (error) {
        console.warn('summary refresh failed', error);
      }
    }, 1000);
  };

  const source = new EventSource('/api/live');
  source.addEventListener('open', () => { status.textContent = CONSOLE.labels.connected; status.className = 'status'; });
  source.addEventListener('error', () => { status.textContent = CONSOLE.labels.disconnected; status.className = 'status down'; });
  source.addEventListener('tap', (event) => { addTap(JSON.parse(event.data)); refreshSummary(); });
})();
`;
