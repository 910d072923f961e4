/**
 * The worker: registers workflows, claims runs by long poll, runs them,
 * heartbeats their leases (mirrors sdk/python/klaxon/worker.py).
 *
 * `await worker.run()` runs until SIGTERM or SIGINT (or {@link Worker.stop}):
 * it stops claiming, lets running runs go on for `gracePeriodMs`, then
 * releases the runs not finished: they become claimable at once, the attempt
 * not counted.
 */

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

import { Context, ReplayFrontier, RunCore, RunStopped } from "./context.js";
import {
  DeadlineExceeded,
  InvalidOutput,
  InvalidRequest,
  KlaxonError,
  LeaseLost,
  NotFound,
  Semantic,
  UnknownWorkflow,
  goDuration,
} from "./errors.js";
import { type Budget, type RetryPolicy, retryToWire } from "./policy.js";
import {
  type ClaimedRun,
  type JSONValue,
  type OutcomeRequest,
  Transport,
  WorkerProtocol,
  type WorkflowRegistration,
} from "./protocol.js";

export const SDK_VERSION = "0.1.0";

/** A workflow function: `(ctx, input) => output`. */
export type WorkflowFunction<I = any, O = unknown> = (ctx: Context, input: I) => O | Promise<O>;

export interface WorkflowOptions {
  version?: number;
  /** The manifest: the steps a run must complete (else `partial_completion`). */
  expectSteps?: readonly string[];
  retry?: RetryPolicy;
  budget?: Budget;
  runTimeoutMs?: number;
  inputSchema?: unknown;
  outputSchema?: unknown;
  stepOutputSchemas?: Record<string, unknown>;
  /**
   * JSON paths (`$.customer.email`) whose values the server's API, dashboard and notifications mask
   * for tokens below admin (docs/redaction.md); checked by the server at registration.
   */
  redact?: readonly string[];
  /** Regular expressions in Go RE2 syntax (`sk-[A-Za-z0-9]{20,}`) whose matches are masked likewise. */
  redactPatterns?: readonly string[];
  /**
   * The JSON path of the input value (`$.customer.id`) under which at most `concurrencyLimit` runs
   * (default 1) run at once across every worker (docs/flow-control.md).
   */
  concurrencyKey?: string;
  concurrencyLimit?: number;
  /** The priority (-100..100) of runs enqueued without one. */
  defaultPriority?: number;
}

export interface WorkerOptions {
  /** The server's URL (default http://127.0.0.1:7070). */
  server?: string;
  /** A token of scope `worker`. */
  token?: string | undefined;
  /** How many runs at once, 1 to 256 (default 16). */
  concurrency?: number;
  workerId?: string;
  /** The lease asked for on claims and heartbeats (1000 to 600000 ms; default the server's). */
  leaseMs?: number;
  /** The long poll's wait (at most 30000 ms; default 20000). */
  claimWaitMs?: number;
  /** How long a stopping worker lets its runs go on before releasing them (default 10000 ms). */
  gracePeriodMs?: number;
  requestTimeoutMs?: number;
  /** Where warnings go (default console.warn). */
  log?: (message: string) => void;
}

interface Registered {
  fn: WorkflowFunction;
  registration: WorkflowRegistration;
}

function defaultWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Hosts workflows for a Klaxon server. */
export class Worker {
  readonly server: string;
  readonly concurrency: number;
  workerId: string;
  readonly leaseMs: number | undefined;
  readonly claimWaitMs: number;
  readonly gracePeriodMs: number;
  private readonly protocol: WorkerProtocol;
  private readonly claims: WorkerProtocol;
  private readonly workflows = new Map<string, Registered>();
  private readonly held = new Map<string, RunCore>();
  private readonly running = new Set<Promise<void>>();
  private free: number;
  private heartbeatMs = 10_000;
  private stopping = false;
  private wake: (() => void) | undefined;
  private served: Promise<void> | undefined;
  private stopRequested: (() => void) | undefined;
  private readonly warn: (message: string) => void;

  constructor(options: WorkerOptions = {}) {
    const concurrency = options.concurrency ?? 16;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
      throw new RangeError("concurrency is between 1 and 256");
    }
    if (options.leaseMs !== undefined && (options.leaseMs < 1000 || options.leaseMs > 600_000)) {
      throw new RangeError("leaseMs is between 1000 and 600000");
    }
    const claimWaitMs = options.claimWaitMs ?? 20_000;
    if (!(claimWaitMs > 0 && claimWaitMs <= 30_000)) throw new RangeError("claimWaitMs is above 0 and at most 30000");
    this.server = options.server ?? "http://127.0.0.1:7070";
    this.concurrency = concurrency;
    this.free = concurrency;
    this.workerId = options.workerId ?? defaultWorkerId();
    this.leaseMs = options.leaseMs;
    this.claimWaitMs = claimWaitMs;
    this.gracePeriodMs = options.gracePeriodMs ?? 10_000;
    const timeoutMs = options.requestTimeoutMs ?? 60_000;
    this.protocol = new WorkerProtocol(new Transport(this.server, options.token, { timeoutMs }));
    this.claims = new WorkerProtocol(new Transport(this.server, options.token, { timeoutMs, retries: 0 }));
    this.warn = options.log ?? ((message: string) => console.warn(message));
  }

  // ------------------------------------------------------------ registration

  /** Register `fn(ctx, input)` as workflow `name`. */
  workflow<I = any, O = unknown>(name: string, options: WorkflowOptions, fn: WorkflowFunction<I, O>): this;
  workflow<I = any, O = unknown>(name: string, fn: WorkflowFunction<I, O>): this;
  workflow<I, O>(name: string, a: WorkflowOptions | WorkflowFunction<I, O>, b?: WorkflowFunction<I, O>): this {
    const fn = (typeof a === "function" ? a : b) as WorkflowFunction | undefined;
    const options: WorkflowOptions = typeof a === "function" ? {} : a;
    if (typeof fn !== "function") throw new TypeError(`workflow ${JSON.stringify(name)}: a function is needed`);
    if (!name) throw new TypeError("a workflow needs a name");
    if (this.workflows.has(name)) throw new Error(`workflow ${JSON.stringify(name)} is registered twice`);
    const registration: WorkflowRegistration = { name, version: options.version ?? 1 };
    if (options.expectSteps !== undefined) registration.expectSteps = [...options.expectSteps];
    if (options.retry !== undefined) registration.retry = retryToWire(options.retry);
    if (options.budget !== undefined) registration.budget = options.budget;
    if (options.runTimeoutMs) registration.runTimeoutMs = Math.round(options.runTimeoutMs);
    if (options.inputSchema !== undefined) registration.inputSchema = options.inputSchema;
    if (options.outputSchema !== undefined) registration.outputSchema = options.outputSchema;
    if (options.stepOutputSchemas !== undefined) registration.stepOutputSchemas = options.stepOutputSchemas;
    if (options.redact !== undefined) registration.redact = [...options.redact];
    if (options.redactPatterns !== undefined) registration.redactPatterns = [...options.redactPatterns];
    if (options.concurrencyLimit !== undefined && options.concurrencyKey === undefined) {
      throw new TypeError(`workflow ${JSON.stringify(name)}: concurrencyLimit needs a concurrencyKey`);
    }
    if (options.concurrencyKey !== undefined) registration.concurrencyKey = options.concurrencyKey;
    if (options.concurrencyLimit !== undefined) registration.concurrencyLimit = options.concurrencyLimit;
    if (options.defaultPriority !== undefined) registration.defaultPriority = options.defaultPriority;
    this.workflows.set(name, { fn, registration });
    return this;
  }

  /** Register the workflows with the server (`run` and `start` do it first). */
  async register(): Promise<void> {
    if (this.workflows.size === 0) throw new Error("no workflow is registered: add one with worker.workflow(name, fn)");
    const answer = await this.protocol.register(
      { id: this.workerId, language: "typescript", sdkVersion: SDK_VERSION, runtime: `Node.js ${process.versions.node}` },
      [...this.workflows.values()].map((w) => w.registration),
    );
    if (answer.workerId) this.workerId = answer.workerId;
    this.heartbeatMs = answer.heartbeatMs;
    if (this.leaseMs !== undefined) this.heartbeatMs = Math.min(this.heartbeatMs, Math.max(100, Math.round(this.leaseMs / 3)));
  }

  // ------------------------------------------------------------ running

  /** Register, then claim and run until SIGTERM/SIGINT or {@link stop}; resolves once stopped. */
  async run(): Promise<void> {
    const onSignal = (): void => {
      void this.stop();
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    try {
      await this.start();
      await this.served;
    } finally {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }
  }

  /** Register and start working in the background; resolves once registered. {@link stop} ends it. */
  async start(): Promise<void> {
    if (this.served !== undefined) throw new Error("the worker is already started");
    await this.register();
    const stopRequested = new Promise<void>((resolve) => {
      this.stopRequested = resolve;
    });
    if (this.stopping) this.stopRequested?.();
    this.served = this.serve(stopRequested);
  }

  /** Stop claiming; runs go on for `gracePeriodMs`, then the rest are released. Resolves once stopped. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.stopRequested?.();
    await this.served;
  }

  private async serve(stopRequested: Promise<void>): Promise<void> {
    let heartbeatTimer: NodeJS.Timeout | undefined;
    let heartbeatDone = false;
    let beating: Promise<void> = Promise.resolve();
    const beat = async (): Promise<void> => {
      await this.heartbeat();
      if (!heartbeatDone) heartbeatTimer = setTimeout(() => (beating = beat()), this.heartbeatMs);
    };
    heartbeatTimer = setTimeout(() => (beating = beat()), this.heartbeatMs);
    // The long poll in flight is not cut short: a claim the server answers
    // after we hung up would hold runs nobody works until their lease ends.
    // Its runs are released as they come, while the grace period runs.
    const claimer = this.claimLoop();
    await stopRequested;
    await this.shutdown();
    await claimer;
    await Promise.allSettled([...this.running]);
    heartbeatDone = true;
    clearTimeout(heartbeatTimer);
    await beating;
    this.protocol.transport.close();
    this.claims.transport.close();
  }

  private async waitForSlot(): Promise<void> {
    while (this.free === 0 && !this.stopping) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }

  private async claimLoop(): Promise<void> {
    const names = [...this.workflows.keys()];
    let failures = 0;
    while (!this.stopping) {
      await this.waitForSlot();
      if (this.stopping) return;
      let runs: ClaimedRun[];
      try {
        runs = await this.claims.claim({
          workerId: this.workerId,
          workflows: names,
          limit: this.free,
          waitMs: this.claimWaitMs,
          leaseMs: this.leaseMs,
        });
        failures = 0;
      } catch (error) {
        if (error instanceof UnknownWorkflow) {
          // The database no longer knows our workflows (reset, or a new one): register again.
          this.warn(`klaxon worker ${this.workerId}: ${error.message}; registering again`);
          try {
            await this.register();
          } catch (again) {
            this.warn(`klaxon worker ${this.workerId}: registration failed: ${String(again)}`);
            await sleep(1000);
          }
          continue;
        }
        if (this.stopping) return;
        failures++;
        this.warn(`klaxon worker ${this.workerId}: claim failed: ${String(error)}`);
        await sleep(Math.min(5000, 200 * 2 ** failures));
        continue;
      }
      for (const run of runs) this.accept(run);
    }
  }

  private accept(run: ClaimedRun): void {
    const core = new RunCore(run, this.protocol, this.workerId);
    if (this.stopping || !this.workflows.has(run.workflow)) {
      void this.release(core);
      return;
    }
    this.held.set(run.runId, core);
    this.free--;
    const work = this.work(core)
      .catch((error: unknown) => this.warn(`klaxon worker ${this.workerId}: run ${run.runId}: ${String(error)}`))
      .finally(() => {
        // The run's next attempt may already be held here under a new
        // claim: forgetting it would stop its heartbeats, and its lease
        // would expire under a live worker.
        if (this.held.get(run.runId) === core) this.held.delete(run.runId);
        this.free++;
        this.running.delete(work);
        this.wake?.();
      });
    this.running.add(work);
  }

  private async work(core: RunCore): Promise<void> {
    const workflow = this.workflows.get(core.run.workflow);
    if (workflow === undefined) return;
    const ctx = new Context(core);
    let returned = false;
    let value: unknown;
    try {
      value = await workflow.fn(ctx, core.run.input);
      returned = true;
    } catch (error) {
      if (error instanceof RunStopped && core.stopped !== undefined) return;
      if (error instanceof ReplayFrontier) returned = true;
      else value = error;
    }
    if (core.deadline !== undefined && performance.now() > core.deadline && core.run.mode === "run") {
      returned = false;
      value = new DeadlineExceeded(`run ran past its timeout of ${goDuration(core.run.runTimeoutMs)}`);
    }
    if (!core.trySettle()) return;
    await this.finish(core, core.outcome(returned, value));
  }

  private async finish(core: RunCore, request: OutcomeRequest): Promise<void> {
    const runId = core.run.runId;
    try {
      let answer;
      try {
        answer = await this.protocol.outcome(runId, request);
      } catch (problem) {
        if (!(problem instanceof InvalidOutput) || request.result !== "completed") throw problem;
        const failure = new Semantic(`the workflow's output fails its output schema: ${problem.detail || problem.message}`);
        answer = await this.protocol.outcome(runId, core.outcome(false, failure));
      }
      if (answer.next === "compensate") {
        try {
          await core.compensate(answer.compensate);
        } catch (error) {
          if (error instanceof RunStopped) return;
          throw error;
        }
        await this.protocol.outcome(runId, core.compensated());
      }
    } catch (problem) {
      if (problem instanceof LeaseLost || problem instanceof NotFound) return; // no longer ours
      if (problem instanceof InvalidRequest) {
        this.warn(`klaxon worker ${this.workerId}: run ${runId}: the server refused the outcome: ${problem.message}`);
      } else if (problem instanceof KlaxonError) {
        this.warn(`klaxon worker ${this.workerId}: run ${runId}: outcome not sent: ${problem.message}`);
      } else {
        throw problem;
      }
    }
  }

  // ------------------------------------------------------------ leases

  private async heartbeat(): Promise<void> {
    const held = [...this.held.values()];
    if (held.length === 0) return;
    const time = performance.now();
    for (const core of held) {
      if (core.deadline !== undefined && time > core.deadline + 1000 && core.trySettle()) {
        // The body is stuck outside any step: report the timeout for it.
        core.stop("the run ran past its timeout");
        const failure = new DeadlineExceeded(`run ran past its timeout of ${goDuration(core.run.runTimeoutMs)}`);
        void this.finish(core, core.outcome(false, failure)).catch(() => undefined);
      }
    }
    const leases = held.filter((c) => c.stopped === undefined).map((c) => ({ runId: c.run.runId, epoch: c.run.epoch }));
    if (leases.length === 0) return;
    let lost: string[];
    try {
      lost = await this.protocol.heartbeat(this.workerId, leases, this.leaseMs);
    } catch (error) {
      this.warn(`klaxon worker ${this.workerId}: heartbeat failed: ${String(error)}`);
      return;
    }
    for (const runId of lost) {
      const core = this.held.get(runId);
      // A settled run (its outcome sent, compensating) is left to the server's refusals of its writes.
      if (core !== undefined && !core.settled) core.stop("lease lost");
    }
  }

  private async shutdown(): Promise<void> {
    const deadline = performance.now() + this.gracePeriodMs;
    while (this.held.size > 0 && performance.now() < deadline) await sleep(50);
    await Promise.all([...this.held.values()].map((core) => this.release(core)));
  }

  private async release(core: RunCore): Promise<void> {
    if (core.settled) return;
    core.stop(core.stopped ?? "released");
    try {
      await this.protocol.release(core.run.runId, this.workerId, core.run.epoch);
    } catch (error) {
      if (!(error instanceof KlaxonError)) throw error;
    }
  }
}

export type { JSONValue };
