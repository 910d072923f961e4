// Child runs against a real klaxon server (mirrors
// sdk/python/tests/test_children.py): Promise.all over ctx.child numbered in
// program order whatever start ends first, a ChildFailed the parent catches
// with the child's ID, class and reason, and an input that fails the child
// workflow's schema refused with nothing started.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { ChildFailed, Client, Permanent, Worker } from "../dist/index.js";
import { Server, unique } from "./harness.mjs";

const fast = { maxAttempts: 2, initialBackoffMs: 20, maxBackoffMs: 20 };

describe("child runs on sqlite", () => {
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

  async function finish(workflow, input) {
    const run = await client.enqueue(workflow, input);
    await client.awaitRun(run.id, { timeoutMs: 20_000 });
    return client.runDetail(run.id);
  }

  test("Promise.all over ctx.child numbers each start and await in program order", async () => {
    const square = unique("square");
    const parent = unique("fan");
    await withWorker(
      (w) => {
        w.workflow(square, {}, async (ctx, n) => ctx.step("square", () => n * n));
        w.workflow(parent, { retry: fast }, async (ctx, n) => {
          const outputs = await Promise.all(Array.from({ length: n }, (_, i) => ctx.child(`sq-${i + 1}`, square, i + 1)));
          return outputs.reduce((a, b) => a + b, 0);
        });
      },
      async () => {
        const detail = await finish(parent, 4);
        assert.equal(detail.run.status, "completed", JSON.stringify(detail.run.failure));
        assert.equal(detail.run.output, 1 + 4 + 9 + 16);
        const names = [...detail.steps].sort((a, b) => a.seq - b.seq).map((s) => s.name);
        assert.deepEqual(names, ["sq-1", "sq-1", "sq-2", "sq-2", "sq-3", "sq-3", "sq-4", "sq-4"]);
        assert.deepEqual(
          detail.children.map((c) => [c.parentSeq, c.status]),
          [
            [1, "completed"],
            [3, "completed"],
            [5, "completed"],
            [7, "completed"],
          ],
        );
      },
    );
  });

  test("a dead child is a ChildFailed the parent may catch, with the child's ID, class and reason", async () => {
    const doomed = unique("doomed");
    const parent = unique("careful");
    await withWorker(
      (w) => {
        w.workflow(doomed, {}, async (ctx) => {
          await ctx.step("charge", () => {
            throw new Permanent("card declined");
          });
        });
        w.workflow(parent, {}, async (ctx) => {
          const child = ctx.startChild("pay", doomed, null);
          try {
            await child.result();
          } catch (error) {
            if (!(error instanceof ChildFailed)) throw error;
            return {
              runId: error.childRunId,
              started: await child.runId(),
              class: error.failureClass,
              status: error.childStatus,
              reason: error.reason,
            };
          }
          return {};
        });
      },
      async () => {
        const detail = await finish(parent, null);
        assert.equal(detail.run.status, "completed", JSON.stringify(detail.run.failure));
        const out = detail.run.output;
        assert.equal(out.runId, out.started);
        assert.deepEqual(
          detail.children.map((c) => c.childId),
          [out.runId],
        );
        assert.deepEqual([out.class, out.status], ["permanent", "dead"]);
        assert.match(out.reason, /card declined/);
        const child = await client.runDetail(out.runId);
        assert.equal(child.parent?.childId, out.runId);
      },
    );
  });

  test("an input that fails the child workflow's schema starts nothing", async () => {
    const strict = unique("strict");
    const parent = unique("sloppy");
    await withWorker(
      (w) => {
        w.workflow(strict, { inputSchema: { type: "object", required: ["n"] } }, async (_ctx, input) => input.n);
        w.workflow(parent, { retry: fast }, async (ctx) => ctx.child("bad", strict, { m: 1 }));
      },
      async () => {
        const detail = await finish(parent, null);
        assert.equal(detail.run.status, "dead");
        assert.equal(detail.run.failure?.class, "permanent");
        assert.ok(detail.run.failure?.reason.includes(`child run of workflow "${strict}"`), detail.run.failure?.reason);
        assert.equal(detail.attempts.length, 1, "a refused child is not retried");
        assert.deepEqual(detail.children, []);
        assert.deepEqual(detail.steps, []);
      },
    );
  });
});
