"""The context a workflow runs in: steps, memoization, spend, and the run's bookkeeping.

:class:`RunCore` is the one core that sync and ``async`` workflows share: it
numbers steps (at call time, under a lock, so parallel steps get the same
numbers on every attempt), memoizes them from the claim's step log, detects
nondeterminism, obeys ``doom``, checkpoints, and keeps the failures and model
calls the outcome reports. :class:`Context` is the workflow's face of it.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import time
import traceback
from concurrent.futures import Future
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Awaitable, Callable, Coroutine, Mapping, Sequence, TypeVar, Union, cast, overload

from .children import ChildSteps
from .errors import (
    go_duration,
    FAILURE_CLASSES,
    BudgetExceeded,
    DeadlineExceeded,
    Failure,
    InvalidOutput,
    InvalidRequest,
    LeaseLost,
    Nondeterminism,
    NondeterminismProblem,
    NotFound,
    Permanent,
    RateLimited,
    Semantic,
    TransportError,
    WaitTimedOut,
)
from .model_calls import classify_model_error, jsonable_response, read_usage
from .protocol import (
    CheckpointRequest,
    ClaimedRun,
    CompensateItem,
    ErrorInfo,
    FailureInfo,
    LoggedStep,
    ModelCall,
    OutcomeRequest,
    StepFailure,
    WaitRequest,
    WorkerProtocol,
)
from .rate_limits import RateLimitGrant
from .rate_limits import acquire as _acquire_rate_limit
from .waits import ApprovalDecision, format_time

__all__ = ["Context", "RunCore", "RunStopped", "ReplayFrontier", "error_info", "PANIC_TYPES"]

T = TypeVar("T")

#: Exceptions reported as kind ``panic``: programming errors, permanent as a Go panic is.
PANIC_TYPES: tuple[type[BaseException], ...] = (
    TypeError,
    AttributeError,
    NameError,
    IndexError,
    KeyError,
    AssertionError,
    ZeroDivisionError,
    RecursionError,
    NotImplementedError,
)

Validator = Callable[[T], Union[BaseException, str, None]]


class RunStopped(BaseException):
    """The run is no longer this worker's (lease lost, released, timed out): its body must end.

    A ``BaseException`` so that ``except Exception`` in a workflow does not
    swallow it; nothing more is sent for the run.
    """


class ReplayFrontier(BaseException):
    """In replay mode, the first step not in the log: it ends the body."""


@dataclass
class _StepExec:
    """A step being executed in this attempt: what ``record_spend`` and ``idempotency_key`` see."""

    seq: int
    name: str
    key: str
    started: float = field(default_factory=time.monotonic)
    model_calls: list[ModelCall] = field(default_factory=lambda: list[ModelCall]())
    closed: bool = False


_current: ContextVar[_StepExec | None] = ContextVar("klaxon_step", default=None)


@dataclass(frozen=True)
class _Plan:
    """What a step call does, decided at call time: return a memo, raise, or execute."""

    seq: int
    name: str
    memo: bool = False
    output: Any = None
    error: BaseException | None = None
    execute: _StepExec | None = None


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _ms_signed(seconds: float) -> int:
    """Seconds as milliseconds, sign kept: the server names a negative duration, the SDK does not judge it."""
    return round(seconds * 1000)


def _ms_or_none(seconds: float | None) -> int | None:
    return None if seconds is None else _ms_signed(seconds)


def _approval_request(title: str, body: str, data: Any, approvers: Sequence[str]) -> dict[str, Any]:
    request: dict[str, Any] = {"title": title}
    if body:
        request["body"] = body
    if data is not None:
        request["data"] = _roundtrip(data)
    if approvers:
        request["approvers"] = list(approvers)
    return request


def _roundtrip(value: Any) -> Any:
    """The value as JSON gives it back: what a replay of the step would return."""
    return json.loads(json.dumps(value))


def error_info(exc: BaseException, step: str = "", seq: int = 0, *, traceback_text: bool = True) -> ErrorInfo:
    """What the worker knows of an exception: its kind, class, message and traceback."""
    tb = "".join(traceback.format_exception(exc)) if traceback_text else ""
    message = str(exc) or type(exc).__name__
    retry_after_ms = 0
    class_ = ""
    if isinstance(exc, DeadlineExceeded):
        kind = "timeout"
    elif isinstance(exc, Failure):
        kind, class_ = "failure", exc.class_
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            retry_after_ms = _ms(exc.retry_after)
    elif isinstance(exc, PANIC_TYPES):
        kind = "panic"
    else:
        kind = "error"
    return ErrorInfo(
        kind=kind,
        message=message,
        class_=class_,
        type=type(exc).__name__,
        traceback=tb,
        step=step,
        seq=seq if step else 0,
        retry_after_ms=retry_after_ms,
    )


def _validator_failure(verdict: BaseException | str | None) -> BaseException | None:
    if verdict is None:
        return None
    if isinstance(verdict, Failure):
        return verdict
    if isinstance(verdict, BaseException):
        failure = Semantic(str(verdict) or type(verdict).__name__)
        failure.__cause__ = verdict
        return failure
    return Semantic(verdict or "the validator rejected the output")


class RunCore:
    """One claimed run's state, shared by its sync and async steps."""

    def __init__(self, run: ClaimedRun, protocol: WorkerProtocol, worker_id: str) -> None:
        self.run = run
        self.protocol = protocol
        self.worker_id = worker_id
        self.lock = threading.Lock()
        self.log: dict[int, LoggedStep] = {s.seq: s for s in run.steps}
        self.next_seq = 1
        self.doom: FailureInfo | None = run.doom
        self.doom_hit: tuple[BaseException, str, int] | None = None
        self.fatal: tuple[BaseException, str, int] | None = None
        self.stopped: str | None = None
        self.settled = False
        self.steps_done: list[int] = []
        self.compensable: list[int] = []
        self.compensations: dict[int, tuple[Callable[[Any], Any], Any]] = {}
        self.step_failures: list[StepFailure] = []
        self.failed_model_calls: list[ModelCall] = []
        self._failed: dict[int, tuple[BaseException, str, int]] = {}
        self.started = time.monotonic()
        self.deadline = self.started + run.run_timeout_ms / 1000 if run.run_timeout_ms > 0 else None

    # ------------------------------------------------------------ state

    def stop(self, why: str) -> None:
        """Begin no new step and send nothing more for this run."""
        with self.lock:
            if self.stopped is None:
                self.stopped = why

    def try_settle(self) -> bool:
        """True once: the caller is the one to send the run's outcome."""
        with self.lock:
            if self.settled or self.stopped is not None:
                return False
            self.settled = True
            return True

    def key_for(self, seq: int, name: str) -> str:
        key = f"{self.run.run_id}/{seq}/{name}"
        if self.run.step_generation > 0:
            key += f"/g{self.run.step_generation}"
        return key

    def step_of(self, exc: BaseException) -> tuple[str, int]:
        entry = self._failed.get(id(exc))
        if entry is not None and entry[0] is exc:
            return entry[1], entry[2]
        return "", 0

    def _tag(self, exc: BaseException, name: str, seq: int) -> BaseException:
        self._failed[id(exc)] = (exc, name, seq)
        return exc

    # ------------------------------------------------------------ steps

    def begin(self, name: str, compensate: Callable[[Any], Any] | None) -> _Plan:
        """Take the next sequence number and decide what the step call does."""
        if not name:
            raise ValueError("a step needs a name")
        with self.lock:
            return self._begin_locked(name, compensate)

    def begin_many(self, names: Sequence[str]) -> list[_Plan]:
        """Take consecutive sequence numbers for steps begun together (a gather of awaits)."""
        if not all(names):
            raise ValueError("a step needs a name")
        with self.lock:
            return [self._begin_locked(name, None) for name in names]

    def _begin_locked(self, name: str, compensate: Callable[[Any], Any] | None) -> _Plan:
        """begin, with the lock held."""
        if self.stopped is not None:
            return _Plan(0, name, error=RunStopped(self.stopped))
        seq = self.next_seq
        self.next_seq += 1
        if self.fatal is not None:
            return _Plan(seq, name, error=self.fatal[0])
        logged = self.log.get(seq)
        if logged is not None:
            if logged.name != name:
                exc = Nondeterminism(
                    f'nondeterminism at step {seq}: the step log recorded "{logged.name}" but the workflow called "{name}"'
                )
                self.fatal = (self._tag(exc, name, seq), name, seq)
                self.step_failures.append(StepFailure(seq, name, error_info(exc, name, seq)))
                return _Plan(seq, name, error=exc)
            if logged.status != "completed":
                exc = Permanent(
                    f'step {seq} "{name}": the step\'s work was undone ({logged.status}); '
                    "restart the run instead of resuming it"
                )
                return _Plan(seq, name, error=self._tag(exc, name, seq))
            self.steps_done.append(seq)
            if compensate is not None:
                self.compensable.append(seq)
                self.compensations[seq] = (compensate, logged.output)
            return _Plan(seq, name, memo=True, output=logged.output)
        if self.doom is not None:
            doom = self.doom
            if doom.class_ in FAILURE_CLASSES and doom.class_ != "budget_exceeded":
                exc: BaseException = Failure(doom.class_, doom.message)
            else:
                exc = BudgetExceeded(doom.message)
            if self.doom_hit is None:
                self.doom_hit = (exc, name, seq)
                self.step_failures.append(StepFailure(seq, name, error_info(exc, name, seq)))
            return _Plan(seq, name, error=self._tag(exc, name, seq))
        if self.run.mode == "replay":
            return _Plan(seq, name, error=ReplayFrontier(f"step {seq} {name!r} is the replay frontier"))
        return _Plan(seq, name, execute=_StepExec(seq=seq, name=name, key=self.key_for(seq, name)))

    def step_timeout(self, timeout: float | None) -> float | None:
        """The step's timeout, bounded by what is left of the run's."""
        if self.deadline is None:
            return timeout
        left = max(0.0, self.deadline - time.monotonic())
        return left if timeout is None else min(timeout, left)

    def execute_sync(self, ex: _StepExec, fn: Callable[[], Any], timeout: float | None) -> tuple[bool, Any]:
        """Run a sync step's function, in a thread of its own when it has a timeout."""
        limit = self.step_timeout(timeout)
        if limit is None:
            token = _current.set(ex)
            try:
                return True, fn()
            except Exception as exc:
                return False, exc
            finally:
                _current.reset(token)
        box: list[tuple[bool, Any]] = []
        raised: list[BaseException] = []

        def target() -> None:
            _current.set(ex)
            try:
                box.append((True, fn()))
            except Exception as exc:
                box.append((False, exc))
            except BaseException as exc:  # RunStopped from a nested step, SystemExit…
                raised.append(exc)

        thread = threading.Thread(target=target, name=f"klaxon-step-{ex.seq}", daemon=True)
        thread.start()
        thread.join(limit)
        if raised:
            raise raised[0]
        if box:
            return box[0]
        # The thread is abandoned: whatever it returns or spends later is ignored.
        return False, DeadlineExceeded(f"step ran past its timeout of {go_duration(limit)}")

    async def execute_async(self, ex: _StepExec, fn: Callable[[], Any], timeout: float | None) -> tuple[bool, Any]:
        """Run an async step's function (a coroutine function, or a sync one on a thread)."""
        limit = self.step_timeout(timeout)

        async def call() -> Any:
            value = fn() if inspect.iscoroutinefunction(fn) else await asyncio.to_thread(fn)
            while inspect.isawaitable(value):
                value = await value
            return value

        token = _current.set(ex)
        try:
            if limit is None:
                return True, await call()
            return True, await asyncio.wait_for(call(), limit)
        except asyncio.TimeoutError:
            return False, DeadlineExceeded(f"step ran past its timeout of {go_duration(limit or 0.0)}")
        except Exception as exc:
            return False, exc
        finally:
            _current.reset(token)

    def finish(
        self,
        ex: _StepExec,
        ok: bool,
        value: Any,
        validate: Callable[[Any], BaseException | str | None] | None,
        compensate: Callable[[Any], Any] | None,
    ) -> Any:
        """Validate and checkpoint a step's output, or keep its failure; return the output or raise."""
        duration = time.monotonic() - ex.started
        if ok:
            try:
                value = _roundtrip(value)
            except (TypeError, ValueError) as exc:
                ok, value = False, TypeError(f'step {ex.seq} "{ex.name}": the output is not JSON: {exc}')
        if ok and validate is not None:
            try:
                failure = _validator_failure(validate(value))
            except Exception as exc:
                failure = _validator_failure(exc)
            if failure is not None:
                ok, value = False, failure
        if not ok:
            raise self._fail(ex, cast(BaseException, value), duration)
        with self.lock:
            ex.closed = True
            calls = list(ex.model_calls)
            failed = list(self.failed_model_calls)
            if self.stopped is not None:
                raise RunStopped(self.stopped)
        request = CheckpointRequest(
            worker_id=self.worker_id,
            workflow=self.run.workflow,
            attempt=self.run.attempt,
            epoch=self.run.epoch,
            name=ex.name,
            idempotency_key=ex.key,
            output=value,
            duration_ms=_ms(duration),
            model_calls=calls,
            failed_model_calls=failed,
        )
        try:
            answer = self.protocol.checkpoint(self.run.run_id, ex.seq, request)
        except (LeaseLost, NotFound) as problem:
            self.stop(f"checkpoint refused: {problem}")
            raise RunStopped(str(problem)) from problem
        except NondeterminismProblem as problem:
            exc = Nondeterminism(problem.detail or str(problem))
            with self.lock:
                self.fatal = (exc, ex.name, ex.seq)
            raise self._fail(ex, exc, duration, calls) from problem
        except InvalidOutput as problem:
            exc = Semantic(f"the output fails the step's output schema: {problem.detail or problem}")
            raise self._fail(ex, exc, duration, calls) from problem
        except InvalidRequest as problem:
            exc = Permanent(f"the server refused the checkpoint (a bug in the worker): {problem.detail or problem}")
            with self.lock:
                self.fatal = (exc, ex.name, ex.seq)
            raise self._fail(ex, exc, duration, calls) from problem
        except TransportError as problem:
            # The step's fate is unknown to us; the lease will run out and
            # another worker resumes from what the server holds.
            self.stop(f"the server could not be reached: {problem}")
            raise RunStopped(str(problem)) from problem
        with self.lock:
            if answer.doom is not None:
                self.doom = answer.doom
            self.steps_done.append(ex.seq)
            if compensate is not None:
                self.compensable.append(ex.seq)
                self.compensations[ex.seq] = (compensate, value)
        return value

    def _fail(self, ex: _StepExec, exc: BaseException, duration: float, calls: list[ModelCall] | None = None) -> BaseException:
        with self.lock:
            ex.closed = True
            if calls is None:
                calls = list(ex.model_calls)
            info = error_info(exc, ex.name, ex.seq)
            self.step_failures.append(StepFailure(ex.seq, ex.name, info, tuple(calls), _ms(duration)))
            self.failed_model_calls.extend(calls)
        return self._tag(exc, ex.name, ex.seq)

    def run_plan_sync(
        self,
        plan: _Plan,
        fn: Callable[[], Any],
        timeout: float | None,
        validate: Callable[[Any], BaseException | str | None] | None,
        compensate: Callable[[Any], Any] | None,
    ) -> Any:
        if plan.error is not None:
            raise plan.error
        if plan.memo or plan.execute is None:
            return plan.output
        ok, value = self.execute_sync(plan.execute, fn, timeout)
        return self.finish(plan.execute, ok, value, validate, compensate)

    async def run_plan_async(
        self,
        plan: _Plan,
        fn: Callable[[], Any],
        timeout: float | None,
        validate: Callable[[Any], BaseException | str | None] | None,
        compensate: Callable[[Any], Any] | None,
    ) -> Any:
        if plan.error is not None:
            raise plan.error
        if plan.memo or plan.execute is None:
            return plan.output
        ok, value = await self.execute_async(plan.execute, fn, timeout)
        return await asyncio.to_thread(self.finish, plan.execute, ok, value, validate, compensate)

    # ------------------------------------------------------------ waits

    def wait(
        self,
        plan: _Plan,
        kind: str,
        *,
        timeout_ms: int | None = None,
        until: str = "",
        request: Mapping[str, Any] | None = None,
    ) -> Any:
        """Reach the durable wait ``plan`` began: return its result, raise its timeout, or stop the run, waiting.

        The server keeps every rule (the deadline fixed when the run first
        reaches the wait, kept signals, timeouts); the SDK only memoizes a
        satisfied wait from the step log, as a step.
        """
        if plan.error is not None:
            raise plan.error
        if plan.memo or plan.execute is None:
            return plan.output
        ex = plan.execute
        with self.lock:
            ex.closed = True
            failures = tuple(self.step_failures)
            if self.stopped is not None:
                raise RunStopped(self.stopped)
        wire = WaitRequest(
            worker_id=self.worker_id,
            workflow=self.run.workflow,
            attempt=self.run.attempt,
            epoch=self.run.epoch,
            name=ex.name,
            kind=kind,
            timeout_ms=timeout_ms,
            until=until,
            request=request,
            step_failures=failures,
        )
        answer = self.ask(ex, "wait", lambda: self.protocol.wait(self.run.run_id, ex.seq, wire))
        if answer.state == "satisfied":
            with self.lock:
                self.steps_done.append(ex.seq)
            return answer.output
        if answer.state == "timed_out":
            timed_out = WaitTimedOut(answer.message or f"{kind} {ex.name!r} timed out")
            raise self._fail(ex, timed_out, time.monotonic() - ex.started)
        # "waiting": the server gave the run up to the wait; it holds no
        # lease now, and a later claim goes on from the step log.
        self.stop(f"the run waits on {kind} {ex.name!r} until {answer.until or 'it is answered'}")
        raise RunStopped(self.stopped or "waiting")

    def ask(self, ex: _StepExec, what: str, call: Callable[[], T]) -> T:
        """Send a wait's or a child's request for the step ``ex``; the server's refusals become the step's fate.

        A stale epoch or a lost run stops the run; another step at the
        sequence is nondeterminism; a malformed request is the worker's bug
        (permanent); an unreachable server stops the run, whose lease then
        runs out.
        """
        try:
            return call()
        except (LeaseLost, NotFound) as problem:
            self.stop(f"{what} refused: {problem}")
            raise RunStopped(str(problem)) from problem
        except NondeterminismProblem as problem:
            exc = Nondeterminism(problem.detail or str(problem))
            with self.lock:
                self.fatal = (exc, ex.name, ex.seq)
            raise self._fail(ex, exc, time.monotonic() - ex.started) from problem
        except InvalidRequest as problem:
            exc = Permanent(f'{what} {ex.seq} "{ex.name}": the server refused it: {problem.detail or problem}')
            with self.lock:
                self.fatal = (exc, ex.name, ex.seq)
            raise self._fail(ex, exc, time.monotonic() - ex.started) from problem
        except TransportError as problem:
            self.stop(f"the server could not be reached: {problem}")
            raise RunStopped(str(problem)) from problem

    # ------------------------------------------------------------ spend

    def record_spend(self, call: ModelCall) -> None:
        ex = _current.get()
        if ex is None:
            raise RuntimeError("record_spend is called inside a step: the model call goes with its checkpoint")
        with self.lock:
            if not ex.closed:
                ex.model_calls.append(call)

    # ------------------------------------------------------------ outcome

    def outcome(self, returned: bool, value: Any) -> OutcomeRequest:
        """The outcome of the body that returned ``value`` (or raised it, when not ``returned``)."""
        run = self.run
        with self.lock:
            steps_done = tuple(self.steps_done)
            compensable = tuple(self.compensable)
            failures = tuple(self.step_failures)
            override = self.fatal or self.doom_hit
        base = OutcomeRequest(
            worker_id=self.worker_id,
            attempt=run.attempt,
            epoch=run.epoch,
            mode=run.mode,
            reclaimed=run.reclaimed,
            result="failed",
            duration_ms=_ms(time.monotonic() - self.started),
            steps_done=steps_done,
            compensable=compensable,
            step_failures=failures,
        )
        if run.mode == "replay":
            return replace(base, result="replayed")
        if override is not None:
            exc, step, seq = override
            return replace(base, error=error_info(exc, step, seq))
        if returned:
            try:
                output = _roundtrip(value)
            except (TypeError, ValueError) as exc:
                returned, value = False, TypeError(f"the workflow's output is not JSON: {exc}")
            else:
                return replace(base, result="completed", output=output)
        exc = cast(BaseException, value)
        step, seq = self.step_of(exc)
        return replace(base, error=error_info(exc, step, seq))

    def compensated(self) -> OutcomeRequest:
        run = self.run
        with self.lock:
            return OutcomeRequest(
                worker_id=self.worker_id,
                attempt=run.attempt,
                epoch=run.epoch,
                mode=run.mode,
                reclaimed=run.reclaimed,
                result="compensated",
                duration_ms=_ms(time.monotonic() - self.started),
                steps_done=tuple(self.steps_done),
                compensable=tuple(self.compensable),
                step_failures=tuple(self.step_failures),
            )

    def compensate(self, items: tuple[CompensateItem, ...]) -> None:
        """Run the compensations the server listed, in its order, and record each."""
        for item in items:
            with self.lock:
                if self.stopped is not None:
                    raise RunStopped(self.stopped)
                registered = self.compensations.get(item.seq)
            error: ErrorInfo | None = None
            if registered is None:
                error = error_info(LookupError(f'step {item.seq} "{item.name}": this worker holds no compensation for it'))
            else:
                undo, output = registered
                ex = _StepExec(seq=item.seq, name=item.name, key=item.idempotency_key)
                token = _current.set(ex)
                try:
                    result = undo(output)
                    if inspect.isawaitable(result):
                        asyncio.run(_await(result))
                except Exception as exc:
                    error = error_info(exc)
                finally:
                    _current.reset(token)
            try:
                self.protocol.compensation(self.run.run_id, item.seq, self.worker_id, self.run.epoch, error)
            except (LeaseLost, NotFound) as problem:
                self.stop(f"compensation refused: {problem}")
                raise RunStopped(str(problem)) from problem


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class Context(ChildSteps):
    """What a workflow function receives: ``ctx.step(...)`` and friends (child runs: :class:`~klaxon.children.ChildSteps`)."""

    def __init__(self, core: RunCore) -> None:
        self._core = core

    @property
    def run_id(self) -> str:
        return self._core.run.run_id

    @property
    def attempt(self) -> int:
        return self._core.run.attempt

    @property
    def workflow(self) -> str:
        return self._core.run.workflow

    def step(
        self,
        name: str,
        fn: Callable[[], T],
        *,
        timeout: float | None = None,
        validate: Callable[[T], BaseException | str | None] | None = None,
        compensate: Callable[[T], Any] | None = None,
    ) -> T:
        """Run ``fn`` as a durable step: its output is checkpointed, and replayed on later attempts.

        ``timeout`` (seconds) bounds it; ``validate(output)`` returns ``None``
        or a failure (``Semantic`` unless it says otherwise); ``compensate(output)``
        undoes it if the run fails for good.
        """
        core = self._core
        plan = core.begin(name, cast("Callable[[Any], Any] | None", compensate))
        return cast(T, core.run_plan_sync(plan, fn, timeout, cast("Callable[[Any], Any] | None", validate), cast("Callable[[Any], Any] | None", compensate)))

    @overload
    def step_async(
        self,
        name: str,
        fn: Callable[[], Awaitable[T]],
        *,
        timeout: float | None = None,
        validate: Callable[[T], BaseException | str | None] | None = None,
        compensate: Callable[[T], Any] | None = None,
    ) -> Coroutine[Any, Any, T]: ...

    @overload
    def step_async(
        self,
        name: str,
        fn: Callable[[], T],
        *,
        timeout: float | None = None,
        validate: Callable[[T], BaseException | str | None] | None = None,
        compensate: Callable[[T], Any] | None = None,
    ) -> Coroutine[Any, Any, T]: ...

    def step_async(
        self,
        name: str,
        fn: Callable[[], Any],
        *,
        timeout: float | None = None,
        validate: Callable[[Any], BaseException | str | None] | None = None,
        compensate: Callable[[Any], Any] | None = None,
    ) -> Coroutine[Any, Any, Any]:
        """The step of an ``async`` workflow: ``await ctx.step_async(name, fn)``.

        The sequence number is taken when ``step_async`` is called, so
        ``asyncio.gather(ctx.step_async("a", …), ctx.step_async("b", …))``
        numbers a then b on every attempt. ``fn`` may be a coroutine function,
        or a sync function (run on a thread).
        """
        core = self._core
        plan = core.begin(name, compensate)
        return core.run_plan_async(plan, fn, timeout, validate, compensate)

    def go(
        self,
        name: str,
        fn: Callable[[], T],
        *,
        timeout: float | None = None,
        validate: Callable[[T], BaseException | str | None] | None = None,
        compensate: Callable[[T], Any] | None = None,
    ) -> Future[T]:
        """Start a step on a thread of its own and return its future (parallel steps, as ``klaxon.Go``).

        The sequence number is taken now, in program order.
        """
        core = self._core
        comp = cast("Callable[[Any], Any] | None", compensate)
        val = cast("Callable[[Any], Any] | None", validate)
        plan = core.begin(name, comp)
        future: Future[T] = Future()

        def target() -> None:
            try:
                future.set_result(cast(T, core.run_plan_sync(plan, fn, timeout, val, comp)))
            except BaseException as exc:
                future.set_exception(exc)

        threading.Thread(target=target, name=f"klaxon-go-{plan.seq}", daemon=True).start()
        return future

    def parallel(self, *futures: Future[Any]) -> list[Any]:
        """Wait for steps started with :meth:`go`; their outputs in order (the first failure raises)."""
        return [f.result() for f in futures]

    def rate_limit(self, key: str, *, tokens: int = 0) -> RateLimitGrant:
        """Wait for the capacity of the rate limit ``key`` (declared in Go or ``klaxon ratelimits``), shared by every worker.

        Call it inside a step's function, right before the call the limit
        guards; ``tokens`` is the estimate reserved. Use the grant as a
        context manager and report the tokens used, so the limit is charged
        what the call really used::

            def call() -> str:
                with ctx.rate_limit("openai/gpt-4o-mini", tokens=800) as limit:
                    response = openai_call()
                    limit.used(response.usage.total_tokens)
                return response.text

        The wait holds the worker (its lease is kept by heartbeats). An
        undeclared key raises the server's 404 problem.
        """
        return _acquire_rate_limit(self._core, key, tokens)

    # ------------------------------------------------------------ waits

    def _begin_wait(self, name: str) -> _Plan:
        return self._core.begin(name, None)

    def sleep(self, name: str, seconds: float) -> None:
        """Wait durably for ``seconds``, a step named ``name`` (as Go's ``klaxon.Sleep``).

        The run gives up its worker and is ``waiting`` until ``seconds`` have
        passed since it first reached the sleep; then any worker goes on from
        here. A replay never sleeps it again. When the run must wait, this
        raises an exception that ends the body (a ``BaseException``, which
        ``except Exception`` does not catch): nothing after it runs now.
        """
        self._core.wait(self._begin_wait(name), "sleep", timeout_ms=_ms_signed(seconds))

    def sleep_until(self, name: str, when: datetime) -> None:
        """:meth:`sleep` until ``when``, an aware datetime."""
        until = format_time(when)
        self._core.wait(self._begin_wait(name), "sleep", until=until)

    def wait_for_signal(self, name: str, *, timeout: float | None = None) -> Any:
        """Wait durably for a signal named ``name`` and return its payload (a JSON value).

        A signal sent before the wait begins is kept and taken by it; each
        signal is taken once. ``timeout`` (seconds, counted from when the run
        first reaches the wait; default 48 hours) passed unanswered raises
        :class:`~klaxon.WaitTimedOut`, which the workflow may catch.
        """
        return self._core.wait(self._begin_wait(name), "signal", timeout_ms=_ms_or_none(timeout))

    def await_approval(
        self,
        name: str,
        *,
        title: str,
        body: str = "",
        data: Any = None,
        timeout: float | None = None,
        approvers: Sequence[str] = (),
    ) -> ApprovalDecision:
        """Ask a person to approve or reject, and wait durably for the decision.

        The request goes to the approvals inbox and the ``approvals``
        channel; ``approvers`` (token names) may decide it, or any operate or
        admin token when empty. A rejection is a decision (check
        ``approved``); no decision within ``timeout`` seconds (default 48
        hours) raises :class:`~klaxon.WaitTimedOut`.
        """
        request = _approval_request(title, body, data, approvers)
        plan = self._begin_wait(name)
        return ApprovalDecision.from_wire(self._core.wait(plan, "approval", timeout_ms=_ms_or_none(timeout), request=request))

    async def _wait_async(self, plan: _Plan, kind: str, **options: Any) -> Any:
        return await asyncio.to_thread(self._core.wait, plan, kind, **options)

    def sleep_async(self, name: str, seconds: float) -> Coroutine[Any, Any, None]:
        """:meth:`sleep` for ``async`` workflows; the sequence number is taken at the call."""
        plan = self._begin_wait(name)

        async def wait() -> None:
            await self._wait_async(plan, "sleep", timeout_ms=_ms_signed(seconds))

        return wait()

    def sleep_until_async(self, name: str, when: datetime) -> Coroutine[Any, Any, None]:
        """:meth:`sleep_until` for ``async`` workflows."""
        until = format_time(when)
        plan = self._begin_wait(name)

        async def wait() -> None:
            await self._wait_async(plan, "sleep", until=until)

        return wait()

    def wait_for_signal_async(self, name: str, *, timeout: float | None = None) -> Coroutine[Any, Any, Any]:
        """:meth:`wait_for_signal` for ``async`` workflows."""
        plan = self._begin_wait(name)
        return self._wait_async(plan, "signal", timeout_ms=_ms_or_none(timeout))

    def await_approval_async(
        self,
        name: str,
        *,
        title: str,
        body: str = "",
        data: Any = None,
        timeout: float | None = None,
        approvers: Sequence[str] = (),
    ) -> Coroutine[Any, Any, ApprovalDecision]:
        """:meth:`await_approval` for ``async`` workflows."""
        request = _approval_request(title, body, data, approvers)
        plan = self._begin_wait(name)

        async def wait() -> ApprovalDecision:
            output = await self._wait_async(plan, "approval", timeout_ms=_ms_or_none(timeout), request=request)
            return ApprovalDecision.from_wire(output)

        return wait()

    def idempotency_key(self) -> str:
        """The running step's idempotency key, ``RUNID/SEQ/NAME``: pass it to the provider."""
        ex = _current.get()
        if ex is None:
            raise RuntimeError("idempotency_key is called inside a step (or a compensation)")
        return ex.key

    def record_spend(
        self,
        *,
        provider: str,
        model: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cached_input_tokens: int = 0,
    ) -> None:
        """Record a model call of the running step; the server prices it and checks the budget."""
        self._core.record_spend(ModelCall(provider, model, input_tokens, output_tokens, cached_input_tokens))

    def _model_thunk(self, fn: Callable[[], Any], provider: str | None, model: str | None) -> Callable[[], Any]:
        def thunk() -> Any:
            try:
                response = fn()
            except Exception as exc:
                classified = classify_model_error(exc)
                if classified is exc:
                    raise
                raise classified from exc
            return self._record_response(response, provider, model)

        return thunk

    def _record_response(self, response: Any, provider: str | None, model: str | None) -> dict[str, Any]:
        usage = read_usage(response, provider=provider, model=model)
        if usage is not None:
            self._core.record_spend(usage)
        return jsonable_response(response)

    def model_call(
        self,
        name: str,
        fn: Callable[[], Any],
        *,
        provider: str | None = None,
        model: str | None = None,
        timeout: float | None = None,
        validate: Callable[[dict[str, Any]], BaseException | str | None] | None = None,
    ) -> dict[str, Any]:
        """A step that calls a model: its usage is recorded, its response (as a dict) checkpointed.

        Provider errors become failure classes (429 → ``RateLimited`` …). On
        replay the stored dict is returned and ``fn`` is not called.
        """
        return self.step(name, self._model_thunk(fn, provider, model), timeout=timeout, validate=validate)

    def model_call_async(
        self,
        name: str,
        fn: Callable[[], Awaitable[Any]],
        *,
        provider: str | None = None,
        model: str | None = None,
        timeout: float | None = None,
        validate: Callable[[dict[str, Any]], BaseException | str | None] | None = None,
    ) -> Coroutine[Any, Any, dict[str, Any]]:
        """:meth:`model_call` for ``async`` workflows: ``fn`` returns an awaitable response."""

        async def call() -> dict[str, Any]:
            try:
                response = await fn()
            except Exception as exc:
                classified = classify_model_error(exc)
                if classified is exc:
                    raise
                raise classified from exc
            return self._record_response(response, provider, model)

        return self.step_async(name, call, timeout=timeout, validate=validate)
