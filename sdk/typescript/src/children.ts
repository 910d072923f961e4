/**
 * Child runs: a step starts a run of another workflow, and the parent awaits
 * it (mirrors sdk/python/klaxon/children.py).
 *
 * The server keeps every rule, as for Go's `klaxon.StartChild` and
 * `klaxon.AwaitChildren`: the start is a step whose output (the child's run
 * ID) is the durable link, so a retried parent finds its child instead of
 * starting another; each await is a wait step, the run waiting without a
 * worker until its children end; a child that ends dead or cancelled fails the
 * await with the child's class ({@link ChildFailed}). The SDK takes sequence
 * numbers in program order, memoizes from the step log, and sends the rest.
 */

import { Failure, WaitTimedOut, isFailureClass, type FailureClass } from "./errors.js";
import { type Plan, type RunCore, RunStopped } from "./context.js";
import type { ChildAwaitAnswer, JSONValue } from "./protocol.js";

/** Options of a child run. */
export interface ChildOptions {
  /** How long the parent awaits the child, from when it first reaches the await (default 48 hours). */
  timeoutMs?: number;
}

/** What a child's start step holds: the child's run ID and workflow. */
interface Started {
  runId: string;
  workflow: string;
}

/**
 * A child run the parent awaited ended dead or cancelled (Go's
 * `klaxon.ErrChildFailed`). Its `failureClass` is the child's (`cancelled` for
 * a cancelled child), so the parent's step fails as the child did;
 * `childRunId`, `childWorkflow`, `childStatus` (`dead` or `cancelled`),
 * `childClass` and `reason` say which child and why. Resolving or replaying
 * the child (it then completes) lets a parent that died of it resume.
 */
export class ChildFailed extends Failure {
  readonly childRunId: string;
  readonly childWorkflow: string;
  readonly childStatus: string;
  readonly childClass: string;
  readonly reason: string;

  constructor(message: string, child: ChildAwaitAnswer["child"], failureClass = "") {
    const cls = failureClass || child.class;
    super(isFailureClass(cls) ? (cls as FailureClass) : "cancelled", message);
    this.childRunId = child.runId;
    this.childWorkflow = child.workflow;
    this.childStatus = child.status;
    this.childClass = child.class;
    this.reason = child.reason;
  }
}

/**
 * A child run started by `ctx.startChild`: await it with {@link result}, or
 * many at once with `ctx.gatherChildren`.
 */
export class ChildRun<T = JSONValue> {
  readonly #core: RunCore;
  readonly #started: Promise<Started>;

  /** @internal Made by `ctx.startChild`. */
  constructor(
    core: RunCore,
    readonly name: string,
    started: Promise<Started>,
    readonly timeoutMs: number | undefined,
  ) {
    this.#core = core;
    this.#started = started;
    started.catch(() => undefined); // thrown to whoever awaits the child
  }

  /** The child's run ID, once its start step ended (or its failure). */
  async runId(): Promise<string> {
    return (await this.#started).runId;
  }

  /**
   * Wait durably for the child to end and return its output: a wait step named
   * like the start, whose sequence number is taken now. When the child is
   * still running the run gives up its worker (the promise rejects with
   * `RunStopped`: let it end the body) and resumes here once the child ended.
   * A child that ended dead or cancelled rejects with {@link ChildFailed};
   * past `timeoutMs`, with `WaitTimedOut`.
   */
  result(): Promise<T> {
    return awaitChildren<T>(this.#core, [this]).then((outputs) => outputs[0] as T);
  }

  /** @internal */
  started(): Promise<Started> {
    return this.#started;
  }
}

/** Start the child whose step `plan` began (or find it in the step log). */
export function startChild<T>(
  core: RunCore,
  plan: Plan,
  workflow: string,
  input: JSONValue,
  options: ChildOptions,
): ChildRun<T> {
  return new ChildRun<T>(core, planName(plan, core), start(core, plan, workflow, input), options.timeoutMs);
}

function planName(plan: Plan, core: RunCore): string {
  if (plan.kind === "execute") return plan.ex.name;
  return core.log.get(plan.seq)?.name ?? "";
}

async function start(core: RunCore, plan: Plan, workflow: string, input: JSONValue): Promise<Started> {
  if (plan.kind === "error") throw plan.error;
  if (plan.kind === "memo") {
    const logged = (plan.output ?? {}) as { [key: string]: JSONValue };
    return { runId: String(logged["run_id"] ?? ""), workflow: String(logged["workflow"] ?? "") };
  }
  const ex = plan.ex;
  ex.closed = true;
  const run = core.run;
  const answer = await core.ask(ex, "child", () =>
    core.protocol.childStart(run.runId, ex.seq, {
      workerId: core.workerId,
      workflow: run.workflow,
      attempt: run.attempt,
      epoch: run.epoch,
      name: ex.name,
      childWorkflow: workflow,
      input,
    }),
  );
  if (answer.state !== "started") {
    const cls = isFailureClass(answer.class) ? (answer.class as FailureClass) : "permanent";
    const refused = new Failure(cls, answer.message || `child "${ex.name}" of workflow "${workflow}" was not started`);
    throw core.fail(ex, refused, performance.now() - ex.started);
  }
  core.stepsDone.push(ex.seq);
  return { runId: answer.runId, workflow: answer.childWorkflow || workflow };
}

/**
 * Await children: one wait step each, at consecutive sequence numbers taken
 * now (synchronously, so in program order), then one request for all.
 */
export function awaitChildren<T>(core: RunCore, children: readonly ChildRun<T>[]): Promise<T[]> {
  let plans: Plan[];
  try {
    plans = children.map((child) => core.begin(child.name, undefined));
  } catch (error) {
    return Promise.reject(error);
  }
  const result = awaitPlans(core, plans, children) as Promise<T[]>;
  result.catch(() => undefined); // kept for the outcome, thrown to whoever awaits
  return result;
}

async function awaitPlans<T>(core: RunCore, plans: Plan[], children: readonly ChildRun<T>[]): Promise<JSONValue[]> {
  for (const plan of plans) if (plan.kind === "error") throw plan.error;
  const started = await Promise.all(children.map((child) => child.started()));
  if (plans.every((plan) => plan.kind === "memo")) return plans.map((plan) => (plan.kind === "memo" ? plan.output : null));
  const executing = plans.flatMap((plan) => (plan.kind === "execute" ? [plan.ex] : []));
  for (const ex of executing) ex.closed = true;
  const first = executing[0]!;
  const run = core.run;
  const answer = await core.ask(first, "await", () =>
    core.protocol.childAwait(run.runId, plans[0]!.seq, {
      workerId: core.workerId,
      workflow: run.workflow,
      attempt: run.attempt,
      epoch: run.epoch,
      awaits: children.map((child, i) => {
        const wire: { name: string; childRunId: string; timeoutMs?: number } = { name: child.name, childRunId: started[i]!.runId };
        if (child.timeoutMs !== undefined) wire.timeoutMs = Math.round(child.timeoutMs);
        return wire;
      }),
      stepFailures: [...core.stepFailures],
    }),
  );
  if (answer.state === "satisfied") {
    core.stepsDone.push(...executing.map((ex) => ex.seq));
    return answer.outputs;
  }
  if (answer.state === "failed" || answer.state === "timed_out") {
    const failed = executing.find((ex) => ex.seq === answer.seq) ?? first;
    const error =
      answer.state === "failed"
        ? new ChildFailed(answer.message, answer.child, answer.class)
        : new WaitTimedOut(answer.message || `child "${failed.name}" not ended in time`);
    throw core.fail(failed, error, performance.now() - failed.started);
  }
  // "waiting": the run waits on its children without a lease; a later claim
  // goes on from the step log.
  core.stop(`the run awaits its children until ${answer.until || "they end"}`);
  throw new RunStopped(core.stopped ?? "waiting");
}
