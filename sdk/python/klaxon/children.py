"""Child runs: a step starts a run of another workflow, and the parent awaits it.

The server keeps every rule, as for Go's ``klaxon.StartChild`` and
``klaxon.AwaitChildren``: the start is a step whose output (the child's run
ID) is the durable link, so a retried parent finds its child instead of
starting another; each await is a wait step, the run waiting without a worker
until its children end; a child that ends dead or cancelled fails the await
with the child's class (:class:`ChildFailed`). The SDK takes sequence numbers
in program order, memoizes from the step log, and sends the rest.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Coroutine, Generator, Mapping, Sequence, cast

from .errors import Failure, WaitTimedOut
from .protocol import ChildAwait, ChildAwaitRequest, ChildStartRequest

if TYPE_CHECKING:
    from .context import RunCore, _Plan  # pyright: ignore[reportPrivateUsage]

__all__ = ["ChildRun", "ChildFailed", "ChildSteps", "start_child", "await_children", "await_children_async", "child_async"]


class ChildFailed(Failure):
    """A child run the parent awaited ended dead or cancelled (Go's ``klaxon.ErrChildFailed``).

    Its class is the child's (``cancelled`` for a cancelled child), so the
    parent's step fails as the child did; ``child_run_id``,
    ``child_workflow``, ``child_status`` (``dead`` or ``cancelled``),
    ``child_class`` and ``reason`` say which child and why. Resolving or
    replaying the child (it then completes) lets a parent that died of it
    resume.
    """

    def __init__(self, message: str, child: Mapping[str, Any], class_: str = "") -> None:
        self.child_run_id = str(child.get("run_id") or "")
        self.child_workflow = str(child.get("workflow") or "")
        self.child_status = str(child.get("status") or "")
        self.child_class = str(child.get("class") or "")
        self.reason = str(child.get("reason") or "")
        super().__init__(class_ or self.child_class or "cancelled", message)


class ChildRun:
    """A child run started by ``ctx.start_child``: await it with :meth:`result` (or ``await`` it in ``async`` workflows).

    ``run_id`` is the child's run ID; ``workflow`` its workflow.
    """

    def __init__(self, core: RunCore, name: str, run_id: str, workflow: str, timeout: float | None) -> None:
        self._core = core
        self.name = name
        self.run_id = run_id
        self.workflow = workflow
        self.timeout = timeout

    def result(self) -> Any:
        """Wait durably for the child to end and return its output: a wait step named like the start.

        When the child is still running the run gives up its worker (this
        raises an exception that ends the body, as ``ctx.sleep`` does) and
        resumes here once the child ended. A child that ended dead or
        cancelled raises :class:`ChildFailed`; past ``timeout`` (seconds,
        default 48 hours) :class:`~klaxon.WaitTimedOut`.
        """
        return await_children(self._core, (self,))[0]

    def result_async(self) -> Coroutine[Any, Any, Any]:
        """:meth:`result` for ``async`` workflows; the await's sequence number is taken at the call."""
        return await_children_async(self._core, (self,), single=True)

    def __await__(self) -> Generator[Any, None, Any]:
        return self.result_async().__await__()

    def __repr__(self) -> str:
        return f"ChildRun(name={self.name!r}, run_id={self.run_id!r}, workflow={self.workflow!r})"


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def start_child(core: RunCore, plan: _Plan, workflow: str, input: Any, timeout: float | None) -> ChildRun:
    """Start the child the step ``plan`` began, or find it in the step log."""
    if plan.error is not None:
        raise plan.error
    if plan.memo or plan.execute is None:
        output: object = plan.output
        logged: Mapping[str, Any] = cast(Mapping[str, Any], output) if isinstance(output, Mapping) else {}
        return ChildRun(core, plan.name, str(logged.get("run_id") or ""), str(logged.get("workflow") or ""), timeout)
    ex = plan.execute
    with core.lock:
        ex.closed = True
    run = core.run
    request = ChildStartRequest(
        worker_id=core.worker_id,
        workflow=run.workflow,
        attempt=run.attempt,
        epoch=run.epoch,
        name=ex.name,
        child_workflow=workflow,
        input=input,
    )
    answer = core.ask(ex, "child", lambda: core.protocol.child_start(run.run_id, ex.seq, request))
    if answer.state != "started":
        refused = Failure(answer.class_ or "permanent", answer.message or f"child {ex.name!r} of workflow {workflow!r} was not started")
        raise core._fail(ex, refused, time.monotonic() - ex.started)  # pyright: ignore[reportPrivateUsage]
    with core.lock:
        core.steps_done.append(ex.seq)
    return ChildRun(core, ex.name, answer.run_id, answer.child_workflow or workflow, timeout)


def await_children(core: RunCore, children: Sequence[ChildRun]) -> list[Any]:
    """Await children: one wait step each, at consecutive sequence numbers taken now."""
    return _await_plans(core, core.begin_many([c.name for c in children]), children)


def await_children_async(core: RunCore, children: Sequence[ChildRun], *, single: bool = False) -> Coroutine[Any, Any, Any]:
    """:func:`await_children` for ``async`` workflows: the sequence numbers are taken now, the request on a thread."""
    plans = core.begin_many([c.name for c in children])

    async def wait() -> Any:
        outputs = await asyncio.to_thread(_await_plans, core, plans, children)
        return outputs[0] if single else outputs

    return wait()


def child_async(core: RunCore, name: str, workflow: str, input: Any, timeout: float | None) -> Coroutine[Any, Any, Any]:
    """Start a child and await it, for ``async`` workflows: both sequence numbers are taken now, so that
    ``asyncio.gather`` of many numbers them in program order whichever start ends first."""
    start, wait = core.begin_many([name, name])

    async def run() -> Any:
        child = await asyncio.to_thread(start_child, core, start, workflow, input, timeout)
        return (await asyncio.to_thread(_await_plans, core, (wait,), (child,)))[0]

    return run()


def _await_plans(core: RunCore, plans: Sequence[_Plan], children: Sequence[ChildRun]) -> list[Any]:
    for plan in plans:
        if plan.error is not None:
            raise plan.error
    if all(plan.memo or plan.execute is None for plan in plans):
        return [plan.output for plan in plans]
    with core.lock:
        for plan in plans:
            if plan.execute is not None:
                plan.execute.closed = True
        failures = tuple(core.step_failures)
    run = core.run
    request = ChildAwaitRequest(
        worker_id=core.worker_id,
        workflow=run.workflow,
        attempt=run.attempt,
        epoch=run.epoch,
        awaits=[ChildAwait(c.name, c.run_id, _ms(c.timeout)) for c in children],
        step_failures=failures,
    )
    first = next(plan.execute for plan in plans if plan.execute is not None)
    answer = core.ask(first, "await", lambda: core.protocol.child_await(run.run_id, plans[0].seq, request))
    if answer.state == "satisfied":
        with core.lock:
            core.steps_done.extend(plan.seq for plan in plans if plan.execute is not None)
        return list(answer.outputs)
    if answer.state in ("failed", "timed_out"):
        failed = next((p.execute for p in plans if p.execute is not None and p.seq == answer.seq), first)
        exc: Failure = (
            ChildFailed(answer.message, answer.child, answer.class_)
            if answer.state == "failed"
            else WaitTimedOut(answer.message or f"child {failed.name!r} not ended in time")
        )
        raise core._fail(failed, exc, time.monotonic() - failed.started)  # pyright: ignore[reportPrivateUsage]
    # "waiting": the run waits on its children without a lease; a later
    # claim goes on from the step log.
    from .context import RunStopped  # context imports this module

    core.stop(f"the run awaits its children until {answer.until or 'they end'}")
    raise RunStopped(core.stopped or "waiting")


class ChildSteps:
    """The child-run methods of :class:`~klaxon.Context`, over the run's core."""

    _core: RunCore

    def start_child(self, name: str, workflow: str, input: Any = None, *, timeout: float | None = None) -> ChildRun:
        """Start a run of ``workflow``, a child of this run, in a step named ``name``; await it later.

        The start takes its sequence number now, in program order, and the
        step log records the child's run ID, so a retried parent finds its
        child instead of starting another. An unknown workflow or an input
        that fails its schema raises a ``Permanent`` failure and starts
        nothing. ``timeout`` (seconds, default 48 hours) bounds the await,
        counted from when the run first reaches it. Cancelling the parent
        cancels its open children.
        """
        return start_child(self._core, self._core.begin(name, None), workflow, input, timeout)

    def child(self, name: str, workflow: str, input: Any = None, *, timeout: float | None = None) -> Any:
        """Start a child run and await its output: :meth:`start_child` then ``ChildRun.result()``."""
        return self.start_child(name, workflow, input, timeout=timeout).result()

    def gather_children(self, *children: ChildRun) -> list[Any]:
        """Await many children and return their outputs in the order given (fan-in).

        Every await takes its sequence number now, before any is sent, so
        the run waits once on all the children still running and is woken
        when the last ends, or at once when one fails: the first failed
        child, in the order given, raises :class:`~klaxon.ChildFailed`.
        """
        return await_children(self._core, children)

    def start_child_async(
        self, name: str, workflow: str, input: Any = None, *, timeout: float | None = None
    ) -> Coroutine[Any, Any, ChildRun]:
        """:meth:`start_child` for ``async`` workflows; the sequence number is taken at the call."""
        plan = self._core.begin(name, None)
        return asyncio.to_thread(start_child, self._core, plan, workflow, input, timeout)

    def child_async(self, name: str, workflow: str, input: Any = None, *, timeout: float | None = None) -> Coroutine[Any, Any, Any]:
        """:meth:`child` for ``async`` workflows; both its sequence numbers (start, await) are taken at the call."""
        return child_async(self._core, name, workflow, input, timeout)

    def gather_children_async(self, *children: ChildRun) -> Coroutine[Any, Any, list[Any]]:
        """:meth:`gather_children` for ``async`` workflows; the sequence numbers are taken at the call."""
        return await_children_async(self._core, children)
