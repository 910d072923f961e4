"""The worker protocol's wire format, in one place (docs/worker-protocol.md).

Requests and answers are frozen dataclasses with ``to_wire`` / ``from_wire``;
:class:`Transport` carries them over ``http.client`` with one keep-alive
connection per thread, retries network errors of idempotent requests, and
turns ``application/problem+json`` answers into typed exceptions
(:mod:`klaxon.errors`) by their problem ``type``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, cast

from .errors import (
    InvalidOutput,
    InvalidRequest,
    LeaseLost,
    ManifestConflict,
    NondeterminismProblem,
    NotApprover,
    NotFound,
    ProblemError,
    SignalRefused,
    StepExists,
    TransportError,
    UnknownWorkflow,
)
from .policy import Budget

__all__ = [
    "API_PREFIX",
    "WORKER_PREFIX",
    "WorkerInfo",
    "WorkflowRegistration",
    "RegisterAnswer",
    "ClaimRequest",
    "FailureInfo",
    "LoggedStep",
    "ClaimedRun",
    "ModelCall",
    "CheckpointRequest",
    "CheckpointAnswer",
    "ErrorInfo",
    "StepFailure",
    "OutcomeRequest",
    "CompensateItem",
    "OutcomeAnswer",
    "WaitRequest",
    "WaitAnswer",
    "ChildStartRequest",
    "ChildStartAnswer",
    "ChildAwait",
    "ChildAwaitRequest",
    "ChildAwaitAnswer",
    "Lease",
    "Transport",
    "WorkerProtocol",
    "decode_problem",
]

API_PREFIX = "/api/v1"
WORKER_PREFIX = API_PREFIX + "/worker"

JSON = Any
Wire = dict[str, Any]


def _mapping(value: object) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return cast(Mapping[str, Any], value)
    return {}


def _list(value: object) -> list[Any]:
    if isinstance(value, list):
        return cast(list[Any], value)
    return []


# ---------------------------------------------------------------- register


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    language: str
    sdk_version: str
    runtime: str

    def to_wire(self) -> Wire:
        return {"id": self.id, "language": self.language, "sdk_version": self.sdk_version, "runtime": self.runtime}


@dataclass(frozen=True)
class WorkflowRegistration:
    """A workflow as registered: every field but ``name`` optional (``None``: the engine's default)."""

    name: str
    version: int = 1
    expect_steps: Sequence[str] | None = None
    retry: Mapping[str, Any] | None = None
    budget: Budget | None = None
    run_timeout_ms: int | None = None
    input_schema: JSON = None
    output_schema: JSON = None
    step_output_schemas: Mapping[str, JSON] | None = None
    redact: Sequence[str] | None = None
    redact_patterns: Sequence[str] | None = None
    concurrency_key: str | None = None
    concurrency_limit: int | None = None
    default_priority: int | None = None

    def to_wire(self) -> Wire:
        wire: Wire = {"name": self.name, "version": self.version}
        if self.expect_steps is not None:
            wire["expect_steps"] = list(self.expect_steps)
        if self.retry:
            wire["retry"] = dict(self.retry)
        if self.budget is not None:
            wire["budget"] = self.budget.to_wire()
        if self.run_timeout_ms:
            wire["run_timeout_ms"] = self.run_timeout_ms
        if self.input_schema is not None:
            wire["input_schema"] = self.input_schema
        if self.output_schema is not None:
            wire["output_schema"] = self.output_schema
        if self.step_output_schemas:
            wire["step_output_schemas"] = dict(self.step_output_schemas)
        if self.redact:
            wire["redact"] = list(self.redact)
        if self.redact_patterns:
            wire["redact_patterns"] = list(self.redact_patterns)
        if self.concurrency_key is not None:
            limit = self.concurrency_limit if self.concurrency_limit is not None else 1
            wire["concurrency"] = {"key": self.concurrency_key, "limit": limit}
        if self.default_priority:
            wire["default_priority"] = self.default_priority
        return wire


@dataclass(frozen=True)
class RegisterAnswer:
    worker_id: str
    lease_ms: int
    heartbeat_ms: int
    workflows: tuple[tuple[str, int], ...]

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> RegisterAnswer:
        workflows = tuple(
            (str(_mapping(w).get("name", "")), int(_mapping(w).get("version", 1))) for w in _list(wire.get("workflows"))
        )
        return cls(
            worker_id=str(wire.get("worker_id", "")),
            lease_ms=int(wire.get("lease_ms") or 30000),
            heartbeat_ms=int(wire.get("heartbeat_ms") or 10000),
            workflows=workflows,
        )


# ---------------------------------------------------------------- claim


@dataclass(frozen=True)
class ClaimRequest:
    worker_id: str
    workflows: Sequence[str]
    limit: int
    wait_ms: int
    lease_ms: int | None = None

    def to_wire(self) -> Wire:
        wire: Wire = {
            "worker_id": self.worker_id,
            "workflows": list(self.workflows),
            "limit": self.limit,
            "wait_ms": self.wait_ms,
        }
        if self.lease_ms is not None:
            wire["lease_ms"] = self.lease_ms
        return wire


@dataclass(frozen=True)
class FailureInfo:
    """A failure as the server states it: the claim's or a checkpoint's ``doom``."""

    class_: str
    message: str

    @classmethod
    def from_wire(cls, wire: object) -> FailureInfo | None:
        if not isinstance(wire, Mapping):
            return None
        m = cast(Mapping[str, Any], wire)
        return cls(class_=str(m.get("class", "")), message=str(m.get("message", "")))


@dataclass(frozen=True)
class LoggedStep:
    seq: int
    name: str
    status: str
    output: JSON
    idempotency_key: str

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> LoggedStep:
        return cls(
            seq=int(wire["seq"]),
            name=str(wire["name"]),
            status=str(wire.get("status", "completed")),
            output=wire.get("output"),
            idempotency_key=str(wire.get("idempotency_key", "")),
        )


@dataclass(frozen=True)
class ClaimedRun:
    run_id: str
    workflow: str
    workflow_version: int
    attempt: int
    epoch: int
    mode: str
    reclaimed: bool
    input: JSON
    steps: tuple[LoggedStep, ...]
    step_generation: int
    run_timeout_ms: int
    budget: Budget | None
    doom: FailureInfo | None

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> ClaimedRun:
        return cls(
            run_id=str(wire["run_id"]),
            workflow=str(wire["workflow"]),
            workflow_version=int(wire.get("workflow_version") or 1),
            attempt=int(wire.get("attempt") or 1),
            epoch=int(wire["epoch"]),
            mode=str(wire.get("mode") or "run"),
            reclaimed=bool(wire.get("reclaimed", False)),
            input=wire.get("input"),
            steps=tuple(LoggedStep.from_wire(_mapping(s)) for s in _list(wire.get("steps"))),
            step_generation=int(wire.get("step_generation") or 0),
            run_timeout_ms=int(wire.get("run_timeout_ms") or 0),
            budget=Budget.from_wire(_mapping(wire.get("budget"))),
            doom=FailureInfo.from_wire(wire.get("doom")),
        )


# ---------------------------------------------------------------- checkpoint


@dataclass(frozen=True)
class ModelCall:
    """One model call's usage, priced by the server."""

    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0

    def to_wire(self) -> Wire:
        return {
            "provider": self.provider,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_input_tokens": self.cached_input_tokens,
        }


@dataclass(frozen=True)
class CheckpointRequest:
    worker_id: str
    workflow: str
    attempt: int
    epoch: int
    name: str
    idempotency_key: str
    output: JSON
    duration_ms: int
    model_calls: Sequence[ModelCall] = ()
    failed_model_calls: Sequence[ModelCall] = ()

    def to_wire(self) -> Wire:
        return {
            "worker_id": self.worker_id,
            "workflow": self.workflow,
            "attempt": self.attempt,
            "epoch": self.epoch,
            "name": self.name,
            "idempotency_key": self.idempotency_key,
            "output": self.output,
            "duration_ms": self.duration_ms,
            "model_calls": [c.to_wire() for c in self.model_calls],
            "failed_model_calls": [c.to_wire() for c in self.failed_model_calls],
        }


@dataclass(frozen=True)
class CheckpointAnswer:
    seq: int
    name: str
    idempotency_key: str
    spend: Mapping[str, Any]
    duplicate: bool
    doom: FailureInfo | None

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> CheckpointAnswer:
        return cls(
            seq=int(wire.get("seq") or 0),
            name=str(wire.get("name", "")),
            idempotency_key=str(wire.get("idempotency_key", "")),
            spend=_mapping(wire.get("spend")),
            duplicate=bool(wire.get("duplicate", False)),
            doom=FailureInfo.from_wire(wire.get("doom")),
        )


# ---------------------------------------------------------------- outcome


@dataclass(frozen=True)
class ErrorInfo:
    """What the worker knows of an error: ``kind`` is failure, timeout, panic or error."""

    kind: str
    message: str
    class_: str = ""
    type: str = ""
    traceback: str = ""
    step: str = ""
    seq: int = 0
    retry_after_ms: int = 0

    def to_wire(self) -> Wire:
        wire: Wire = {"kind": self.kind, "message": self.message}
        if self.class_:
            wire["class"] = self.class_
        if self.type:
            wire["type"] = self.type
        if self.traceback:
            wire["traceback"] = self.traceback
        if self.step:
            wire["step"] = self.step
            wire["seq"] = self.seq
        if self.retry_after_ms:
            wire["retry_after_ms"] = self.retry_after_ms
        return wire


@dataclass(frozen=True)
class StepFailure:
    seq: int
    name: str
    error: ErrorInfo
    model_calls: Sequence[ModelCall] = ()
    duration_ms: int = 0

    def to_wire(self) -> Wire:
        return {
            "seq": self.seq,
            "name": self.name,
            "error": self.error.to_wire(),
            "model_calls": [c.to_wire() for c in self.model_calls],
            "duration_ms": self.duration_ms,
        }


@dataclass(frozen=True)
class OutcomeRequest:
    worker_id: str
    attempt: int
    epoch: int
    mode: str
    reclaimed: bool
    result: str
    duration_ms: int = 0
    output: JSON = None
    error: ErrorInfo | None = None
    steps_done: Sequence[int] = ()
    compensable: Sequence[int] = ()
    step_failures: Sequence[StepFailure] = ()

    def to_wire(self) -> Wire:
        wire: Wire = {
            "worker_id": self.worker_id,
            "attempt": self.attempt,
            "epoch": self.epoch,
            "mode": self.mode,
            "reclaimed": self.reclaimed,
            "result": self.result,
            "duration_ms": self.duration_ms,
            "steps_done": list(self.steps_done),
            "compensable": list(self.compensable),
            "step_failures": [f.to_wire() for f in self.step_failures],
        }
        if self.result == "completed":
            wire["output"] = self.output
        if self.error is not None:
            wire["error"] = self.error.to_wire()
        return wire


@dataclass(frozen=True)
class CompensateItem:
    seq: int
    name: str
    idempotency_key: str

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> CompensateItem:
        return cls(seq=int(wire["seq"]), name=str(wire.get("name", "")), idempotency_key=str(wire.get("idempotency_key", "")))


@dataclass(frozen=True)
class OutcomeAnswer:
    next: str
    class_: str = ""
    reason: str = ""
    retry_at: str = ""
    dead_letter_id: str = ""
    compensate: tuple[CompensateItem, ...] = field(default_factory=tuple)

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> OutcomeAnswer:
        return cls(
            next=str(wire.get("next", "")),
            class_=str(wire.get("class") or ""),
            reason=str(wire.get("reason") or ""),
            retry_at=str(wire.get("retry_at") or ""),
            dead_letter_id=str(wire.get("dead_letter_id") or ""),
            compensate=tuple(CompensateItem.from_wire(_mapping(c)) for c in _list(wire.get("compensate"))),
        )


# ---------------------------------------------------------------- waits


@dataclass(frozen=True)
class WaitRequest:
    """A durable wait the workflow reached: ``kind`` is sleep, signal or approval.

    ``timeout_ms`` is a sleep's duration or how long a signal or decision is
    waited for (``None``: the server's default); ``until`` (RFC 3339) a
    sleep's due time; ``request`` what an approval asks.
    """

    worker_id: str
    workflow: str
    attempt: int
    epoch: int
    name: str
    kind: str
    timeout_ms: int | None = None
    until: str = ""
    request: Mapping[str, Any] | None = None
    step_failures: Sequence[StepFailure] = ()

    def to_wire(self) -> Wire:
        wire: Wire = {
            "worker_id": self.worker_id,
            "workflow": self.workflow,
            "attempt": self.attempt,
            "epoch": self.epoch,
            "name": self.name,
            "kind": self.kind,
            "step_failures": [f.to_wire() for f in self.step_failures],
        }
        if self.timeout_ms is not None:
            wire["timeout_ms"] = self.timeout_ms
        if self.until:
            wire["until"] = self.until
        if self.request is not None:
            wire["request"] = dict(self.request)
        return wire


@dataclass(frozen=True)
class WaitAnswer:
    """What became of a wait: ``state`` is satisfied (``output``), timed_out (``message``) or waiting."""

    state: str
    seq: int
    name: str
    output: JSON = None
    class_: str = ""
    message: str = ""
    deadline: str = ""
    until: str = ""

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> WaitAnswer:
        return cls(
            state=str(wire.get("state", "")),
            seq=int(wire.get("seq") or 0),
            name=str(wire.get("name", "")),
            output=wire.get("output"),
            class_=str(wire.get("class") or ""),
            message=str(wire.get("message") or ""),
            deadline=str(wire.get("deadline") or ""),
            until=str(wire.get("until") or ""),
        )


@dataclass(frozen=True)
class ChildStartRequest:
    """A child run to start from the parent's step (``POST runs/{id}/children/{seq}``)."""

    worker_id: str
    workflow: str
    attempt: int
    epoch: int
    name: str
    child_workflow: str
    input: JSON = None

    def to_wire(self) -> Wire:
        return {
            "worker_id": self.worker_id,
            "workflow": self.workflow,
            "attempt": self.attempt,
            "epoch": self.epoch,
            "name": self.name,
            "child_workflow": self.child_workflow,
            "input": self.input,
        }


@dataclass(frozen=True)
class ChildStartAnswer:
    """``state`` is started (``run_id``, ``child_workflow``) or failed (``class_``, ``message``: nothing started)."""

    state: str
    seq: int
    name: str
    run_id: str = ""
    child_workflow: str = ""
    output: JSON = None
    duplicate: bool = False
    class_: str = ""
    message: str = ""

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> ChildStartAnswer:
        return cls(
            state=str(wire.get("state", "")),
            seq=int(wire.get("seq") or 0),
            name=str(wire.get("name", "")),
            run_id=str(wire.get("run_id") or ""),
            child_workflow=str(wire.get("child_workflow") or ""),
            output=wire.get("output"),
            duplicate=bool(wire.get("duplicate", False)),
            class_=str(wire.get("class") or ""),
            message=str(wire.get("message") or ""),
        )


@dataclass(frozen=True)
class ChildAwait:
    """One await of a child run: a wait step named ``name``."""

    name: str
    child_run_id: str
    timeout_ms: int | None = None

    def to_wire(self) -> Wire:
        wire: Wire = {"name": self.name, "child_run_id": self.child_run_id}
        if self.timeout_ms is not None:
            wire["timeout_ms"] = self.timeout_ms
        return wire


@dataclass(frozen=True)
class ChildAwaitRequest:
    """Awaits of child runs at consecutive sequence numbers (``POST runs/{id}/awaits/{seq}``)."""

    worker_id: str
    workflow: str
    attempt: int
    epoch: int
    awaits: Sequence[ChildAwait]
    step_failures: Sequence[StepFailure] = ()

    def to_wire(self) -> Wire:
        return {
            "worker_id": self.worker_id,
            "workflow": self.workflow,
            "attempt": self.attempt,
            "epoch": self.epoch,
            "awaits": [a.to_wire() for a in self.awaits],
            "step_failures": [f.to_wire() for f in self.step_failures],
        }


@dataclass(frozen=True)
class ChildAwaitAnswer:
    """``state`` is satisfied (``outputs``), failed (``child``: the child that died), timed_out or waiting."""

    state: str
    outputs: Sequence[JSON] = ()
    seq: int = 0
    name: str = ""
    class_: str = ""
    message: str = ""
    child: Mapping[str, Any] = field(default_factory=lambda: {})
    until: str = ""

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> ChildAwaitAnswer:
        return cls(
            state=str(wire.get("state", "")),
            outputs=tuple(_list(wire.get("outputs"))),
            seq=int(wire.get("seq") or 0),
            name=str(wire.get("name") or ""),
            class_=str(wire.get("class") or ""),
            message=str(wire.get("message") or ""),
            child=_mapping(wire.get("child")),
            until=str(wire.get("until") or ""),
        )


@dataclass(frozen=True)
class RateLimitAnswer:
    """An acquisition of a rate limit: ``granted`` after ``wait_ms``, or due only at ``retry_at``."""

    granted: bool
    wait_ms: int = 0
    retry_at: str = ""
    tokens: int = 0

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> RateLimitAnswer:
        return cls(
            granted=bool(wire.get("granted", False)),
            wait_ms=int(wire.get("wait_ms") or 0),
            retry_at=str(wire.get("retry_at") or ""),
            tokens=int(wire.get("tokens") or 0),
        )


# ---------------------------------------------------------------- heartbeat


@dataclass(frozen=True)
class Lease:
    run_id: str
    epoch: int

    def to_wire(self) -> Wire:
        return {"run_id": self.run_id, "epoch": self.epoch}


# ---------------------------------------------------------------- transport

_PROBLEMS: dict[str, type[ProblemError]] = {
    cls.TYPE: cls
    for cls in (
        LeaseLost,
        StepExists,
        NondeterminismProblem,
        ManifestConflict,
        InvalidRequest,
        InvalidOutput,
        NotFound,
        UnknownWorkflow,
        SignalRefused,
        NotApprover,
    )
}

_RETRYABLE_STATUS = frozenset({502, 503, 504})
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def decode_problem(status: int, reason: str, body: bytes) -> ProblemError:
    """The typed exception of a refused request, chosen by the problem ``type``."""
    type_, title, detail = "", reason, ""
    try:
        wire = _mapping(json.loads(body.decode("utf-8")))
        type_ = str(wire.get("type") or "")
        title = str(wire.get("title") or reason)
        detail = str(wire.get("detail") or "")
        errors = [_mapping(e) for e in _list(wire.get("errors"))]
        if errors:
            # A request the server's schema refused: name each failing place.
            named = "; ".join(f"{e.get('location', '')}: {e.get('message', '')}".lstrip(": ") for e in errors)
            detail = f"{detail}: {named}" if detail else named
    except (ValueError, UnicodeDecodeError):
        detail = body[:500].decode("utf-8", "replace")
    cls = _PROBLEMS.get(type_)
    if cls is None:
        if status == 404:
            cls = NotFound
        elif status == 422:
            cls = InvalidRequest
        else:
            cls = ProblemError
    return cls(status, type_, title, detail)


class Transport:
    """JSON over HTTP/1.1 with one keep-alive connection per thread.

    ``request(..., idempotent=True)`` is retried after a network error or a
    502/503/504 answer, with a short backoff, ``retries`` times.
    """

    def __init__(self, server: str, token: str | None = None, *, timeout: float = 60.0, retries: int = 5) -> None:
        parsed = urllib.parse.urlsplit(server if "://" in server else "http://" + server)
        if parsed.scheme not in ("http", "https"):
            raise ValueError(f"server {server!r}: the scheme must be http or https")
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or (443 if self._https else 80)
        self._base = parsed.path.rstrip("/")
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self._headers["Authorization"] = "Bearer " + token
        self._timeout = timeout
        self._retries = retries
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[http.client.HTTPConnection] = []

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        conn = cast("http.client.HTTPConnection | None", getattr(self._local, "conn", None))
        if conn is None:
            if self._https:
                conn = http.client.HTTPSConnection(self._host, self._port, timeout=timeout)
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _drop(self) -> None:
        conn = cast("http.client.HTTPConnection | None", getattr(self._local, "conn", None))
        if conn is not None:
            conn.close()
            self._local.conn = None
            with self._lock:
                if conn in self._connections:
                    self._connections.remove(conn)

    def close_all(self) -> None:
        """Close every connection this transport opened, on any thread."""
        with self._lock:
            conns = list(self._connections)
            self._connections.clear()
        for conn in conns:
            conn.close()

    def close(self) -> None:
        self._drop()

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        query: Mapping[str, Any] | None = None,
        idempotent: bool,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one request and return its decoded JSON answer (``None`` when empty).

        ``body`` is encoded as JSON, or sent as it is when ``bytes`` (JSON
        encoded by the caller, a ``null`` included); ``headers`` are sent
        beside the transport's own (an ``Idempotency-Key``).
        """
        url = self._base + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)
        if isinstance(body, bytes):
            payload: bytes | None = body
        else:
            payload = json.dumps(body, separators=(",", ":")).encode("utf-8") if body is not None else None
        sent_headers = {**self._headers, **headers} if headers else self._headers
        attempts = self._retries + 1 if idempotent else 1
        delay = 0.05
        last: Exception | None = None
        attempt = -1
        while attempt + 1 < attempts:
            attempt += 1
            if attempt:
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
            conn = self._connection(timeout if timeout is not None else self._timeout)
            reused = conn.sock is not None
            try:
                conn.request(method, url, body=payload, headers=sent_headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                last = exc
                if reused and not idempotent and attempts == 1 and isinstance(exc, _STALE):
                    # A kept-alive connection the server had closed while idle:
                    # the request never reached it, so sending it again is safe.
                    attempts = 2
                continue
            if response.getheader("Connection", "").lower() == "close":
                self._drop()
            status = response.status
            if status >= 400:
                if idempotent and status in _RETRYABLE_STATUS and attempt + 1 < attempts:
                    last = decode_problem(status, response.reason, data)
                    continue
                raise decode_problem(status, response.reason, data)
            if not data:
                return None
            try:
                return json.loads(data.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise TransportError(f"{method} {path}: the answer is not JSON: {data[:200]!r}") from exc
        if isinstance(last, ProblemError):
            raise last
        raise TransportError(f"{method} {path}: {last}") from last


class WorkerProtocol:
    """The worker protocol's operations, one method each."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def _post(self, path: str, body: Wire, *, idempotent: bool, timeout: float | None = None) -> Mapping[str, Any]:
        return _mapping(self.transport.request("POST", WORKER_PREFIX + path, body, idempotent=idempotent, timeout=timeout))

    def register(self, worker: WorkerInfo, workflows: Sequence[WorkflowRegistration]) -> RegisterAnswer:
        body = {"worker": worker.to_wire(), "workflows": [w.to_wire() for w in workflows]}
        return RegisterAnswer.from_wire(self._post("/register", body, idempotent=True))

    def claim(self, request: ClaimRequest) -> list[ClaimedRun]:
        # Not retried: a claim repeated after a lost answer would claim other
        # runs; the lost ones come back when their lease ends.
        answer = self._post("/claim", request.to_wire(), idempotent=False, timeout=request.wait_ms / 1000 + 30)
        return [ClaimedRun.from_wire(_mapping(r)) for r in _list(answer.get("runs"))]

    def checkpoint(self, run_id: str, seq: int, request: CheckpointRequest) -> CheckpointAnswer:
        path = f"/runs/{urllib.parse.quote(run_id, safe='')}/steps/{seq}"
        return CheckpointAnswer.from_wire(self._post(path, request.to_wire(), idempotent=True))

    def outcome(self, run_id: str, request: OutcomeRequest) -> OutcomeAnswer:
        path = f"/runs/{urllib.parse.quote(run_id, safe='')}/outcome"
        return OutcomeAnswer.from_wire(self._post(path, request.to_wire(), idempotent=True))

    def wait(self, run_id: str, seq: int, request: WaitRequest) -> WaitAnswer:
        # Retried after a network error: a wait that made the run wait is
        # then answered 409 lease-lost, which stops the run as well.
        path = f"/runs/{urllib.parse.quote(run_id, safe='')}/waits/{seq}"
        return WaitAnswer.from_wire(self._post(path, request.to_wire(), idempotent=True))

    def child_start(self, run_id: str, seq: int, request: ChildStartRequest) -> ChildStartAnswer:
        # Retried after a network error: the server finds the child the
        # first request started, by the step's idempotency key.
        path = f"/runs/{urllib.parse.quote(run_id, safe='')}/children/{seq}"
        return ChildStartAnswer.from_wire(self._post(path, request.to_wire(), idempotent=True))

    def child_await(self, run_id: str, seq: int, request: ChildAwaitRequest) -> ChildAwaitAnswer:
        path = f"/runs/{urllib.parse.quote(run_id, safe='')}/awaits/{seq}"
        return ChildAwaitAnswer.from_wire(self._post(path, request.to_wire(), idempotent=True))

    def compensation(self, run_id: str, seq: int, worker_id: str, epoch: int, error: ErrorInfo | None) -> bool:
        path = f"/runs/{urllib.parse.quote(run_id, safe='')}/compensations/{seq}"
        body: Wire = {"worker_id": worker_id, "epoch": epoch}
        if error is not None:
            body["error"] = error.to_wire()
        return bool(self._post(path, body, idempotent=True).get("recorded", False))

    def heartbeat(self, worker_id: str, leases: Sequence[Lease], lease_ms: int | None = None) -> list[str]:
        body: Wire = {"worker_id": worker_id, "leases": [lease.to_wire() for lease in leases]}
        if lease_ms is not None:
            body["lease_ms"] = lease_ms
        return [str(r) for r in _list(self._post("/heartbeat", body, idempotent=True).get("lost"))]

    def rate_limit_acquire(self, worker_id: str, run_id: str, key: str, tokens: int) -> RateLimitAnswer:
        # Not retried: a repeated acquisition would reserve twice.
        body: Wire = {"worker_id": worker_id, "run_id": run_id, "key": key, "tokens": tokens}
        return RateLimitAnswer.from_wire(self._post("/ratelimits/acquire", body, idempotent=False))

    def rate_limit_settle(self, worker_id: str, key: str, reserved: int, used: int) -> None:
        body: Wire = {"worker_id": worker_id, "key": key, "reserved": reserved, "used": used}
        self._post("/ratelimits/settle", body, idempotent=False)

    def release(self, run_id: str, worker_id: str, epoch: int) -> None:
        path = f"/runs/{urllib.parse.quote(run_id, safe='')}/release"
        self._post(path, {"worker_id": worker_id, "epoch": epoch}, idempotent=True)
