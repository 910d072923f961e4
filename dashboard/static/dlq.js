// dlq.js: the dead-letter queue: counts by class and channel, a filtered
// list, replay (one, the selected page rows, or everything matching the filter,
// each after a dry run, optionally with a raised budget), discard, and an
// entry's page where a person can edit the input before a replay or resolve
// the entry with an output.
import {
  api, ask, badge, canOperate, entitiesText, entityPairs, entryStates, failureClasses, fmtAgo, fmtCost, fmtCount, fmtTime,
  flash, fromLocalInput, html, localInput, notify, options, pretty, queryString, raw, show,
} from './core.js';
import { validate } from './schema.js';

const modes = ['resume', 'from-step', 'restart'];

function filterOf(query) {
  return {
    class: query.get('class') || '', state: query.has('state') ? query.get('state') : 'open', workflow: query.get('workflow') || '',
    channel: query.get('channel') || '', entity: query.getAll('entity'), since: query.get('since') || '', until: query.get('until') || '',
    cursor: query.get('cursor') || '',
  };
}

/** the filter of a bulk replay: the list's filters but the state (only open entries are replayed). */
function bulkFilter(filter) {
  const out = {};
  if (filter.class) out.classes = [filter.class];
  if (filter.workflow) out.workflow = filter.workflow;
  if (filter.channel) out.channel = filter.channel;
  const pairs = filter.entity.map((p) => p.split('=')).filter(([k]) => k);
  if (pairs.length) out.entities = Object.fromEntries(pairs.map(([k, ...v]) => [k, v.join('=')]));
  if (filter.since) out.since = filter.since;
  if (filter.until) out.until = filter.until;
  return out;
}

function describe(filter) {
  const parts = Object.entries(bulkFilter(filter)).map(([k, v]) => k + ' ' + (typeof v === 'object' ? JSON.stringify(v) : v));
  return parts.length ? parts.join(', ') : 'no filter: every open entry';
}

/** renderDeadLetters shows the queue by the hash's filter. */
export async function renderDeadLetters(main, query, view) {
  const filter = filterOf(query);
  const operate = canOperate();
  main.innerHTML = String(html`
    <h1>Dead-letter queue</h1>
    <form class="filters" id="dlq-filter" aria-label="Filter dead-letter entries">
      <label>class <select name="class">${options(failureClasses, filter.class, 'any')}</select></label>
      <label>state <select name="state">${options(entryStates, filter.state, 'any')}</select></label>
      <label>workflow <input name="workflow" value="${filter.workflow}" size="12"></label>
      <label>channel <input name="channel" value="${filter.channel}" size="10"></label>
      <label>entity <input name="entity" placeholder="key=value" value="${filter.entity.join(' ')}" size="16"></label>
      <label>since <input name="since" type="datetime-local" value="${localInput(filter.since)}"></label>
      <label>until <input name="until" type="datetime-local" value="${localInput(filter.until)}"></label>
      <button type="submit" class="primary">Filter</button>
      <a href="#/dlq" class="button">Clear</a>
    </form>
    <section aria-labelledby="groups-title"><h2 id="groups-title">By class and channel</h2><div id="dlq-groups"><p class="muted">Loading…</p></div></section>
    ${operate ? html`<form class="actions" id="dlq-actions" aria-label="Act on entries">
      <label>mode <select name="mode">${options(modes, 'resume')}</select></label>
      <label>from step <input name="step" size="12" placeholder="for from-step"></label>
      ${budgetFields()}
      <button type="button" data-action="replay-selected" disabled>Replay selected</button>
      <button type="button" data-action="replay-matching" id="replay-matching">Replay all matching…</button>
      <button type="button" data-action="discard-selected" class="danger" disabled>Discard selected</button>
      <button type="button" data-action="discard-matching" id="discard-matching" class="danger">Discard all matching…</button>
      <span class="muted small" id="selection"></span>
    </form>` : ''}
    <div id="dlq-list"><p class="muted">Loading…</p></div>`);
  main.querySelector('#dlq-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    location.hash = '#/dlq' + queryString({
      class: form.get('class'), state: form.get('state') || 'any', workflow: form.get('workflow').trim(), channel: form.get('channel').trim(),
      entity: entityPairs(form.get('entity')), since: fromLocalInput(form.get('since')), until: fromLocalInput(form.get('until')),
    });
  });
  const state = filter.state === 'any' ? '' : filter.state;
  const listQuery = { ...filter, state, limit: '50' };
  const groupsQuery = { ...listQuery, cursor: '', limit: '' };
  const list = main.querySelector('#dlq-list');
  const load = async () => {
    const [groups, page] = await Promise.all([api('/dlq/groups' + queryString(groupsQuery)), api('/dlq' + queryString(listQuery))]);
    if (!view.current) return;
    show(main.querySelector('#dlq-groups'), groupsTable(groups, filter));
    // A refresh that changes the list keeps the person's selection.
    const selected = new Set([...list.querySelectorAll('input[name=entry]:checked')].map((c) => c.value));
    if (show(list, entriesTable(page, filter, operate, groups.total))) {
      list.querySelectorAll('input[name=entry]').forEach((c) => { c.checked = selected.has(c.value); });
    }
    selectionChanged(main);
    const matching = main.querySelector('#replay-matching');
    if (matching) matching.textContent = filter.state === 'open' ? 'Replay all ' + fmtCount(groups.total) + ' matching…' : 'Replay all open matching…';
  };
  list.addEventListener('change', (event) => {
    if (event.target.id === 'select-page') {
      list.querySelectorAll('input[name=entry]:not(:disabled)').forEach((c) => { c.checked = event.target.checked; });
    }
    selectionChanged(main);
  });
  if (operate) {
    const actions = main.querySelector('#dlq-actions');
    actions.addEventListener('click', async (event) => {
      const button = event.target.closest('button[data-action]');
      if (!button) return;
      const form = new FormData(actions);
      const replay = { mode: form.get('mode'), step: form.get('step').trim() };
      const ids = [...list.querySelectorAll('input[name=entry]:checked')].map((c) => c.value);
      if (button.dataset.action.startsWith('replay-')) {
        const budget = budgetOf(form);
        if (budget.error) { notify(budget.error); return; }
        replay.budget = budget.budget;
      }
      if (button.dataset.action === 'replay-selected') await replaySelected(ids, replay);
      if (button.dataset.action === 'replay-matching') await replayMatching(filter, replay);
      if (button.dataset.action === 'discard-selected') await discardSelected(ids);
      if (button.dataset.action === 'discard-matching') await discardMatching(filter);
      await load();
    });
  }
  await view.every(5000, load);
}


function selectionChanged(main) {
  const count = main.querySelectorAll('#dlq-list input[name=entry]:checked').length;
  main.querySelectorAll('#dlq-actions button[data-action$=selected]').forEach((b) => { b.disabled = count === 0; });
  const label = main.querySelector('#selection');
  if (label) label.textContent = count ? count + ' selected' : '';
}

function groupsTable(groups, filter) {
  if (!groups.groups.length) return html`<p class="muted">No entry matches.</p>`;
  const link = (g) => '#/dlq' + queryString({ ...filter, cursor: '', class: g.class, channel: g.channel });
  return html`<table class="grid" id="dlq-groups-table"><thead><tr><th>class</th><th>channel</th><th class="num">entries</th></tr></thead>
    <tbody>${groups.groups.map((g) => html`<tr data-class="${g.class}" data-channel="${g.channel}"><td>${badge(g.class)}</td><td>${g.channel}</td>
      <td class="num"><a href="${link(g)}">${fmtCount(g.count)}</a></td></tr>`)}</tbody>
    <tfoot><tr><th colspan="2">total</th><td class="num" id="dlq-total">${fmtCount(groups.total)}</td></tr></tfoot></table>`;
}

function entriesTable(page, filter, operate, total) {
  if (!page.entries.length) return html`<p class="muted">No entry matches.</p>`;
  const older = page.next_cursor ? '#/dlq' + queryString({ ...filter, cursor: page.next_cursor }) : '';
  return html`<table class="grid rows" id="dlq-table">
    <thead><tr>${operate ? html`<th><input type="checkbox" id="select-page" aria-label="Select every entry on this page"></th>` : ''}
      <th>entry</th><th>class</th><th>workflow</th><th>failed step</th><th>reason</th><th>channel</th><th>state</th><th>entities</th><th>created</th></tr></thead>
    <tbody>${page.entries.map((e) => html`<tr data-entry="${e.id}">
      ${operate ? html`<td><input type="checkbox" name="entry" value="${e.id}" aria-label="Select ${e.id}" ${e.state === 'open' ? '' : raw('disabled')}></td>` : ''}
      <td><a class="mono" href="#/dlq/${e.id}">${e.id}</a></td><td>${badge(e.class)}</td><td>${e.workflow}</td>
      <td>${e.step ? e.step.seq + ' ' + e.step.name : '–'}</td><td class="msg">${e.reason}</td><td>${e.channel}</td><td>${badge(e.state)}</td>
      <td class="small">${entitiesText(e.entities)}</td><td>${fmtTime(e.created_at)}</td></tr>`)}</tbody></table>
  <p class="pager">${page.entries.length} of ${fmtCount(total)} shown.
    ${filter.cursor ? html`<a href="#/dlq${raw(queryString({ ...filter, cursor: '' }))}">↑ Newest</a>` : ''}
    ${older ? html`<a href="${older}" id="dlq-older">Older →</a>` : ''}</p>`;
}

function replayBody(replay, extra = {}) {
  const body = { mode: replay.mode, ...extra };
  if (replay.mode === 'from-step') body.step = replay.step;
  if (replay.budget) body.budget = replay.budget;
  return body;
}

/**
 * budgetFields are the inputs that raise a replayed run's budget: a run that
 * died budget_exceeded is resumed with more. A cap left empty keeps the
 * run's own.
 */
function budgetFields() {
  return html`<label title="A new token budget for the replayed run; empty keeps its own">budget tokens
      <input name="budget_tokens" type="number" min="1" step="1" size="9" placeholder="keep"></label>
    <label title="A new cost budget in US dollars for the replayed run; empty keeps its own">budget $
      <input name="budget_usd" type="number" min="0" step="any" size="7" placeholder="keep"></label>`;
}

/** budgetOf reads the budget fields: {budget} (undefined when both are empty), or {error} naming the bad one. */
function budgetOf(form) {
  const tokensText = String(form.get('budget_tokens') || '').trim();
  const usdText = String(form.get('budget_usd') || '').trim();
  const budget = {};
  if (tokensText) {
    const tokens = Number(tokensText);
    if (!Number.isInteger(tokens) || tokens < 1) return { error: `budget tokens ${tokensText}: give a whole number of tokens, 1 or more` };
    budget.tokens = tokens;
  }
  if (usdText) {
    const usd = Number(usdText);
    if (!Number.isFinite(usd) || usd <= 0) return { error: `budget $ ${usdText}: give an amount of US dollars above 0` };
    budget.cost_usd = usd;
  }
  return { budget: Object.keys(budget).length ? budget : undefined };
}

/** budgetText says what a replay does to the budget, for its confirmation. */
function budgetText(budget) {
  if (!budget) return '';
  const caps = [];
  if (budget.tokens) caps.push(fmtCount(budget.tokens) + ' tokens');
  if (budget.cost_usd) caps.push(fmtCost(budget.cost_usd));
  return html`<p id="dry-run-budget">New budget of each replayed run: ${caps.join(' and ')}.</p>`;
}

/** inBatches runs fn over items a few at a time, collecting [item, result or error]. */
async function inBatches(items, fn, size = 8) {
  const results = [];
  for (let i = 0; i < items.length; i += size) {
    const batch = items.slice(i, i + size);
    const settled = await Promise.allSettled(batch.map(fn));
    settled.forEach((s, j) => results.push([batch[j], s]));
  }
  return results;
}

async function replaySelected(ids, replay) {
  if (!ids.length) return;
  const plans = await inBatches(ids, (id) => api('/dlq/' + id + '/replay', { method: 'POST', body: replayBody(replay, { dry_run: true }) }));
  const ok = plans.filter(([, s]) => s.status === 'fulfilled').map(([id]) => id);
  const refused = plans.filter(([, s]) => s.status === 'rejected');
  const rerun = new Set(plans.filter(([, s]) => s.status === 'fulfilled').flatMap(([, s]) => s.value.plan.rerun_steps));
  const values = await ask(`Replay ${ok.length} of ${ids.length} selected entries (${replay.mode})?`, html`
    <p id="dry-run-count">Dry run: <strong>${ok.length}</strong> can be replayed${refused.length ? html`, <strong>${refused.length}</strong> refused` : ''}.</p>
    ${budgetText(replay.budget)}
    ${rerun.size ? html`<p>Steps that run again: ${[...rerun].join(', ')}${replay.mode !== 'resume' ? ' (with new idempotency keys)' : ''}.</p>` : ''}
    ${refused.length ? html`<ul class="small">${refused.slice(0, 10).map(([id, s]) => html`<li>${id}: ${s.reason.message}</li>`)}</ul>` : ''}`,
  ok.length ? 'Replay ' + ok.length : 'Close');
  if (!values || !ok.length) return;
  const done = await inBatches(ok, (id) => api('/dlq/' + id + '/replay', { method: 'POST', body: replayBody(replay) }));
  const failed = done.filter(([, s]) => s.status === 'rejected');
  notify(`Replayed ${done.length - failed.length} of ${ok.length} entries.` + (failed.length ? ' Refused: ' + failed.map(([id, s]) => id + ': ' + s.reason.message).join('; ') : ''),
    failed.length ? 'error' : 'ok');
}

async function replayMatching(filter, replay) {
  const body = replayBody(replay, { filter: bulkFilter(filter) });
  if (!Object.keys(body.filter).length) body.all = true;
  let dry;
  try {
    dry = await api('/dlq/replay', { method: 'POST', body: { ...body, dry_run: true } });
  } catch (error) { notify(error.message); return; }
  const values = await ask(`Replay every open entry matching the filter (${replay.mode})?`, html`
    <p>Filter: ${describe(filter)}.</p>
    <p id="dry-run-count">Dry run: <strong>${fmtCount(dry.matched)}</strong> open entries match.</p>
    ${budgetText(replay.budget)}`,
  dry.matched ? 'Replay ' + fmtCount(dry.matched) : 'Close');
  if (!values || !dry.matched) return;
  try {
    // Confirm exactly the dry run's entries, not whatever matches by now.
    const result = await api('/dlq/replay', { method: 'POST', body: { ...body, entry_ids: dry.entry_ids } });
    const failed = Object.entries(result.failed || {});
    notify(`Replayed ${fmtCount(result.replayed)} of ${fmtCount(result.matched)} matching entries` +
      (result.skipped ? `; ${fmtCount(result.skipped)} skipped (acted on or changed since the dry run)` : '') +
      (failed.length ? `; ${failed.length} refused: ` + failed.slice(0, 5).map(([id, why]) => id + ': ' + why).join('; ') : '') + '.',
    failed.length ? 'error' : 'ok');
  } catch (error) { notify(error.message); }
}

async function discardSelected(ids) {
  if (!ids.length) return;
  const values = await ask(`Discard ${ids.length} entries?`, html`<p>Their runs stay dead; the reason goes to the audit trail.</p>
    <label>reason <input name="reason" required size="40"></label>`, 'Discard ' + ids.length);
  if (!values) return;
  const done = await inBatches(ids, (id) => api('/dlq/' + id + '/discard', { method: 'POST', body: { reason: values.reason } }));
  const failed = done.filter(([, s]) => s.status === 'rejected');
  notify(`Discarded ${done.length - failed.length} of ${ids.length} entries.` + (failed.length ? ' ' + failed[0][1].reason.message : ''), failed.length ? 'error' : 'ok');
}

async function discardMatching(filter) {
  const body = { filter: bulkFilter(filter) };
  if (!Object.keys(body.filter).length) body.all = true;
  let dry;
  try {
    dry = await api('/dlq/discard', { method: 'POST', body: { ...body, reason: 'dry run', dry_run: true } });
  } catch (error) { notify(error.message); return; }
  const values = await ask('Discard every open entry matching the filter?', html`
    <p>Filter: ${describe(filter)}.</p>
    <p id="dry-run-count">Dry run: <strong>${fmtCount(dry.matched)}</strong> open entries match. Their runs stay dead; the reason goes to the audit trail.</p>
    ${dry.matched ? html`<label>reason <input name="reason" required size="40"></label>` : ''}`,
  dry.matched ? 'Discard ' + fmtCount(dry.matched) : 'Close');
  if (!values || !dry.matched) return;
  try {
    const result = await api('/dlq/discard', { method: 'POST', body: { ...body, reason: values.reason, entry_ids: dry.entry_ids } });
    const failed = Object.entries(result.failed || {});
    notify(`Discarded ${fmtCount(result.discarded)} of ${fmtCount(result.matched)} matching entries` +
      (result.skipped ? `; ${fmtCount(result.skipped)} skipped (acted on or changed since the dry run)` : '') +
      (failed.length ? `; ${failed.length} refused: ` + failed.slice(0, 5).map(([id, why]) => id + ': ' + why).join('; ') : '') + '.',
    failed.length ? 'error' : 'ok');
  } catch (error) { notify(error.message); }
}

/** renderEntry shows one entry, and for an open entry and an operate token, what can be done with it. */
export async function renderEntry(main, id, view) {
  const entry = await api('/dlq/' + encodeURIComponent(id));
  if (!view.current) return;
  const actionable = entry.state === 'open' && canOperate();
  const input = pretty(entry.input);
  main.innerHTML = String(html`
    <p class="crumbs"><a href="#/dlq">Dead-letter queue</a> › <a href="#/dlq?class=${entry.class}">${entry.class}</a></p>
    <h1>Entry <span class="mono">${entry.id}</span> ${badge(entry.state)}</h1>
    <dl class="facts" id="entry-facts">
      <dt>run</dt><dd><a class="mono" href="#/runs/${entry.run_id}">${entry.run_id}</a></dd>
      <dt>workflow</dt><dd>${entry.workflow} v${entry.workflow_version}</dd>
      <dt>class</dt><dd>${badge(entry.class)}</dd>
      <dt>failed step</dt><dd>${entry.step ? entry.step.seq + ' ' + entry.step.name : '–'}</dd>
      <dt>reason</dt><dd class="error">${entry.reason}</dd>
      <dt>channel</dt><dd>${entry.channel}</dd>
      <dt>created</dt><dd>${fmtTime(entry.created_at)} (${fmtAgo(entry.created_at)})</dd>
      ${Object.keys(entry.entities || {}).length ? html`<dt>entities</dt><dd>${entitiesText(entry.entities)}</dd>` : ''}
      ${entry.closed_by ? html`<dt>closed</dt><dd>${entry.state} by <strong>${entry.closed_by}</strong> ${fmtTime(entry.closed_at)}${entry.close_reason ? ': ' + entry.close_reason : ''}
        ${entry.replay_run_id ? html` → <a class="mono" href="#/runs/${entry.replay_run_id}">${entry.replay_run_id}</a>` : ''}</dd>` : ''}
    </dl>
    ${actionable ? html`<div class="columns">
      <form class="card" id="replay-form" aria-labelledby="replay-title"><h2 id="replay-title">Replay</h2>
        <label>mode <select name="mode">${options(modes, 'resume')}</select></label>
        <label>from step <input name="step" value="${entry.step ? entry.step.name : ''}" size="14"></label>
        ${budgetFields()}
        <label class="block">input (edit to replay with another)<textarea name="input" rows="6" spellcheck="false">${input}</textarea></label>
        <p class="error small" id="replay-error" role="alert"></p>
        <button type="submit" class="primary" data-action="replay">Dry run, then replay…</button>
      </form>
      <form class="card" id="resolve-form" aria-labelledby="resolve-title"><h2 id="resolve-title">Resolve with an output</h2>
        <p class="small muted">The failed step's output, typed or pasted as JSON${entry.output_schema ? ', checked against its schema' : ''}; the run continues from there.</p>
        <label>step <input name="step" value="${entry.step ? entry.step.name : ''}" size="14" required></label>
        <label class="block">output<textarea name="output" rows="6" spellcheck="false" required placeholder="JSON"></textarea></label>
        <p class="error small" id="resolve-error" role="alert"></p>
        <button type="submit" class="primary" data-action="resolve">Resolve</button>
      </form>
      <form class="card" id="discard-form" aria-labelledby="discard-title"><h2 id="discard-title">Discard</h2>
        <p class="small muted">Close the entry without action; the run stays dead.</p>
        <label class="block">reason <input name="reason" required size="30"></label>
        <button type="submit" class="danger" data-action="discard">Discard</button>
      </form></div>` : ''}
    <div class="columns">
      <section><h2>Input</h2><pre class="json" id="entry-input">${input}</pre></section>
      ${entry.output_schema ? html`<section><h2>Output schema of ${entry.step ? entry.step.name : 'the step'}</h2><pre class="json" id="output-schema">${pretty(entry.output_schema)}</pre></section>` : ''}
    </div>
    <section><h2>Attempts (${(entry.attempts || []).length})</h2><table class="grid" id="entry-attempts">
      <thead><tr><th class="num">attempt</th><th>time</th><th>step</th><th>class</th><th>message</th></tr></thead>
      <tbody>${(entry.attempts || []).map((a) => html`<tr><td class="num">${a.attempt}</td><td>${fmtTime(a.at)}</td><td>${a.step ? a.step_seq + ' ' + a.step : '–'}</td>
        <td>${badge(a.class)}</td><td class="msg">${a.message}</td></tr>`)}</tbody></table></section>
    ${(entry.deliveries || []).length ? html`<section><h2>Notifications</h2><table class="grid"><thead><tr><th>channel</th><th>state</th><th class="num">attempts</th><th>last error</th></tr></thead>
      <tbody>${entry.deliveries.map((d) => html`<tr><td>${d.channel}</td><td>${badge(d.state)}</td><td class="num">${d.attempts}</td><td class="msg">${d.last_error || ''}</td></tr>`)}</tbody></table></section>` : ''}`);
  if (actionable) bindEntryActions(main, entry, input);
}

function bindEntryActions(main, entry, originalInput) {
  const reload = (message) => { flash(message); location.hash = '#/dlq/' + entry.id + '?t=' + Date.now(); };
  main.querySelector('#replay-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const error = main.querySelector('#replay-error');
    error.textContent = '';
    const budget = budgetOf(form);
    if (budget.error) { error.textContent = budget.error; return; }
    const body = replayBody({ mode: form.get('mode'), step: form.get('step').trim(), budget: budget.budget });
    let rawInput = '';
    if (form.get('input').trim() !== originalInput.trim()) {
      try { JSON.parse(form.get('input')); } catch (e) { error.textContent = 'The input is not JSON: ' + e.message; return; }
      rawInput = form.get('input');
    }
    const send = (dryRun) => api('/dlq/' + entry.id + '/replay', {
      method: 'POST',
      rawBody: JSON.stringify({ ...body, dry_run: dryRun }).replace(/}$/, rawInput ? ',"input":' + rawInput + '}' : '}'),
    });
    let dry;
    try { dry = await send(true); } catch (e) { error.textContent = e.message; return; }
    const plan = dry.plan;
    const values = await ask('Replay entry ' + entry.id + ' (' + plan.mode + ')?', html`
      <p id="dry-run-count">Dry run: 1 entry can be replayed${rawInput ? ', with the edited input' : ''}.</p>
      ${budgetText(body.budget)}
      <p>Kept from the step log: ${plan.kept_steps.join(', ') || 'none'}.</p>
      <p>Run again: ${plan.rerun_steps.join(', ') || 'the rest of the workflow'}${plan.new_idempotency_keys ? ' (with new idempotency keys: external APIs see new calls)' : ''}.</p>`, 'Replay');
    if (!values) return;
    try { await send(false); } catch (e) { error.textContent = e.message; return; }
    reload('Entry ' + entry.id + ' replayed.');
  });
  main.querySelector('#resolve-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const error = main.querySelector('#resolve-error');
    error.textContent = '';
    const text = form.get('output');
    let value;
    try { value = JSON.parse(text); } catch (e) { error.textContent = 'The output is not JSON: ' + e.message; return; }
    if (entry.output_schema) {
      const problems = validate(entry.output_schema, value);
      if (problems.length) { error.textContent = 'The output does not fit the step\'s schema: ' + problems.join('; '); return; }
    }
    try {
      await api('/dlq/' + entry.id + '/resolve', { method: 'POST', rawBody: '{"step":' + JSON.stringify(form.get('step').trim()) + ',"output":' + text + '}' });
    } catch (e) { error.textContent = 'The server refused the output: ' + e.message; return; }
    reload('Entry ' + entry.id + ' resolved: the run continues.');
  });
  main.querySelector('#discard-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const reason = new FormData(event.target).get('reason').trim();
    try { await api('/dlq/' + entry.id + '/discard', { method: 'POST', body: { reason } }); } catch (e) { notify(e.message); return; }
    reload('Entry ' + entry.id + ' discarded.');
  });
}
