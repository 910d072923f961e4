// overview.js: the first page: runs by status per workflow, the charts over
// time from GET /api/v1/stats, firing alerts and breakers, refreshed every
// few seconds. An admin can reset an open breaker and give up the
// notifications of a channel nobody delivers from here.
import { api, APIError, ask, badge, canAdmin, fmtCost, fmtCount, fmtTime, html, notify, raw, runStatuses, show } from './core.js';
import { lineChart, stackedBars } from './charts.js';

const windows = { '1h': '1 hour', '6h': '6 hours', '24h': '24 hours', '168h': '7 days' };
const refreshMillis = 5000;
let painted = false;

export async function renderOverview(main, query, view) {
  const window = windows[query.get('window')] ? query.get('window') : '24h';
  main.innerHTML = String(html`
    <h1>Overview</h1>
    <section aria-labelledby="ov-runs-title">
      <h2 id="ov-runs-title">Runs by status</h2>
      <div id="ov-runs"><p class="muted">Loading…</p></div>
    </section>
    <div class="columns">
      <section aria-labelledby="ov-alerts-title"><h2 id="ov-alerts-title">Firing alerts</h2><div id="ov-alerts"><p class="muted">Loading…</p></div></section>
      <section aria-labelledby="ov-breakers-title"><h2 id="ov-breakers-title">Breakers</h2><div id="ov-breakers"><p class="muted">Loading…</p></div></section>
      <section aria-labelledby="ov-outbox-title"><h2 id="ov-outbox-title">Notifications waiting</h2><div id="ov-outbox"><p class="muted">Loading…</p></div></section>
    </div>
    <section aria-labelledby="ov-charts-title">
      <h2 id="ov-charts-title">Over time
        <form class="inline" id="ov-window"><label>window <select name="window">${Object.entries(windows).map(([value, label]) =>
          html`<option value="${value}" ${value === window ? raw('selected') : ''}>${label}</option>`)}</select></label></form>
        <span class="muted small" id="ov-updated"></span>
      </h2>
      <div id="ov-charts" class="charts"><p class="muted">Loading…</p></div>
    </section>`);
  main.querySelector('#ov-window select').addEventListener('change', (event) => {
    location.hash = '#/?window=' + event.target.value;
  });
  main.querySelector('#ov-breakers').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action="reset-breaker"]');
    if (button) resetBreaker(main, button.dataset.workflow);
  });
  main.querySelector('#ov-outbox').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action="give-up"]');
    if (button) giveUp(main, button.dataset.channel);
  });
  await view.every(refreshMillis, async () => {
    const [workflows, stats, alerts, breakers, outbox] = await Promise.allSettled([
      api('/workflows'), api('/stats?window=' + window), api('/alerts?state=firing'), api('/breakers'), api('/outbox'),
    ]);
    if (!view.current) return;
    fill(main, '#ov-runs', workflows, runsTable);
    fill(main, '#ov-charts', stats, charts, 'Charts are not available: this server has no GET /api/v1/stats.');
    fill(main, '#ov-alerts', alerts, firingAlerts, 'Alerts are not available: this server has no GET /api/v1/alerts.');
    fill(main, '#ov-breakers', breakers, breakerList);
    fill(main, '#ov-outbox', outbox, outboxList, 'The outbox is not shown: this server has no GET /api/v1/outbox.');
    main.querySelector('#ov-updated').textContent = 'updated ' + new Date().toLocaleTimeString() + ', every ' + refreshMillis / 1000 + 's';
    if (!painted) {
      painted = true;
      // The first meaningful paint: the runs table and the charts are in the page.
      requestAnimationFrame(() => setTimeout(() => performance.mark('klaxon-overview-painted'), 0));
    }
  });
}

function fill(main, selector, result, render, missing) {
  const element = main.querySelector(selector);
  if (!element) return;
  if (result.status === 'fulfilled') {
    show(element, render(result.value));
  } else if (result.reason instanceof APIError && result.reason.status === 404 && missing) {
    show(element, html`<p class="muted not-available">${missing}</p>`);
  } else {
    show(element, html`<p class="error">${result.reason.message}</p>`);
  }
}

function runsTable({ workflows }) {
  if (!workflows.length) return html`<p class="muted">No workflow has been registered yet: start a worker (or klaxon demo).</p>`;
  const totals = Object.fromEntries(runStatuses.map((s) => [s, 0]));
  workflows.forEach((w) => runStatuses.forEach((s) => { totals[s] += w.runs[s] || 0; }));
  const cell = (workflow, status, n) => n
    ? html`<td class="num"><a href="#/runs?${raw(new URLSearchParams(workflow ? { workflow, status } : { status }).toString())}">${fmtCount(n)}</a></td>`
    : html`<td class="num zero">0</td>`;
  return html`<table class="grid" id="runs-by-status">
    <thead><tr><th>workflow</th>${runStatuses.map((s) => html`<th class="num">${badge(s)}</th>`)}</tr></thead>
    <tbody>${workflows.map((w) => html`<tr data-workflow="${w.name}"><th><a href="#/runs?workflow=${encodeURIComponent(w.name)}">${w.name}</a> <span class="muted">v${w.version}</span></th>
      ${runStatuses.map((s) => cell(w.name, s, w.runs[s] || 0))}</tr>`)}</tbody>
    ${workflows.length > 1 ? html`<tfoot><tr><th>all</th>${runStatuses.map((s) => cell('', s, totals[s]))}</tr></tfoot>` : ''}
  </table>`;
}

function charts(stats) {
  const buckets = stats.buckets || [];
  const step = stats.step_seconds;
  const classes = [...new Set(buckets.flatMap((b) => Object.keys(b.dlq_by_class || {})))].sort();
  const unknownCost = buckets.reduce((n, b) => n + (b.runs_unknown_cost || 0), 0);
  const dead = buckets.reduce((n, b) => n + Object.values(b.dlq_by_class || {}).reduce((a, c) => a + c, 0), 0);
  return html`
    ${stackedBars({ id: 'chart-dlq', title: 'Dead letters by class', note: fmtCount(dead) + ' in the window', buckets, stepSeconds: step,
      series: classes.map((c) => ({ name: c, key: c, values: buckets.map((b) => (b.dlq_by_class || {})[c] || 0) })) })}
    ${lineChart({ id: 'chart-throughput', title: 'Throughput (runs per bucket)', buckets, stepSeconds: step, format: (v) => Math.round(v).toLocaleString('en-US'),
      series: [
        { name: 'enqueued', key: 'enqueued', values: buckets.map((b) => b.runs_enqueued || 0) },
        { name: 'completed', key: 'completed', values: buckets.map((b) => (b.runs_by_status || {}).completed || 0) },
        { name: 'dead', key: 'dead', values: buckets.map((b) => (b.runs_by_status || {}).dead || 0) },
      ] })}
    ${lineChart({ id: 'chart-cost', title: 'Cost per run', note: unknownCost ? fmtCount(unknownCost) + ' runs of unknown cost left out' : '',
      buckets, stepSeconds: step, format: (v) => fmtCost(v),
      series: [{ name: 'USD per finished run', key: 'cost', values: buckets.map((b) => b.cost_per_run_usd || 0) }] })}
    ${lineChart({ id: 'chart-tokens', title: 'Tokens per run', buckets, stepSeconds: step, format: (v) => fmtCount(Math.round(v)),
      series: [{ name: 'tokens per finished run', key: 'tokens', values: buckets.map((b) => b.tokens_per_run || 0) }] })}
    ${lineChart({ id: 'chart-retries', title: 'Retries per run', buckets, stepSeconds: step,
      series: [{ name: 'retries per finished run', key: 'retries', values: buckets.map((b) => b.retries_per_run || 0) }] })}`;
}

function firingAlerts({ alerts }) {
  if (!alerts.length) return html`<p class="ok-text">No alert is firing.</p>`;
  return html`<ul class="alerts" id="firing-alerts">${alerts.map((a) => html`<li class="alert sev-${a.severity}">
    ${badge(a.severity)} <strong>${a.rule}</strong> ${a.summary}
    <span class="muted">since ${fmtTime(a.started_at)}</span>
    ${(a.run_ids || []).length ? html` · <a href="#/alerts">${new Set(a.run_ids).size} runs</a>` : ''}</li>`)}</ul>`;
}

function breakerList({ breakers }) {
  const open = breakers.filter((b) => b.open);
  const closed = breakers.filter((b) => !b.open);
  const admin = canAdmin();
  return html`${open.length ? html`<ul class="breakers" id="open-breakers">${open.map((b) => html`<li data-breaker="${b.workflow}">${badge('open')} <strong>${b.workflow}</strong>: ${b.reason}
      <span class="muted">opened ${fmtTime(b.opened_at)} by ${b.opened_by}, until ${fmtTime(b.until)}</span>
      ${admin ? html`<button type="button" class="danger small" data-action="reset-breaker" data-workflow="${b.workflow}">Reset…</button>` : ''}</li>`)}</ul>`
    : html`<p class="ok-text">No breaker is open.</p>`}
    ${closed.length ? html`<p class="muted small">Closed: ${closed.map((b) => html`${b.workflow} (tripped ${fmtTime(b.opened_at)}) `)}</p>` : ''}`;
}

// resetBreaker asks, then closes a workflow's open breaker (POST
// /breakers/{workflow}/reset, scope admin), and shows the list again.
async function resetBreaker(main, workflow) {
  const values = await ask('Reset the breaker of ' + workflow + '?', html`
    <p>Its waiting runs are claimed again at once. If what tripped it is still failing, it trips again.</p>`, 'Reset');
  if (values === null) return;
  try {
    await api('/breakers/' + encodeURIComponent(workflow) + '/reset', { method: 'POST' });
    notify('The breaker of ' + workflow + ' is reset: its runs are claimed again.', 'ok');
  } catch (error) {
    notify('Resetting the breaker of ' + workflow + ': ' + error.message);
  }
  const [breakers] = await Promise.allSettled([api('/breakers')]);
  fill(main, '#ov-breakers', breakers, breakerList);
}

// outboxList shows the notifications no process has delivered yet, by
// channel and kind: they pile up on a channel nobody delivers any more.
function outboxList({ channels }) {
  if (!channels.length) return html`<p class="ok-text">Every notification was delivered.</p>`;
  const admin = canAdmin();
  return html`<ul class="outbox" id="outbox-channels">${channels.map((c) => html`<li data-channel="${c.channel}" data-kind="${c.kind}">
    <strong>${c.channel}</strong> <span class="muted">${c.kind.replace('_', ' ')}</span>: ${fmtCount(c.pending)} waiting since ${fmtTime(c.oldest)}
    <span class="muted">${c.attempted ? html`${fmtCount(c.attempted)} tried, up to ${c.max_attempts} times; last error: ${c.last_error || '-'}` : 'never tried: no running process delivers this channel'}</span>
    ${admin ? html`<button type="button" class="danger small" data-action="give-up" data-channel="${c.channel}">Give up…</button>` : ''}</li>`)}</ul>`;
}

// giveUp asks for a reason, then gives up the channel's pending notifications
// (POST /outbox/give-up, scope admin), and shows the list again.
async function giveUp(main, channel) {
  const values = await ask('Give up the notifications waiting on ' + channel + '?', html`
    <p>They will not be delivered. Do this for a channel nobody delivers any more (a removed webhook or alert target).
    One being delivered right now is left to finish.</p>
    <label>reason <input name="reason" required size="40"></label>`, 'Give up');
  if (values === null) return;
  try {
    const result = await api('/outbox/give-up', { method: 'POST', body: { channel, reason: values.reason } });
    notify('Gave up ' + fmtCount(result.given_up) + ' notifications on ' + channel + '.', 'ok');
  } catch (error) {
    notify('Giving up the notifications on ' + channel + ': ' + error.message);
  }
  const [outbox] = await Promise.allSettled([api('/outbox')]);
  fill(main, '#ov-outbox', outbox, outboxList);
}
