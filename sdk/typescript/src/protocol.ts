/**
 * The worker protocol's wire format, in one place (docs/worker-protocol.md;
 * mirrors sdk/python/klaxon/protocol.py).
 *
 * Requests are written as the wire spells them; answers are read defensively
 * into camelCase records. {@link Transport} carries them over `node:http`
 * with keep-alive connections, retries network errors of
 * idempotent requests, and turns `application/problem+json` answers into
 * typed errors ({@link ProblemError} and its subclasses) by their problem `type`.
 */

import * as http from "node:http";
import * as https from "node:https";

import {
  InvalidOutput,
  InvalidRequest,
  LeaseLost,
  ManifestConflict,
  NondeterminismProblem,
  NotApprover,
  NotFound,
  ProblemError,
  SignalRefused,
  StepExists,
  TransportError,
  UnknownWorkflow,
} from "./errors.js";
import { type Budget, budgetFromWire, budgetToWire } from "./policy.js";

export const API_PREFIX = "/api/v1";
export const WORKER_PREFIX = API_PREFIX + "/worker";

/** Any JSON value. */
export type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

type Wire = Record<string, unknown>;

function mapping(value: unknown): Wire {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Wire) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function int(value: unknown, fallback = 0): number {
  return typeof value === "number" && Number.isFinite(value) ? Math.trunc(value) : fallback;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
}

// ---------------------------------------------------------------- register

export interface WorkerInfo {
  id: string;
  language: string;
  sdkVersion: string;
  runtime: string;
}

/** A workflow as registered: every field but `name` optional (unset: the engine's default). */
export interface WorkflowRegistration {
  name: string;
  version?: number;
  expectSteps?: readonly string[];
  /** The retry policy as the wire spells it (see `retryToWire`). */
  retry?: Record<string, unknown>;
  budget?: Budget;
  runTimeoutMs?: number;
  inputSchema?: unknown;
  outputSchema?: unknown;
  stepOutputSchemas?: Record<string, unknown>;
  redact?: readonly string[];
  redactPatterns?: readonly string[];
  concurrencyKey?: string;
  concurrencyLimit?: number;
  defaultPriority?: number;
}

export function registrationToWire(r: WorkflowRegistration): Wire {
  const wire: Wire = { name: r.name, version: r.version ?? 1 };
  if (r.expectSteps !== undefined) wire["expect_steps"] = [...r.expectSteps];
  if (r.retry && Object.keys(r.retry).length > 0) wire["retry"] = r.retry;
  if (r.budget !== undefined) wire["budget"] = budgetToWire(r.budget);
  if (r.runTimeoutMs) wire["run_timeout_ms"] = r.runTimeoutMs;
  if (r.inputSchema !== undefined) wire["input_schema"] = r.inputSchema;
  if (r.outputSchema !== undefined) wire["output_schema"] = r.outputSchema;
  if (r.stepOutputSchemas && Object.keys(r.stepOutputSchemas).length > 0) {
    wire["step_output_schemas"] = r.stepOutputSchemas;
  }
  if (r.redact && r.redact.length > 0) wire["redact"] = [...r.redact];
  if (r.redactPatterns && r.redactPatterns.length > 0) wire["redact_patterns"] = [...r.redactPatterns];
  if (r.concurrencyKey !== undefined) {
    wire["concurrency"] = { key: r.concurrencyKey, limit: r.concurrencyLimit ?? 1 };
  }
  if (r.defaultPriority) wire["default_priority"] = r.defaultPriority;
  return wire;
}

export interface RegisterAnswer {
  workerId: string;
  leaseMs: number;
  heartbeatMs: number;
  workflows: { name: string; version: number }[];
}

// ---------------------------------------------------------------- claim

export interface ClaimRequest {
  workerId: string;
  workflows: readonly string[];
  limit: number;
  waitMs: number;
  leaseMs?: number | undefined;
}

/** A failure as the server states it: the claim's or a checkpoint's `doom`. */
export interface FailureInfo {
  class: string;
  message: string;
}

function failureFromWire(wire: unknown): FailureInfo | undefined {
  if (wire === null || typeof wire !== "object") return undefined;
  const m = wire as Wire;
  return { class: str(m["class"]), message: str(m["message"]) };
}

export interface LoggedStep {
  seq: number;
  name: string;
  status: string;
  output: JSONValue;
  idempotencyKey: string;
}

export interface ClaimedRun {
  runId: string;
  workflow: string;
  workflowVersion: number;
  attempt: number;
  epoch: number;
  mode: "run" | "replay" | string;
  reclaimed: boolean;
  input: JSONValue;
  steps: LoggedStep[];
  stepGeneration: number;
  runTimeoutMs: number;
  budget: Budget | undefined;
  doom: FailureInfo | undefined;
}

export function claimedRunFromWire(wire: Wire): ClaimedRun {
  return {
    runId: str(wire["run_id"]),
    workflow: str(wire["workflow"]),
    workflowVersion: int(wire["workflow_version"], 1) || 1,
    attempt: int(wire["attempt"], 1) || 1,
    epoch: int(wire["epoch"]),
    mode: str(wire["mode"]) || "run",
    reclaimed: wire["reclaimed"] === true,
    input: (wire["input"] ?? null) as JSONValue,
    steps: list(wire["steps"]).map((s) => {
      const m = mapping(s);
      return {
        seq: int(m["seq"]),
        name: str(m["name"]),
        status: str(m["status"]) || "completed",
        output: (m["output"] ?? null) as JSONValue,
        idempotencyKey: str(m["idempotency_key"]),
      };
    }),
    stepGeneration: int(wire["step_generation"]),
    runTimeoutMs: int(wire["run_timeout_ms"]),
    budget: budgetFromWire(wire["budget"]),
    doom: failureFromWire(wire["doom"]),
  };
}

// ---------------------------------------------------------------- checkpoint

/** One model call's usage, priced by the server. */
export interface ModelCall {
  provider: string;
  model: string;
  inputTokens?: number;
  outputTokens?: number;
  cachedInputTokens?: number;
}

export function modelCallToWire(c: ModelCall): Wire {
  return {
    provider: c.provider,
    model: c.model,
    input_tokens: c.inputTokens ?? 0,
    output_tokens: c.outputTokens ?? 0,
    cached_input_tokens: c.cachedInputTokens ?? 0,
  };
}

export interface CheckpointRequest {
  workerId: string;
  workflow: string;
  attempt: number;
  epoch: number;
  name: string;
  idempotencyKey: string;
  output: JSONValue;
  durationMs: number;
  modelCalls: readonly ModelCall[];
  failedModelCalls: readonly ModelCall[];
}

export interface CheckpointAnswer {
  seq: number;
  name: string;
  idempotencyKey: string;
  spend: Record<string, unknown>;
  duplicate: boolean;
  doom: FailureInfo | undefined;
}

// ---------------------------------------------------------------- outcome

/** What the worker knows of an error: `kind` is failure, timeout, panic or error. */
export interface ErrorInfo {
  kind: "failure" | "timeout" | "panic" | "error";
  message: string;
  class?: string;
  type?: string;
  traceback?: string;
  step?: string;
  seq?: number;
  retryAfterMs?: number;
}

export function errorInfoToWire(e: ErrorInfo): Wire {
  const wire: Wire = { kind: e.kind, message: e.message };
  if (e.class) wire["class"] = e.class;
  if (e.type) wire["type"] = e.type;
  if (e.traceback) wire["traceback"] = e.traceback;
  if (e.step) {
    wire["step"] = e.step;
    wire["seq"] = e.seq ?? 0;
  }
  if (e.retryAfterMs) wire["retry_after_ms"] = e.retryAfterMs;
  return wire;
}

export interface StepFailure {
  seq: number;
  name: string;
  error: ErrorInfo;
  modelCalls: readonly ModelCall[];
  durationMs: number;
}

export type OutcomeResult = "completed" | "failed" | "replayed" | "compensated";

export interface OutcomeRequest {
  workerId: string;
  attempt: number;
  epoch: number;
  mode: string;
  reclaimed: boolean;
  result: OutcomeResult;
  durationMs: number;
  output?: JSONValue;
  error?: ErrorInfo | undefined;
  stepsDone: readonly number[];
  compensable: readonly number[];
  stepFailures: readonly StepFailure[];
}

export function outcomeToWire(o: OutcomeRequest): Wire {
  const wire: Wire = {
    worker_id: o.workerId,
    attempt: o.attempt,
    epoch: o.epoch,
    mode: o.mode,
    reclaimed: o.reclaimed,
    result: o.result,
    duration_ms: o.durationMs,
    steps_done: [...o.stepsDone],
    compensable: [...o.compensable],
    step_failures: o.stepFailures.map(stepFailureToWire),
  };
  if (o.result === "completed") wire["output"] = o.output ?? null;
  if (o.error !== undefined) wire["error"] = errorInfoToWire(o.error);
  return wire;
}

export interface CompensateItem {
  seq: number;
  name: string;
  idempotencyKey: string;
}

export interface OutcomeAnswer {
  next: string;
  class: string;
  reason: string;
  retryAt: string;
  deadLetterId: string;
  compensate: CompensateItem[];
}

// ---------------------------------------------------------------- waits

/** A durable wait the workflow reached: a sleep, a wait for a signal, or an approval request. */
export interface WaitRequest {
  workerId: string;
  workflow: string;
  attempt: number;
  epoch: number;
  name: string;
  kind: "sleep" | "signal" | "approval";
  /** A sleep's duration, or how long a signal or decision is waited for (unset: the server's default). */
  timeoutMs?: number;
  /** A sleep's due time, RFC 3339. */
  until?: string;
  /** What an approval asks: title, body, data, approvers. */
  request?: { [key: string]: JSONValue };
  stepFailures: readonly StepFailure[];
}

/** What became of a wait: `state` is satisfied (`output`), timed_out (`message`) or waiting. */
export interface WaitAnswer {
  state: string;
  seq: number;
  name: string;
  output: JSONValue;
  class: string;
  message: string;
  deadline: string;
  until: string;
}

function stepFailureToWire(f: StepFailure): Wire {
  return {
    seq: f.seq,
    name: f.name,
    error: errorInfoToWire(f.error),
    model_calls: f.modelCalls.map(modelCallToWire),
    duration_ms: f.durationMs,
  };
}

export function waitToWire(w: WaitRequest): Wire {
  const wire: Wire = {
    worker_id: w.workerId,
    workflow: w.workflow,
    attempt: w.attempt,
    epoch: w.epoch,
    name: w.name,
    kind: w.kind,
    step_failures: w.stepFailures.map(stepFailureToWire),
  };
  if (w.timeoutMs !== undefined) wire["timeout_ms"] = w.timeoutMs;
  if (w.until) wire["until"] = w.until;
  if (w.request !== undefined) wire["request"] = w.request;
  return wire;
}

// ---------------------------------------------------------------- child runs

/** A child run to start from the parent's step (`POST runs/{id}/children/{seq}`). */
export interface ChildStartRequest {
  workerId: string;
  workflow: string;
  attempt: number;
  epoch: number;
  name: string;
  childWorkflow: string;
  input: JSONValue;
}

/** `state` is started (`runId`, `childWorkflow`) or failed (`class`, `message`: nothing started). */
export interface ChildStartAnswer {
  state: string;
  seq: number;
  name: string;
  runId: string;
  childWorkflow: string;
  duplicate: boolean;
  class: string;
  message: string;
}

/** One await of a child run: a wait step named `name`. */
export interface ChildAwait {
  name: string;
  childRunId: string;
  timeoutMs?: number;
}

/** Awaits of child runs at consecutive sequence numbers (`POST runs/{id}/awaits/{seq}`). */
export interface ChildAwaitRequest {
  workerId: string;
  workflow: string;
  attempt: number;
  epoch: number;
  awaits: readonly ChildAwait[];
  stepFailures: readonly StepFailure[];
}

/** `state` is satisfied (`outputs`), failed (`child`: the child that died), timed_out or waiting. */
export interface ChildAwaitAnswer {
  state: string;
  outputs: JSONValue[];
  seq: number;
  name: string;
  class: string;
  message: string;
  child: { runId: string; workflow: string; status: string; class: string; reason: string };
  until: string;
}

// ---------------------------------------------------------------- heartbeat

export interface Lease {
  runId: string;
  epoch: number;
}

// ---------------------------------------------------------------- transport

const PROBLEMS: Record<string, new (status: number, type: string, title: string, detail: string) => ProblemError> = {
  [LeaseLost.TYPE]: LeaseLost,
  [StepExists.TYPE]: StepExists,
  [NondeterminismProblem.TYPE]: NondeterminismProblem,
  [ManifestConflict.TYPE]: ManifestConflict,
  [InvalidRequest.TYPE]: InvalidRequest,
  [InvalidOutput.TYPE]: InvalidOutput,
  [NotFound.TYPE]: NotFound,
  [UnknownWorkflow.TYPE]: UnknownWorkflow,
  [SignalRefused.TYPE]: SignalRefused,
  [NotApprover.TYPE]: NotApprover,
};

const RETRYABLE_STATUS = new Set([502, 503, 504]);

/** The typed error of a refused request, chosen by the problem `type`. */
export function decodeProblem(status: number, reason: string, body: string): ProblemError {
  let type = "";
  let title = reason;
  let detail = "";
  try {
    const wire = mapping(JSON.parse(body));
    type = str(wire["type"]);
    title = str(wire["title"]) || reason;
    detail = str(wire["detail"]);
    const errors = list(wire["errors"]).map(mapping);
    if (errors.length > 0) {
      // A request the server's schema refused: name each failing place.
      const named = errors
        .map((e) => {
          const location = str(e["location"]);
          const message = str(e["message"]);
          return location ? `${location}: ${message}` : message;
        })
        .join("; ");
      detail = detail ? `${detail}: ${named}` : named;
    }
  } catch {
    detail = body.slice(0, 500);
  }
  let cls = PROBLEMS[type];
  if (cls === undefined) {
    cls = status === 404 ? NotFound : status === 422 ? InvalidRequest : ProblemError;
  }
  return new cls(status, type, title, detail);
}

export interface TransportOptions {
  /** Per-request timeout in milliseconds (default 60000). */
  timeoutMs?: number;
  /** How many times an idempotent request is sent again after a network error or a 502/503/504 (default 5). */
  retries?: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | readonly string[] | undefined>;
  idempotent: boolean;
  timeoutMs?: number;
  /** Sent beside the transport's own headers (an `Idempotency-Key`). */
  headers?: Record<string, string>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  reason: string;
  text: string;
}

/** A network error of a request sent on a kept-alive connection the server had closed while idle. */
function isStale(error: unknown, reused: boolean): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return reused && (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED");
}

/**
 * JSON over HTTP/1.1 with keep-alive connections (`node:http`'s Agent: the
 * built-in `fetch` costs about four times the CPU per request, which a
 * worker making thousands of checkpoints a second feels).
 * An idempotent request is retried after a network error or a 502/503/504
 * answer, with a short backoff, `retries` times.
 */
export class Transport {
  readonly base: URL;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly agent: http.Agent;
  private readonly send: typeof http.request;

  constructor(server: string, token?: string, options: TransportOptions = {}) {
    const url = new URL(server.includes("://") ? server : "http://" + server);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`server ${JSON.stringify(server)}: the scheme must be http or https`);
    }
    this.base = url;
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (token) this.headers["Authorization"] = "Bearer " + token;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.retries = options.retries ?? 5;
    const https_ = url.protocol === "https:";
    // Idle connections are closed after 30 s, well before the server's own
    // idle timeout (2 minutes), so that a request rarely meets a connection
    // the server is closing; when it does, isStale lets it be sent again.
    const agentOptions = { keepAlive: true, timeout: 30_000 };
    this.agent = https_ ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.send = https_ ? https.request : http.request;
  }

  /** Close the transport's idle connections (and every connection once its request ends). */
  close(): void {
    this.agent.destroy();
  }

  private once(
    method: string,
    path: string,
    payload: string | undefined,
    timeoutMs: number,
    extraHeaders: Record<string, string> | undefined,
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...this.headers, ...extraHeaders };
      if (payload !== undefined) headers["Content-Length"] = Buffer.byteLength(payload);
      const request = this.send(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          path: this.basePath + path,
          method,
          headers,
          agent: this.agent,
          timeout: timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              reason: response.statusMessage ?? "",
              text: Buffer.concat(chunks).toString("utf8"),
            }),
          );
        },
      );
      request.on("timeout", () => request.destroy(new TransportError(`no answer within ${timeoutMs}ms`)));
      request.on("error", (error) => {
        Object.defineProperty(error, "reusedSocket", { value: request.reusedSocket });
        reject(error);
      });
      request.end(payload);
    });
  }

  /** Send one request and return its decoded JSON answer (`null` when empty). */
  async request(method: string, path: string, body: unknown, options: RequestOptions): Promise<unknown> {
    if (options.query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(options.query)) {
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
        else params.append(key, String(value));
      }
      const text = params.toString();
      if (text) path += "?" + text;
    }
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let attempts = options.idempotent ? this.retries + 1 : 1;
    let delay = 50;
    let last: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        await sleep(delay);
        delay = Math.min(delay * 2, 2000);
      }
      let answer: Answer;
      try {
        answer = await this.once(method, path, payload, options.timeoutMs ?? this.timeoutMs, options.headers);
      } catch (error) {
        last = error;
        if (!options.idempotent && attempts === 1 && isStale(error, (error as { reusedSocket?: boolean }).reusedSocket === true)) {
          // A kept-alive connection the server had closed while idle: the
          // request never reached it, so sending it again is safe.
          attempts = 2;
          delay = 0;
        }
        continue;
      }
      if (answer.status >= 400) {
        const problem = decodeProblem(answer.status, answer.reason, answer.text);
        if (options.idempotent && RETRYABLE_STATUS.has(answer.status) && attempt + 1 < attempts) {
          last = problem;
          continue;
        }
        throw problem;
      }
      if (!answer.text) return null;
      try {
        return JSON.parse(answer.text) as unknown;
      } catch (error) {
        throw new TransportError(`${method} ${path}: the answer is not JSON: ${answer.text.slice(0, 200)}`, { cause: error });
      }
    }
    if (last instanceof ProblemError) throw last;
    const why = last instanceof Error ? last.message : String(last);
    throw new TransportError(`${method} ${path}: ${why}`, { cause: last });
  }
}

/** The worker protocol's operations, one method each. */
export class WorkerProtocol {
  constructor(readonly transport: Transport) {}

  private async post(path: string, body: Wire, idempotent: boolean, timeoutMs?: number): Promise<Wire> {
    const options: RequestOptions = { idempotent };
    if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
    return mapping(await this.transport.request("POST", WORKER_PREFIX + path, body, options));
  }

  async register(worker: WorkerInfo, workflows: readonly WorkflowRegistration[]): Promise<RegisterAnswer> {
    const body = {
      worker: { id: worker.id, language: worker.language, sdk_version: worker.sdkVersion, runtime: worker.runtime },
      workflows: workflows.map(registrationToWire),
    };
    const wire = await this.post("/register", body, true);
    return {
      workerId: str(wire["worker_id"]),
      leaseMs: int(wire["lease_ms"]) || 30_000,
      heartbeatMs: int(wire["heartbeat_ms"]) || 10_000,
      workflows: list(wire["workflows"]).map((w) => ({ name: str(mapping(w)["name"]), version: int(mapping(w)["version"], 1) })),
    };
  }

  async claim(request: ClaimRequest): Promise<ClaimedRun[]> {
    // Not retried: a claim repeated after a lost answer would claim other
    // runs; the lost ones come back when their lease ends.
    const body: Wire = {
      worker_id: request.workerId,
      workflows: [...request.workflows],
      limit: request.limit,
      wait_ms: request.waitMs,
    };
    if (request.leaseMs !== undefined) body["lease_ms"] = request.leaseMs;
    const answer = await this.post("/claim", body, false, request.waitMs + 30_000);
    return list(answer["runs"]).map((r) => claimedRunFromWire(mapping(r)));
  }

  async checkpoint(runId: string, seq: number, r: CheckpointRequest): Promise<CheckpointAnswer> {
    const body = {
      worker_id: r.workerId,
      workflow: r.workflow,
      attempt: r.attempt,
      epoch: r.epoch,
      name: r.name,
      idempotency_key: r.idempotencyKey,
      output: r.output,
      duration_ms: r.durationMs,
      model_calls: r.modelCalls.map(modelCallToWire),
      failed_model_calls: r.failedModelCalls.map(modelCallToWire),
    };
    const wire = await this.post(`/runs/${encodeURIComponent(runId)}/steps/${seq}`, body, true);
    return {
      seq: int(wire["seq"]),
      name: str(wire["name"]),
      idempotencyKey: str(wire["idempotency_key"]),
      spend: mapping(wire["spend"]),
      duplicate: wire["duplicate"] === true,
      doom: failureFromWire(wire["doom"]),
    };
  }

  async outcome(runId: string, request: OutcomeRequest): Promise<OutcomeAnswer> {
    const wire = await this.post(`/runs/${encodeURIComponent(runId)}/outcome`, outcomeToWire(request), true);
    return {
      next: str(wire["next"]),
      class: str(wire["class"]),
      reason: str(wire["reason"]),
      retryAt: str(wire["retry_at"]),
      deadLetterId: str(wire["dead_letter_id"]),
      compensate: list(wire["compensate"]).map((c) => {
        const m = mapping(c);
        return { seq: int(m["seq"]), name: str(m["name"]), idempotencyKey: str(m["idempotency_key"]) };
      }),
    };
  }

  async wait(runId: string, seq: number, request: WaitRequest): Promise<WaitAnswer> {
    // Retried after a network error: a wait that made the run wait is then
    // answered 409 lease-lost, which stops the run as well.
    const wire = await this.post(`/runs/${encodeURIComponent(runId)}/waits/${seq}`, waitToWire(request), true);
    return {
      state: str(wire["state"]),
      seq: int(wire["seq"]),
      name: str(wire["name"]),
      output: (wire["output"] ?? null) as JSONValue,
      class: str(wire["class"]),
      message: str(wire["message"]),
      deadline: str(wire["deadline"]),
      until: str(wire["until"]),
    };
  }

  async childStart(runId: string, seq: number, request: ChildStartRequest): Promise<ChildStartAnswer> {
    // Retried after a network error: the server finds the child the first
    // request started, by the step's idempotency key.
    const body: Wire = {
      worker_id: request.workerId,
      workflow: request.workflow,
      attempt: request.attempt,
      epoch: request.epoch,
      name: request.name,
      child_workflow: request.childWorkflow,
      input: request.input,
    };
    const wire = await this.post(`/runs/${encodeURIComponent(runId)}/children/${seq}`, body, true);
    return {
      state: str(wire["state"]),
      seq: int(wire["seq"]),
      name: str(wire["name"]),
      runId: str(wire["run_id"]),
      childWorkflow: str(wire["child_workflow"]),
      duplicate: wire["duplicate"] === true,
      class: str(wire["class"]),
      message: str(wire["message"]),
    };
  }

  async childAwait(runId: string, seq: number, request: ChildAwaitRequest): Promise<ChildAwaitAnswer> {
    const body: Wire = {
      worker_id: request.workerId,
      workflow: request.workflow,
      attempt: request.attempt,
      epoch: request.epoch,
      awaits: request.awaits.map((a) => {
        const wire: Wire = { name: a.name, child_run_id: a.childRunId };
        if (a.timeoutMs !== undefined) wire["timeout_ms"] = a.timeoutMs;
        return wire;
      }),
      step_failures: request.stepFailures.map(stepFailureToWire),
    };
    const wire = await this.post(`/runs/${encodeURIComponent(runId)}/awaits/${seq}`, body, true);
    const child = mapping(wire["child"]);
    return {
      state: str(wire["state"]),
      outputs: list(wire["outputs"]) as JSONValue[],
      seq: int(wire["seq"]),
      name: str(wire["name"]),
      class: str(wire["class"]),
      message: str(wire["message"]),
      child: {
        runId: str(child["run_id"]),
        workflow: str(child["workflow"]),
        status: str(child["status"]),
        class: str(child["class"]),
        reason: str(child["reason"]),
      },
      until: str(wire["until"]),
    };
  }

  async compensation(runId: string, seq: number, workerId: string, epoch: number, error?: ErrorInfo): Promise<boolean> {
    const body: Wire = { worker_id: workerId, epoch };
    if (error !== undefined) body["error"] = errorInfoToWire(error);
    const wire = await this.post(`/runs/${encodeURIComponent(runId)}/compensations/${seq}`, body, true);
    return wire["recorded"] === true;
  }

  async heartbeat(workerId: string, leases: readonly Lease[], leaseMs?: number): Promise<string[]> {
    const body: Wire = { worker_id: workerId, leases: leases.map((l) => ({ run_id: l.runId, epoch: l.epoch })) };
    if (leaseMs !== undefined) body["lease_ms"] = leaseMs;
    const wire = await this.post("/heartbeat", body, true);
    return list(wire["lost"]).map(str);
  }

  async release(runId: string, workerId: string, epoch: number): Promise<void> {
    await this.post(`/runs/${encodeURIComponent(runId)}/release`, { worker_id: workerId, epoch }, true);
  }
}
