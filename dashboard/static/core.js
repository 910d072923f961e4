// core.js: what every page shares: API calls with the session's token, the
// signed-in caller, HTML escaping, formatting, the confirmation dialog and
// polling that stops when the page changes.

const TOKEN_KEY = 'klaxon-token';

/** The caller as GET /api/v1/whoami describes it: {name, scope, tokens_required}. */
export const session = { who: null };

/** An API answer other than 2xx, with the problem's detail. */
export class APIError extends Error {
  constructor(status, detail, problem) {
    super(detail);
    this.status = status;
    this.problem = problem;
  }
}

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(secret) {
  if (secret) sessionStorage.setItem(TOKEN_KEY, secret); else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * api calls the JSON API under /api/v1. body is sent as JSON; rawBody is sent
 * as it is (for JSON typed by a person, so that numbers keep their digits).
 * A problem answer becomes an APIError naming what the server said.
 */
export async function api(path, { method = 'GET', body, rawBody, secret } = {}) {
  const headers = { Accept: 'application/json' };
  const bearer = secret ?? token();
  if (bearer) headers.Authorization = 'Bearer ' + bearer;
  let payload;
  if (rawBody !== undefined) payload = rawBody;
  else if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch('/api/v1' + path, { method, headers, body: payload });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    let detail = (data && (data.detail || data.title)) || response.statusText || 'HTTP ' + response.status;
    if (data && Array.isArray(data.errors) && data.errors.length) {
      detail += ': ' + data.errors.map((e) => (e.location ? e.location + ': ' : '') + e.message).join('; ');
    }
    throw new APIError(response.status, detail, data);
  }
  return data;
}

/** canOperate reports whether the session's token may act (operate or admin). */
export function canOperate() {
  return !!session.who && (session.who.scope === 'operate' || session.who.scope === 'admin');
}

/** canAdmin reports whether the session's token may administer (reset breakers, purge). */
export function canAdmin() {
  return !!session.who && session.who.scope === 'admin';
}

// ---- HTML with escaping -------------------------------------------------

class Raw {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

/** raw marks markup as safe to insert unescaped. */
export const raw = (text) => new Raw(String(text));

/** esc escapes text for HTML content and attribute values. */
export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function part(value) {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return value.map(part).join('');
  if (value === null || value === undefined || value === false) return '';
  return esc(value);
}

/** html is a template tag that escapes every interpolated value not made with raw or html. */
export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((value, i) => { out += part(value) + strings[i + 1]; });
  return new Raw(out);
}

const rendered = new WeakMap();

/**
 * show puts markup into an element when it differs from what the element
 * last got, so that a refresh that changes nothing keeps the focus, the
 * selection and the scroll where the person left them. It reports whether it
 * changed the element.
 */
export function show(element, markup) {
  const text = String(markup);
  if (rendered.get(element) === text) return false;
  rendered.set(element, text);
  element.innerHTML = text;
  return true;
}

/** forget makes the next show into element render, whatever it last showed. */
export function forget(element) { rendered.delete(element); }

// ---- formatting -----------------------------------------------------------

const pad = (n) => String(n).padStart(2, '0');

/** fmtTime prints an RFC 3339 time in local time, to the second. */
export function fmtTime(value) {
  if (!value || value.startsWith('0001-')) return '–';
  const d = new Date(value);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** fmtAgo says how long ago a time was: 5s ago, 3m ago, 2h ago, 4d ago. */
export function fmtAgo(value) {
  if (!value) return '';
  const seconds = Math.max(0, (Date.now() - new Date(value).getTime()) / 1000);
  if (seconds < 60) return Math.round(seconds) + 's ago';
  if (seconds < 3600) return Math.round(seconds / 60) + 'm ago';
  if (seconds < 86400) return Math.round(seconds / 3600) + 'h ago';
  return Math.round(seconds / 86400) + 'd ago';
}

/** fmtMillis prints a duration in milliseconds as 850ms, 3.2s, 4m5s. */
export function fmtMillis(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  if (ms < 1000) return Math.round(ms) + 'ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + 's';
  const minutes = Math.floor(ms / 60000);
  if (minutes < 60) return minutes + 'm' + Math.round((ms % 60000) / 1000) + 's';
  return Math.floor(minutes / 60) + 'h' + (minutes % 60) + 'm';
}

/** between is the milliseconds from one RFC 3339 time to another; null when either is missing. */
export function between(from, to) {
  if (!from || !to || from.startsWith('0001-') || to.startsWith('0001-')) return null;
  return new Date(to).getTime() - new Date(from).getTime();
}

/** fmtCount groups digits: 12,345. */
export function fmtCount(n) { return Number(n || 0).toLocaleString('en-US'); }

/** fmtCost prints dollars; an unknown cost says so and is never $0. */
export function fmtCost(cost) {
  if (cost === 'unknown') return 'unknown';
  const usd = Number(cost || 0);
  if (usd > 0 && usd < 0.0001) return '$' + usd.toFixed(6);
  return '$' + usd.toFixed(4);
}

/** tokensOf sums a spend's input and output tokens. */
export function tokensOf(spend) {
  const usage = (spend && spend.usage) || {};
  return (usage.input_tokens || 0) + (usage.output_tokens || 0);
}

/** badge is a status, state or class as a coloured label. */
export function badge(text) { return html`<span class="badge b-${text}">${text}</span>`; }

/** pretty indents JSON for a <pre>. */
export function pretty(value) {
  if (value === undefined || value === null) return 'null';
  try { return JSON.stringify(value, null, 2); } catch { return String(value); }
}

/** entitiesText prints entity labels as key=value pairs. */
export function entitiesText(entities) {
  return Object.entries(entities || {}).map(([k, v]) => k + '=' + v).join(' ');
}

export const runStatuses = ['pending', 'running', 'retrying', 'waiting', 'completed', 'compensating', 'dead', 'cancelled'];
export const terminalStatuses = ['completed', 'dead', 'cancelled'];
export const failureClasses = ['transient', 'rate_limited', 'timeout', 'permanent', 'policy_violation', 'context_overflow',
  'semantic', 'budget_exceeded', 'partial_completion', 'nondeterminism', 'compensation_failed', 'cancelled'];
export const entryStates = ['open', 'replayed', 'resolved', 'discarded'];

/** options renders <option>s, selecting the one equal to selected; the first is "any" when given. */
export function options(values, selected, any) {
  const list = any ? [['', any], ...values.map((v) => [v, v])] : values.map((v) => [v, v]);
  return list.map(([value, label]) => html`<option value="${value}" ${value === (selected || '') ? raw('selected') : ''}>${label}</option>`);
}

// ---- notices and the dialog -----------------------------------------------

let keepNotice = false;

/** flash shows a message that stays through the next change of page, for an action that reloads it. */
export function flash(message, kind = 'ok') {
  notify(message, kind);
  keepNotice = true;
}

/** clearNotice hides the message when the page changes, unless it was flashed for this change. */
export function clearNotice() {
  if (keepNotice) keepNotice = false; else notify('');
}

/** notify shows a message above the page: kind is "error" or "ok". */
export function notify(message, kind = 'error') {
  const notice = document.getElementById('notice');
  notice.textContent = message;
  notice.className = 'notice notice-' + kind;
  notice.hidden = !message;
}

/**
 * ask shows a modal dialog and resolves to the form's values when the person
 * presses OK (Enter), or to null on Cancel or Escape.
 */
export function ask(title, body, okLabel = 'OK') {
  const dialog = document.getElementById('dialog');
  document.getElementById('dialog-title').textContent = title;
  document.getElementById('dialog-body').innerHTML = String(body);
  const ok = document.getElementById('dialog-ok');
  ok.textContent = okLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      if (dialog.returnValue !== 'ok') { resolve(null); return; }
      resolve(Object.fromEntries(new FormData(document.getElementById('dialog-form'))));
    }, { once: true });
    dialog.showModal();
    const first = dialog.querySelector('#dialog-body input, #dialog-body textarea, #dialog-body select');
    (first || ok).focus();
  });
}

// ---- views and polling ------------------------------------------------------

let currentView = 0;

/** View is one rendering of a page; its polls stop when another page is shown. */
export class View {
  constructor() { this.id = ++currentView; }
  get current() { return this.id === currentView; }

  /** every runs fn now and then every ms milliseconds while the view is shown and the tab visible. */
  every(ms, fn) {
    const tick = async () => {
      if (!this.current) return;
      if (!document.hidden) {
        try { await fn(); } catch (error) { if (this.current) notify(error.message); }
      }
      if (this.current) setTimeout(tick, ms);
    };
    return tick();
  }
}

/** query turns the hash's query into an object, and back. */
export function queryString(values) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (Array.isArray(value)) value.forEach((v) => v && params.append(key, v));
    else if (value) params.set(key, value);
  }
  const text = params.toString();
  return text ? '?' + text : '';
}

/** localInput turns an RFC 3339 time into a datetime-local input's value. */
export function localInput(value) {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** fromLocalInput turns a datetime-local input's value into RFC 3339. */
export function fromLocalInput(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** entityPairs reads "k=v k2=v2" typed in a filter into a list of k=v. */
export function entityPairs(text) {
  return (text || '').split(/[\s,]+/).filter(Boolean);
}
