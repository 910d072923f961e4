// The SDK against a real klaxon server: the guarantees of issue 16, on SQLite
// and (when KLAXON_TEST_POSTGRES_URL is set) on PostgreSQL.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";

import { BudgetExceeded, Client, Permanent, Semantic, Transient, Worker } from "../dist/index.js";
import { Server, databases, eventually, unique } from "./harness.mjs";

const fast = { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 20 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const database of databases()) {
  describe(`worker on ${database.name}`, { skip: database.skip }, () => {
    let server;
    let client;

    before(async () => {
      server = await Server.start(database.name);
      client = new Client(server.url);
    });
    after(async () => {
      await server?.stop();
    });

    /** Start a worker with the workflows `define` adds; run `body`; stop it. */
    async function withWorker(define, body) {
      const worker = new Worker({ server: server.url, concurrency: 8, claimWaitMs: 1000, gracePeriodMs: 1000, log: () => {} });
      define(worker);
      await worker.start();
      try {
        return await body(worker);
      } finally {
        await worker.stop();
      }
    }

    test("completes with memoization after a transient failure", async () => {
      const name = unique("transient");
      const executions = { fetch: 0, call: 0, body: 0 };
      await withWorker(
        (w) =>
          w.workflow(name, { expectSteps: ["fetch", "call"], retry: fast }, async (ctx, url) => {
            executions.body++;
            const page = await ctx.step("fetch", () => {
              executions.fetch++;
              return { page: `<html>${url}</html>`, key: ctx.idempotencyKey() };
            });
            const summary = await ctx.step("call", () => {
              executions.call++;
              if (executions.call === 1) throw new Transient("upstream 503");
              return `summary of ${page.page}`;
            });
            return { summary, key: page.key };
          }),
        async () => {
          const run = await client.enqueue(name, "https://example.com");
          const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
          assert.equal(done.status, "completed");
          assert.equal(done.output.summary, "summary of <html>https://example.com</html>");
          assert.equal(done.output.key, `${run.id}/1/fetch`);
          assert.deepEqual(executions, { fetch: 1, call: 2, body: 2 });
          const detail = await client.runDetail(run.id);
          assert.deepEqual(detail.attempts.map((a) => a.class), ["transient"]);
          assert.deepEqual(
            detail.steps.map((s) => [s.seq, s.name, s.status]),
            [
              [1, "fetch", "completed"],
              [2, "call", "completed"],
            ],
          );
        },
      );
    });

    test("a validator's rejection is a semantic failure", async () => {
      const name = unique("semantic");
      await withWorker(
        (w) =>
          w.workflow(name, { retry: { maxAttempts: 5, initialBackoffMs: 20, maxBackoffMs: 20, classes: { semantic: 2 } } }, async (ctx) =>
            ctx.step("extract", () => -112.5, { validate: (total) => (total < 0 ? new Semantic("the total is negative") : undefined) }),
          ),
        async () => {
          const run = await client.enqueue(name, null);
          const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
          assert.equal(done.status, "dead");
          assert.equal(done.failure?.class, "semantic");
          assert.equal(done.failure?.reason, 'gave up after 2 attempts: step 1 "extract": the total is negative');
          const letters = await client.deadLetters({ workflow: name });
          assert.equal(letters.length, 1);
          assert.equal(letters[0].runId, run.id);
          assert.equal(letters[0].class, "semantic");
        },
      );
    });

    test("a budget overrun stops the next step", async () => {
      const name = unique("budget");
      let publishRan = false;
      await withWorker(
        (w) =>
          w.workflow(name, { expectSteps: ["draft", "publish"], budget: { tokens: 1000 } }, async (ctx) => {
            await ctx.step("draft", () => {
              ctx.recordSpend({ provider: "openai", model: "gpt-4o-mini", inputTokens: 900, outputTokens: 300 });
              return "draft";
            });
            try {
              await ctx.step("publish", () => {
                publishRan = true;
              });
            } catch (error) {
              assert.ok(error instanceof BudgetExceeded);
              throw error;
            }
          }),
        async () => {
          const run = await client.enqueue(name, null);
          const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
          assert.equal(done.status, "dead");
          assert.equal(done.failure?.class, "budget_exceeded");
          assert.ok(done.failure?.reason.startsWith('step 2 "publish": budget exceeded: 1200 of a budget of 1000 tokens used'), done.failure?.reason);
          assert.equal(publishRan, false);
        },
      );
    });

    test("a run that fails for good is compensated in reverse order", async () => {
      const name = unique("compensate");
      const undone = [];
      await withWorker(
        (w) =>
          w.workflow(name, async (ctx) => {
            await ctx.step("reserve", () => ({ id: "r1" }), {
              compensate: (out) => {
                undone.push(["reserve", out.id, ctx.idempotencyKey()]);
              },
            });
            await ctx.step("charge", async () => ({ id: "c1" }), {
              compensate: async (out) => {
                await sleep(5);
                undone.push(["charge", out.id, ctx.idempotencyKey()]);
              },
            });
            await ctx.step("ship", () => {
              throw new Permanent("the address does not exist");
            });
          }),
        async () => {
          const run = await client.enqueue(name, null);
          const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
          assert.equal(done.status, "dead");
          assert.equal(done.failure?.class, "permanent");
          assert.deepEqual(undone, [
            ["charge", "c1", `${run.id}/2/charge/compensate`],
            ["reserve", "r1", `${run.id}/1/reserve/compensate`],
          ]);
          const detail = await client.runDetail(run.id);
          assert.deepEqual(
            detail.steps.map((s) => s.status),
            ["compensated", "compensated"],
          );
        },
      );
    });

    test("a step past its timeout fails with kind timeout and its signal aborted", async () => {
      const name = unique("timeout");
      let aborted;
      await withWorker(
        (w) =>
          w.workflow(name, { retry: { maxAttempts: 1 } }, async (ctx) =>
            ctx.step(
              "slow",
              (signal) =>
                new Promise((resolve) => {
                  const timer = setTimeout(() => resolve("late"), 2000);
                  signal.addEventListener("abort", () => {
                    aborted = signal.reason;
                    clearTimeout(timer);
                    setTimeout(() => resolve("late anyway"), 50);
                  });
                }),
              { timeoutMs: 300 },
            ),
          ),
        async () => {
          const run = await client.enqueue(name, null);
          const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
          assert.equal(done.status, "dead");
          assert.equal(done.failure?.class, "timeout");
          assert.equal(done.failure?.reason, 'step 1 "slow": step ran past its timeout of 300ms');
          assert.equal(aborted?.name, "DeadlineExceeded");
          const detail = await client.runDetail(run.id);
          assert.deepEqual(detail.steps, []);
        },
      );
    });

    test("parallel steps are numbered in program order on every attempt", async () => {
      const name = unique("parallel");
      const ran = [];
      let attempt = 0;
      await withWorker(
        (w) =>
          w.workflow(name, { retry: fast }, async (ctx) => {
            attempt++;
            // Called a, b, c; they finish c, b, a.
            const outs = await Promise.all(
              ["a", "b", "c"].map((letter, i) =>
                ctx.step(letter, async () => {
                  ran.push(letter);
                  await sleep(120 - i * 50);
                  return letter.toUpperCase();
                }),
              ),
            );
            await ctx.step("join", () => {
              if (attempt === 1) throw new Transient("try again");
              return outs.join("");
            });
            return outs;
          }),
        async () => {
          const run = await client.enqueue(name, null);
          const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
          assert.equal(done.status, "completed");
          assert.deepEqual(done.output, ["A", "B", "C"]);
          assert.deepEqual(ran, ["a", "b", "c"]); // the second attempt replayed them
          const detail = await client.runDetail(run.id);
          assert.deepEqual(
            detail.steps.map((s) => [s.seq, s.name]),
            [
              [1, "a"],
              [2, "b"],
              [3, "c"],
              [4, "join"],
            ],
          );
        },
      );
    });

    test("a step log that disagrees with the code is nondeterminism, in the Go engine's words", async () => {
      const name = unique("nondeterminism");
      let attempt = 0;
      await withWorker(
        (w) =>
          w.workflow(name, { retry: fast }, async (ctx) => {
            attempt++;
            await ctx.step(attempt === 1 ? "plan" : "act", () => "x");
            // The body catching the failure does not change the outcome.
            await ctx.step("next", () => {
              if (attempt === 1) throw new Transient("again");
            }).catch(() => undefined);
            if (attempt === 1) throw new Transient("again");
            return "returned anyway";
          }),
        async () => {
          const run = await client.enqueue(name, null);
          const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
          assert.equal(done.status, "dead");
          assert.equal(done.failure?.class, "nondeterminism");
          assert.ok(
            done.failure?.reason.includes('nondeterminism at step 1: the step log recorded "plan" but the workflow called "act"'),
            done.failure?.reason,
          );
        },
      );
    });

    test("stop releases an unfinished run at once, and another worker finishes it from the step log", async () => {
      const name = unique("graceful");
      const executions = { first: 0, slow: 0 };
      let started;
      const slowStarted = new Promise((r) => (started = r));
      let abortedWith;
      const define = (blocking) => (w) =>
        w.workflow(name, async (ctx) => {
          await ctx.step("first", () => ++executions.first);
          return ctx.step("slow", (signal) => {
            executions.slow++;
            if (!blocking) return "done";
            started();
            return new Promise((resolve) => {
              signal.addEventListener("abort", () => {
                abortedWith = signal.reason;
                resolve("too late");
              });
            });
          });
        });
      const first = new Worker({ server: server.url, concurrency: 2, claimWaitMs: 1000, gracePeriodMs: 200, log: () => {} });
      define(true)(first);
      await first.start();
      const run = await client.enqueue(name, null);
      await slowStarted;
      await first.stop();
      assert.equal(abortedWith?.name, "RunStopped");
      const released = await client.run(run.id);
      assert.notEqual(released.status, "completed");
      assert.equal(released.status === "dead", false);
      await withWorker(define(false), async () => {
        const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
        assert.equal(done.status, "completed");
        assert.equal(done.output, "done");
        assert.deepEqual(executions, { first: 1, slow: 2 });
      });
    });

    test("worker.run() stops gracefully on SIGTERM", async (t) => {
      const name = unique("sigterm");
      const child = spawn(process.execPath, [new URL("./sigterm_worker.mjs", import.meta.url).pathname, server.url, name], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      const exited = new Promise((r) => child.once("exit", (code) => r(code)));
      t.after(() => child.kill("SIGKILL"));
      // Enqueued once the child has registered the workflow.
      const run = await eventually(() => client.enqueue(name, null).catch(() => undefined), 20_000, 100);
      const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
      assert.equal(done.status, "completed");
      for (let i = 0; i < 100 && !out.includes("ready"); i++) await sleep(50);
      const signalled = performance.now();
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
      assert.ok(out.includes("stopped"), out);
      assert.ok(performance.now() - signalled < 5000);
    });

    test("modelCall records an OpenAI-shaped response's usage and classifies a 429", async () => {
      const name = unique("model");
      let calls = 0;
      await withWorker(
        (w) =>
          w.workflow(name, { retry: { ...fast, maxRetryAfterMs: 50 } }, async (ctx) => {
            const answer = await ctx.modelCall("summarize", async () => {
              calls++;
              if (calls === 1) {
                const error = new Error("429 Rate limit reached");
                error.status = 429;
                error.headers = { "retry-after-ms": "10" };
                throw error;
              }
              return {
                id: "chatcmpl-1",
                model: "gpt-4o-mini",
                choices: [{ message: { role: "assistant", content: "short" } }],
                usage: { prompt_tokens: 1200, completion_tokens: 85, prompt_tokens_details: { cached_tokens: 0 } },
              };
            });
            return answer.choices[0].message.content;
          }),
        async () => {
          const run = await client.enqueue(name, null);
          const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
          assert.equal(done.status, "completed");
          assert.equal(done.output, "short");
          const detail = await client.runDetail(run.id);
          assert.deepEqual(detail.attempts.map((a) => a.class), ["rate_limited"]);
          assert.deepEqual(done.spend.usage, { input_tokens: 1200, output_tokens: 85, cached_tokens: 0 });
          assert.equal(done.spend.model_calls, 1);
        },
      );
    });
  });
}
