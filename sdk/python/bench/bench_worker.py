"""Steps per second of one Python worker process: 5-step no-op workflows.

    python3 bench/bench_worker.py [RUNS] [CONCURRENCY]

Starts a klaxon server on SQLite (as the tests do: $KLAXON_BIN or a fresh
build), enqueues RUNS runs, and times one worker from the first claim to the
last run completed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness import Server  # noqa: E402

import klaxon  # noqa: E402

STEPS = 5


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    server = Server()
    try:
        worker = klaxon.Worker(server.url, concurrency=concurrency, claim_wait=1.0, grace_period=1.0)

        @worker.workflow("bench", expect_steps=[f"s{i}" for i in range(STEPS)])
        def bench(ctx: klaxon.Context, n: Any) -> int:  # pyright: ignore[reportUnusedFunction]
            total = 0
            for i in range(STEPS):
                total += ctx.step(f"s{i}", lambda: 1)
            return total

        worker.register()
        with klaxon.Client(server.url) as client:
            ids = [client.enqueue("bench", i).id for i in range(runs)]
            started = time.perf_counter()
            worker.start()
            for run_id in ids:
                run = client.await_run(run_id, timeout=600, poll=0.05)
                assert run.status == "completed", run
            elapsed = time.perf_counter() - started
        worker.stop(wait=True)
        print(f"{runs} runs x {STEPS} steps, concurrency {concurrency}: {elapsed:.2f}s, "
              f"{runs * STEPS / elapsed:.0f} steps/s, {runs / elapsed:.0f} runs/s")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
