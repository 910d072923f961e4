"""Child runs against a real ``klaxon server``, sync and ``async``.

The server keeps every rule of a child run (the durable link, the waits, the
child's class); these tests check what a workflow author sees beyond the
language-neutral scenarios: ``asyncio.gather`` of ``ctx.child_async`` numbered
in program order whatever start ends first, a :class:`klaxon.ChildFailed` the
parent catches with the child's ID, class and reason, and an input that fails
the child workflow's schema refused with nothing started.
"""

from __future__ import annotations

import asyncio
import unittest
import uuid
from typing import Any

from harness import Server

import klaxon

FAST = klaxon.RetryPolicy(max_attempts=2, initial_backoff=0.05, max_backoff=0.1)


class Children(unittest.TestCase):
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

    def start(self, worker: klaxon.Worker) -> None:
        worker.start()
        self.addCleanup(worker.stop, True)

    def finish(self, workflow: str, input: Any = None, timeout: float = 20.0) -> klaxon.RunDetail:
        run = self.client.enqueue(workflow, input)
        self.client.await_run(run.id, timeout=timeout)
        return self.client.run_detail(run.id)

    def test_async_gather_of_children_numbers_them_in_program_order(self) -> None:
        w = klaxon.Worker(self.server.url, concurrency=8, lease=5.0, claim_wait=0.5, grace_period=1.0)
        square, parent = self.name("square"), self.name("fan")

        @w.workflow(square)
        async def square_wf(ctx: klaxon.Context, n: int) -> int:  # pyright: ignore[reportUnusedFunction]
            return await ctx.step_async("square", lambda: n * n)

        @w.workflow(parent, retry=FAST)
        async def parent_wf(ctx: klaxon.Context, n: int) -> int:  # pyright: ignore[reportUnusedFunction]
            outputs = await asyncio.gather(*(ctx.child_async(f"sq-{i}", square, i) for i in range(1, n + 1)))
            return sum(outputs)

        self.start(w)
        detail = self.finish(parent, 4)
        self.assertEqual(detail.run.status, "completed", detail.run.failure)
        self.assertEqual(detail.run.output, 1 + 4 + 9 + 16)
        # Each child's start and await take two numbers at the call: a
        # start, then its await, child after child.
        names = [s.name for s in sorted(detail.steps, key=lambda s: s.seq)]
        self.assertEqual(names, ["sq-1", "sq-1", "sq-2", "sq-2", "sq-3", "sq-3", "sq-4", "sq-4"])
        self.assertEqual([c.status for c in detail.children], ["completed"] * 4)
        self.assertEqual([c.parent_seq for c in detail.children], [1, 3, 5, 7])

    def test_a_dead_child_is_a_typed_failure_the_parent_may_catch(self) -> None:
        w = klaxon.Worker(self.server.url, concurrency=4, lease=5.0, claim_wait=0.5, grace_period=1.0)
        doomed, parent = self.name("doomed"), self.name("careful")

        @w.workflow(doomed)
        def doomed_wf(ctx: klaxon.Context, _: Any) -> None:  # pyright: ignore[reportUnusedFunction]
            ctx.step("charge", lambda: (_ for _ in ()).throw(klaxon.Permanent("card declined")))

        @w.workflow(parent)
        def parent_wf(ctx: klaxon.Context, _: Any) -> dict[str, str]:  # pyright: ignore[reportUnusedFunction]
            child = ctx.start_child("pay", doomed, None)
            try:
                child.result()
            except klaxon.ChildFailed as failed:
                return {
                    "run_id": failed.child_run_id,
                    "started": child.run_id,
                    "class": failed.class_,
                    "status": failed.child_status,
                    "reason": failed.reason,
                }
            return {}

        self.start(w)
        detail = self.finish(parent)
        self.assertEqual(detail.run.status, "completed", detail.run.failure)
        out = detail.run.output
        self.assertEqual(out["run_id"], out["started"])
        self.assertEqual([c.child_id for c in detail.children], [out["run_id"]])
        self.assertEqual((out["class"], out["status"]), ("permanent", "dead"))
        self.assertIn("card declined", out["reason"])
        child = self.client.run_detail(out["run_id"])
        self.assertEqual(child.parent.child_id if child.parent else "", out["run_id"])

    def test_an_input_that_fails_the_child_schema_starts_nothing(self) -> None:
        w = klaxon.Worker(self.server.url, concurrency=4, lease=5.0, claim_wait=0.5, grace_period=1.0)
        strict, parent = self.name("strict"), self.name("sloppy")

        @w.workflow(strict, input_schema={"type": "object", "required": ["n"]})
        def strict_wf(ctx: klaxon.Context, input: dict[str, int]) -> int:  # pyright: ignore[reportUnusedFunction]
            return input["n"]

        @w.workflow(parent, retry=FAST)
        def parent_wf(ctx: klaxon.Context, _: Any) -> Any:  # pyright: ignore[reportUnusedFunction]
            return ctx.child("bad", strict, {"m": 1})

        self.start(w)
        detail = self.finish(parent)
        self.assertEqual(detail.run.status, "dead")
        failure = detail.run.failure
        assert failure is not None
        self.assertEqual(failure.class_, "permanent")
        self.assertIn(f'child run of workflow "{strict}"', failure.reason)
        self.assertEqual(len(detail.attempts), 1, "a refused child is not retried")
        self.assertEqual(detail.children, ())
        self.assertEqual(detail.steps, ())


if __name__ == "__main__":
    unittest.main()
