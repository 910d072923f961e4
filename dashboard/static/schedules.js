// schedules.js: the schedules from GET /api/v1/schedules (each with its next
// tick and latest decision) and a schedule's page, GET /api/v1/schedules/NAME:
// its definition and latest decisions, each tick's run with its status now,
// so that a schedule whose runs keep dying shows it. Operators pause, resume
// and delete schedules here; schedules are created with the CLI, the API or
// klaxon.Schedule in Go.
import { api, APIError, ask, badge, canOperate, flash, fmtTime, html, notify, show } from './core.js';

/** renderSchedules lists the schedules by name, refreshed every 5 seconds. */
export async function renderSchedules(main, query, view) {
  main.innerHTML = String(html`
    <h1>Schedules</h1>
    <p class="muted small">Each schedule enqueues one run of its workflow per tick, exactly once across every worker and server.
      Create one with <span class="mono">klaxon schedules create</span>, the API, or <span class="mono">klaxon.Schedule</span> in Go.</p>
    <div id="schedules-list"><p class="muted">Loading…</p></div>`);
  const list = main.querySelector('#schedules-list');
  await view.every(5000, async () => {
    let answer;
    try {
      answer = await api('/schedules?limit=1000');
    } catch (error) {
      if (error instanceof APIError && error.status === 404) {
        show(list, html`<p class="muted not-available">Schedules are not available: this server has no GET /api/v1/schedules.</p>`);
        return;
      }
      throw error;
    }
    if (!view.current) return;
    show(list, schedulesTable(answer.schedules));
  });
}

function schedulesTable(schedules) {
  if (!schedules.length) return html`<p class="muted">No schedules.</p>`;
  return html`<table class="grid" id="schedules-table">
    <thead><tr><th>schedule</th><th>workflow</th><th>cron</th><th>time zone</th><th>catch-up</th><th>state</th><th>next tick</th><th>latest decision</th></tr></thead>
    <tbody>${schedules.map((s) => html`<tr data-schedule="${s.name}" class="${s.paused ? 'quiet' : ''}">
      <td><a href="#/schedules/${encodeURIComponent(s.name)}">${s.name}</a></td>
      <td><a href="#/runs?workflow=${encodeURIComponent(s.workflow)}">${s.workflow}</a></td>
      <td class="mono">${s.cron}</td><td>${s.time_zone}</td><td>${s.catch_up}</td>
      <td>${s.paused ? 'paused' : 'active'}</td><td>${fmtTime(s.next_tick)}</td>
      <td>${decisionText((s.outcomes || [])[0])}</td></tr>`)}</tbody></table>`;
}

/** decisionText is a decision in a few words, with its run's status. */
function decisionText(outcome) {
  if (!outcome) return '–';
  const run = outcome.run_id ? html` <a class="mono" href="#/runs/${encodeURIComponent(outcome.run_id)}">${outcome.run_id}</a>` : '';
  const status = outcome.run_status ? html` ${badge(outcome.run_status)}` : '';
  return html`${outcome.decision}${run}${status} <span class="muted small">${fmtTime(outcome.tick)}</span>`;
}

/** renderSchedule shows one schedule and its latest decisions, refreshed every 5 seconds. */
export async function renderSchedule(main, name, view) {
  main.innerHTML = String(html`<p><a href="#/schedules">← Schedules</a></p><div id="schedule"><p class="muted">Loading…</p></div>`);
  const box = main.querySelector('#schedule');
  const load = async () => {
    const schedule = await api('/schedules/' + encodeURIComponent(name) + '?outcomes=50');
    if (!view.current) return;
    // Buttons are wired once per rendering: show leaves an unchanged page alone.
    if (show(box, schedulePage(schedule))) wireActions(box, schedule, load);
  };
  await view.every(5000, load);
}

function schedulePage(s) {
  const operate = canOperate();
  const dead = s.outcomes.filter((o) => o.run_status === 'dead').length;
  return html`
    <h1>Schedule <span class="mono">${s.name}</span> ${s.paused ? badge('paused') : ''}</h1>
    <dl class="facts">
      <dt>workflow</dt><dd><a href="#/runs?workflow=${encodeURIComponent(s.workflow)}">${s.workflow}</a></dd>
      <dt>cron</dt><dd class="mono">${s.cron}</dd><dt>time zone</dt><dd>${s.time_zone}</dd>
      <dt>catch-up</dt><dd>${s.catch_up}</dd><dt>input</dt><dd class="mono">${JSON.stringify(s.input)}</dd>
      <dt>next tick</dt><dd>${s.paused ? 'none while paused' : fmtTime(s.next_tick)}</dd>
      <dt>last tick</dt><dd>${s.last_tick ? fmtTime(s.last_tick) : '–'}</dd>
      <dt>declared</dt><dd>${s.source === 'code' ? 'in code (klaxon.Schedule)' : 'through the API or CLI'}, ${fmtTime(s.created_at)}</dd>
    </dl>
    ${operate ? html`<p class="actions">
      <button type="button" id="schedule-toggle">${s.paused ? 'Resume' : 'Pause'}</button>
      <button type="button" id="schedule-delete" class="danger">Delete…</button></p>` : ''}
    <h2>Latest decisions</h2>
    ${dead ? html`<p class="error">${dead} of the last ${s.outcomes.length} runs it started ended dead.</p>` : ''}
    ${s.outcomes.length ? html`<table class="grid" id="schedule-outcomes">
      <thead><tr><th>tick</th><th>decision</th><th>run</th><th>run status</th><th>reason</th></tr></thead>
      <tbody>${s.outcomes.map((o) => html`<tr data-decision="${o.decision}">
        <td>${fmtTime(o.tick)}</td><td>${o.decision}</td>
        <td>${o.run_id ? html`<a class="mono" href="#/runs/${encodeURIComponent(o.run_id)}">${o.run_id}</a>` : '–'}</td>
        <td>${o.run_status ? badge(o.run_status) : (o.run_id ? 'deleted' : '–')}</td>
        <td class="small">${o.reason || '–'}</td></tr>`)}</tbody></table>`
    : html`<p class="muted">No decisions yet: its first tick has not come.</p>`}`;
}

function wireActions(box, s, reload) {
  const toggle = box.querySelector('#schedule-toggle');
  if (toggle) {
    toggle.addEventListener('click', async () => {
      const action = s.paused ? 'resume' : 'pause';
      try {
        await api('/schedules/' + encodeURIComponent(s.name) + '/' + action, { method: 'POST' });
      } catch (error) { notify(error.message); return; }
      flash(action === 'pause' ? 'Paused ' + s.name : 'Resumed ' + s.name + ' from its next tick');
      await reload();
    });
  }
  const remove = box.querySelector('#schedule-delete');
  if (remove) {
    remove.addEventListener('click', async () => {
      const answer = await ask('Delete schedule ' + s.name + '?',
        html`<p>Its recorded decisions are deleted; the runs it started stay.${s.source === 'code' ? ' It is declared in code: a worker declaring it saves it again when it starts.' : ''}</p>`, 'Delete');
      if (!answer) return;
      try {
        await api('/schedules/' + encodeURIComponent(s.name), { method: 'DELETE' });
      } catch (error) { notify(error.message); return; }
      flash('Deleted schedule ' + s.name);
      location.hash = '#/schedules';
    });
  }
}
