"""The people-side ``Client`` of durable waits against a real ``klaxon server``:
signals by run and by entity, the approvals inbox, decisions, and the errors
of a signal or a decision the server refuses.
"""

from __future__ import annotations

import threading
import unittest
import uuid
from typing import Any

from harness import Server, eventually

import klaxon

FAST = klaxon.RetryPolicy(max_attempts=3, initial_backoff=0.05, max_backoff=0.1)


class ClientWaits(unittest.TestCase):
    server: Server
    client: klaxon.Client

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = Server()
        if not cls.server.has_worker_protocol():
            cls.server.stop()
            raise unittest.SkipTest("this klaxon server has no worker protocol")
        cls.client = klaxon.Client(cls.server.url)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.client.close()
        cls.server.stop()

    def name(self, base: str) -> str:
        return f"{base}-{uuid.uuid4().hex[:8]}"

    def start(self, define: Any) -> None:
        worker = klaxon.Worker(self.server.url, concurrency=4, lease=5.0, claim_wait=0.5, grace_period=1.0)
        define(worker)
        worker.start()
        self.addCleanup(worker.stop, True)

    def waiting(self, run_id: str) -> None:
        eventually(lambda: self.client.run(run_id).status == "waiting", timeout=10)

    def test_a_signal_sent_by_the_client_completes_the_waiting_run(self) -> None:
        name = self.name("payment")

        def define(w: klaxon.Worker) -> None:
            @w.workflow(name, retry=FAST)
            def wf(ctx: klaxon.Context, _: Any) -> Any:  # pyright: ignore[reportUnusedFunction]
                return ctx.wait_for_signal("paid", timeout=30)

        self.start(define)
        run = self.client.enqueue(name)
        self.waiting(run.id)
        result = self.client.signal(run.id, "paid", {"amount": 12}, idempotency_key="pay-" + run.id)
        self.assertIsInstance(result, klaxon.SignalResult)
        self.assertTrue(result.consumed)
        self.assertFalse(result.duplicate)
        self.assertEqual((result.signal.run_id, result.signal.name, result.signal.payload), (run.id, "paid", {"amount": 12}))
        self.assertEqual(result.signal.idempotency_key, "pay-" + run.id)
        self.assertIsNotNone(result.signal.sent_at)

        again = self.client.signal(run.id, "paid", {"amount": 99}, idempotency_key="pay-" + run.id)
        self.assertTrue(again.duplicate, "a send repeated with the same key is the first signal")
        self.assertEqual(again.signal.id, result.signal.id)
        self.assertEqual(again.signal.payload, {"amount": 12})

        self.assertEqual(self.client.await_run(run.id, timeout=20).status, "completed")
        detail = self.client.run_detail(run.id)
        self.assertEqual(detail.run.output, {"amount": 12})
        self.assertEqual([(w.name, w.kind, w.state) for w in detail.waits], [("paid", "signal", "satisfied")])
        self.assertEqual([(s.name, s.payload, s.consumed_seq) for s in detail.signals], [("paid", {"amount": 12}, detail.waits[0].seq)])

    def test_a_signal_before_the_wait_is_kept_not_consumed(self) -> None:
        name = self.name("early")
        ready = threading.Event()
        go_on = threading.Event()

        def prepare() -> str:
            ready.set()
            go_on.wait(10)
            return "prepared"

        def define(w: klaxon.Worker) -> None:
            @w.workflow(name, retry=FAST)
            def wf(ctx: klaxon.Context, _: Any) -> Any:  # pyright: ignore[reportUnusedFunction]
                ctx.step("prepare", prepare)
                return ctx.wait_for_signal("go", timeout=30)

        self.start(define)
        run = self.client.enqueue(name)
        self.assertTrue(ready.wait(10))
        try:
            result = self.client.signal(run.id, "go")
        finally:
            go_on.set()
        self.assertFalse(result.consumed)
        self.assertIsNone(result.signal.payload)
        self.assertEqual(self.client.await_run(run.id, timeout=20).status, "completed")
        self.assertIsNone(self.client.run(run.id).output)

    def test_a_signal_by_entity_reaches_the_entitys_waiting_run(self) -> None:
        name = self.name("order")
        order = uuid.uuid4().hex[:8]

        def define(w: klaxon.Worker) -> None:
            @w.workflow(name, retry=FAST)
            async def wf(ctx: klaxon.Context, _: Any) -> Any:  # pyright: ignore[reportUnusedFunction]
                return await ctx.wait_for_signal_async("shipped", timeout=30)

        self.start(define)
        run = self.client.enqueue(name, entities={"order_id": order})
        self.waiting(run.id)
        results = self.client.signal_entity("order_id", order, "shipped", {"carrier": "ups"})
        self.assertEqual([(r.signal.run_id, r.consumed) for r in results], [(run.id, True)])
        self.assertEqual(self.client.await_run(run.id, timeout=20).output, {"carrier": "ups"})

        with self.assertRaises(klaxon.NotFound):
            self.client.signal_entity("order_id", "no-such-" + order, "shipped", {})

    def test_an_approval_listed_in_the_inbox_and_decided_by_the_client_completes_the_run(self) -> None:
        name = self.name("refund")

        def define(w: klaxon.Worker) -> None:
            @w.workflow(name, retry=FAST)
            def wf(ctx: klaxon.Context, _: Any) -> Any:  # pyright: ignore[reportUnusedFunction]
                decision = ctx.await_approval("refund", title="Refund $12?", body="Order 42", data={"amount": 12}, timeout=60)
                return {"approved": decision.approved, "by": decision.by, "data": decision.data, "comment": decision.comment}

        self.start(define)
        run = self.client.enqueue(name, entities={"order_id": "42"})
        self.waiting(run.id)
        pending = [w for w in self.client.approvals(limit=1000) if w.run_id == run.id]
        self.assertEqual(len(pending), 1)
        asked = pending[0]
        self.assertIsInstance(asked, klaxon.Wait)
        self.assertEqual((asked.workflow, asked.name, asked.kind, asked.state), (name, "refund", "approval", "waiting"))
        assert asked.request is not None and asked.started_at is not None and asked.deadline is not None
        self.assertEqual(asked.request, klaxon.ApprovalRequest("Refund $12?", "Order 42", {"amount": 12}, ()))
        self.assertGreater(asked.deadline, asked.started_at)
        self.assertEqual(asked.entities, {"order_id": "42"})

        decided = self.client.decide_approval(run.id, "refund", True, comment="fine", data={"amount": 10})
        self.assertIsInstance(decided, klaxon.ApprovalDecision)
        self.assertTrue(decided.approved)
        self.assertEqual((decided.comment, decided.data), ("fine", {"amount": 10}))
        self.assertIsNotNone(decided.at)
        self.assertEqual(self.client.await_run(run.id, timeout=20).status, "completed")
        self.assertEqual(self.client.run(run.id).output, {"approved": True, "by": decided.by, "data": {"amount": 10}, "comment": "fine"})
        self.assertNotIn(run.id, [w.run_id for w in self.client.approvals()])

    def test_a_rejection_is_a_decision(self) -> None:
        name = self.name("reject")

        def define(w: klaxon.Worker) -> None:
            @w.workflow(name, retry=FAST)
            def wf(ctx: klaxon.Context, _: Any) -> bool:  # pyright: ignore[reportUnusedFunction]
                return ctx.await_approval("send", title="Send it?", timeout=60).approved

        self.start(define)
        run = self.client.enqueue(name)
        self.waiting(run.id)
        decided = self.client.decide_approval(run.id, "send", False)
        self.assertEqual(decided.decision, "rejected")
        self.assertIsNone(decided.data)
        self.assertEqual(self.client.await_run(run.id, timeout=20).output, False)
        with self.assertRaises(klaxon.NotFound, msg="a decided request is no longer open"):
            self.client.decide_approval(run.id, "send", True)

    def test_refused_signals_and_decisions_raise_the_sdks_errors(self) -> None:
        with self.assertRaises(klaxon.NotFound):
            self.client.signal("no-such-run", "paid", {})
        with self.assertRaises(klaxon.NotFound):
            self.client.decide_approval("no-such-run", "refund", True)

        name = self.name("done")

        def define(w: klaxon.Worker) -> None:
            @w.workflow(name, retry=FAST)
            def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
                return ctx.step("only", lambda: "done")

        self.start(define)
        run = self.client.enqueue(name)
        self.assertEqual(self.client.await_run(run.id, timeout=20).status, "completed")
        with self.assertRaises(klaxon.SignalRefused) as refused:
            self.client.signal(run.id, "paid", {"amount": 1})
        self.assertEqual(refused.exception.status, 409)
        self.assertEqual(self.client.run_detail(run.id).signals, (), "a refused signal records nothing")

        with self.assertRaises(ValueError):
            self.client.signal(run.id, "paid", float("nan"))  # not JSON: refused before sending
        with self.assertRaises(TypeError):
            self.client.signal(run.id, "paid", object())
        with self.assertRaises(klaxon.InvalidRequest):
            self.client.approvals(limit=0)


class ApproverTokens(unittest.TestCase):
    def test_a_token_not_among_the_approvers_may_not_decide(self) -> None:
        worker_token, alice, bob = "worker-secret-0123456789abcdef", "alice-secret-0123456789abcdef", "bob-secret-0123456789abcdef"
        server = Server(tokens=[f"py-worker worker {worker_token}", f"alice operate {alice}", f"bob operate {bob}"])
        self.addCleanup(server.stop)
        if not server.has_worker_protocol():
            self.skipTest("this klaxon server has no worker protocol")
        worker = klaxon.Worker(server.url, token=worker_token, claim_wait=0.5)

        @worker.workflow("guarded", retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            return ctx.await_approval("deploy", title="Deploy?", approvers=["alice"], timeout=60).by

        worker.start()
        self.addCleanup(worker.stop, True)
        with klaxon.Client(server.url, token=alice) as as_alice, klaxon.Client(server.url, token=bob) as as_bob:
            run = as_alice.enqueue("guarded")
            eventually(lambda: as_alice.run(run.id).status == "waiting", timeout=10)
            self.assertEqual([w.request.approvers for w in as_bob.approvals() if w.request], [("alice",)])
            with self.assertRaises(klaxon.NotApprover) as refused:
                as_bob.decide_approval(run.id, "deploy", True)
            self.assertEqual(refused.exception.status, 403)
            self.assertEqual(as_alice.decide_approval(run.id, "deploy", True).by, "alice")
            self.assertEqual(as_alice.await_run(run.id, timeout=20).output, "alice")


if __name__ == "__main__":
    unittest.main()
