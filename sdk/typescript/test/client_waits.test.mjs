// The people-side Client of durable waits against a real klaxon server
// (mirrors sdk/python/tests/test_client_waits.py): signals by run and by
// entity, the approvals inbox, decisions, and the errors of a signal or a
// decision the server refuses.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { Client, InvalidRequest, NotApprover, NotFound, SignalRefused, Worker } from "../dist/index.js";
import { Server, eventually, unique } from "./harness.mjs";

const fast = { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 20 };

async function withWorker(options, define, body) {
  const worker = new Worker({ concurrency: 4, claimWaitMs: 500, gracePeriodMs: 1000, log: () => {}, ...options });
  define(worker);
  await worker.start();
  try {
    return await body();
  } finally {
    await worker.stop();
  }
}

const waiting = (client, runId) => eventually(async () => (await client.run(runId)).status === "waiting", 10_000);

describe("the client's signals and approvals", () => {
  let server;
  let client;

  before(async () => {
    server = await Server.start("sqlite");
    client = new Client(server.url);
  });
  after(async () => {
    client?.close();
    await server?.stop();
  });

  test("a signal sent by the client completes the waiting run", async () => {
    const name = unique("payment");
    await withWorker(
      { server: server.url },
      (w) => w.workflow(name, { retry: fast }, async (ctx) => ctx.waitForSignal("paid", { timeoutMs: 30_000 })),
      async () => {
        const run = await client.enqueue(name, null);
        await waiting(client, run.id);
        const result = await client.signal(run.id, "paid", { amount: 12 }, { idempotencyKey: "pay-" + run.id });
        assert.equal(result.consumed, true);
        assert.equal(result.duplicate, false);
        assert.deepEqual([result.signal.runId, result.signal.name, result.signal.payload], [run.id, "paid", { amount: 12 }]);
        assert.equal(result.signal.idempotencyKey, "pay-" + run.id);
        assert.ok(result.signal.sentAt instanceof Date);

        const again = await client.signal(run.id, "paid", { amount: 99 }, { idempotencyKey: "pay-" + run.id });
        assert.equal(again.duplicate, true, "a send repeated with the same key is the first signal");
        assert.equal(again.signal.id, result.signal.id);
        assert.deepEqual(again.signal.payload, { amount: 12 });

        assert.equal((await client.awaitRun(run.id, { timeoutMs: 20_000 })).status, "completed");
        const detail = await client.runDetail(run.id);
        assert.deepEqual(detail.run.output, { amount: 12 });
        assert.deepEqual(
          detail.waits.map((w) => [w.name, w.kind, w.state]),
          [["paid", "signal", "satisfied"]],
        );
        assert.deepEqual(
          detail.signals.map((s) => [s.name, s.payload, s.consumedSeq]),
          [["paid", { amount: 12 }, detail.waits[0].seq]],
        );
      },
    );
  });

  test("a signal by entity reaches the entity's waiting run", async () => {
    const name = unique("order");
    const order = unique("o");
    await withWorker(
      { server: server.url },
      (w) => w.workflow(name, { retry: fast }, async (ctx) => ctx.waitForSignal("shipped", { timeoutMs: 30_000 })),
      async () => {
        const run = await client.enqueue(name, null, { entities: { order_id: order } });
        await waiting(client, run.id);
        const results = await client.signalEntity("order_id", order, "shipped", { carrier: "ups" });
        assert.deepEqual(
          results.map((r) => [r.signal.runId, r.consumed]),
          [[run.id, true]],
        );
        assert.deepEqual((await client.awaitRun(run.id, { timeoutMs: 20_000 })).output, { carrier: "ups" });
        await assert.rejects(client.signalEntity("order_id", "no-such-" + order, "shipped", {}), NotFound);
      },
    );
  });

  test("an approval listed in the inbox and decided by the client completes the run", async () => {
    const name = unique("refund");
    await withWorker(
      { server: server.url },
      (w) =>
        w.workflow(name, { retry: fast }, async (ctx) => {
          const decision = await ctx.awaitApproval("refund", { title: "Refund $12?", body: "Order 42", data: { amount: 12 }, timeoutMs: 60_000 });
          return { approved: decision.approved, by: decision.by, data: decision.data ?? null, comment: decision.comment };
        }),
      async () => {
        const run = await client.enqueue(name, null, { entities: { order_id: "42" } });
        await waiting(client, run.id);
        const pending = (await client.approvals(1000)).filter((w) => w.runId === run.id);
        assert.equal(pending.length, 1);
        const [asked] = pending;
        assert.deepEqual([asked.workflow, asked.name, asked.kind, asked.state], [name, "refund", "approval", "waiting"]);
        assert.deepEqual(asked.request, { title: "Refund $12?", body: "Order 42", data: { amount: 12 }, approvers: [] });
        assert.ok(asked.deadline > asked.startedAt);
        assert.deepEqual(asked.entities, { order_id: "42" });

        const decided = await client.decideApproval(run.id, "refund", true, { comment: "fine", data: { amount: 10 } });
        assert.equal(decided.approved, true);
        assert.deepEqual([decided.comment, decided.data], ["fine", { amount: 10 }]);
        assert.ok(decided.at instanceof Date);
        const done = await client.awaitRun(run.id, { timeoutMs: 20_000 });
        assert.equal(done.status, "completed");
        assert.deepEqual(done.output, { approved: true, by: decided.by, data: { amount: 10 }, comment: "fine" });
        assert.ok(!(await client.approvals()).some((w) => w.runId === run.id));
      },
    );
  });

  test("a rejection is a decision, and a decided request is no longer open", async () => {
    const name = unique("reject");
    await withWorker(
      { server: server.url },
      (w) =>
        w.workflow(name, { retry: fast }, async (ctx) => (await ctx.awaitApproval("send", { title: "Send it?", timeoutMs: 60_000 })).approved),
      async () => {
        const run = await client.enqueue(name, null);
        await waiting(client, run.id);
        const decided = await client.decideApproval(run.id, "send", false);
        assert.equal(decided.approved, false);
        assert.equal(decided.data, undefined);
        assert.equal((await client.awaitRun(run.id, { timeoutMs: 20_000 })).output, false);
        await assert.rejects(client.decideApproval(run.id, "send", true), NotFound);
      },
    );
  });

  test("refused signals and decisions reject with the SDK's errors", async () => {
    await assert.rejects(client.signal("no-such-run", "paid", {}), NotFound);
    await assert.rejects(client.decideApproval("no-such-run", "refund", true), NotFound);
    const name = unique("done");
    await withWorker(
      { server: server.url },
      (w) => w.workflow(name, { retry: fast }, async (ctx) => ctx.step("only", () => "done")),
      async () => {
        const run = await client.enqueue(name, null);
        assert.equal((await client.awaitRun(run.id, { timeoutMs: 20_000 })).status, "completed");
        await assert.rejects(client.signal(run.id, "paid", { amount: 1 }), (error) => {
          assert.ok(error instanceof SignalRefused, String(error));
          assert.equal(error.status, 409);
          return true;
        });
        assert.deepEqual((await client.runDetail(run.id)).signals, [], "a refused signal records nothing");
        await assert.rejects(client.signal(run.id, "paid", { n: 1n }), TypeError, "a payload that is not JSON is refused before sending");
        await assert.rejects(client.approvals(0), InvalidRequest);
      },
    );
  });
});

describe("approvers", () => {
  const workerToken = "worker-secret-0123456789abcdef";
  const alice = "alice-secret-0123456789abcdef";
  const bob = "bob-secret-0123456789abcdef";
  let server;

  before(async () => {
    server = await Server.start("sqlite", {
      tokens: [`ts-worker worker ${workerToken}`, `alice operate ${alice}`, `bob operate ${bob}`],
    });
  });
  after(async () => {
    await server?.stop();
  });

  test("a token not among the approvers may not decide", async () => {
    const asAlice = new Client(server.url, alice);
    const asBob = new Client(server.url, bob);
    try {
      await withWorker(
        { server: server.url, token: workerToken },
        (w) =>
          w.workflow("guarded", { retry: fast }, async (ctx) => {
            const decision = await ctx.awaitApproval("deploy", { title: "Deploy?", approvers: ["alice"], timeoutMs: 60_000 });
            return decision.by;
          }),
        async () => {
          const run = await asAlice.enqueue("guarded", null);
          await waiting(asAlice, run.id);
          assert.deepEqual(
            (await asBob.approvals()).map((w) => w.request?.approvers),
            [["alice"]],
          );
          await assert.rejects(asBob.decideApproval(run.id, "deploy", true), (error) => {
            assert.ok(error instanceof NotApprover, String(error));
            assert.equal(error.status, 403);
            return true;
          });
          assert.equal((await asAlice.decideApproval(run.id, "deploy", true)).by, "alice");
          assert.equal((await asAlice.awaitRun(run.id, { timeoutMs: 20_000 })).output, "alice");
        },
      );
    } finally {
      asAlice.close();
      asBob.close();
    }
  });
});
