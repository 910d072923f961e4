/**
 * The context a workflow runs in: steps, memoization, spend, and the run's
 * bookkeeping (mirrors sdk/python/klaxon/context.py).
 *
 * {@link RunCore} numbers steps at call time (so that `Promise.all` over
 * `ctx.step` gives every step the same number on every attempt), memoizes them
 * from the claim's step log, detects nondeterminism, obeys `doom`,
 * checkpoints, and keeps the failures and model calls the outcome reports.
 * {@link Context} is the workflow's face of it.
 */

import { AsyncLocalStorage } from "node:async_hooks";

import {
  BudgetExceeded,
  DeadlineExceeded,
  Failure,
  InvalidOutput,
  InvalidRequest,
  LeaseLost,
  Nondeterminism,
  NondeterminismProblem,
  NotFound,
  Permanent,
  RateLimited,
  Semantic,
  TransportError,
  WaitTimedOut,
  goDuration,
  isFailureClass,
} from "./errors.js";
import { classifyModelError, jsonableResponse, readUsage } from "./model_calls.js";
import type {
  ClaimedRun,
  CompensateItem,
  ErrorInfo,
  FailureInfo,
  JSONValue,
  LoggedStep,
  ModelCall,
  OutcomeRequest,
  StepFailure,
  WaitRequest,
  WorkerProtocol,
} from "./protocol.js";
import { type ApprovalDecision, approvalDecisionFromWire, formatTime } from "./waits.js";
import { type ChildOptions, type ChildRun, awaitChildren, startChild } from "./children.js";

/** Error names reported as kind `panic`: programming errors, permanent as a Go panic is. */
export const PANIC_TYPES: readonly string[] = [
  "TypeError",
  "ReferenceError",
  "RangeError",
  "SyntaxError",
  "EvalError",
  "URIError",
  "AssertionError",
];

/** What a validator returns: nothing when the output is good, else a failure (`Semantic` unless it says otherwise). */
export type Verdict = Error | string | null | undefined | void;
export type Validator<T> = (output: T) => Verdict | Promise<Verdict>;
export type Compensation<T> = (output: T, signal: AbortSignal) => unknown;

export interface StepOptions<T> {
  /** Bounds the step; past it the step fails with kind `timeout` and its signal is aborted. */
  timeoutMs?: number;
  /** Returns nothing for a good output, or a failure (a string or a non-Failure error: `Semantic`). */
  validate?: Validator<T>;
  /** Undoes the step if the run fails for good; it gets the step's output. */
  compensate?: Compensation<T>;
}

export interface ModelCallOptions {
  provider?: string;
  model?: string;
  timeoutMs?: number;
  validate?: Validator<{ [key: string]: JSONValue }>;
}

/** How long a signal is waited for. */
export interface SignalOptions {
  /** Counted from when the run first reaches the wait; default 48 hours. */
  timeoutMs?: number;
}

/** What `ctx.awaitApproval` asks a person. */
export interface ApprovalRequest {
  /** The one-line question, shown in the approvals inbox and the notification. */
  title: string;
  body?: string;
  /** What the decision is about; the approver may send it back edited. */
  data?: unknown;
  /** How long a decision is waited for; default 48 hours. */
  timeoutMs?: number;
  /** The token names allowed to decide; empty allows any operate or admin token. */
  approvers?: readonly string[];
}

/** Options of a wait as the core sends it. */
interface WaitOptions {
  timeoutMs?: number;
  until?: string;
  request?: { [key: string]: JSONValue };
}

export interface SpendRecord {
  provider: string;
  model: string;
  inputTokens?: number;
  outputTokens?: number;
  cachedInputTokens?: number;
}

/** The run is no longer this worker's (lease lost, released, timed out): its body must end; nothing more is sent. */
export class RunStopped extends Error {
  override readonly name = "RunStopped";
}

/** In replay mode, the first step not in the log: it ends the body. */
export class ReplayFrontier extends Error {
  override readonly name = "ReplayFrontier";
}

/** A step being executed in this attempt: what `recordSpend` and `idempotencyKey` see. */
export interface StepExec {
  seq: number;
  name: string;
  key: string;
  started: number;
  modelCalls: ModelCall[];
  closed: boolean;
  signal: AbortSignal;
}

const current = new AsyncLocalStorage<StepExec>();

/** What a step call does, decided at call time: return a memo, throw, or execute. */
export type Plan =
  | { kind: "memo"; seq: number; output: JSONValue }
  | { kind: "error"; seq: number; error: unknown }
  | { kind: "execute"; seq: number; ex: StepExec; controller: AbortController };

const now = (): number => performance.now();
const ms = (value: number): number => Math.max(0, Math.round(value));

/** The value as JSON gives it back: what a replay of the step would return. */
function roundtrip(value: unknown): JSONValue {
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as JSONValue);
}

function errorName(error: unknown): string {
  if (error instanceof Error) return error.name || error.constructor.name;
  return typeof error;
}

function isPanic(error: unknown): boolean {
  if (!(error instanceof Error) || !PANIC_TYPES.includes(error.name)) return false;
  // fetch's network errors are TypeErrors with a cause: an outage, not a bug.
  return !(error.name === "TypeError" && error.cause !== undefined);
}

/** What the worker knows of an error: its kind, class, message and stack. */
export function errorInfo(error: unknown, step = "", seq = 0): ErrorInfo {
  const message = error instanceof Error ? error.message || errorName(error) : String(error);
  const info: ErrorInfo = { kind: "error", message, type: errorName(error) };
  if (error instanceof Error && error.stack) info.traceback = error.stack;
  if (error instanceof DeadlineExceeded) {
    info.kind = "timeout";
  } else if (error instanceof Failure) {
    info.kind = "failure";
    info.class = error.failureClass;
    if (error instanceof RateLimited && error.retryAfterMs !== undefined) info.retryAfterMs = ms(error.retryAfterMs);
  } else if (isPanic(error)) {
    info.kind = "panic";
  }
  if (step) {
    info.step = step;
    info.seq = seq;
  }
  return info;
}

function validatorFailure(verdict: Verdict): unknown {
  if (verdict === undefined || verdict === null) return undefined;
  if (verdict instanceof Failure) return verdict;
  if (verdict instanceof Error) return new Semantic(verdict.message || verdict.name, { cause: verdict });
  return new Semantic(String(verdict) || "the validator rejected the output");
}

/** One claimed run's state. */
export class RunCore {
  readonly log: Map<number, LoggedStep>;
  nextSeq = 1;
  doom: FailureInfo | undefined;
  doomHit: { error: unknown; step: string; seq: number } | undefined;
  fatal: { error: unknown; step: string; seq: number } | undefined;
  stopped: string | undefined;
  settled = false;
  readonly stepsDone: number[] = [];
  readonly compensable: number[] = [];
  readonly compensations = new Map<number, { undo: Compensation<unknown>; output: JSONValue }>();
  readonly stepFailures: StepFailure[] = [];
  readonly failedModelCalls: ModelCall[] = [];
  private readonly failed = new WeakMap<object, { step: string; seq: number }>();
  readonly started = now();
  readonly deadline: number | undefined;
  /** Aborted when the run is stopped: every running step's signal follows it. */
  readonly controller = new AbortController();

  constructor(
    readonly run: ClaimedRun,
    readonly protocol: WorkerProtocol,
    readonly workerId: string,
  ) {
    this.log = new Map(run.steps.map((s) => [s.seq, s]));
    this.doom = run.doom;
    this.deadline = run.runTimeoutMs > 0 ? this.started + run.runTimeoutMs : undefined;
  }

  // ------------------------------------------------------------ state

  /** Begin no new step and send nothing more for this run. */
  stop(why: string): void {
    if (this.stopped === undefined) {
      this.stopped = why;
      this.controller.abort(new RunStopped(why));
    }
  }

  /** True once: the caller is the one to send the run's outcome. */
  trySettle(): boolean {
    if (this.settled || this.stopped !== undefined) return false;
    this.settled = true;
    return true;
  }

  keyFor(seq: number, name: string): string {
    let key = `${this.run.runId}/${seq}/${name}`;
    if (this.run.stepGeneration > 0) key += `/g${this.run.stepGeneration}`;
    return key;
  }

  stepOf(error: unknown): { step: string; seq: number } {
    if (error !== null && typeof error === "object") return this.failed.get(error) ?? { step: "", seq: 0 };
    return { step: "", seq: 0 };
  }

  private tag(error: unknown, step: string, seq: number): unknown {
    if (error !== null && typeof error === "object") this.failed.set(error, { step, seq });
    return error;
  }

  // ------------------------------------------------------------ steps

  /** Take the next sequence number and decide what the step call does. Synchronous: program order. */
  begin(name: string, compensate: Compensation<unknown> | undefined): Plan {
    if (!name) throw new TypeError("a step needs a name");
    if (this.stopped !== undefined) return { kind: "error", seq: 0, error: new RunStopped(this.stopped) };
    const seq = this.nextSeq++;
    if (this.fatal !== undefined) return { kind: "error", seq, error: this.fatal.error };
    const logged = this.log.get(seq);
    if (logged !== undefined) {
      if (logged.name !== name) {
        const error = new Nondeterminism(
          `nondeterminism at step ${seq}: the step log recorded "${logged.name}" but the workflow called "${name}"`,
        );
        this.fatal = { error: this.tag(error, name, seq), step: name, seq };
        this.stepFailures.push({ seq, name, error: errorInfo(error, name, seq), modelCalls: [], durationMs: 0 });
        return { kind: "error", seq, error };
      }
      if (logged.status !== "completed") {
        const error = new Permanent(
          `step ${seq} "${name}": the step's work was undone (${logged.status}); restart the run instead of resuming it`,
        );
        return { kind: "error", seq, error: this.tag(error, name, seq) };
      }
      this.stepsDone.push(seq);
      if (compensate !== undefined) {
        this.compensable.push(seq);
        this.compensations.set(seq, { undo: compensate, output: logged.output });
      }
      return { kind: "memo", seq, output: logged.output };
    }
    if (this.doom !== undefined) {
      const doom = this.doom;
      const error =
        isFailureClass(doom.class) && doom.class !== "budget_exceeded"
          ? new Failure(doom.class, doom.message)
          : new BudgetExceeded(doom.message);
      if (this.doomHit === undefined) {
        this.doomHit = { error, step: name, seq };
        this.stepFailures.push({ seq, name, error: errorInfo(error, name, seq), modelCalls: [], durationMs: 0 });
      }
      return { kind: "error", seq, error: this.tag(error, name, seq) };
    }
    if (this.run.mode === "replay") {
      return { kind: "error", seq, error: new ReplayFrontier(`step ${seq} "${name}" is the replay frontier`) };
    }
    const controller = new AbortController();
    const signal = controller.signal;
    const ex: StepExec = { seq, name, key: this.keyFor(seq, name), started: now(), modelCalls: [], closed: false, signal };
    return { kind: "execute", seq, ex, controller };
  }

  /** The step's timeout, bounded by what is left of the run's. */
  stepTimeout(timeoutMs: number | undefined): number | undefined {
    if (this.deadline === undefined) return timeoutMs;
    const left = Math.max(0, this.deadline - now());
    return timeoutMs === undefined ? left : Math.min(timeoutMs, left);
  }

  /** Run a step's function under its timeout: [true, value] or [false, error]. */
  async execute(
    ex: StepExec,
    controller: AbortController,
    fn: (signal: AbortSignal) => unknown,
    timeoutMs: number | undefined,
  ): Promise<[boolean, unknown]> {
    const limit = this.stepTimeout(timeoutMs);
    // The step's signal follows the run's (a listener, not AbortSignal.any,
    // whose dependents of a long-lived signal Node 20 keeps too long).
    const run = this.controller.signal;
    const onStop = (): void => controller.abort(run.reason);
    if (run.aborted) onStop();
    else run.addEventListener("abort", onStop, { once: true });
    const call = current.run(ex, async () => fn(ex.signal));
    if (limit === undefined) {
      try {
        return [true, await call];
      } catch (error) {
        return [false, error];
      } finally {
        run.removeEventListener("abort", onStop);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<[boolean, unknown]>((resolve) => {
      timer = setTimeout(() => {
        const error = new DeadlineExceeded(`step ran past its timeout of ${goDuration(limit)}`);
        ex.closed = true; // whatever it returns or spends later is ignored
        controller.abort(error);
        resolve([false, error]);
      }, limit);
    });
    try {
      return await Promise.race([
        call.then(
          (value): [boolean, unknown] => [true, value],
          (error: unknown): [boolean, unknown] => [false, error],
        ),
        expired,
      ]);
    } finally {
      clearTimeout(timer);
      run.removeEventListener("abort", onStop);
    }
  }

  /** Validate and checkpoint a step's output, or keep its failure; return the output or throw. */
  async finish(
    ex: StepExec,
    ok: boolean,
    value: unknown,
    validate: Validator<unknown> | undefined,
    compensate: Compensation<unknown> | undefined,
  ): Promise<JSONValue> {
    const duration = now() - ex.started;
    let output: JSONValue = null;
    if (ok) {
      try {
        output = roundtrip(value);
      } catch (error) {
        ok = false;
        value = new TypeError(`step ${ex.seq} "${ex.name}": the output is not JSON: ${errorMessage(error)}`);
      }
    }
    if (ok && validate !== undefined) {
      let failure: unknown;
      try {
        failure = validatorFailure(await validate(output));
      } catch (error) {
        failure = error instanceof Failure ? error : validatorFailure(error instanceof Error ? error : String(error));
      }
      if (failure !== undefined) {
        ok = false;
        value = failure;
      }
    }
    if (!ok) throw this.fail(ex, value, duration);
    ex.closed = true;
    const calls = [...ex.modelCalls];
    if (this.stopped !== undefined) throw new RunStopped(this.stopped);
    let answer;
    try {
      answer = await this.protocol.checkpoint(this.run.runId, ex.seq, {
        workerId: this.workerId,
        workflow: this.run.workflow,
        attempt: this.run.attempt,
        epoch: this.run.epoch,
        name: ex.name,
        idempotencyKey: ex.key,
        output,
        durationMs: ms(duration),
        modelCalls: calls,
        failedModelCalls: [...this.failedModelCalls],
      });
    } catch (problem) {
      if (problem instanceof LeaseLost || problem instanceof NotFound) {
        this.stop(`checkpoint refused: ${problem.message}`);
        throw new RunStopped(problem.message, { cause: problem });
      }
      if (problem instanceof NondeterminismProblem) {
        const error = new Nondeterminism(problem.detail || problem.message, { cause: problem });
        this.fatal = { error, step: ex.name, seq: ex.seq };
        throw this.fail(ex, error, duration, calls);
      }
      if (problem instanceof InvalidOutput) {
        const error = new Semantic(`the output fails the step's output schema: ${problem.detail || problem.message}`, {
          cause: problem,
        });
        throw this.fail(ex, error, duration, calls);
      }
      if (problem instanceof InvalidRequest) {
        const error = new Permanent(
          `the server refused the checkpoint (a bug in the worker): ${problem.detail || problem.message}`,
          { cause: problem },
        );
        this.fatal = { error, step: ex.name, seq: ex.seq };
        throw this.fail(ex, error, duration, calls);
      }
      // TransportError or anything else: the step's fate is unknown to us;
      // the lease will run out and another worker resumes from what the server holds.
      const why = problem instanceof TransportError ? problem.message : errorMessage(problem);
      this.stop(`the server could not be reached: ${why}`);
      throw new RunStopped(why, { cause: problem });
    }
    if (answer.doom !== undefined) this.doom = answer.doom;
    this.stepsDone.push(ex.seq);
    if (compensate !== undefined) {
      this.compensable.push(ex.seq);
      this.compensations.set(ex.seq, { undo: compensate, output });
    }
    return output;
  }

  /** Keep a step's failure for the outcome, and tag the error with its step. */
  fail(ex: StepExec, error: unknown, duration: number, calls?: ModelCall[]): unknown {
    ex.closed = true;
    const spent = calls ?? [...ex.modelCalls];
    this.stepFailures.push({
      seq: ex.seq,
      name: ex.name,
      error: errorInfo(error, ex.name, ex.seq),
      modelCalls: spent,
      durationMs: ms(duration),
    });
    this.failedModelCalls.push(...spent);
    return this.tag(error, ex.name, ex.seq);
  }

  async runPlan(
    plan: Plan,
    fn: (signal: AbortSignal) => unknown,
    timeoutMs: number | undefined,
    validate: Validator<unknown> | undefined,
    compensate: Compensation<unknown> | undefined,
  ): Promise<JSONValue> {
    if (plan.kind === "error") throw plan.error;
    if (plan.kind === "memo") return plan.output;
    const [ok, value] = await this.execute(plan.ex, plan.controller, fn, timeoutMs);
    return this.finish(plan.ex, ok, value, validate, compensate);
  }

  // ------------------------------------------------------------ waits

  /**
   * Reach the durable wait `plan` began: its result, its timeout thrown, or
   * the run stopped, waiting. The server keeps every rule (the deadline fixed
   * when the run first reaches the wait, kept signals, timeouts); the SDK
   * only memoizes a satisfied wait from the step log, as a step.
   */
  async wait(plan: Plan, kind: WaitRequest["kind"], options: WaitOptions): Promise<JSONValue> {
    if (plan.kind === "error") throw plan.error;
    if (plan.kind === "memo") return plan.output;
    const ex = plan.ex;
    ex.closed = true;
    if (this.stopped !== undefined) throw new RunStopped(this.stopped);
    const request: WaitRequest = {
      workerId: this.workerId,
      workflow: this.run.workflow,
      attempt: this.run.attempt,
      epoch: this.run.epoch,
      name: ex.name,
      kind,
      stepFailures: [...this.stepFailures],
      ...options,
    };
    const answer = await this.ask(ex, "wait", () => this.protocol.wait(this.run.runId, ex.seq, request));
    if (answer.state === "satisfied") {
      this.stepsDone.push(ex.seq);
      return answer.output;
    }
    if (answer.state === "timed_out") {
      throw this.fail(ex, new WaitTimedOut(answer.message || `${kind} "${ex.name}" timed out`), now() - ex.started);
    }
    // "waiting": the server gave the run up to the wait; it holds no lease
    // now, and a later claim goes on from the step log.
    this.stop(`the run waits on ${kind} "${ex.name}" until ${answer.until || "it is answered"}`);
    throw new RunStopped(this.stopped ?? "waiting");
  }

  /**
   * Send a wait's or a child's request for the step `ex`; the server's
   * refusals become the step's fate: a stale epoch or a lost run stops the
   * run; another step at the sequence is nondeterminism; a malformed request
   * is the worker's bug (permanent); an unreachable server stops the run,
   * whose lease then runs out.
   */
  async ask<T>(ex: StepExec, what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (problem) {
      if (problem instanceof LeaseLost || problem instanceof NotFound) {
        this.stop(`${what} refused: ${problem.message}`);
        throw new RunStopped(problem.message, { cause: problem });
      }
      if (problem instanceof NondeterminismProblem) {
        const error = new Nondeterminism(problem.detail || problem.message, { cause: problem });
        this.fatal = { error, step: ex.name, seq: ex.seq };
        throw this.fail(ex, error, now() - ex.started);
      }
      if (problem instanceof InvalidRequest) {
        const error = new Permanent(`${what} ${ex.seq} "${ex.name}": the server refused it: ${problem.detail || problem.message}`, {
          cause: problem,
        });
        this.fatal = { error, step: ex.name, seq: ex.seq };
        throw this.fail(ex, error, now() - ex.started);
      }
      const why = problem instanceof TransportError ? problem.message : errorMessage(problem);
      this.stop(`the server could not be reached: ${why}`);
      throw new RunStopped(why, { cause: problem });
    }
  }

  // ------------------------------------------------------------ spend

  recordSpend(call: ModelCall): void {
    const ex = current.getStore();
    if (ex === undefined) {
      throw new Error("recordSpend is called inside a step: the model call goes with its checkpoint");
    }
    if (!ex.closed) ex.modelCalls.push(call);
  }

  // ------------------------------------------------------------ outcome

  private base(result: OutcomeRequest["result"]): OutcomeRequest {
    return {
      workerId: this.workerId,
      attempt: this.run.attempt,
      epoch: this.run.epoch,
      mode: this.run.mode,
      reclaimed: this.run.reclaimed,
      result,
      durationMs: ms(now() - this.started),
      stepsDone: [...this.stepsDone],
      compensable: [...this.compensable],
      stepFailures: [...this.stepFailures],
    };
  }

  /** The outcome of the body that returned `value` (or threw it, when not `returned`). */
  outcome(returned: boolean, value: unknown): OutcomeRequest {
    const base = this.base("failed");
    if (this.run.mode === "replay") return { ...base, result: "replayed" };
    const override = this.fatal ?? this.doomHit;
    if (override !== undefined) return { ...base, error: errorInfo(override.error, override.step, override.seq) };
    if (returned) {
      try {
        return { ...base, result: "completed", output: roundtrip(value) };
      } catch (error) {
        value = new TypeError(`the workflow's output is not JSON: ${errorMessage(error)}`);
      }
    }
    const { step, seq } = this.stepOf(value);
    return { ...base, error: errorInfo(value, step, seq) };
  }

  compensated(): OutcomeRequest {
    return this.base("compensated");
  }

  /** Run the compensations the server listed, in its order, and record each. */
  async compensate(items: readonly CompensateItem[]): Promise<void> {
    for (const item of items) {
      if (this.stopped !== undefined) throw new RunStopped(this.stopped);
      const registered = this.compensations.get(item.seq);
      let error: ErrorInfo | undefined;
      if (registered === undefined) {
        const missing = new Error(`step ${item.seq} "${item.name}": this worker holds no compensation for it`);
        missing.name = "LookupError";
        error = errorInfo(missing);
      } else {
        const ex: StepExec = {
          seq: item.seq,
          name: item.name,
          key: item.idempotencyKey,
          started: now(),
          modelCalls: [],
          closed: false,
          signal: this.controller.signal,
        };
        try {
          await current.run(ex, async () => registered.undo(registered.output, ex.signal));
        } catch (raised) {
          error = errorInfo(raised);
        }
      }
      try {
        await this.protocol.compensation(this.run.runId, item.seq, this.workerId, this.run.epoch, error);
      } catch (problem) {
        if (problem instanceof LeaseLost || problem instanceof NotFound) {
          this.stop(`compensation refused: ${problem.message}`);
          throw new RunStopped(problem.message, { cause: problem });
        }
        throw problem;
      }
    }
  }
}

/** A promise whose rejection, if nobody awaits it, does not crash the process; whoever awaits it still gets it. */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What a workflow function receives: `ctx.step(...)` and friends. */
export class Context {
  readonly #core: RunCore;

  constructor(core: RunCore) {
    this.#core = core;
  }

  get runId(): string {
    return this.#core.run.runId;
  }

  get attempt(): number {
    return this.#core.run.attempt;
  }

  get workflow(): string {
    return this.#core.run.workflow;
  }

  /** Aborted when the run is no longer this worker's (lease lost, released at shutdown). */
  get signal(): AbortSignal {
    return this.#core.controller.signal;
  }

  /**
   * Run `fn` as a durable step: its output is checkpointed, and replayed on later attempts.
   *
   * The sequence number is taken now, when `step` is called, so
   * `Promise.all([ctx.step("a", …), ctx.step("b", …)])` numbers a then b on
   * every attempt. `fn` gets an `AbortSignal`, aborted when the step passes
   * `timeoutMs` or the run is stopped.
   */
  step<T>(name: string, fn: (signal: AbortSignal) => T | Promise<T>, options: StepOptions<Awaited<T>> = {}): Promise<Awaited<T>> {
    const core = this.#core;
    const compensate = options.compensate as Compensation<unknown> | undefined;
    let plan: Plan;
    try {
      plan = core.begin(name, compensate);
    } catch (error) {
      return Promise.reject(error);
    }
    const result = core.runPlan(plan, fn, options.timeoutMs, options.validate as Validator<unknown> | undefined, compensate);
    // A step the body never awaits must not crash the process with an
    // unhandled rejection (its failure is kept for the outcome all the same);
    // whoever awaits the promise still gets the rejection.
    result.catch(() => undefined);
    return result as Promise<Awaited<T>>;
  }

  /** Begin a wait: its sequence number is taken now, in program order, as a step's. */
  #wait(name: string, kind: WaitRequest["kind"], options: WaitOptions): Promise<JSONValue> {
    const core = this.#core;
    let plan: Plan;
    try {
      plan = core.begin(name, undefined);
    } catch (error) {
      return Promise.reject(error);
    }
    const result = core.wait(plan, kind, options);
    result.catch(() => undefined); // as a step's: kept for the outcome, thrown to whoever awaits
    return result;
  }

  /**
   * Wait durably for `durationMs`, a step named `name` (as Go's `klaxon.Sleep`).
   *
   * The run gives up its worker and is `waiting` until the time has passed
   * since it first reached the sleep; then any worker goes on from here. A
   * replay never sleeps it again. When the run must wait, the promise rejects
   * with {@link RunStopped}: let it end the body (do not catch it).
   */
  sleep(name: string, durationMs: number): Promise<void> {
    return quiet(this.#wait(name, "sleep", { timeoutMs: Math.round(durationMs) }).then(() => undefined));
  }

  /** {@link sleep} until `when`. */
  sleepUntil(name: string, when: Date): Promise<void> {
    let until: string;
    try {
      until = formatTime(when);
    } catch (error) {
      return Promise.reject(error);
    }
    return quiet(this.#wait(name, "sleep", { until }).then(() => undefined));
  }

  /**
   * Wait durably for a signal named `name` and return its payload (a JSON value).
   *
   * A signal sent before the wait begins is kept and taken by it; each signal
   * is taken once. Past `timeoutMs` (default 48 hours) unanswered the promise
   * rejects with {@link WaitTimedOut}, which the workflow may catch.
   */
  waitForSignal<T extends JSONValue = JSONValue>(name: string, options: SignalOptions = {}): Promise<T> {
    const waitOptions: WaitOptions = {};
    if (options.timeoutMs !== undefined) waitOptions.timeoutMs = Math.round(options.timeoutMs);
    return this.#wait(name, "signal", waitOptions) as Promise<T>;
  }

  /**
   * Ask a person to approve or reject, and wait durably for the decision.
   *
   * The request goes to the approvals inbox and the `approvals` channel. A
   * rejection is a decision (check `approved`); no decision within
   * `timeoutMs` (default 48 hours) rejects with {@link WaitTimedOut}.
   */
  awaitApproval(name: string, request: ApprovalRequest): Promise<ApprovalDecision> {
    const asked: { [key: string]: JSONValue } = { title: request.title };
    try {
      if (request.body) asked["body"] = request.body;
      if (request.data !== undefined) asked["data"] = roundtrip(request.data);
      if (request.approvers !== undefined && request.approvers.length > 0) asked["approvers"] = [...request.approvers];
    } catch (error) {
      return Promise.reject(error);
    }
    const waitOptions: WaitOptions = { request: asked };
    if (request.timeoutMs !== undefined) waitOptions.timeoutMs = Math.round(request.timeoutMs);
    return quiet(this.#wait(name, "approval", waitOptions).then(approvalDecisionFromWire));
  }

  // ------------------------------------------------------------ child runs

  /**
   * Start a run of `workflow`, a child of this run, in a step named `name`;
   * await it later with `result()` or {@link gatherChildren}.
   *
   * The start takes its sequence number now, in program order, and the step
   * log records the child's run ID, so a retried parent finds its child
   * instead of starting another. An unknown workflow or an input that fails
   * its schema fails the step (class `permanent`) and starts nothing: the
   * handle's `runId()` and `result()` reject with it. Cancelling the parent
   * cancels its open children.
   */
  startChild<T = JSONValue>(name: string, workflow: string, input: JSONValue = null, options: ChildOptions = {}): ChildRun<T> {
    return startChild<T>(this.#core, this.#core.begin(name, undefined), workflow, input, options);
  }

  /** Start a child run and await its output: {@link startChild} then `result()`, both numbered now. */
  child<T = JSONValue>(name: string, workflow: string, input: JSONValue = null, options: ChildOptions = {}): Promise<T> {
    let child: ChildRun<T>;
    try {
      child = this.startChild<T>(name, workflow, input, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return child.result();
  }

  /**
   * Await many children and return their outputs in the order given (fan-in).
   * Every await takes its sequence number now, before any is sent, so the run
   * waits once on all the children still running and is woken when the last
   * ends, or at once when one fails: the first failed child, in the order
   * given, rejects with `ChildFailed`.
   */
  gatherChildren<T = JSONValue>(children: readonly ChildRun<T>[]): Promise<T[]> {
    return awaitChildren<T>(this.#core, children);
  }

  /** The running step's idempotency key, `RUNID/SEQ/NAME`: pass it to the provider. */
  idempotencyKey(): string {
    const ex = current.getStore();
    if (ex === undefined) throw new Error("idempotencyKey is called inside a step (or a compensation)");
    return ex.key;
  }

  /** Record a model call of the running step; the server prices it and checks the budget. */
  recordSpend(spend: SpendRecord): void {
    const call: ModelCall = { provider: spend.provider, model: spend.model };
    if (spend.inputTokens !== undefined) call.inputTokens = spend.inputTokens;
    if (spend.outputTokens !== undefined) call.outputTokens = spend.outputTokens;
    if (spend.cachedInputTokens !== undefined) call.cachedInputTokens = spend.cachedInputTokens;
    this.#core.recordSpend(call);
  }

  /**
   * A step that calls a model: its usage is recorded, its response (as a JSON
   * object) checkpointed. Provider errors become failure classes (429 →
   * `RateLimited` …). On replay the stored object is returned and `fn` is not called.
   */
  modelCall(
    name: string,
    fn: (signal: AbortSignal) => unknown,
    options: ModelCallOptions = {},
  ): Promise<{ [key: string]: JSONValue }> {
    const call = async (signal: AbortSignal): Promise<{ [key: string]: JSONValue }> => {
      let response: unknown;
      try {
        response = await fn(signal);
      } catch (error) {
        throw classifyModelError(error);
      }
      const usage = readUsage(response, options.provider, options.model);
      if (usage !== undefined) this.#core.recordSpend(usage);
      return jsonableResponse(response);
    };
    const stepOptions: StepOptions<{ [key: string]: JSONValue }> = {};
    if (options.timeoutMs !== undefined) stepOptions.timeoutMs = options.timeoutMs;
    if (options.validate !== undefined) stepOptions.validate = options.validate;
    return this.step(name, call, stepOptions);
  }
}
