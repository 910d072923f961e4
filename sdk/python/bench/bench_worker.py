"""Steps per second of one Python worker process: 5-step no-op workflows.

    python3 bench/bench_worker.py [RUNS] [CONCURRENCY]

Starts a klaxon server on SQLite (as the tests do: $KLAXON_BIN or a fresh
build), enqueues RUNS runs, and times one worker from the first claim to the
last run completed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness import Server  # noqa: E402

import klaxon  # noqa: E402

STEPS = 5


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, from /proc (0 where there is none)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
            cpu, server_cpu = time.process_time(), _cpu_seconds(server.process.pid)
            worker.start()
            for run_id in ids:
                run = client.await_run(run_id, timeout=600, poll=0.05)
                assert run.status == "completed", run
            elapsed = time.perf_counter() - started
            cpu, server_cpu = time.process_time() - cpu, _cpu_seconds(server.process.pid) - server_cpu
        worker.stop(wait=True)
        print(f"{runs} runs x {STEPS} steps, concurrency {concurrency}: {elapsed:.2f}s, "
              f"{runs * STEPS / elapsed:.0f} steps/s, {runs / elapsed:.0f} runs/s; "
              f"CPU: Python worker {cpu:.2f}s, server {server_cpu:.2f}s")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
