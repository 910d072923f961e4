"""Access tokens: a worker token works the protocol and nothing else (a server given --tokens)."""

from __future__ import annotations

import unittest
from typing import Any

from harness import Server

import klaxon

WORKER, OPERATE = "worker-secret-0123456789abcdef", "operate-secret-0123456789abcdef"


class TokenTest(unittest.TestCase):
    def test_a_worker_token_works_runs_and_may_not_enqueue(self) -> None:
        server = Server(tokens=[f"py-worker worker {WORKER}", f"py-operator operate {OPERATE}"])
        self.addCleanup(server.stop)
        if not server.has_worker_protocol():
            self.skipTest("this klaxon server has no worker protocol")

        worker = klaxon.Worker(server.url, token=WORKER, claim_wait=0.5)

        @worker.workflow("tokens")
        def wf(ctx: klaxon.Context, x: Any) -> Any:  # pyright: ignore[reportUnusedFunction]
            return ctx.step("echo", lambda: x)

        worker.start()
        self.addCleanup(worker.stop, True)
        with klaxon.Client(server.url, token=OPERATE) as operator, klaxon.Client(server.url, token=WORKER) as as_worker:
            run = operator.enqueue("tokens", {"a": 1})
            self.assertEqual(operator.await_run(run.id, timeout=30).output, {"a": 1})
            with self.assertRaises(klaxon.ProblemError) as refused:
                as_worker.enqueue("tokens", 2)
            self.assertEqual(refused.exception.status, 403)

        intruder = klaxon.Worker(server.url, token=OPERATE)
        self.addCleanup(intruder.close)
        intruder.workflow("tokens")(wf)
        with self.assertRaises(klaxon.ProblemError) as refused:
            intruder.register()
        self.assertIn(refused.exception.status, (401, 403))


if __name__ == "__main__":
    unittest.main()
