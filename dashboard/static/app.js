// app.js: the dashboard's entry point: sign-in, the router from the URL's
// hash to a page, and keyboard shortcuts.
import { api, APIError, clearNotice, forget, html, session, setToken, token, View } from './core.js';
import { renderOverview } from './overview.js';
import { renderRuns, renderRun } from './runs.js';
import { renderDeadLetters, renderEntry } from './dlq.js';
import { renderAlerts } from './alerts.js';
import { renderWorkers } from './workers.js';
import { renderApprovals } from './approvals.js';
import { renderAudit } from './audit.js';
import { renderSchedule, renderSchedules } from './schedules.js';

const main = document.getElementById('main');

/** route renders the page the hash names: #/, #/runs, #/runs/ID, #/dlq, #/dlq/ID, #/alerts, #/workers, #/approvals, #/audit, #/schedules, #/schedules/NAME. */
async function route() {
  if (!session.who) return;
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, search] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(search || '');
  const page = parts[0] || 'overview';
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('active', link.dataset.page === page);
    if (link.dataset.page === page) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  clearNotice();
  forget(main); // pages write into it afresh
  const view = new View();
  try {
    if (page === 'overview') await renderOverview(main, query, view);
    else if (page === 'runs' && parts[1]) await renderRun(main, parts[1], view);
    else if (page === 'runs') await renderRuns(main, query, view);
    else if (page === 'dlq' && parts[1]) await renderEntry(main, parts[1], view);
    else if (page === 'dlq') await renderDeadLetters(main, query, view);
    else if (page === 'alerts') await renderAlerts(main, query, view);
    else if (page === 'workers') await renderWorkers(main, query, view);
    else if (page === 'approvals') await renderApprovals(main, query, view);
    else if (page === 'audit') await renderAudit(main, query, view);
    else if (page === 'schedules' && parts[1]) await renderSchedule(main, parts[1], view);
    else if (page === 'schedules') await renderSchedules(main, query, view);
    else main.innerHTML = String(html`<h1>Not found</h1><p>No page ${location.hash}. <a href="#/">Overview</a></p>`);
  } catch (error) {
    if (error instanceof APIError && error.status === 401) { signOut(); return; }
    main.innerHTML = String(html`<h1>Could not load this page</h1><p class="error">${error.message}</p>`);
  }
}

/** start asks the API who we are; without a usable token it shows the sign-in form. */
async function start() {
  try {
    session.who = await api('/whoami');
  } catch (error) {
    if (error instanceof APIError && error.status === 401) { showLogin(token() ? 'That token is not accepted any more: sign in again.' : ''); return; }
    main.innerHTML = String(html`<h1>Klaxon does not answer</h1><p class="error">${error.message}</p>`);
    return;
  }
  signedIn();
}

function signedIn() {
  const who = session.who;
  document.getElementById('nav').hidden = false;
  document.body.dataset.scope = who.scope;
  // The audit log is for admin tokens: its link shows for them only.
  for (const link of document.querySelectorAll('#nav a[data-scope="admin"]')) link.hidden = who.scope !== 'admin';
  const whoElement = document.getElementById('who');
  whoElement.innerHTML = String(who.tokens_required
    ? html`signed in as <strong>${who.name}</strong> (${who.scope}) <button type="button" id="sign-out" class="link">Sign out</button>`
    : html`<span title="This server has no access tokens: it answers this machine only, with every scope">local, no tokens</span>`);
  const out = document.getElementById('sign-out');
  if (out) out.addEventListener('click', signOut);
  route();
}

function signOut() {
  setToken('');
  session.who = null;
  showLogin('');
}

function showLogin(message) {
  document.getElementById('nav').hidden = true;
  document.getElementById('who').textContent = '';
  main.innerHTML = String(html`
    <section class="login">
      <h1>Sign in</h1>
      <p>Paste an access token of this server (read sees, operate acts). It is kept in this tab only.</p>
      <form id="login-form">
        <label for="login-token">Access token</label>
        <input id="login-token" name="token" type="password" autocomplete="current-password" required minlength="1">
        <button type="submit" class="primary">Sign in</button>
        <p id="login-error" class="error" role="alert">${message}</p>
      </form>
    </section>`);
  const form = document.getElementById('login-form');
  document.getElementById('login-token').focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const secret = new FormData(form).get('token').trim();
    try {
      session.who = await api('/whoami', { secret });
    } catch (error) {
      document.getElementById('login-error').textContent =
        error instanceof APIError && error.status === 401 ? 'This token is not one the server knows.' : error.message;
      return;
    }
    setToken(secret);
    signedIn();
  });
}

// Keys: 1-8 open the pages (7, the audit log, for admins), / focuses the page's first filter field.
document.addEventListener('keydown', (event) => {
  const target = event.target;
  if (event.ctrlKey || event.metaKey || event.altKey || !session.who) return;
  if (target.closest && target.closest('input, textarea, select, dialog, [contenteditable]')) return;
  const pages = { 1: '#/', 2: '#/runs', 3: '#/dlq', 4: '#/alerts', 5: '#/workers', 6: '#/approvals', 7: '#/audit', 8: '#/schedules' };
  if (pages[event.key]) { location.hash = pages[event.key]; event.preventDefault(); }
  if (event.key === '/') {
    const field = main.querySelector('form.filters input, form.filters select');
    if (field) { field.focus(); event.preventDefault(); }
  }
});

window.addEventListener('hashchange', () => { route(); main.focus({ preventScroll: true }); });
start();
