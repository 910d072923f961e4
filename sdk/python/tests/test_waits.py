"""Durable waits against a real ``klaxon server``: sleeps, signals and approvals, sync and ``async``.

The server keeps every rule of a wait; these tests check what a workflow
author sees: a sleep that resumes the same attempt without running earlier
steps again, a timeout the workflow may catch (or that dead-letters to
review), a kept signal, an approval's decision, and bad input refused.
"""

from __future__ import annotations

import asyncio
import json
import threading
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from harness import Server, eventually

import klaxon
from klaxon.waits import format_time, parse_time

FAST = klaxon.RetryPolicy(max_attempts=3, initial_backoff=0.05, max_backoff=0.1)


class Waits(unittest.TestCase):
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

    def worker(self) -> klaxon.Worker:
        return klaxon.Worker(self.server.url, concurrency=4, lease=5.0, claim_wait=0.5, grace_period=1.0)

    def start(self, worker: klaxon.Worker) -> None:
        worker.start()
        self.addCleanup(worker.stop, True)

    def finish(self, workflow: str, input: Any = None, timeout: float = 20.0) -> klaxon.RunDetail:
        run = self.client.enqueue(workflow, input)
        self.client.await_run(run.id, timeout=timeout)
        return self.client.run_detail(run.id)

    def post(self, path: str, body: Any) -> int:
        """POST JSON to the server's public API; the status (an HTTP error's too)."""
        request = urllib.request.Request(
            self.server.url + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as err:
            return int(err.code)

    def signal(self, run_id: str, name: str, payload: Any) -> None:
        quoted = f"{urllib.parse.quote(run_id, safe='')}/signals/{urllib.parse.quote(name, safe='')}"
        status = self.post(f"/api/v1/runs/{quoted}", payload)
        if status in (404, 405):
            self.skipTest("this server has no POST /api/v1/runs/{id}/signals/{name} route yet")
        self.assertLess(status, 300, f"signal answered {status}")

    # sleeps --------------------------------------------------------------

    def sleeper(self, use_async: bool) -> None:
        w = self.worker()
        name = self.name("sleeper")
        fetched: list[int] = []

        if use_async:

            @w.workflow(name, expect_steps=["fetch", "nap", "store"], retry=FAST)
            async def wf_async(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
                await ctx.step_async("fetch", lambda: fetched.append(1) or "page")
                await ctx.sleep_async("nap", 0.3)
                return await ctx.step_async("store", lambda: "stored")

        else:

            @w.workflow(name, expect_steps=["fetch", "nap", "store"], retry=FAST)
            def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
                ctx.step("fetch", lambda: fetched.append(1) or "page")
                ctx.sleep("nap", 0.3)
                return ctx.step("store", lambda: "stored")

        self.start(w)
        detail = self.finish(name)
        self.assertEqual(detail.run.status, "completed", detail.run.failure)
        self.assertEqual(detail.run.attempt, 1, "a sleep is not a failed attempt")
        self.assertEqual(fetched, [1], "the step before the sleep ran again")
        self.assertEqual([(s.name, s.status, s.output) for s in detail.steps], [("fetch", "completed", "page"), ("nap", "completed", None), ("store", "completed", "stored")])
        self.assertIn("run.waiting", [e.type for e in detail.events])

    def test_a_sleep_resumes_the_same_attempt_without_running_earlier_steps(self) -> None:
        self.sleeper(use_async=False)

    def test_an_async_sleep_resumes_the_same_attempt_without_running_earlier_steps(self) -> None:
        self.sleeper(use_async=True)

    def test_gathered_sleeps_are_each_slept_once_and_the_run_completes(self) -> None:
        w = self.worker()
        name = self.name("gathered")

        @w.workflow(name, retry=FAST)
        async def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            await asyncio.gather(ctx.sleep_async("a", 0.2), ctx.sleep_async("b", 0.2))
            return await ctx.step_async("after", lambda: "done")

        self.start(w)
        detail = self.finish(name)
        self.assertEqual(detail.run.status, "completed", detail.run.failure)
        self.assertEqual(detail.run.attempt, 1)
        self.assertEqual([s.name for s in detail.steps], ["a", "b", "after"])

    def test_sleep_until_a_time_goes_on_after_it(self) -> None:
        w = self.worker()
        name = self.name("until")
        due = datetime.now(timezone.utc) + timedelta(seconds=0.5)

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            ctx.sleep_until("until", due)
            return ctx.step("after", lambda: datetime.now(timezone.utc).isoformat())

        self.start(w)
        detail = self.finish(name)
        self.assertEqual(detail.run.status, "completed", detail.run.failure)
        after = parse_time(str(detail.run.output))
        assert after is not None
        self.assertGreaterEqual(after, due)

    # signals -------------------------------------------------------------

    def test_a_signal_wait_past_its_timeout_raises_wait_timed_out_which_the_workflow_may_catch(self) -> None:
        w = self.worker()
        name = self.name("patient")
        caught: list[klaxon.WaitTimedOut] = []

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            try:
                ctx.wait_for_signal("reply", timeout=0.2)
            except klaxon.WaitTimedOut as timed_out:
                caught.append(timed_out)
                return ctx.step("remind", lambda: "reminded")
            return "replied"

        self.start(w)
        detail = self.finish(name)
        self.assertEqual(detail.run.status, "completed", detail.run.failure)
        self.assertEqual(detail.run.output, "reminded")
        self.assertEqual(detail.run.attempt, 1)
        self.assertTrue(caught)
        self.assertEqual(caught[0].class_, "timeout")
        self.assertEqual(str(caught[0]), 'signal "reply" not received in 200ms')
        self.assertIsInstance(caught[0], klaxon.Failure)

    def test_an_uncaught_wait_timeout_dead_letters_to_review_without_retries(self) -> None:
        w = self.worker()
        name = self.name("unanswered")

        @w.workflow(name, retry=FAST)
        async def wf(ctx: klaxon.Context, _: Any) -> Any:  # pyright: ignore[reportUnusedFunction]
            return await ctx.wait_for_signal_async("reply", timeout=0.2)

        self.start(w)
        detail = self.finish(name)
        self.assertEqual(detail.run.status, "dead")
        self.assertEqual(detail.run.attempt, 1, "a wait's timeout is not retried")
        assert detail.run.failure is not None
        self.assertEqual(detail.run.failure.class_, "timeout")
        self.assertIn('signal "reply" not received in 200ms', detail.run.failure.reason)
        entries = self.client.dead_letters(run=detail.run.id)
        self.assertEqual([e.channel for e in entries], ["review"])

    def test_a_signal_sent_before_the_wait_is_kept_and_taken(self) -> None:
        w = self.worker()
        name = self.name("payer")
        ready = threading.Event()
        go_on = threading.Event()

        def prepare() -> str:
            ready.set()
            go_on.wait(10)
            return "prepared"

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> Any:  # pyright: ignore[reportUnusedFunction]
            ctx.step("prepare", prepare)
            return ctx.wait_for_signal("paid", timeout=30)

        self.start(w)
        run = self.client.enqueue(name)
        self.assertTrue(ready.wait(10))
        try:
            self.signal(run.id, "paid", {"amount": 12})
        finally:
            go_on.set()
        self.assertEqual(self.client.await_run(run.id, timeout=20).status, "completed")
        self.assertEqual(self.client.run(run.id).output, {"amount": 12})

    # approvals -----------------------------------------------------------

    def test_an_approval_returns_the_decision(self) -> None:
        w = self.worker()
        name = self.name("refund")
        decisions: list[klaxon.ApprovalDecision] = []

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> bool:  # pyright: ignore[reportUnusedFunction]
            decision = ctx.await_approval("refund", title="Refund $12?", body="Order 42", data={"amount": 12}, timeout=60)
            decisions.append(decision)
            return decision.approved

        self.start(w)
        run = self.client.enqueue(name)
        eventually(lambda: self.client.run(run.id).status == "waiting", timeout=10)
        quoted = urllib.parse.quote(run.id, safe="")
        status = self.post(f"/api/v1/runs/{quoted}/approvals/refund", {"decision": "approve", "comment": "fine"})
        if status in (404, 405):
            self.skipTest("this server has no POST /api/v1/runs/{id}/approvals/{name} route yet")
        self.assertLess(status, 300)
        self.assertEqual(self.client.await_run(run.id, timeout=20).status, "completed")
        self.assertTrue(decisions and decisions[-1].approved and decisions[-1].comment == "fine")
        self.assertIsNotNone(decisions[-1].at)

    # bad input -----------------------------------------------------------

    def test_a_negative_sleep_is_refused_by_the_server_as_a_permanent_failure(self) -> None:
        w = self.worker()
        name = self.name("negative")

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> None:  # pyright: ignore[reportUnusedFunction]
            ctx.sleep("nap", -1)

        self.start(w)
        detail = self.finish(name)
        self.assertEqual(detail.run.status, "dead")
        assert detail.run.failure is not None
        self.assertEqual(detail.run.failure.class_, "permanent")
        self.assertIn("timeout_ms", detail.run.failure.reason)
        self.assertEqual(detail.steps, ())

    def test_times_on_the_wire(self) -> None:
        self.assertEqual(parse_time("2026-12-05T07:53:20.123456789Z"), datetime(2026, 12, 5, 7, 53, 20, 123456, timezone.utc))
        self.assertIsNone(parse_time(""))
        self.assertEqual(format_time(datetime(2026, 12, 5, 9, 0, tzinfo=timezone(timedelta(hours=2)))), "2026-12-05T07:00:00Z")
        with self.assertRaises(ValueError):
            format_time(datetime(2026, 12, 5, 9, 0))
        decision = klaxon.ApprovalDecision.from_wire({"approved": False, "by": "alice", "at": "2026-12-05T07:00:00Z"})
        self.assertEqual((decision.decision, decision.by, decision.comment, decision.data), ("rejected", "alice", "", None))


if __name__ == "__main__":
    unittest.main()
