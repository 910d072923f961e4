// workers.js: the workers registry from GET /api/v1/workers: each worker's
// language, SDK version, runtime and workflows, and when it was last heard
// from; and the label a run's page gives the worker that holds or ran it.
import { api, APIError, fmtAgo, fmtTime, html, show } from './core.js';

/** A worker not heard from for this long has stopped or lost its server. */
const quietAfterMillis = 60 * 1000;

let cached = null;

/**
 * knownWorkers is the registry by worker ID, read at most every 10 seconds.
 * A server without the registry (404) or a failed read gives an empty map:
 * a run's page then shows worker IDs alone.
 */
export async function knownWorkers() {
  if (cached && Date.now() - cached.at < 10000) return cached.byID;
  let workers = [];
  try {
    workers = (await api('/workers?limit=1000')).workers;
  } catch (error) {
    if (error instanceof APIError && error.status === 401) throw error;
  }
  cached = { at: Date.now(), byID: new Map(workers.map((w) => [w.id, w])) };
  return cached.byID;
}

/** workerLabel is a worker's ID with its language and SDK version when the registry knows them. */
export function workerLabel(id, byID) {
  if (!id) return '–';
  const w = byID && byID.get(id);
  if (!w || !w.language) return html`<span class="mono">${id}</span>`;
  return html`<span class="mono">${id}</span> <span class="lang" title="${w.runtime || ''}">${w.language}${w.sdk_version ? ' ' + w.sdk_version : ''}</span>`;
}

/** renderWorkers lists the registry, most recently seen first, refreshed every 5 seconds. */
export async function renderWorkers(main, query, view) {
  main.innerHTML = String(html`
    <h1>Workers</h1>
    <p class="muted small">Every worker that registered workflows, Go and other languages alike. A worker's ID is the lease holder of the runs it works.</p>
    <div id="workers-list"><p class="muted">Loading…</p></div>`);
  const list = main.querySelector('#workers-list');
  await view.every(5000, async () => {
    let answer;
    try {
      answer = await api('/workers?limit=200');
    } catch (error) {
      if (error instanceof APIError && error.status === 404) {
        show(list, html`<p class="muted not-available">The workers registry is not available: this server has no GET /api/v1/workers.</p>`);
        return;
      }
      throw error;
    }
    if (!view.current) return;
    show(list, workersTable(answer.workers));
  });
}

function workersTable(workers) {
  if (!workers.length) return html`<p class="muted">No worker has registered.</p>`;
  return html`<table class="grid" id="workers-table">
    <thead><tr><th>worker</th><th>language</th><th>SDK version</th><th>runtime</th><th>workflows</th><th>registered</th><th>last seen</th></tr></thead>
    <tbody>${workers.map((w) => {
      const quiet = Date.now() - new Date(w.last_seen_at).getTime() > quietAfterMillis;
      return html`<tr data-worker="${w.id}" class="${quiet ? 'quiet' : ''}">
      <td class="mono">${w.id}</td><td>${w.language || '–'}</td><td>${w.sdk_version || '–'}</td><td class="small">${w.runtime || '–'}</td>
      <td class="small">${w.workflows.length ? w.workflows.map((name) => html`<a href="#/runs?workflow=${encodeURIComponent(name)}">${name}</a> `) : '–'}</td>
      <td>${fmtTime(w.registered_at)}</td><td>${fmtTime(w.last_seen_at)} <span class="muted">${fmtAgo(w.last_seen_at)}</span></td></tr>`;
    })}</tbody></table>`;
}
