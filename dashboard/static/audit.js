// audit.js: the audit log from GET /api/v1/audit (admin tokens only): every
// operator action and admin request, newest first, filtered by actor, action
// and time, a page at a time.
import { api, APIError, canAdmin, fromLocalInput, fmtAgo, fmtTime, html, localInput, options, queryString, raw, show } from './core.js';

/** The audited actions, as klaxontype.AuditActions lists them. */
export const auditActions = ['dlq.replay', 'dlq.resolve', 'dlq.discard', 'dlq.purge', 'run.cancel', 'breaker.reset',
  'outbox.give_up', 'retention.delete', 'approval.decide', 'signal.send', 'schedule.create', 'schedule.pause',
  'schedule.resume', 'schedule.delete', 'run.enqueue', 'admin.request', 'keys.rotate', 'redaction.drop'];

/** renderAudit lists the records matching the hash's filters; the first page follows new records. */
export async function renderAudit(main, query, view) {
  const filter = {
    actor: query.get('actor') || '', action: auditActions.includes(query.get('action')) ? query.get('action') : '',
    since: query.get('since') || '', cursor: query.get('cursor') || '',
  };
  if (!canAdmin()) {
    main.innerHTML = String(html`<h1>Audit log</h1><p class="muted not-available" id="audit-needs-admin">The audit log needs an admin token.</p>`);
    return;
  }
  main.innerHTML = String(html`
    <h1>Audit log</h1>
    <p class="muted small">Every replay, resolve, discard, purge, cancel, breaker reset, notification give-up, retention batch and
      enqueue through the API, recorded with the act itself; and every request to an admin endpoint, this page's included.</p>
    <form class="filters" id="audit-filter" aria-label="Filter the audit log">
      <label>actor <input name="actor" value="${filter.actor}" size="14" placeholder="token or user"></label>
      <label>action <select name="action">${options(auditActions, filter.action, 'any')}</select></label>
      <label>since <input name="since" type="datetime-local" value="${localInput(filter.since)}"></label>
      <button type="submit" class="primary">Filter</button>
      <a href="#/audit" class="button">Clear</a>
    </form>
    <div id="audit-list"><p class="muted">Loading…</p></div>`);
  main.querySelector('#audit-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    location.hash = '#/audit' + queryString({
      actor: form.get('actor').trim(), action: form.get('action'), since: fromLocalInput(form.get('since')),
    });
  });
  const list = main.querySelector('#audit-list');
  const path = '/audit' + queryString({ ...filter, limit: '50' });
  const load = async () => {
    let page;
    try {
      page = await api(path);
    } catch (error) {
      if (error instanceof APIError && error.status === 404) {
        show(list, html`<p class="muted not-available">The audit log is not available: this server has no GET /api/v1/audit.</p>`);
        return;
      }
      throw error;
    }
    if (!view.current) return;
    show(list, auditTable(page, filter));
  };
  // Every read of the log is itself an admin request, recorded: the first
  // page refreshes slowly, and an older page stays put.
  if (filter.cursor) await load(); else await view.every(15000, load);
}

function auditTable(page, filter) {
  if (!page.records.length) return html`<p class="muted">No record matches.</p>`;
  const older = page.next_cursor ? '#/audit' + queryString({ ...filter, cursor: page.next_cursor }) : '';
  return html`<table class="grid rows" id="audit-table">
    <thead><tr><th>time</th><th>actor</th><th>action</th><th>target</th><th>parameters</th><th>result</th></tr></thead>
    <tbody>${page.records.map((r) => html`<tr data-record="${r.id}" data-action="${r.action}">
      <td>${fmtTime(r.at)} <span class="muted">${fmtAgo(r.at)}</span></td>
      <td><a href="#/audit${raw(queryString({ actor: r.actor }))}">${r.actor}</a></td>
      <td><a href="#/audit${raw(queryString({ action: r.action }))}">${r.action}</a></td>
      <td class="mono small">${targetLink(r)}</td>
      <td class="mono small msg">${paramsText(r.params)}</td><td class="msg">${r.result}</td></tr>`)}</tbody></table>
  <p class="pager">${filter.cursor ? html`<a href="#/audit${raw(queryString({ ...filter, cursor: '' }))}">↑ Newest</a>` : ''}
    ${older ? html`<a href="${older}" id="audit-older">Older →</a>` : ''}</p>`;
}

/** targetLink links a record's target to its page when it is a run or an entry. */
function targetLink(r) {
  if (r.action === 'run.enqueue' || r.action === 'run.cancel') return html`<a href="#/runs/${encodeURIComponent(r.target)}">${r.target}</a>`;
  if (['dlq.replay', 'dlq.resolve', 'dlq.discard'].includes(r.action)) return html`<a href="#/dlq/${encodeURIComponent(r.target)}">${r.target}</a>`;
  return r.target;
}

/** paramsText prints a record's parameters compactly, long lists cut short. */
function paramsText(params) {
  if (!params || !Object.keys(params).length) return '–';
  const text = JSON.stringify(params);
  return text.length > 300 ? text.slice(0, 300) + '…' : text;
}
