/**
 * A client of the server's public API: enqueue runs, read them, wait for
 * them, list dead letters, send signals and decide approvals (mirrors
 * sdk/python/klaxon/client.py).
 */

import { API_PREFIX, type JSONValue, Transport } from "./protocol.js";
import {
  type ApprovalDecision,
  type Signal,
  type SignalResult,
  type Wait,
  approvalDecisionFromWire,
  signalFromWire,
  signalResultFromWire,
  waitFromWire,
} from "./waits.js";

/** Run statuses that do not change by themselves. */
export const TERMINAL_STATUSES: readonly string[] = ["completed", "dead", "cancelled"];

type Wire = Record<string, unknown>;
const m = (value: unknown): Wire =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Wire) : {};
const l = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const s = (value: unknown): string => (typeof value === "string" ? value : "");
const n = (value: unknown): number => (typeof value === "number" ? value : 0);

export interface RunFailure {
  class: string;
  reason: string;
  step: string;
  stepSeq: number;
}

export interface Run {
  id: string;
  workflow: string;
  status: string;
  input: JSONValue;
  output: JSONValue;
  attempt: number;
  failure: RunFailure | undefined;
  entities: Record<string, string>;
  spend: Wire;
  /** Orders claims, -100..100: higher goes first, aged by 10 s a step. */
  priority: number;
  /** The run as the server sent it. */
  raw: Wire;
}

export interface StepRecord {
  seq: number;
  name: string;
  status: string;
  attempt: number;
  output: JSONValue;
  idempotencyKey: string;
  raw: Wire;
}

export interface Attempt {
  attempt: number;
  class: string;
  message: string;
  step: string;
  classifiedBy: string;
  raw: Wire;
}

export interface Event {
  type: string;
  at: string;
  step: string;
  message: string;
  raw: Wire;
}

export interface RunDetail {
  run: Run;
  steps: StepRecord[];
  attempts: Attempt[];
  events: Event[];
  /** The run's durable waits: what it waits (or waited) for, until when, how each ended. */
  waits: Wait[];
  /** The signals sent to the run, kept or consumed. */
  signals: Signal[];
  /** The run's parent, when it is a child run. */
  parent: ChildLink | undefined;
  /** The child runs its steps started, in order. */
  children: ChildLink[];
}

/** A child run and the parent's step that started it (`parentSeq`), with the child's status now. */
export interface ChildLink {
  parentId: string;
  parentSeq: number;
  childId: string;
  workflow: string;
  status: string;
}

function childLinkFromWire(w: Wire): ChildLink {
  return {
    parentId: s(w["parent_id"]),
    parentSeq: n(w["parent_seq"]),
    childId: s(w["child_id"]),
    workflow: s(w["workflow"]),
    status: s(w["status"]),
  };
}

export interface DeadLetter {
  id: string;
  runId: string;
  workflow: string;
  class: string;
  reason: string;
  channel: string;
  state: string;
  raw: Wire;
}

function runFromWire(w: Wire): Run {
  const failure = w["failure"];
  const f = m(failure);
  const entities: Record<string, string> = {};
  for (const [k, v] of Object.entries(m(w["entities"]))) entities[k] = String(v);
  return {
    id: s(w["id"]),
    workflow: s(w["workflow"]),
    status: s(w["status"]),
    input: (w["input"] ?? null) as JSONValue,
    output: (w["output"] ?? null) as JSONValue,
    attempt: n(w["attempt"]),
    priority: n(w["priority"]),
    failure:
      failure !== null && typeof failure === "object"
        ? { class: s(f["class"]), reason: s(f["reason"]), step: s(f["step"]), stepSeq: n(f["step_seq"]) }
        : undefined,
    entities,
    spend: m(w["spend"]),
    raw: w,
  };
}

function detailFromWire(w: Wire): RunDetail {
  const family = m(w["family"]);
  return {
    run: runFromWire(m(w["run"])),
    steps: l(w["steps"]).map((x) => {
      const r = m(x);
      return {
        seq: n(r["seq"]),
        name: s(r["name"]),
        status: s(r["status"]),
        attempt: n(r["attempt"]),
        output: (r["output"] ?? null) as JSONValue,
        idempotencyKey: s(r["idempotency_key"]),
        raw: r,
      };
    }),
    attempts: l(w["attempts"]).map((x) => {
      const r = m(x);
      return {
        attempt: n(r["attempt"]),
        class: s(r["class"]),
        message: s(r["message"]),
        step: s(r["step"]),
        classifiedBy: s(r["classified_by"]),
        raw: r,
      };
    }),
    events: l(w["events"]).map((x) => {
      const r = m(x);
      return { type: s(r["type"]), at: s(r["at"]), step: s(r["step"]), message: s(r["message"]), raw: r };
    }),
    waits: l(w["waits"]).map(waitFromWire),
    signals: l(w["signals"]).map(signalFromWire),
    parent: family["parent"] ? childLinkFromWire(m(family["parent"])) : undefined,
    children: l(family["children"]).map((x) => childLinkFromWire(m(x))),
  };
}

export interface EnqueueOptions {
  /** A second enqueue with the same key returns the first run. */
  idempotencyKey?: string;
  entities?: Record<string, string>;
  /**
   * -100..100, default the workflow's: higher is claimed first, aged by 10 s
   * a step so that none starves; the server refuses one out of range.
   */
  priority?: number;
}

export interface DeadLetterQuery {
  workflow?: string;
  classes?: readonly string[];
  states?: readonly string[];
  run?: string;
  entities?: Record<string, string>;
  limit?: number;
}

export interface SignalSendOptions {
  /** A repeated send with the same key answers with the first signal, `duplicate` true. */
  idempotencyKey?: string;
}

export interface DecisionOptions {
  /** Why; recorded with the decision. */
  comment?: string;
  /** The request's data as edited by the approver; undefined keeps it as asked. */
  data?: unknown;
}

const idempotencyHeader = (key: string | undefined): Record<string, string> | undefined =>
  key ? { "Idempotency-Key": key } : undefined;

export interface ClientOptions {
  timeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `new Client(server, token)`: the public API of a Klaxon server (scopes read and operate). */
export class Client {
  private readonly transport: Transport;

  constructor(server = "http://127.0.0.1:7070", token?: string, options: ClientOptions = {}) {
    this.transport = new Transport(server, token, { timeoutMs: options.timeoutMs ?? 30_000 });
  }

  /** Close the client's connections. */
  close(): void {
    this.transport.close();
  }

  /** Enqueue a run; with an `idempotencyKey` a second enqueue returns the first run. */
  async enqueue(workflow: string, input: unknown = null, options: EnqueueOptions = {}): Promise<Run> {
    const body: Wire = { workflow, input: input ?? null };
    if (options.idempotencyKey) body["idempotency_key"] = options.idempotencyKey;
    if (options.entities && Object.keys(options.entities).length > 0) body["entities"] = { ...options.entities };
    if (options.priority !== undefined) body["priority"] = options.priority;
    const answer = m(
      await this.transport.request("POST", API_PREFIX + "/runs", body, { idempotent: Boolean(options.idempotencyKey) }),
    );
    return runFromWire(m(answer["run"]));
  }

  /** A run with its step log, attempts and events. */
  async runDetail(runId: string): Promise<RunDetail> {
    const path = `${API_PREFIX}/runs/${encodeURIComponent(runId)}`;
    return detailFromWire(m(await this.transport.request("GET", path, undefined, { idempotent: true })));
  }

  /** A run as it is now. */
  async run(runId: string): Promise<Run> {
    return (await this.runDetail(runId)).run;
  }

  /** Cancel a run for good; a running one loses its lease and its worker stops it. */
  async cancel(runId: string, reason = ""): Promise<Run> {
    const path = `${API_PREFIX}/runs/${encodeURIComponent(runId)}/cancel`;
    return runFromWire(m(await this.transport.request("POST", path, reason ? { reason } : {}, { idempotent: true })));
  }

  /** Wait until the run is completed, dead or cancelled; rejects after `timeoutMs` (default 60000). */
  async awaitRun(runId: string, options: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal } = {}): Promise<Run> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      options.signal?.throwIfAborted();
      const run = await this.run(runId);
      if (TERMINAL_STATUSES.includes(run.status)) return run;
      if (performance.now() >= deadline) {
        throw new Error(`run ${runId} is still ${run.status} after ${timeoutMs}ms`);
      }
      await sleep(Math.min(options.pollMs ?? 100, Math.max(0, deadline - performance.now())));
    }
  }

  /**
   * Send a signal named `name` with a JSON `payload` to a run. A run waiting
   * on the name (`ctx.waitForSignal`) takes it at once (`consumed`); otherwise
   * the run keeps it for its next wait of that name. Rejects with `NotFound`
   * for an unknown run, `SignalRefused` when the run will not take it (it
   * ended, waits on that name for a timer or an approval, keeps one of that
   * name already), `InvalidRequest` for a payload that does not fit the
   * waiting type.
   */
  async signal(runId: string, name: string, payload: unknown = null, options: SignalSendOptions = {}): Promise<SignalResult> {
    const path = `${API_PREFIX}/runs/${encodeURIComponent(runId)}/signals/${encodeURIComponent(name)}`;
    const answer = await this.transport.request("POST", path, payload ?? null, {
      idempotent: Boolean(options.idempotencyKey),
      headers: idempotencyHeader(options.idempotencyKey),
    });
    return signalResultFromWire(answer);
  }

  /**
   * Send a signal to the runs labelled with the entity `key=value`, one result
   * a run: every such run waiting on the name takes it; if none waits, the
   * entity's one open run keeps it. Rejects with `NotFound` when the entity
   * has no open run, `SignalRefused` when it has several and none waits.
   */
  async signalEntity(
    key: string,
    value: string,
    name: string,
    payload: unknown = null,
    options: SignalSendOptions = {},
  ): Promise<SignalResult[]> {
    const path = `${API_PREFIX}/signals/${encodeURIComponent(name)}`;
    const answer = m(
      await this.transport.request("POST", path, payload ?? null, {
        query: { entity: `${key}=${value}` },
        idempotent: Boolean(options.idempotencyKey),
        headers: idempotencyHeader(options.idempotencyKey),
      }),
    );
    return l(answer["results"]).map(signalResultFromWire);
  }

  /** The approval requests waiting for a decision, oldest first; no `limit` is the server's default. */
  async approvals(limit?: number): Promise<Wait[]> {
    const answer = m(
      await this.transport.request("GET", API_PREFIX + "/approvals", undefined, { query: { limit }, idempotent: true }),
    );
    return l(answer["approvals"]).map(waitFromWire);
  }

  /**
   * Approve or reject a run's approval request, as this client's token.
   * Rejects with `NotFound` when the run has no open request of that name,
   * `NotApprover` when the request does not name this client's token among
   * its approvers.
   */
  async decideApproval(runId: string, name: string, approved: boolean, options: DecisionOptions = {}): Promise<ApprovalDecision> {
    const path = `${API_PREFIX}/runs/${encodeURIComponent(runId)}/approvals/${encodeURIComponent(name)}`;
    const body: Wire = { decision: approved ? "approve" : "reject" };
    if (options.comment) body["comment"] = options.comment;
    if (options.data !== undefined && options.data !== null) body["data"] = options.data;
    // Not retried: a decision whose answer was lost is recorded, and a second
    // one would be refused as no longer open.
    return approvalDecisionFromWire(await this.transport.request("POST", path, body, { idempotent: false }));
  }

  /** Dead-letter entries, newest first, filtered as the API allows. */
  async deadLetters(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    const q: Record<string, string | number | readonly string[] | undefined> = { limit: query.limit ?? 50 };
    if (query.workflow) q["workflow"] = query.workflow;
    if (query.classes && query.classes.length > 0) q["class"] = query.classes.join(",");
    if (query.states && query.states.length > 0) q["state"] = query.states.join(",");
    if (query.run) q["run"] = query.run;
    if (query.entities) q["entity"] = Object.entries(query.entities).map(([k, v]) => `${k}=${v}`);
    const answer = m(await this.transport.request("GET", API_PREFIX + "/dlq", undefined, { query: q, idempotent: true }));
    return l(answer["entries"]).map((x) => {
      const r = m(x);
      return {
        id: s(r["id"]),
        runId: s(r["run_id"]),
        workflow: s(r["workflow"]),
        class: s(r["class"]),
        reason: s(r["reason"]),
        channel: s(r["channel"]),
        state: s(r["state"]),
        raw: r,
      };
    });
  }
}
