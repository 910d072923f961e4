// Durable waits against a real klaxon server (mirrors
// sdk/python/tests/test_waits.py): a sleep that resumes the same attempt
// without running earlier steps again, a timeout the workflow may catch (or
// that dead-letters to review), a kept signal, an approval's decision, and
// bad input refused.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { Client, Failure, WaitTimedOut, Worker, formatTime, parseTime } from "../dist/index.js";
import { Server, eventually, unique } from "./harness.mjs";

const fast = { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 20 };

describe("durable waits on sqlite", () => {
  let server;
  let client;

  before(async () => {
    server = await Server.start("sqlite");
    client = new Client(server.url);
  });
  after(async () => {
    await server?.stop();
  });

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

  /** POST to the public API; the status. */
  async function post(path, body) {
    const answer = await fetch(server.url + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    await answer.arrayBuffer();
    return answer.status;
  }

  test("a sleep resumes the same attempt without running earlier steps again", async () => {
    const name = unique("sleeper");
    let fetched = 0;
    await withWorker(
      (w) =>
        w.workflow(name, { expectSteps: ["fetch", "nap", "store"], retry: fast }, async (ctx) => {
          await ctx.step("fetch", () => ++fetched);
          await ctx.sleep("nap", 300);
          return ctx.step("store", () => "stored");
        }),
      async () => {
        const run = await client.enqueue(name, null);
        const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
        assert.equal(done.status, "completed");
        assert.equal(done.attempt, 1, "a sleep is not a failed attempt");
        assert.equal(fetched, 1, "the step before the sleep ran again");
        const detail = await client.runDetail(run.id);
        assert.deepEqual(
          detail.steps.map((s) => [s.name, s.status, s.output]),
          [
            ["fetch", "completed", 1],
            ["nap", "completed", null],
            ["store", "completed", "stored"],
          ],
        );
        assert.ok(detail.events.some((e) => e.type === "run.waiting"));
      },
    );
  });

  test("sleepUntil goes on after its time", async () => {
    const name = unique("until");
    const due = new Date(Date.now() + 500);
    await withWorker(
      (w) =>
        w.workflow(name, { retry: fast }, async (ctx) => {
          await ctx.sleepUntil("until", due);
          return ctx.step("after", () => new Date().toISOString());
        }),
      async () => {
        const run = await client.enqueue(name, null);
        const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
        assert.equal(done.status, "completed");
        assert.ok(parseTime(done.output).getTime() >= due.getTime());
      },
    );
  });

  test("a signal wait past its timeout throws WaitTimedOut, which the workflow may catch", async () => {
    const name = unique("patient");
    const caught = [];
    await withWorker(
      (w) =>
        w.workflow(name, { retry: fast }, async (ctx) => {
          try {
            await ctx.waitForSignal("reply", { timeoutMs: 200 });
          } catch (error) {
            if (!(error instanceof WaitTimedOut)) throw error;
            caught.push(error);
            return ctx.step("remind", () => "reminded");
          }
          return "replied";
        }),
      async () => {
        const run = await client.enqueue(name, null);
        const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
        assert.equal(done.status, "completed");
        assert.equal(done.output, "reminded");
        assert.equal(done.attempt, 1);
        assert.ok(caught.length > 0);
        assert.ok(caught[0] instanceof Failure);
        assert.equal(caught[0].failureClass, "timeout");
        assert.equal(caught[0].message, 'signal "reply" not received in 200ms');
      },
    );
  });

  test("an uncaught wait timeout dead-letters to review without retries", async () => {
    const name = unique("unanswered");
    await withWorker(
      (w) => w.workflow(name, { retry: fast }, async (ctx) => ctx.waitForSignal("reply", { timeoutMs: 200 })),
      async () => {
        const run = await client.enqueue(name, null);
        const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
        assert.equal(done.status, "dead");
        assert.equal(done.attempt, 1);
        assert.equal(done.failure.class, "timeout");
        assert.match(done.failure.reason, /signal "reply" not received in 200ms/);
        const entries = await client.deadLetters({ run: run.id });
        assert.deepEqual(
          entries.map((e) => e.channel),
          ["review"],
        );
      },
    );
  });

  test("a signal sent before the wait is kept and taken", async (t) => {
    const name = unique("payer");
    let ready;
    const isReady = new Promise((r) => (ready = r));
    let goOn;
    const mayGoOn = new Promise((r) => (goOn = r));
    await withWorker(
      (w) =>
        w.workflow(name, { retry: fast }, async (ctx) => {
          await ctx.step("prepare", async () => {
            ready();
            await mayGoOn;
            return "prepared";
          });
          return ctx.waitForSignal("paid", { timeoutMs: 30_000 });
        }),
      async () => {
        const run = await client.enqueue(name, null);
        await isReady;
        let status;
        try {
          status = await post(`/api/v1/runs/${encodeURIComponent(run.id)}/signals/paid`, { amount: 12 });
        } finally {
          goOn();
        }
        if (status === 404 || status === 405) {
          t.skip("this server has no POST /api/v1/runs/{id}/signals/{name} route yet");
          return;
        }
        assert.ok(status < 300, `signal answered ${status}`);
        const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
        assert.equal(done.status, "completed");
        assert.deepEqual(done.output, { amount: 12 });
      },
    );
  });

  test("an approval returns the decision", async (t) => {
    const name = unique("refund");
    const decisions = [];
    await withWorker(
      (w) =>
        w.workflow(name, { retry: fast }, async (ctx) => {
          const decision = await ctx.awaitApproval("refund", { title: "Refund $12?", body: "Order 42", data: { amount: 12 }, timeoutMs: 60_000 });
          decisions.push(decision);
          return decision.approved;
        }),
      async () => {
        const run = await client.enqueue(name, null);
        await eventually(async () => (await client.run(run.id)).status === "waiting", 10_000);
        const status = await post(`/api/v1/runs/${encodeURIComponent(run.id)}/approvals/refund`, { decision: "approve", comment: "fine" });
        if (status === 404 || status === 405) {
          t.skip("this server has no POST /api/v1/runs/{id}/approvals/{name} route yet");
          return;
        }
        assert.ok(status < 300);
        const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
        assert.equal(done.status, "completed");
        assert.equal(decisions.at(-1).approved, true);
        assert.equal(decisions.at(-1).comment, "fine");
        assert.ok(decisions.at(-1).at instanceof Date);
      },
    );
  });

  test("a negative sleep is refused by the server as a permanent failure", async () => {
    const name = unique("negative");
    await withWorker(
      (w) => w.workflow(name, { retry: fast }, async (ctx) => ctx.sleep("nap", -1000)),
      async () => {
        const run = await client.enqueue(name, null);
        const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
        assert.equal(done.status, "dead");
        assert.equal(done.failure.class, "permanent");
        assert.match(done.failure.reason, /timeout_ms/);
        assert.deepEqual((await client.runDetail(run.id)).steps, []);
      },
    );
  });

  test("times on the wire", () => {
    assert.equal(parseTime("2026-12-05T07:53:20.123456789Z").toISOString(), "2026-12-05T07:53:20.123Z");
    assert.equal(parseTime(""), undefined);
    assert.equal(formatTime(new Date("2026-12-05T09:00:00+02:00")), "2026-12-05T07:00:00.000Z");
    assert.throws(() => formatTime(new Date("not a date")), TypeError);
  });
});
