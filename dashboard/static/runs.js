// runs.js: the runs list with its filters, and a run's page: its step
// timeline, manifest, family tree, input and output, failed attempts and
// event log.
import {
  api, ask, badge, between, canOperate, entitiesText, entityPairs, flash, fmtAgo, fmtCost, fmtCount, fmtMillis, fmtTime, fromLocalInput,
  html, localInput, notify, options, pretty, queryString, raw, runStatuses, show, terminalStatuses, tokensOf,
} from './core.js';
import { knownWorkers, workerLabel } from './workers.js';

let workflowNames = null;

async function knownWorkflows() {
  if (!workflowNames) workflowNames = (await api('/workflows')).workflows.map((w) => w.name);
  return workflowNames;
}

/** renderRuns lists runs newest first, filtered by the hash's query, refreshed while on the first page. */
export async function renderRuns(main, query, view) {
  const filter = {
    status: query.get('status') || '', workflow: query.get('workflow') || '', entity: query.getAll('entity'),
    since: query.get('since') || '', until: query.get('until') || '', cursor: query.get('cursor') || '',
  };
  const workflows = await knownWorkflows().catch(() => []);
  main.innerHTML = String(html`
    <h1>Runs</h1>
    <form class="filters" id="runs-filter" aria-label="Filter runs">
      <label>status <select name="status">${options(runStatuses, filter.status, 'any')}</select></label>
      <label>workflow <select name="workflow">${options(workflows.includes(filter.workflow) || !filter.workflow ? workflows : [...workflows, filter.workflow], filter.workflow, 'any')}</select></label>
      <label>entity <input name="entity" placeholder="key=value" value="${filter.entity.join(' ')}" size="18"></label>
      <label>since <input name="since" type="datetime-local" value="${localInput(filter.since)}"></label>
      <label>until <input name="until" type="datetime-local" value="${localInput(filter.until)}"></label>
      <button type="submit" class="primary">Filter</button>
      <a href="#/runs" class="button">Clear</a>
    </form>
    <div id="runs-list"><p class="muted">Loading…</p></div>`);
  main.querySelector('#runs-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    location.hash = '#/runs' + queryString({
      status: form.get('status'), workflow: form.get('workflow'), entity: entityPairs(form.get('entity')),
      since: fromLocalInput(form.get('since')), until: fromLocalInput(form.get('until')),
    });
  });
  const path = '/runs' + queryString({ ...filter, limit: '50' });
  const load = async () => {
    const page = await api(path);
    if (!view.current) return;
    show(main.querySelector('#runs-list'), runsTable(page, filter));
  };
  // The first page follows new runs; an older page stays put.
  if (filter.cursor) await load(); else await view.every(4000, load);
}

function runsTable(page, filter) {
  if (!page.runs.length) return html`<p class="muted">No run matches.</p>`;
  const older = page.next_cursor ? '#/runs' + queryString({ ...filter, cursor: page.next_cursor }) : '';
  return html`<table class="grid rows" id="runs-table">
    <thead><tr><th>run</th><th>workflow</th><th>status</th><th>entities</th><th class="num">attempt</th><th class="num">retries</th>
      <th class="num">tokens</th><th class="num">cost</th><th>created</th><th class="num">took</th></tr></thead>
    <tbody>${page.runs.map((run) => html`<tr data-run="${run.id}">
      <td><a class="mono" href="#/runs/${run.id}">${run.id}</a></td><td>${run.workflow}</td><td>${badge(run.status)}${run.failure ? html` <span class="muted">${run.failure.class}</span>` : ''}</td>
      <td class="small">${entitiesText(run.entities)}</td><td class="num">${run.attempt}</td><td class="num">${run.retries}</td>
      <td class="num">${fmtCount(tokensOf(run.spend))}</td><td class="num">${fmtCost(run.spend.cost)}</td>
      <td>${fmtTime(run.created_at)}</td><td class="num">${fmtMillis(between(run.created_at, run.finished_at))}</td></tr>`)}</tbody>
  </table>
  <p class="pager">${filter.cursor ? html`<a href="#/runs${raw(queryString({ ...filter, cursor: '' }))}">↑ Newest</a>` : ''}
    ${older ? html`<a href="${older}" id="runs-older">Older →</a>` : ''}</p>`;
}

/** renderRun shows one run, refreshed until it ends. */
export async function renderRun(main, id, view) {
  main.innerHTML = String(html`<p class="muted">Loading run ${id}…</p>`);
  await view.every(2500, async () => {
    const detail = await api('/runs/' + encodeURIComponent(id));
    // A run that went dead has a dead-letter entry per death: link them.
    const died = detail.events.some((e) => e.type === 'run.dead');
    const entries = died ? (await api('/dlq?run=' + encodeURIComponent(id) + '&limit=10')).entries : [];
    // A parent or a child: its family as a tree, counted and capped by the server.
    const family = detail.family || {};
    const tree = family.parent || (family.children && family.children.length)
      ? await api('/runs/' + encodeURIComponent(id) + '/family') : null;
    const workers = await knownWorkers();
    if (!view.current) return;
    if (show(main, runPage(detail, entries, workers, tree))) {
      const cancel = main.querySelector('#cancel-run');
      if (cancel) cancel.addEventListener('click', () => cancelRun(detail.run));
    }
    if (terminalStatuses.includes(detail.run.status)) view.id = -1; // ended: stop refreshing
  });
}

async function cancelRun(run) {
  const values = await ask('Cancel run ' + run.id + '?',
    html`<p>It stops for good: nothing is retried or dead-lettered.</p><label>reason <input name="reason" size="40"></label>`, 'Cancel the run');
  if (!values) return;
  try {
    await api('/runs/' + run.id + '/cancel', { method: 'POST', body: { reason: values.reason } });
    flash('Run ' + run.id + ' cancelled.');
    location.hash = '#/runs/' + run.id + '?t=' + Date.now();
  } catch (error) { notify(error.message); }
}

function completionOf(events) {
  for (let i = events.length - 1; i >= 0; i--) if (events[i].record) return events[i].record;
  return null;
}

/**
 * workerOf is the worker that holds the run, or else the one that last
 * claimed it (the latest claim or reclaim event), or else the one that ran
 * its latest failed attempt: the worker that works or worked it.
 */
function workerOf(run, attempts, events) {
  if (run.lease_holder) return run.lease_holder;
  for (let i = events.length - 1; i >= 0; i--) {
    if ((events[i].type === 'run.claimed' || events[i].type === 'lease.reclaimed') && events[i].actor) return events[i].actor;
  }
  return attempts.length ? attempts[attempts.length - 1].worker : '';
}

function runPage(detail, entries, workers, tree) {
  const { run, manifest, steps, attempts, events } = detail;
  const waits = detail.waits || [];
  const signals = detail.signals || [];
  const open = run.status === 'waiting' ? waits.filter((w) => w.state === 'waiting') : [];
  const worker = workerOf(run, attempts, events);
  const record = completionOf(events);
  const cancellable = ['pending', 'running', 'retrying', 'waiting'].includes(run.status) && canOperate();
  return html`
    <p class="crumbs"><a href="#/runs">Runs</a> › <a href="#/runs?workflow=${encodeURIComponent(run.workflow)}">${run.workflow}</a></p>
    <h1>Run <span class="mono">${run.id}</span> ${badge(run.status)}
      ${cancellable ? html`<button type="button" id="cancel-run" class="danger" data-action="cancel">Cancel run</button>` : ''}</h1>
    <dl class="facts" id="run-facts">
      <dt>workflow</dt><dd>${run.workflow} v${run.workflow_version}</dd>
      <dt>attempt</dt><dd>${run.attempt} (${run.retries} retries)</dd>
      <dt>tokens</dt><dd>${fmtCount(tokensOf(run.spend))} <span class="muted">(${fmtCount(run.spend.usage.input_tokens)} in, ${fmtCount(run.spend.usage.output_tokens)} out, ${run.spend.model_calls} model calls)</span></dd>
      <dt>cost</dt><dd>${fmtCost(run.spend.cost)}</dd>
      <dt>created</dt><dd>${fmtTime(run.created_at)}</dd>
      <dt>finished</dt><dd>${fmtTime(run.finished_at)} ${run.finished_at ? html`<span class="muted">after ${fmtMillis(between(run.created_at, run.finished_at))}</span>` : ''}</dd>
      ${Object.keys(run.entities || {}).length ? html`<dt>entities</dt><dd>${entitiesText(run.entities)}</dd>` : ''}
      ${run.idempotency_key ? html`<dt>idempotency key</dt><dd class="mono">${run.idempotency_key}</dd>` : ''}
      ${run.replay_of ? html`<dt>replay of</dt><dd><a class="mono" href="#/runs/${run.replay_of}">${run.replay_of}</a></dd>` : ''}
      ${worker ? html`<dt>worker</dt><dd id="run-worker">${workerLabel(worker, workers)}</dd>` : ''}
      ${run.lease_holder ? html`<dt>lease</dt><dd>${run.lease_holder} until ${fmtTime(run.lease_expires_at)}</dd>` : ''}
      ${entries.length ? html`<dt>dead letters</dt><dd id="run-dead-letters">${entries.map((e) => html`<a class="mono" href="#/dlq/${e.id}">${e.id}</a> ${badge(e.state)} `)}</dd>` : ''}
      ${open.map((w) => html`<dt>waits on</dt><dd id="run-waits-on">${w.kind} <strong>${w.name}</strong> (step ${w.seq})${w.request && w.request.title ? ': ' + w.request.title : ''};
        ${w.kind === 'sleep' ? 'due' : 'times out'} ${fmtTime(w.deadline)} <span class="muted">${fmtAgo(w.deadline)}</span>
        ${w.kind === 'approval' ? html` — <a href="#/approvals">approvals inbox</a>` : ''}</dd>`)}
      ${run.failure ? html`<dt>failure</dt><dd class="error">${badge(run.failure.class)} ${run.failure.step ? html`in step ${run.failure.step_seq} ${run.failure.step}: ` : ''}${run.failure.reason}</dd>` : ''}
    </dl>
    ${manifestView(manifest)}
    ${tree ? familyView(tree) : ''}
    <section aria-labelledby="timeline-title"><h2 id="timeline-title">Step timeline</h2>${timeline(run, steps, attempts, record)}</section>
    <div class="columns">
      <section><h2>Input</h2><pre class="json" id="run-input">${pretty(run.input)}</pre></section>
      <section><h2>Output</h2>${run.output !== undefined ? html`<pre class="json" id="run-output">${pretty(run.output)}</pre>` : html`<p class="muted">No output${terminalStatuses.includes(run.status) ? '' : ' yet'}.</p>`}</section>
    </div>
    ${waits.length ? html`<section><h2>Waits (${waits.length})</h2><table class="grid" id="waits-table">
      <thead><tr><th class="num">#</th><th>name</th><th>kind</th><th>state</th><th>began</th><th>deadline</th><th>ended by</th></tr></thead>
      <tbody>${waits.map((w) => html`<tr data-wait="${w.name}"><td class="num">${w.seq}</td><td>${w.name}</td><td>${w.kind}</td><td>${badge(w.state)}</td>
        <td>${fmtTime(w.started_at)}</td><td>${fmtTime(w.deadline)}</td><td>${w.ended_by || '–'}</td></tr>`)}</tbody></table></section>` : ''}
    ${signals.length ? html`<section><h2>Signals (${signals.length})</h2><table class="grid" id="signals-table">
      <thead><tr><th>sent</th><th>name</th><th>from</th><th>taken by step</th><th>payload</th></tr></thead>
      <tbody>${signals.map((s) => html`<tr><td>${fmtTime(s.sent_at)}</td><td>${s.name}</td><td>${s.actor}</td><td>${s.consumed_seq || 'kept'}</td>
        <td><pre class="json small">${pretty(s.payload)}</pre></td></tr>`)}</tbody></table></section>` : ''}
    ${attempts.length ? html`<section><h2>Failed attempts (${attempts.length})</h2><table class="grid" id="attempts-table">
      <thead><tr><th class="num">attempt</th><th>time</th><th>worker</th><th>step</th><th>class</th><th>classified by</th><th>message</th></tr></thead>
      <tbody>${attempts.map((a) => html`<tr><td class="num">${a.attempt}</td><td>${fmtTime(a.at)}</td><td class="small">${workerLabel(a.worker, workers)}</td>
        <td>${a.step ? a.step_seq + ' ' + a.step : '–'}</td><td>${badge(a.class)}</td><td class="small">${a.classified_by}</td><td class="msg">${a.message}</td></tr>`)}</tbody></table></section>` : ''}
    <section><h2>Event log (${events.length})</h2><table class="grid" id="events-table">
      <thead><tr><th>time</th><th>event</th><th>actor</th><th>step</th><th>message</th></tr></thead>
      <tbody>${events.map((e) => html`<tr><td>${fmtTime(e.at)}</td><td><span class="event">${e.type}</span></td><td>${e.actor}</td>
        <td>${e.step || e.step_seq ? e.step_seq + ' ' + (e.step || '') : '–'}</td><td class="msg">${e.message || ''}</td></tr>`)}</tbody></table></section>`;
}

/** familyView shows the run's parent and its descendants: each opened run's children counted by status, a capped list of them, nested. */
function familyView(tree) {
  const p = tree.parent;
  return html`<section aria-labelledby="family-title" id="run-family"><h2 id="family-title">Family</h2>
    ${p ? html`<p id="run-parent">Child of <a class="mono" href="#/runs/${p.parent_id}">${p.parent_id}</a> ${p.workflow} ${badge(p.status)}
      <span class="muted">started by its step ${p.parent_seq}</span></p>` : ''}
    ${tree.children.count ? html`<div id="run-children">${familyBranch(tree.children)}</div>` : ''}</section>`;
}

function familyBranch(branch) {
  const counts = runStatuses.filter((status) => branch.statuses[status])
    .map((status) => html`<span class="family-count" data-status="${status}">${badge(status)} ${fmtCount(branch.statuses[status])}</span> `);
  return html`<p class="family-counts small">${fmtCount(branch.count)} ${branch.count === 1 ? 'child' : 'children'}: ${counts}</p>
    <ul class="family">${branch.runs.map((node) => familyNode(node))}</ul>
    ${branch.more ? html`<p class="family-more muted small">and ${fmtCount(branch.more)} more</p>` : ''}`;
}

function familyNode(node) {
  const run = node.run;
  let below = '';
  if (node.children) below = familyBranch(node.children);
  else if (run.child_count) below = html` <span class="muted small family-closed">${fmtCount(run.child_count)} ${run.child_count === 1 ? 'child' : 'children'} on its page</span>`;
  return html`<li data-run="${run.child_id}" data-status="${run.status}"><a class="mono" href="#/runs/${run.child_id}">${run.child_id}</a>
    ${run.workflow} ${badge(run.status)} <span class="muted small">step ${run.parent_seq}</span>${below}</li>`;
}

function manifestView(manifest) {
  if (!manifest) return html`<section><h2>Manifest</h2><p class="muted">The workflow declares no expected steps.</p></section>`;
  const missing = new Set(manifest.missing);
  const extra = manifest.executed.filter((name) => !manifest.expected.includes(name));
  return html`<section aria-labelledby="manifest-title"><h2 id="manifest-title">Manifest: ${manifest.expected.length - missing.size} of ${manifest.expected.length} expected steps executed</h2>
    <ol class="manifest" id="manifest">${manifest.expected.map((name) => missing.has(name)
      ? html`<li class="missing" data-step="${name}"><span aria-hidden="true">✗</span> ${name} <span class="muted">missing</span></li>`
      : html`<li class="executed" data-step="${name}"><span aria-hidden="true">✓</span> ${name}</li>`)}</ol>
    ${extra.length ? html`<p class="muted small">Also executed, not expected: ${extra.join(', ')}</p>` : ''}</section>`;
}

/** timeline joins the step log, the failed attempts and the completion record into one row per step. */
function timeline(run, steps, attempts, record) {
  const rows = new Map();
  const row = (seq, name) => {
    if (!rows.has(seq)) rows.set(seq, { seq, name, step: null, failures: [], attempts: null });
    return rows.get(seq);
  };
  steps.forEach((s) => { row(s.seq, s.name).step = s; });
  attempts.forEach((a) => { if (a.step) row(a.step_seq, a.step).failures.push(a); });
  if (record && record.steps) record.steps.forEach((s) => { row(s.seq, s.step).attempts = s.attempts; });
  if (!rows.size) return html`<p class="muted">No step has run yet.</p>`;
  const start = new Date(run.started_at && !run.started_at.startsWith('0001-') ? run.started_at : run.created_at).getTime();
  const ends = steps.map((s) => new Date(s.finished_at).getTime()).concat(attempts.map((a) => new Date(a.at).getTime()));
  if (run.finished_at) ends.push(new Date(run.finished_at).getTime());
  const span = Math.max(1, Math.max(start + 1, ...ends) - start);
  return html`<table class="grid timeline" id="step-timeline">
    <thead><tr><th class="num">#</th><th>step</th><th>status</th><th class="num">attempts</th><th class="num">duration</th><th class="num">tokens</th>
      <th class="num">cost</th><th>tool calls</th><th>execution</th><th>compensation</th><th class="bar-cell">when</th></tr></thead>
    <tbody>${[...rows.values()].sort((a, b) => a.seq - b.seq).map((r) => timelineRow(run, r, start, span))}</tbody></table>`;
}

function timelineRow(run, r, start, span) {
  const s = r.step;
  const attemptsCount = r.attempts ?? (r.failures.length + (s && !s.resolved_by ? 1 : 0));
  const duration = s ? between(s.started_at, s.finished_at) : null;
  let execution = html`<span class="error">failed, not in the step log</span>`;
  if (s && s.resolved_by) execution = html`output supplied by <strong>${s.resolved_by}</strong>`;
  else if (s) {
    const later = run.attempt - s.attempt;
    execution = html`executed in attempt ${s.attempt}${later > 0 ? html`; <span class="memo">memoized in ${later} later attempt${later > 1 ? 's' : ''}</span>` : ''}`;
    // rate_limit_wait is a Go duration, in nanoseconds.
    if (s.rate_limit_wait > 0) execution = html`${execution}; <span class="rate-limit-wait">waited ${fmtMillis(s.rate_limit_wait / 1e6)} for its rate limit</span>`;
  }
  let compensation = '–';
  if (s && s.status === 'compensated') compensation = html`${badge('compensated')} ${fmtTime(s.compensated_at)}`;
  if (s && s.status === 'compensation_failed') compensation = html`${badge('compensation_failed')} <span class="error">${s.compensation_error}</span>`;
  let bar = '';
  if (s) {
    const x = ((new Date(s.started_at).getTime() - start) / span) * 100;
    const w = Math.max(0.8, ((duration || 0) / span) * 100);
    bar = raw(`<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true"><rect class="step-${s.status}" x="${Math.max(0, Math.min(99, x)).toFixed(2)}" y="1" width="${Math.min(100, w).toFixed(2)}" height="8"/></svg>`);
  }
  const failures = r.failures.map((a) => html`<div class="failure small">attempt ${a.attempt}: ${badge(a.class)} ${a.message}</div>`);
  return html`<tr data-step="${r.name}" data-seq="${r.seq}">
    <td class="num">${r.seq}</td><td><strong>${r.name}</strong>${failures}</td><td>${s ? badge(s.status) : badge('failed')}</td>
    <td class="num">${attemptsCount}</td><td class="num">${fmtMillis(duration)}</td>
    <td class="num">${s ? fmtCount(tokensOf(s.spend)) : '–'}</td><td class="num">${s ? fmtCost(s.spend.cost) : '–'}</td>
    <td class="small">${toolCalls(r.name, s)}</td><td class="small">${execution}</td><td class="small">${compensation}</td><td class="bar-cell">${bar}</td></tr>`;
}

/** toolCalls says what tools a step called: a tool:NAME step is one call; a model step lists the calls it asked for. */
function toolCalls(name, step) {
  if (name.startsWith('tool:')) return html`<span class="tool">${name.slice(5)}</span>`;
  const output = step && step.output;
  const calls = output && typeof output === 'object' && Array.isArray(output.tool_calls) ? output.tool_calls : [];
  if (!calls.length) return '–';
  return html`asked for ${calls.map((c) => html`<span class="tool">${c.name || (c.function && c.function.name) || '?'}</span> `)}`;
}
