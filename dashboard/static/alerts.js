// alerts.js: firing and recent alerts from GET /api/v1/alerts, with links to
// the runs behind them.
import { api, APIError, badge, fmtTime, html, options, show } from './core.js';

const alertStates = ['firing', 'resolved', 'all'];

export async function renderAlerts(main, query, view) {
  const state = alertStates.includes(query.get('state')) ? query.get('state') : 'all';
  main.innerHTML = String(html`
    <h1>Alerts</h1>
    <form class="filters" id="alerts-filter" aria-label="Filter alerts">
      <label>state <select name="state">${options(alertStates, state)}</select></label>
      <span class="muted small">all: firing, and resolved in the last 24 hours</span>
    </form>
    <div id="alerts-list"><p class="muted">Loading…</p></div>`);
  main.querySelector('#alerts-filter select').addEventListener('change', (event) => { location.hash = '#/alerts?state=' + event.target.value; });
  const list = main.querySelector('#alerts-list');
  await view.every(5000, async () => {
    let answer;
    try {
      answer = await api('/alerts?state=' + state);
    } catch (error) {
      if (error instanceof APIError && error.status === 404) {
        show(list, html`<p class="muted not-available">Alerts are not available: this server has no GET /api/v1/alerts.</p>`);
        return;
      }
      throw error;
    }
    if (!view.current) return;
    show(list, alertsTable(answer.alerts));
  });
}

function alertsTable(alerts) {
  if (!alerts.length) return html`<p class="ok-text">No alert.</p>`;
  return html`<table class="grid" id="alerts-table">
    <thead><tr><th>state</th><th>severity</th><th>rule</th><th>kind</th><th>workflow</th><th>class</th><th>summary</th>
      <th class="num">value</th><th>started</th><th>resolved</th><th>notified</th><th>runs</th></tr></thead>
    <tbody>${alerts.map((a) => html`<tr data-alert="${a.id}" class="alert-${a.state}">
      <td>${badge(a.state)}</td><td>${badge(a.severity)}</td><td><strong>${a.rule}</strong></td><td>${a.kind}</td>
      <td>${a.workflow ? html`<a href="#/runs?workflow=${encodeURIComponent(a.workflow)}">${a.workflow}</a>` : '–'}</td>
      <td>${a.class ? badge(a.class) : '–'}</td><td class="msg">${a.summary}</td>
      <td class="num">${a.value} / ${a.threshold}</td>
      <td>${fmtTime(a.started_at)}</td><td>${a.resolved_at ? fmtTime(a.resolved_at) : '–'}</td>
      <td class="small">${a.notifications || 0}${a.last_notified_at ? ' (last ' + fmtTime(a.last_notified_at) + ')' : ''}</td>
      <td class="small">${[...new Set(a.run_ids || [])].map((id) => html`<a class="mono run-link" href="#/runs/${id}">${id.slice(-8)}</a> `)}</td></tr>`)}</tbody></table>`;
}
