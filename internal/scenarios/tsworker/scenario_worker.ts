/**
 * The TypeScript interpreter of the scenario catalog
 * (internal/scenarios/testdata/scenarios.json).
 *
 * It registers every scenario as a workflow of the TypeScript SDK
 * (sdk/typescript, built to dist/) and works its runs through the worker
 * protocol until SIGTERM or SIGINT; it prints "ready" once its workflows are
 * registered. Each step records its side effects on the harness's effects
 * server over HTTP, whose counts drive the "only the first N times"
 * behaviours, so that nothing here keeps state a killed process would lose.
 * It mirrors internal/scenarios/pyworker/scenario_worker.py and
 * internal/scenarios/goworker/main.go: a behaviour of one that the others
 * lack is a bug of the harness.
 *
 * Compiled beside itself by the Go harness (languages_test.go) with the SDK's tsc.
 */

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import {
  type Budget,
  type WorkflowOptions,
  type Context,
  ContextOverflow,
  Failure,
  type FailureClass,
  Permanent,
  PolicyViolation,
  RateLimited,
  type RetryPolicy,
  Semantic,
  type StepOptions,
  Transient,
  Worker,
} from "../../../sdk/typescript/dist/index.js";

interface Times {
  first?: number;
}

interface Fail extends Times {
  kind?: string;
  class?: string;
  message?: string;
  retry_after_ms?: number;
}

interface Step {
  name: string;
  value?: string;
  fail?: Fail;
  block?: Times;
  sleep?: Times & { ms: number };
  spend?: { provider: string; model: string; input_tokens?: number; output_tokens?: number };
  timeout_ms?: number;
  validate?: Times & { message: string };
  compensate?: { fail?: boolean; message?: string };
  swallow?: boolean;
  return_after?: boolean;
  renamed_on_later_attempt?: string;
  wait?: Wait;
  child?: Child;
}

/** A fan-out to child runs, instead of a function. */
interface Child {
  workflow: string;
  count: number;
}

/** Start the step's children, in program order, and await them all. */
async function fanOut(ctx: Context, name: string, spec: Child, key: string, completed: string[]): Promise<void> {
  const runs = [];
  for (let i = 1; i <= spec.count; i++) {
    runs.push(ctx.startChild<{ completed: string[] }>(`${name}-${i}`, spec.workflow, { key: `${key}/${name}-${i}` }));
  }
  const outputs = await ctx.gatherChildren(runs);
  outputs.forEach((output, i) => completed.push(`${name}-${i + 1}:` + output.completed.join("+")));
}

/** A durable wait of the body, instead of a function. */
interface Wait {
  kind: "sleep" | "signal" | "approval";
  ms?: number;
  title?: string;
}

/** A durable wait of the body; its result is not used. */
async function wait(ctx: Context, name: string, spec: Wait): Promise<void> {
  const ms = spec.ms ?? 0;
  const timeout = ms > 0 ? { timeoutMs: ms } : {};
  switch (spec.kind) {
    case "sleep":
      await ctx.sleep(name, ms);
      return;
    case "signal":
      await ctx.waitForSignal(name, timeout);
      return;
    case "approval":
      await ctx.awaitApproval(name, { title: spec.title ?? "", ...timeout });
      return;
  }
  throw new Error(`wait ${name}: unknown kind ${String(spec.kind)}`);
}

interface Scenario {
  name: string;
  worker?: string;
  expect_steps?: string[];
  retry?: {
    max_attempts?: number;
    initial_backoff_ms?: number;
    max_backoff_ms?: number;
    max_retry_after_ms?: number;
    classes?: Record<string, number>;
  };
  budget?: { tokens?: number; usd?: number };
  steps: Step[];
}

interface Output {
  value: string;
  execution: number;
}

/** The effects server's client. */
class Effects {
  constructor(private readonly url: string) {}

  private async post(path: string, key: string, effect: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const response = await fetch(this.url + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ key, effect }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`effects ${path}: ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  }

  async hit(key: string, effect: string): Promise<number> {
    return Number((await this.post("/hit", key, effect, 30_000))["count"]);
  }

  async block(key: string, effect: string): Promise<void> {
    // Deaf to cancellation, like a call to an API that takes no deadline.
    await this.post("/block", key, effect, 600_000);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function applies(times: Times | undefined, execution: number): boolean {
  if (times === undefined) return false;
  const first = times.first ?? 0;
  return first === 0 || execution <= first;
}

function failure(fail: Fail): Error {
  const message = fail.message ?? "";
  if (fail.kind === "error") return new Error(message);
  switch (fail.class ?? "") {
    case "rate_limited":
      return new RateLimited(message, fail.retry_after_ms ?? 0);
    case "permanent":
      return new Permanent(message);
    case "transient":
      return new Transient(message);
    case "semantic":
      return new Semantic(message);
    case "policy_violation":
      return new PolicyViolation(message);
    case "context_overflow":
      return new ContextOverflow(message);
    default:
      return new Failure((fail.class ?? "") as FailureClass, message);
  }
}

function stepFunction(ctx: Context, step: Step, name: string, key: string, effects: Effects): () => Promise<Output> {
  return async () => {
    const execution = await effects.hit(key, name);
    if (applies(step.block, execution)) await effects.block(key, name);
    if (step.sleep !== undefined && applies(step.sleep, execution)) {
      await sleep(step.sleep.ms); // past the timeout, deaf to it: the result comes late
    }
    if (step.spend) {
      ctx.recordSpend({
        provider: step.spend.provider,
        model: step.spend.model,
        inputTokens: step.spend.input_tokens ?? 0,
        outputTokens: step.spend.output_tokens ?? 0,
      });
    }
    if (step.fail !== undefined && applies(step.fail, execution)) {
      if (step.fail.kind === "panic") {
        const missing: any = null;
        missing.boom += 1; // a programming error: TypeError
      }
      throw failure(step.fail);
    }
    return { value: step.value ?? "", execution };
  };
}

function stepOptions(step: Step, name: string, key: string, effects: Effects): StepOptions<Output> {
  const options: StepOptions<Output> = {};
  if (step.timeout_ms) options.timeoutMs = step.timeout_ms;
  const reject = step.validate;
  if (reject !== undefined) {
    options.validate = (output) => (applies(reject, output.execution) ? new Semantic(reject.message) : undefined);
  }
  const compensation = step.compensate;
  if (compensation !== undefined) {
    options.compensate = async () => {
      await effects.hit(key, name + ".compensate");
      if (compensation.fail) throw new Error(compensation.message ?? "compensation failed");
    };
  }
  return options;
}

function register(worker: Worker, scenario: Scenario, effects: Effects): void {
  let retry: RetryPolicy | undefined;
  if (scenario.retry) {
    const r = scenario.retry;
    retry = {};
    if (r.max_attempts !== undefined) retry.maxAttempts = r.max_attempts;
    if (r.initial_backoff_ms !== undefined) retry.initialBackoffMs = r.initial_backoff_ms;
    if (r.max_backoff_ms !== undefined) retry.maxBackoffMs = r.max_backoff_ms;
    if (r.max_retry_after_ms !== undefined) retry.maxRetryAfterMs = r.max_retry_after_ms;
    if (r.classes !== undefined) retry.classes = r.classes;
  }
  let budget: Budget | undefined;
  if (scenario.budget) {
    budget = {};
    if (scenario.budget.tokens !== undefined) budget.tokens = scenario.budget.tokens;
    if (scenario.budget.usd !== undefined) budget.usd = scenario.budget.usd;
  }
  const options: WorkflowOptions = {};
  if (scenario.expect_steps !== undefined) options.expectSteps = scenario.expect_steps;
  if (retry !== undefined) options.retry = retry;
  if (budget !== undefined) options.budget = budget;

  worker.workflow(scenario.name, options, async (ctx: Context, input: { key: string }) => {
    const key = input.key;
    const executions = await effects.hit(key, "body");
    const completed: string[] = [];
    for (const step of scenario.steps) {
      let name = step.name;
      if (step.renamed_on_later_attempt && executions > 1) name = step.renamed_on_later_attempt;
      try {
        if (step.child) await fanOut(ctx, name, step.child, key, completed);
        else if (step.wait) await wait(ctx, name, step.wait);
        else await ctx.step(name, stepFunction(ctx, step, name, key, effects), stepOptions(step, name, key, effects));
      } catch (error) {
        if (step.swallow) continue;
        throw error;
      }
      completed.push(name);
      if (step.return_after) break;
    }
    return { completed };
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      server: { type: "string" },
      catalog: { type: "string" },
      effects: { type: "string" },
      only: { type: "string", default: "" },
      "lease-ms": { type: "string", default: "2000" },
      concurrency: { type: "string", default: "32" },
    },
  });
  if (!values.server || !values.catalog || !values.effects) {
    console.error("usage: scenario_worker.js --server URL --catalog FILE --effects URL [--only a,b] [--lease-ms N] [--concurrency N]");
    return 2;
  }
  const catalog = JSON.parse(readFileSync(values.catalog, "utf8")) as { scenarios: Scenario[] };
  const only = new Set((values.only ?? "").split(",").filter((name) => name));
  const effects = new Effects(values.effects);
  const worker = new Worker({
    server: values.server,
    concurrency: Math.min(Number(values.concurrency), 256),
    leaseMs: Number(values["lease-ms"]),
    claimWaitMs: 1000,
    gracePeriodMs: 1000,
  });
  for (const scenario of catalog.scenarios) {
    if (only.size > 0 ? !only.has(scenario.name) : scenario.worker === "dedicated") continue;
    register(worker, scenario, effects);
  }
  let stopping: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stopping = resolve;
  });
  process.on("SIGTERM", () => stopping());
  process.on("SIGINT", () => stopping());
  await worker.start();
  process.stdout.write("ready\n");
  await stopped;
  await Promise.race([worker.stop(), sleep(5000)]);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
