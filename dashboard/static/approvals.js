// approvals.js: the approvals inbox from GET /api/v1/approvals: requests of
// runs waiting in AwaitApproval for a person's decision, oldest first, with
// their runs' context; approve and reject buttons, which ask for a comment,
// for operate and admin tokens only.
import { api, ask, canOperate, entitiesText, flash, fmtAgo, fmtTime, html, notify, pretty, show } from './core.js';

/** renderApprovals lists the pending requests, refreshed every 5 seconds. */
export async function renderApprovals(main, query, view) {
  main.innerHTML = String(html`
    <h1>Approvals</h1>
    <p class="muted small">Runs waiting for a person's decision (AwaitApproval), oldest first. A request not decided by its deadline dead-letters its run (class timeout); an alert fires at 80% of its timeout.${canOperate() ? '' : ' Deciding needs an operate or admin token.'}</p>
    <div id="approvals-list"><p class="muted">Loading…</p></div>`);
  const list = main.querySelector('#approvals-list');
  list.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-decision]');
    if (!button) return;
    if (await decide(button.dataset.run, button.dataset.name, button.dataset.decision, button.dataset.title)) {
      location.hash = '#/approvals?t=' + Date.now();
    }
  });
  await view.every(5000, async () => {
    const answer = await api('/approvals?limit=200');
    if (!view.current) return;
    show(list, approvalsTable(answer.approvals));
  });
}

function approvalsTable(approvals) {
  if (!approvals.length) return html`<p class="muted" id="no-approvals">No run waits for a decision.</p>`;
  const operate = canOperate();
  const now = Date.now();
  return html`<table class="grid" id="approvals-table">
    <thead><tr><th>requested</th><th>request</th><th>run</th><th>context</th><th>deadline</th>${operate ? html`<th>decide</th>` : ''}</tr></thead>
    <tbody>${approvals.map((a) => {
      const request = a.request || {};
      const overdue = new Date(a.deadline).getTime() <= now;
      const late = (now - new Date(a.started_at).getTime()) >= 0.8 * (new Date(a.deadline).getTime() - new Date(a.started_at).getTime());
      return html`<tr data-run="${a.run_id}" data-name="${a.name}" class="${late ? 'late' : ''}">
        <td>${fmtTime(a.started_at)} <span class="muted">${fmtAgo(a.started_at)}</span></td>
        <td><strong>${request.title || a.name}</strong> <span class="muted small">(${a.name})</span>
          ${request.body ? html`<div class="small">${request.body}</div>` : ''}
          ${request.data !== undefined ? html`<pre class="json small">${pretty(request.data)}</pre>` : ''}
          ${(request.approvers || []).length ? html`<div class="small muted">approvers: ${request.approvers.join(', ')}</div>` : ''}</td>
        <td><a class="mono" href="#/runs/${a.run_id}">${a.run_id}</a><div class="small">${a.workflow}</div></td>
        <td class="small">${Object.keys(a.entities || {}).length ? entitiesText(a.entities) : '–'}</td>
        <td class="${overdue ? 'error' : ''}">${fmtTime(a.deadline)}${overdue ? ' (overdue)' : ''}</td>
        ${operate ? html`<td class="actions">
          <button type="button" class="primary" data-decision="approve" data-run="${a.run_id}" data-name="${a.name}" data-title="${request.title || a.name}">Approve…</button>
          <button type="button" class="danger" data-decision="reject" data-run="${a.run_id}" data-name="${a.name}" data-title="${request.title || a.name}">Reject…</button></td>` : ''}
      </tr>`;
    })}</tbody></table>`;
}

/** decide asks for a comment and records the decision under the session's token; true once recorded. */
async function decide(runID, name, decision, title) {
  const verb = decision === 'approve' ? 'Approve' : 'Reject';
  const values = await ask(`${verb} “${title}”?`, html`<p>Run <span class="mono">${runID}</span> goes on at once with your decision, recorded with your token's name.</p>
    <label class="block">comment <textarea name="comment" rows="3" required placeholder="why"></textarea></label>`, verb);
  if (!values) return false;
  try {
    await api('/runs/' + encodeURIComponent(runID) + '/approvals/' + encodeURIComponent(name), {
      method: 'POST', body: { decision, comment: values.comment.trim() },
    });
  } catch (error) { notify(error.message); return false; }
  flash(`${verb}d “${title}”: the run goes on.`);
  return true;
}
