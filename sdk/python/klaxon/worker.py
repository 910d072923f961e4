"""The worker: registers workflows, claims runs by long poll, runs them, heartbeats their leases.

``worker.run()`` blocks. SIGTERM or SIGINT (or :meth:`Worker.stop`) stops
claiming, lets running runs go on for ``grace_period`` seconds, then releases
the runs not finished: they become claimable at once, the attempt not counted.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import platform
import queue
import secrets
import signal
import socket
import threading
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any, Callable, Mapping, Sequence, TypeVar

from .context import Context, ReplayFrontier, RunCore, RunStopped
from .errors import (
    go_duration,
    DeadlineExceeded,
    InvalidOutput,
    InvalidRequest,
    KlaxonError,
    LeaseLost,
    NotFound,
    Semantic,
    UnknownWorkflow,
)
from .policy import Budget, RetryPolicy
from .protocol import (
    ClaimedRun,
    ClaimRequest,
    Lease,
    OutcomeRequest,
    Transport,
    WorkerInfo,
    WorkerProtocol,
    WorkflowRegistration,
)

__all__ = ["Worker", "SDK_VERSION"]

SDK_VERSION = "0.1.0"

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("klaxon.worker")


@dataclass(frozen=True)
class _Workflow:
    fn: Callable[..., Any]
    registration: WorkflowRegistration
    takes_input: bool


def _default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def _takes_input(fn: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in positional)


class Worker:
    """Hosts workflows for a Klaxon server.

    ``lease`` (seconds) asks the server for that lease length on claims and
    heartbeats (a short lease lets another worker take a lost worker's runs
    sooner); ``claim_wait`` is the long poll's wait; ``grace_period`` how long
    a stopping worker lets its runs go on before releasing them.
    """

    def __init__(
        self,
        server: str = "http://127.0.0.1:7070",
        token: str | None = None,
        *,
        concurrency: int = 16,
        worker_id: str | None = None,
        lease: float | None = None,
        claim_wait: float = 20.0,
        grace_period: float = 10.0,
        request_timeout: float = 60.0,
    ) -> None:
        if not 1 <= concurrency <= 256:
            raise ValueError("concurrency is between 1 and 256")
        if lease is not None and not 1 <= lease <= 600:
            raise ValueError("lease is between 1 and 600 seconds")
        if not 0 < claim_wait <= 30:
            raise ValueError("claim_wait is above 0 and at most 30 seconds")
        self.server = server
        self.concurrency = concurrency
        self.worker_id = worker_id or _default_worker_id()
        self.lease = lease
        self.claim_wait = claim_wait
        self.grace_period = grace_period
        self._protocol = WorkerProtocol(Transport(server, token, timeout=request_timeout))
        self._claims = WorkerProtocol(Transport(server, token, timeout=request_timeout, retries=0))
        self._workflows: dict[str, _Workflow] = {}
        self._held: dict[str, RunCore] = {}
        self._lock = threading.Condition()
        self._free = concurrency
        self._queue: queue.Queue[RunCore | None] = queue.Queue()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._heartbeat_ms = 10000
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ registration

    def workflow(
        self,
        name: str,
        *,
        version: int = 1,
        expect_steps: Sequence[str] | None = None,
        retry: RetryPolicy | None = None,
        budget: Budget | None = None,
        run_timeout: float | None = None,
        input_schema: Any = None,
        output_schema: Any = None,
        step_output_schemas: Mapping[str, Any] | None = None,
        redact: Sequence[str] | None = None,
        redact_patterns: Sequence[str] | None = None,
        concurrency_key: str | None = None,
        concurrency_limit: int | None = None,
        default_priority: int | None = None,
    ) -> Callable[[F], F]:
        """Register the decorated function, ``fn(ctx, input)`` (sync or ``async def``), as workflow ``name``.

        ``redact`` lists JSON paths (``$.customer.email``) and ``redact_patterns`` regular expressions in
        Go RE2 syntax (``sk-[A-Za-z0-9]{20,}``) whose values the server's API, dashboard and notifications
        mask for tokens below admin (docs/redaction.md); the server checks them at registration.

        ``concurrency_key`` is the JSON path of the input value (``$.customer.id``) under which at most
        ``concurrency_limit`` runs (default 1) run at once across every worker; ``default_priority``
        (-100..100) is the priority of runs enqueued without one (docs/flow-control.md).
        """
        if concurrency_limit is not None and concurrency_key is None:
            raise ValueError(f"workflow {name!r}: concurrency_limit needs a concurrency_key")

        def decorate(fn: F) -> F:
            if name in self._workflows:
                raise ValueError(f"workflow {name!r} is registered twice")
            registration = WorkflowRegistration(
                name=name,
                version=version,
                expect_steps=tuple(expect_steps) if expect_steps is not None else None,
                retry=retry.to_wire() if retry is not None else None,
                budget=budget,
                run_timeout_ms=round(run_timeout * 1000) if run_timeout else None,
                input_schema=input_schema,
                output_schema=output_schema,
                step_output_schemas=dict(step_output_schemas) if step_output_schemas else None,
                redact=tuple(redact) if redact else None,
                redact_patterns=tuple(redact_patterns) if redact_patterns else None,
                concurrency_key=concurrency_key,
                concurrency_limit=concurrency_limit,
                default_priority=default_priority,
            )
            self._workflows[name] = _Workflow(fn, registration, _takes_input(fn))
            return fn

        return decorate

    def register(self) -> None:
        """Register the workflows with the server (``run`` does it first)."""
        if not self._workflows:
            raise ValueError("no workflow is registered: decorate one with @worker.workflow(name)")
        info = WorkerInfo(
            id=self.worker_id,
            language="python",
            sdk_version=SDK_VERSION,
            runtime=f"{platform.python_implementation()} {platform.python_version()}",
        )
        answer = self._protocol.register(info, [w.registration for w in self._workflows.values()])
        if answer.worker_id:
            self.worker_id = answer.worker_id
        self._heartbeat_ms = answer.heartbeat_ms
        if self.lease is not None:
            self._heartbeat_ms = min(self._heartbeat_ms, max(100, round(self.lease * 1000 / 3)))

    # ------------------------------------------------------------ running

    def run(self) -> None:
        """Register, then claim and run until SIGTERM/SIGINT or :meth:`stop`. Blocks."""
        if threading.current_thread() is threading.main_thread():
            previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

            def on_signal(signum: int, frame: FrameType | None) -> None:
                log.info("klaxon worker %s: signal %d, stopping", self.worker_id, signum)
                self.stop()

            for sig in previous:
                signal.signal(sig, on_signal)
            try:
                self._serve()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
        else:
            self._serve()

    def start(self) -> None:
        """Run the worker on a background thread (``run`` without blocking); :meth:`stop` ends it."""
        self.register()
        self._thread = threading.Thread(target=self._serve_registered, name="klaxon-worker", daemon=True)
        self._thread.start()

    def stop(self, wait: bool = False) -> None:
        """Stop claiming; runs go on for ``grace_period`` seconds, then the rest are released."""
        self._stopping.set()
        with self._lock:
            self._lock.notify_all()
        if wait:
            self._stopped.wait()

    def close(self) -> None:
        """Close the worker's connections (``run`` and ``stop`` do it when they end)."""
        self._protocol.transport.close_all()
        self._claims.transport.close_all()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until a stopped worker has finished or released its runs."""
        return self._stopped.wait(timeout)

    def _serve(self) -> None:
        self.register()
        self._serve_registered()

    def _serve_registered(self) -> None:
        slots = [
            threading.Thread(target=self._slot, name=f"klaxon-slot-{i}", daemon=True) for i in range(self.concurrency)
        ]
        for slot in slots:
            slot.start()
        heartbeat = threading.Thread(target=self._heartbeat_loop, name="klaxon-heartbeat", daemon=True)
        heartbeat.start()
        # The long poll in flight is not cut short: a claim the server answers
        # after we hung up would hold runs nobody works until their lease ends.
        # Its runs are released as they come, while the grace period runs.
        claimer = threading.Thread(target=self._claim_loop, name="klaxon-claim", daemon=True)
        claimer.start()
        try:
            while not self._stopping.wait(1.0):
                pass
            self._shutdown()
            claimer.join()
        finally:
            self._stopping.set()
            for _ in slots:
                self._queue.put(None)
            self._stopped.set()
            self.close()

    def _claim_loop(self) -> None:
        names = list(self._workflows)
        failures = 0
        while not self._stopping.is_set():
            with self._lock:
                while self._free == 0 and not self._stopping.is_set():
                    self._lock.wait(1.0)
                limit = self._free
            if self._stopping.is_set():
                return
            request = ClaimRequest(
                worker_id=self.worker_id,
                workflows=names,
                limit=limit,
                wait_ms=round(self.claim_wait * 1000),
                lease_ms=round(self.lease * 1000) if self.lease is not None else None,
            )
            try:
                runs = self._claims.claim(request)
                failures = 0
            except UnknownWorkflow as exc:
                # The database no longer knows our workflows (reset, or a new one): register again.
                log.warning("klaxon worker %s: %s; registering again", self.worker_id, exc)
                try:
                    self.register()
                except KlaxonError as again:
                    log.warning("klaxon worker %s: registration failed: %s", self.worker_id, again)
                    self._stopping.wait(1.0)
                continue
            except KlaxonError as exc:
                if self._stopping.is_set():
                    return
                failures += 1
                log.warning("klaxon worker %s: claim failed: %s", self.worker_id, exc)
                self._stopping.wait(min(5.0, 0.2 * 2**failures))
                continue
            for run in runs:
                self._accept(run)

    def _accept(self, run: ClaimedRun) -> None:
        core = RunCore(run, self._protocol, self.worker_id)
        if self._stopping.is_set() or run.workflow not in self._workflows:
            self._release(core)
            return
        with self._lock:
            if self._stopping.is_set():
                accepted = False
            else:
                accepted = True
                self._held[run.run_id] = core
                self._free -= 1
        if not accepted:
            self._release(core)
            return
        self._queue.put(core)

    def _slot(self) -> None:
        while True:
            core = self._queue.get()
            if core is None:
                return
            try:
                self._work(core)
            except BaseException:
                log.exception("klaxon worker %s: run %s", self.worker_id, core.run.run_id)
            finally:
                with self._lock:
                    # The run's next attempt may already be held here under
                    # a new claim: forgetting it would stop its heartbeats.
                    if self._held.get(core.run.run_id) is core:
                        del self._held[core.run.run_id]
                    self._free += 1
                    self._lock.notify_all()

    def _work(self, core: RunCore) -> None:
        workflow = self._workflows[core.run.workflow]
        ctx = Context(core)
        args: tuple[Any, ...] = (ctx, core.run.input) if workflow.takes_input else (ctx,)
        returned = False
        value: Any = None
        try:
            result = workflow.fn(*args)
            if inspect.isawaitable(result):
                result = asyncio.run(_await(result))
            returned, value = True, result
        except RunStopped:
            return
        except ReplayFrontier:
            returned = True
        except BaseException as exc:  # SystemExit or a cancellation from the body is its error too
            value = exc
        if core.deadline is not None and time.monotonic() > core.deadline and core.run.mode == "run":
            returned, value = False, DeadlineExceeded(f"run ran past its timeout of {go_duration(core.run.run_timeout_ms / 1000)}")
        if not core.try_settle():
            return
        self._finish(core, core.outcome(returned, value))

    def _finish(self, core: RunCore, request: OutcomeRequest) -> None:
        run_id = core.run.run_id
        try:
            try:
                answer = self._protocol.outcome(run_id, request)
            except InvalidOutput as problem:
                if request.result != "completed":
                    raise
                failure = Semantic(f"the workflow's output fails its output schema: {problem.detail or problem}")
                answer = self._protocol.outcome(run_id, core.outcome(False, failure))
            if answer.next == "compensate":
                try:
                    core.compensate(answer.compensate)
                except RunStopped:
                    return
                self._protocol.outcome(run_id, core.compensated())
        except (LeaseLost, NotFound) as problem:
            log.info("klaxon worker %s: run %s is no longer ours: %s", self.worker_id, run_id, problem)
        except InvalidRequest as problem:
            log.error("klaxon worker %s: run %s: the server refused the outcome: %s", self.worker_id, run_id, problem)
        except KlaxonError as problem:
            log.warning("klaxon worker %s: run %s: outcome not sent: %s", self.worker_id, run_id, problem)

    # ------------------------------------------------------------ leases

    def _heartbeat_loop(self) -> None:
        while not self._stopped.is_set():
            self._stopped.wait(self._heartbeat_ms / 1000)
            with self._lock:
                held = list(self._held.values())
            if not held:
                continue
            now = time.monotonic()
            for core in held:
                if core.deadline is not None and now > core.deadline + 1.0 and core.try_settle():
                    # The body is stuck outside any step: report the timeout for it.
                    core.stop("the run ran past its timeout")
                    failure = DeadlineExceeded(f"run ran past its timeout of {go_duration(core.run.run_timeout_ms / 1000)}")
                    request = core.outcome(False, failure)
                    threading.Thread(target=self._finish, args=(core, request), daemon=True).start()
            leases = [Lease(c.run.run_id, c.run.epoch) for c in held if c.stopped is None]
            if not leases:
                continue
            try:
                lost = self._protocol.heartbeat(
                    self.worker_id, leases, round(self.lease * 1000) if self.lease is not None else None
                )
            except KlaxonError as exc:
                log.warning("klaxon worker %s: heartbeat failed: %s", self.worker_id, exc)
                continue
            with self._lock:
                for run_id in lost:
                    core = self._held.get(run_id)
                    # A settled run (its outcome sent, compensating) is left
                    # to the server's refusals of its writes.
                    if core is not None and not core.settled:
                        core.stop("lease lost")

    def _shutdown(self) -> None:
        deadline = time.monotonic() + self.grace_period
        while time.monotonic() < deadline:
            with self._lock:
                if not self._held:
                    return
                self._lock.wait(0.05)
        with self._lock:
            held = list(self._held.values())
        for core in held:
            self._release(core)

    def _release(self, core: RunCore) -> None:
        with core.lock:
            if core.settled:
                return
            core.stopped = core.stopped or "released"
        try:
            self._protocol.release(core.run.run_id, self.worker_id, core.run.epoch)
        except KlaxonError as exc:
            log.info("klaxon worker %s: release of %s: %s", self.worker_id, core.run.run_id, exc)


async def _await(awaitable: Any) -> Any:
    return await awaitable
