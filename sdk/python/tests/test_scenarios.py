"""The SDK against a real ``klaxon server``: outcomes a user cares about, read through the public API.

Each scenario class starts one server (SQLite; PostgreSQL when
KLAXON_TEST_POSTGRES_URL is set); each test registers workflows of its own
names on a worker of its own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from pathlib import Path
from typing import Any

from harness import POSTGRES_ENV, SDK, Server, eventually, postgres_database

import klaxon

FAST = klaxon.RetryPolicy(initial_backoff=0.05, max_backoff=0.1)


def fast(max_attempts: int = 5, **classes: int) -> klaxon.RetryPolicy:
    return klaxon.RetryPolicy(max_attempts=max_attempts, initial_backoff=0.05, max_backoff=0.1, classes=classes)


class Scenarios:
    """The scenarios; a subclass picks the database."""

    backend = "sqlite"
    server: Server
    client: klaxon.Client

    @classmethod
    def setUpClass(cls) -> None:
        if cls.backend == "postgres":
            fresh = postgres_database()
            if fresh is None:
                raise unittest.SkipTest(f"{POSTGRES_ENV} is not set: the scenarios on PostgreSQL are skipped")
            cls.server = Server(*fresh)
        else:
            cls.server = Server()
        if not cls.server.has_worker_protocol():
            cls.server.stop()
            raise unittest.SkipTest("this klaxon server has no worker protocol (POST /api/v1/worker/register is 404)")
        cls.client = klaxon.Client(cls.server.url)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.client.close()
        cls.server.stop()

    # helpers -------------------------------------------------------------

    def assertions(self) -> unittest.TestCase:
        assert isinstance(self, unittest.TestCase)
        return self

    def name(self, base: str) -> str:
        return f"{base}-{uuid.uuid4().hex[:8]}"

    def worker(self, **options: Any) -> klaxon.Worker:
        options.setdefault("concurrency", 4)
        options.setdefault("lease", 5.0)
        options.setdefault("claim_wait", 0.5)
        options.setdefault("grace_period", 1.0)
        return klaxon.Worker(self.server.url, **options)

    def start(self, worker: klaxon.Worker) -> None:
        worker.start()
        self.assertions().addCleanup(worker.stop, True)

    def finish(self, workflow: str, input: Any = None, timeout: float = 20.0) -> klaxon.RunDetail:
        run = self.client.enqueue(workflow, input)
        self.client.await_run(run.id, timeout=timeout)
        return self.client.run_detail(run.id)

    # scenarios -----------------------------------------------------------

    def test_two_steps_complete_with_output(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("summarize")

        @w.workflow(name, expect_steps=["fetch", "summarize"], retry=FAST)
        def summarize(ctx: klaxon.Context, url: str) -> str:  # pyright: ignore[reportUnusedFunction]
            page = ctx.step("fetch", lambda: f"<html>{url}</html>")
            return ctx.step(
                "summarize",
                lambda: f"summary of {page} ({ctx.idempotency_key()})",
                timeout=5,
                validate=lambda out: None if out else klaxon.Semantic("empty summary"),
            )

        self.start(w)
        detail = self.finish(name, "https://example.com")
        t.assertEqual(detail.run.status, "completed", detail.run.failure)
        t.assertEqual(detail.run.output, f"summary of <html>https://example.com</html> ({detail.run.id}/2/summarize)")
        t.assertEqual([(s.seq, s.name, s.status) for s in detail.steps], [(1, "fetch", "completed"), (2, "summarize", "completed")])
        t.assertEqual(detail.steps[0].output, "<html>https://example.com</html>")

    def test_transient_failure_is_retried_without_rerunning_completed_steps(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("retry")
        runs = {"a": 0, "b": 0}

        def a() -> int:
            runs["a"] += 1
            return 41

        def b(x: int) -> int:
            runs["b"] += 1
            if runs["b"] == 1:
                raise klaxon.Transient("the provider is down")
            return x + 1

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> int:  # pyright: ignore[reportUnusedFunction]
            x = ctx.step("a", a)
            return ctx.step("b", lambda: b(x))

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "completed", detail.run.failure)
        t.assertEqual(detail.run.output, 42)
        t.assertEqual(runs, {"a": 1, "b": 2})
        t.assertEqual([a.class_ for a in detail.attempts], ["transient"])

    def test_semantic_validator_failure_ends_dead_after_the_policys_attempts(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("semantic")
        calls: list[int] = []

        @w.workflow(name, retry=fast(5, semantic=2))
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            return ctx.step(
                "answer",
                lambda: calls.append(1) or "",
                validate=lambda out: None if out else klaxon.Semantic("empty summary"),
            )

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "dead")
        assert detail.run.failure is not None
        t.assertEqual(detail.run.failure.class_, "semantic")
        t.assertIn("empty summary", detail.run.failure.reason)
        t.assertEqual(len(calls), 2)
        entries = self.client.dead_letters(run=detail.run.id)
        t.assertEqual([e.class_ for e in entries], ["semantic"])

    def test_budget_overrun_ends_budget_exceeded_and_the_next_step_never_runs(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("budget")
        second: list[int] = []

        @w.workflow(name, budget=klaxon.Budget(usd=0.01), retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            def expensive() -> str:
                ctx.record_spend(provider="openai", model="gpt-4o-mini", input_tokens=1_000_000, output_tokens=1000)
                return "long answer"

            ctx.step("expensive", expensive)
            return ctx.step("next", lambda: second.append(1) or "never")

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "dead")
        assert detail.run.failure is not None
        t.assertEqual(detail.run.failure.class_, "budget_exceeded")
        t.assertEqual(second, [])
        t.assertEqual([s.name for s in detail.steps], ["expensive"])
        t.assertEqual(detail.run.spend.get("usage", {}).get("input_tokens"), 1_000_000)

    def test_rate_limited_is_retried_no_sooner_than_retry_after(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("ratelimit")
        times: list[float] = []

        def call() -> str:
            times.append(time.monotonic())
            if len(times) == 1:
                raise klaxon.RateLimited("slow down", retry_after=1.5)
            return "ok"

        @w.workflow(name, retry=fast(3))
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            return ctx.step("call", call)

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "completed", detail.run.failure)
        t.assertEqual(len(times), 2)
        t.assertGreaterEqual(times[1] - times[0], 1.5)
        t.assertEqual([a.class_ for a in detail.attempts], ["rate_limited"])

    def test_returning_before_an_expected_step_is_partial_completion(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("partial")

        @w.workflow(name, expect_steps=["extract", "store"], retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            ctx.step("extract", lambda: "text")
            return "done early"

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "dead")
        assert detail.run.failure is not None
        t.assertEqual(detail.run.failure.class_, "partial_completion")

    def test_a_step_name_changing_between_attempts_is_nondeterminism(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("nondet")
        attempts: list[int] = []

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            attempts.append(ctx.attempt)
            first = "a" if len(attempts) == 1 else "b"
            ctx.step(first, lambda: first)
            raise klaxon.Transient("try again")

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "dead")
        assert detail.run.failure is not None
        t.assertEqual(detail.run.failure.class_, "nondeterminism")
        t.assertIn('"a"', detail.run.failure.reason)
        t.assertEqual(len(attempts), 2)

    def test_compensations_run_in_reverse_order(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("compensate")
        undone: list[str] = []

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            ctx.step("reserve", lambda: "seat-1", compensate=lambda out: undone.append(f"release {out}"))
            ctx.step("charge", lambda: "payment-1", compensate=lambda out: undone.append(f"refund {out}"))
            return ctx.step("ship", lambda: _raise(klaxon.Permanent("no stock")))

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "dead")
        t.assertEqual(undone, ["refund payment-1", "release seat-1"])
        assert detail.run.failure is not None
        t.assertEqual(detail.run.failure.class_, "permanent")
        t.assertEqual({s.name: s.status for s in detail.steps}, {"reserve": "compensated", "charge": "compensated"})

    def test_a_failing_compensation_gives_compensation_failed_and_the_others_still_run(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("compfail")
        undone: list[str] = []

        def refund(out: str) -> None:
            raise RuntimeError(f"cannot refund {out}")

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            ctx.step("reserve", lambda: "seat-1", compensate=lambda out: undone.append(f"release {out}"))
            ctx.step("charge", lambda: "payment-1", compensate=refund)
            return ctx.step("ship", lambda: _raise(klaxon.Permanent("no stock")))

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "dead")
        t.assertEqual(undone, ["release seat-1"])
        assert detail.run.failure is not None
        t.assertEqual(detail.run.failure.class_, "compensation_failed")

    def test_a_worker_killed_mid_step_is_taken_over_without_rerunning_the_checkpointed_step(self) -> None:
        t = self.assertions()
        name = self.name("sigkill")
        state = tempfile.mkdtemp(prefix="klaxon-py-kill-")
        w = self.worker()
        import sigkill_worker

        sigkill_worker.define(w, name, state, hang=False)
        w.register()
        child = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("sigkill_worker.py")), self.server.url, name, state],
            env={**os.environ, "PYTHONPATH": str(SDK)},
        )
        try:
            run = self.client.enqueue(name, "doc-1")
            eventually(lambda: os.path.exists(os.path.join(state, "second-started")), timeout=20)
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()

        self.start(w)
        done = self.client.await_run(run.id, timeout=30)
        t.assertEqual(done.status, "completed", done.failure)
        t.assertEqual(done.output, "first(doc-1)+second")
        with open(os.path.join(state, "first-runs")) as f:
            t.assertEqual(f.read().count("\n"), 1, "the checkpointed step ran again")

    def test_a_run_whose_every_attempt_lost_its_worker_is_replayed_and_compensated(self) -> None:
        t = self.assertions()
        name = self.name("replay")
        state = tempfile.mkdtemp(prefix="klaxon-py-replay-")
        w = self.worker()
        import sigkill_worker

        sigkill_worker.define(w, name, state, hang=False, attempts=1)
        w.register()
        child = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("sigkill_worker.py")), self.server.url, name, state, "0", "1"],
            env={**os.environ, "PYTHONPATH": str(SDK)},
        )
        try:
            run = self.client.enqueue(name, "doc-3")
            eventually(lambda: os.path.exists(os.path.join(state, "second-started")), timeout=20)
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        os.remove(os.path.join(state, "second-started"))
        self.start(w)
        done = self.client.await_run(run.id, timeout=30)
        t.assertEqual(done.status, "dead")
        assert done.failure is not None
        t.assertIn("worker was lost", done.failure.reason)
        with open(os.path.join(state, "compensated")) as f:
            t.assertEqual(f.read(), "first(doc-3)\n")
        with open(os.path.join(state, "first-runs")) as f:
            t.assertEqual(f.read().count("\n"), 1, "the checkpointed step ran again")
        t.assertEqual({s.name: s.status for s in self.client.run_detail(run.id).steps}, {"first": "compensated"})

    def test_a_stale_workers_late_result_changes_nothing(self) -> None:
        t = self.assertions()
        name = self.name("stale")
        state = tempfile.mkdtemp(prefix="klaxon-py-stale-")
        w = self.worker()
        import sigkill_worker

        sigkill_worker.define(w, name, state, hang=False)
        w.register()
        # The child's step "second" takes 2s; it is frozen mid-step until its lease ends.
        child = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("sigkill_worker.py")), self.server.url, name, state, "2"],
            env={**os.environ, "PYTHONPATH": str(SDK)},
        )
        try:
            run = self.client.enqueue(name, "doc-4")
            eventually(lambda: os.path.exists(os.path.join(state, "second-started")), timeout=20)
            os.kill(child.pid, signal.SIGSTOP)
            self.start(w)
            done = self.client.await_run(run.id, timeout=30)
            t.assertEqual(done.status, "completed", done.failure)
            os.kill(child.pid, signal.SIGCONT)
            time.sleep(2.5)  # the child's step ends and it tries to report
            child.send_signal(signal.SIGTERM)
            t.assertEqual(child.wait(15), 0)
        finally:
            if child.poll() is None:
                os.kill(child.pid, signal.SIGCONT)
                child.kill()
                child.wait()
        detail = self.client.run_detail(run.id)
        t.assertEqual(detail.run.status, "completed")
        t.assertEqual(detail.run.output, "first(doc-4)+second")
        t.assertEqual([(s.seq, s.name) for s in detail.steps], [(1, "first"), (2, "second")])
        t.assertEqual(sum(e.type == "run.completed" for e in detail.events), 1)

    def test_sigterm_lets_the_running_step_finish_within_the_grace_period(self) -> None:
        t = self.assertions()
        name = self.name("sigterm")
        state = tempfile.mkdtemp(prefix="klaxon-py-term-")
        child = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("sigkill_worker.py")), self.server.url, name, state, "1.0"],
            env={**os.environ, "PYTHONPATH": str(SDK)},
        )
        try:
            run_id = eventually(lambda: _try_enqueue(self.client, name, "doc-2"), timeout=20)
            eventually(lambda: os.path.exists(os.path.join(state, "second-started")), timeout=20)
            child.send_signal(signal.SIGTERM)
            t.assertEqual(child.wait(15), 0)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        done = self.client.run(run_id)
        t.assertEqual(done.status, "completed", done.failure)
        t.assertEqual(done.output, "first(doc-2)+second")

    def test_async_workflow_numbers_gathered_steps_in_call_order(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("async")
        sync_calls: list[int] = []
        attempts: list[int] = []

        async def slow() -> str:
            await asyncio.sleep(0.3)
            return "slow"

        async def quick() -> str:
            await asyncio.sleep(0.01)
            return "quick"

        @w.workflow(name, retry=FAST)
        async def wf(ctx: klaxon.Context, _: Any) -> list[Any]:  # pyright: ignore[reportUnusedFunction]
            attempts.append(1)
            a, b = await asyncio.gather(ctx.step_async("slow", slow), ctx.step_async("quick", quick))
            c = await ctx.step_async("sync", lambda: sync_calls.append(1) or len(sync_calls))
            if len(attempts) == 1:
                raise klaxon.Transient("once")
            return [a, b, c]

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "completed", detail.run.failure)
        t.assertEqual(detail.run.output, ["slow", "quick", 1])
        t.assertEqual([(s.seq, s.name) for s in detail.steps], [(1, "slow"), (2, "quick"), (3, "sync")])
        t.assertEqual(sync_calls, [1])

    def test_parallel_steps_with_go_take_numbers_in_program_order(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("go")

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> list[Any]:  # pyright: ignore[reportUnusedFunction]
            a = ctx.go("slow", lambda: time.sleep(0.3) or "slow")
            b = ctx.go("quick", lambda: "quick")
            return ctx.parallel(a, b)

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "completed", detail.run.failure)
        t.assertEqual(detail.run.output, ["slow", "quick"])
        t.assertEqual([(s.seq, s.name) for s in detail.steps], [(1, "slow"), (2, "quick")])

    def test_model_call_records_usage_and_replays_the_response(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("model")
        calls: list[int] = []
        later: list[int] = []

        def chat() -> dict[str, Any]:
            calls.append(1)
            return {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": "gpt-4o-mini",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120, "prompt_tokens_details": {"cached_tokens": 50}},
            }

        def after() -> str:
            later.append(1)
            if len(later) == 1:
                raise klaxon.Transient("once")
            return "stored"

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            response = ctx.model_call("chat", chat, provider="openai")
            ctx.step("store", after)
            return str(response["choices"][0]["message"]["content"])

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "completed", detail.run.failure)
        t.assertEqual(detail.run.output, "hello")
        t.assertEqual(calls, [1], "the model was called again on retry")
        usage = detail.run.spend.get("usage", {})
        t.assertEqual((usage.get("input_tokens"), usage.get("output_tokens"), usage.get("cached_tokens")), (100, 20, 50))
        t.assertEqual(detail.run.spend.get("model_calls"), 1)

    def test_async_model_call_maps_a_provider_429_and_records_anthropic_usage(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("anthropic")
        times: list[float] = []

        async def messages_create() -> dict[str, Any]:
            times.append(time.monotonic())
            if len(times) == 1:
                raise _ProviderError("rate limited", 429, {"retry-after": "1"})
            return {
                "id": "msg_1",
                "type": "message",
                "model": "claude-sonnet-4",
                "content": [{"type": "text", "text": "bonjour"}],
                "usage": {"input_tokens": 5, "output_tokens": 9, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 20},
            }

        @w.workflow(name, retry=fast(3))
        async def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            message = await ctx.model_call_async("translate", messages_create, provider="anthropic")
            return str(message["content"][0]["text"])

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "completed", detail.run.failure)
        t.assertEqual(detail.run.output, "bonjour")
        t.assertEqual([a.class_ for a in detail.attempts], ["rate_limited"])
        t.assertGreaterEqual(times[1] - times[0], 1.0)
        usage = detail.run.spend.get("usage", {})
        t.assertEqual((usage.get("input_tokens"), usage.get("output_tokens"), usage.get("cached_tokens")), (125, 9, 100))

    def test_a_step_past_its_timeout_fails_with_class_timeout(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("timeout")

        @w.workflow(name, retry=fast(1))
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            return ctx.step("hang", lambda: time.sleep(3) or "late", timeout=0.2)

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "dead")
        assert detail.run.failure is not None
        t.assertEqual(detail.run.failure.class_, "timeout")
        t.assertEqual(detail.steps, ())

    def test_a_programming_error_is_permanent_and_not_retried(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("panic")
        calls: list[int] = []
        table: dict[str, int] = {}

        def lookup() -> int:
            calls.append(1)
            return table["missing"]

        @w.workflow(name, retry=fast(3))
        def wf(ctx: klaxon.Context, _: Any) -> int:  # pyright: ignore[reportUnusedFunction]
            return ctx.step("lookup", lookup)

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "dead")
        assert detail.run.failure is not None
        t.assertEqual(detail.run.failure.class_, "permanent")
        t.assertEqual(calls, [1])

    def test_an_unclassified_error_is_transient_and_bounded(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("unknown")
        calls: list[int] = []

        def flaky() -> str:
            calls.append(1)
            raise ValueError("something odd")

        @w.workflow(name, retry=fast(2))
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            return ctx.step("flaky", flaky)

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "dead")
        assert detail.run.failure is not None
        t.assertEqual(detail.run.failure.class_, "transient")
        t.assertEqual(len(calls), 2)

    def test_enqueue_with_an_idempotency_key_returns_the_first_run(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("dedup")

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, x: int) -> int:  # pyright: ignore[reportUnusedFunction]
            return ctx.step("double", lambda: x * 2)

        w.register()
        first = self.client.enqueue(name, 21, idempotency_key="order-7", entities={"order": "7"})
        second = self.client.enqueue(name, 99, idempotency_key="order-7")
        t.assertEqual(first.id, second.id)
        t.assertEqual(first.entities, {"order": "7"})
        self.start(w)
        t.assertEqual(self.client.await_run(first.id, timeout=20).output, 42)

    def test_graceful_stop_releases_a_run_that_does_not_finish_in_the_grace_period(self) -> None:
        t = self.assertions()
        name = self.name("release")
        started = threading.Event()
        w = self.worker(grace_period=0.3)

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            started.set()
            return ctx.step("long", lambda: time.sleep(2) or "done")

        w.start()
        run = self.client.enqueue(name)
        t.assertTrue(started.wait(10))
        time.sleep(0.1)
        w.stop(wait=True)
        released = self.client.run_detail(run.id)
        t.assertEqual(released.run.status, "pending")
        t.assertEqual(released.attempts, (), "a released attempt counted as failed")

        w2 = self.worker()

        @w2.workflow(name, retry=FAST)
        def again(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            return ctx.step("long", lambda: "quick")

        self.start(w2)
        t.assertEqual(self.client.await_run(run.id, timeout=20).output, "quick")

    def test_a_run_past_its_run_timeout_fails_with_class_timeout(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("runtimeout")

        @w.workflow(name, run_timeout=0.5, retry=fast(1))
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            ctx.step("quick", lambda: "ok")
            return ctx.step("slow", lambda: time.sleep(3) or "late")

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "dead")
        assert detail.run.failure is not None
        t.assertEqual(detail.run.failure.class_, "timeout")
        t.assertEqual([s.name for s in detail.steps], ["quick"])

    def test_a_run_cancelled_while_running_begins_no_new_step(self) -> None:
        t = self.assertions()
        w = self.worker(lease=1.5)
        name = self.name("cancel")
        started = threading.Event()
        after: list[int] = []

        def long() -> str:
            started.set()
            time.sleep(1.5)
            return "long"

        @w.workflow(name, retry=FAST)
        def wf(ctx: klaxon.Context, _: Any) -> str:  # pyright: ignore[reportUnusedFunction]
            ctx.step("long", long)
            return ctx.step("after", lambda: after.append(1) or "after")

        self.start(w)
        run = self.client.enqueue(name)
        t.assertTrue(started.wait(10))
        self.client.cancel(run.id, "changed my mind")
        t.assertEqual(self.client.await_run(run.id, timeout=10).status, "cancelled")
        time.sleep(2.0)
        t.assertEqual(after, [])
        t.assertEqual(self.client.run(run.id).status, "cancelled")

    def test_a_step_output_failing_its_schema_is_a_semantic_failure(self) -> None:
        t = self.assertions()
        w = self.worker()
        name = self.name("schema")

        @w.workflow(name, step_output_schemas={"answer": {"type": "string"}}, retry=fast(1))
        def wf(ctx: klaxon.Context, _: Any) -> Any:  # pyright: ignore[reportUnusedFunction]
            return ctx.step("answer", lambda: 42)

        self.start(w)
        detail = self.finish(name)
        t.assertEqual(detail.run.status, "dead")
        assert detail.run.failure is not None
        t.assertEqual(detail.run.failure.class_, "semantic")
        t.assertEqual(detail.steps, ())

    def test_another_manifest_under_the_same_version_is_refused(self) -> None:
        t = self.assertions()
        name = self.name("manifest")
        workers = [self.worker() for _ in range(3)]
        for w in workers:
            t.addCleanup(w.close)
        workers[0].workflow(name, expect_steps=["a", "b"])(_noop)
        workers[0].register()
        workers[1].workflow(name, expect_steps=["a", "c"])(_noop)
        with t.assertRaises(klaxon.ManifestConflict):
            workers[1].register()
        workers[2].workflow(name, version=2, expect_steps=["a", "c"])(_noop)
        workers[2].register()


class _ProviderError(Exception):
    """Shaped like the APIStatusError of the openai and anthropic packages."""

    def __init__(self, message: str, status: int, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.status_code = status
        self.response = _ProviderResponse(status, headers)


class _ProviderResponse:
    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status_code = status
        self.headers = headers


def _try_enqueue(client: klaxon.Client, workflow: str, input: Any) -> str | None:
    """The run's id, or None while no worker has registered the workflow yet."""
    try:
        return client.enqueue(workflow, input).id
    except klaxon.UnknownWorkflow:
        return None


def _noop(ctx: klaxon.Context, _: Any) -> None:
    return None


def _raise(exc: BaseException) -> Any:
    raise exc


class SQLiteScenarios(Scenarios, unittest.TestCase):
    backend = "sqlite"


class PostgresScenarios(Scenarios, unittest.TestCase):
    backend = "postgres"


if __name__ == "__main__":
    unittest.main()
