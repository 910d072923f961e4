"""A worker process for the SIGKILL and SIGTERM scenarios: ``python sigkill_worker.py SERVER WORKFLOW STATE_DIR [SLOW [MAX_ATTEMPTS]]``.

Its step "second" hangs after marking that it started (or takes SLOW
seconds), so the test can signal the process mid-step; ``define`` is also used by the test's second worker,
whose "second" returns at once.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import klaxon


def define(worker: klaxon.Worker, name: str, state: str, *, hang: bool, slow: float = 0.0, attempts: int | None = None) -> None:
    def first(doc: str) -> str:
        with open(os.path.join(state, "first-runs"), "a") as f:
            f.write(f"{os.getpid()}\n")
        return f"first({doc})"

    def second() -> str:
        if hang or slow:
            with open(os.path.join(state, "second-started"), "w") as f:
                f.write(str(os.getpid()))
            time.sleep(slow or 600)
        return "second"

    def undo(out: str) -> None:
        with open(os.path.join(state, "compensated"), "a") as f:
            f.write(f"{out}\n")

    retry = klaxon.RetryPolicy(max_attempts=attempts, initial_backoff=0.05, max_backoff=0.1)

    @worker.workflow(name, retry=retry)
    def wf(ctx: klaxon.Context, doc: Any) -> str:  # pyright: ignore[reportUnusedFunction]
        a = ctx.step("first", lambda: first(str(doc)), compensate=undo)
        b = ctx.step("second", second)
        return f"{a}+{b}"


def main() -> None:
    server, name, state = sys.argv[1:4]
    slow = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    attempts = int(sys.argv[5]) if len(sys.argv) > 5 else None
    worker = klaxon.Worker(server, concurrency=1, lease=1.0, claim_wait=2.0, grace_period=5.0)
    define(worker, name, state, hang=not slow, slow=slow, attempts=attempts)
    worker.run()


if __name__ == "__main__":
    main()
