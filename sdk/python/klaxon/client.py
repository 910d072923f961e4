"""A client of the server's public API: enqueue runs, read them, wait for them, list dead
letters, send signals and decide approvals."""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, cast

from .protocol import API_PREFIX, Transport
from .waits import ApprovalDecision, Signal, SignalResult, Wait

__all__ = ["Client", "Run", "RunFailure", "StepRecord", "Attempt", "Event", "ChildLink", "RunDetail", "DeadLetter", "TERMINAL_STATUSES"]

#: Run statuses that do not change by themselves.
TERMINAL_STATUSES = frozenset({"completed", "dead", "cancelled"})


def _m(value: object) -> Mapping[str, Any]:
    return cast(Mapping[str, Any], value) if isinstance(value, Mapping) else {}


def _l(value: object) -> list[Any]:
    return cast(list[Any], value) if isinstance(value, list) else []


@dataclass(frozen=True)
class RunFailure:
    class_: str
    reason: str
    step: str = ""
    step_seq: int = 0

    @classmethod
    def from_wire(cls, wire: object) -> RunFailure | None:
        if not isinstance(wire, Mapping):
            return None
        m = cast(Mapping[str, Any], wire)
        return cls(str(m.get("class", "")), str(m.get("reason", "")), str(m.get("step") or ""), int(m.get("step_seq") or 0))


@dataclass(frozen=True)
class Run:
    id: str
    workflow: str
    status: str
    input: Any
    output: Any
    attempt: int
    failure: RunFailure | None
    entities: Mapping[str, str]
    spend: Mapping[str, Any]
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    priority: int = 0

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Run:
        return cls(
            id=str(wire.get("id", "")),
            workflow=str(wire.get("workflow", "")),
            status=str(wire.get("status", "")),
            input=wire.get("input"),
            output=wire.get("output"),
            attempt=int(wire.get("attempt") or 0),
            failure=RunFailure.from_wire(wire.get("failure")),
            entities={str(k): str(v) for k, v in _m(wire.get("entities")).items()},
            spend=_m(wire.get("spend")),
            priority=int(wire.get("priority") or 0),
            raw=wire,
        )


@dataclass(frozen=True)
class StepRecord:
    seq: int
    name: str
    status: str
    attempt: int
    output: Any
    idempotency_key: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> StepRecord:
        return cls(
            seq=int(wire.get("seq") or 0),
            name=str(wire.get("name", "")),
            status=str(wire.get("status", "")),
            attempt=int(wire.get("attempt") or 0),
            output=wire.get("output"),
            idempotency_key=str(wire.get("idempotency_key", "")),
            raw=wire,
        )


@dataclass(frozen=True)
class Attempt:
    attempt: int
    class_: str
    message: str
    step: str
    classified_by: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Attempt:
        return cls(
            attempt=int(wire.get("attempt") or 0),
            class_=str(wire.get("class", "")),
            message=str(wire.get("message", "")),
            step=str(wire.get("step") or ""),
            classified_by=str(wire.get("classified_by") or ""),
            raw=wire,
        )


@dataclass(frozen=True)
class Event:
    type: str
    at: str
    step: str
    message: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Event:
        return cls(
            type=str(wire.get("type", "")),
            at=str(wire.get("at", "")),
            step=str(wire.get("step") or ""),
            message=str(wire.get("message") or ""),
            raw=wire,
        )


@dataclass(frozen=True)
class ChildLink:
    """A child run and the parent's step that started it (``parent_seq``), with the child's status now."""

    parent_id: str
    parent_seq: int
    child_id: str
    workflow: str
    status: str

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> ChildLink:
        return cls(
            parent_id=str(wire.get("parent_id") or ""),
            parent_seq=int(wire.get("parent_seq") or 0),
            child_id=str(wire.get("child_id") or ""),
            workflow=str(wire.get("workflow") or ""),
            status=str(wire.get("status") or ""),
        )


@dataclass(frozen=True)
class RunDetail:
    run: Run
    steps: tuple[StepRecord, ...]
    attempts: tuple[Attempt, ...]
    events: tuple[Event, ...]
    #: The run's durable waits: what it waits (or waited) for, until when, how each ended.
    waits: tuple[Wait, ...] = ()
    #: The signals sent to the run, kept or consumed.
    signals: tuple[Signal, ...] = ()
    #: The run's parent, when it is a child run.
    parent: ChildLink | None = None
    #: The child runs its steps started, in order.
    children: tuple[ChildLink, ...] = ()

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> RunDetail:
        family = _m(wire.get("family"))
        return cls(
            run=Run.from_wire(_m(wire.get("run"))),
            steps=tuple(StepRecord.from_wire(_m(s)) for s in _l(wire.get("steps"))),
            attempts=tuple(Attempt.from_wire(_m(a)) for a in _l(wire.get("attempts"))),
            events=tuple(Event.from_wire(_m(e)) for e in _l(wire.get("events"))),
            waits=tuple(Wait.from_wire(w) for w in _l(wire.get("waits"))),
            signals=tuple(Signal.from_wire(x) for x in _l(wire.get("signals"))),
            parent=ChildLink.from_wire(_m(family.get("parent"))) if family.get("parent") else None,
            children=tuple(ChildLink.from_wire(_m(c)) for c in _l(family.get("children"))),
        )


@dataclass(frozen=True)
class DeadLetter:
    id: str
    run_id: str
    workflow: str
    class_: str
    reason: str
    channel: str
    state: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> DeadLetter:
        return cls(
            id=str(wire.get("id", "")),
            run_id=str(wire.get("run_id", "")),
            workflow=str(wire.get("workflow", "")),
            class_=str(wire.get("class", "")),
            reason=str(wire.get("reason", "")),
            channel=str(wire.get("channel", "")),
            state=str(wire.get("state", "")),
            raw=wire,
        )


class Client:
    """``Client(server, token)``: the public API of a Klaxon server (scopes read and operate)."""

    def __init__(self, server: str = "http://127.0.0.1:7070", token: str | None = None, *, timeout: float = 30.0) -> None:
        self._transport = Transport(server, token, timeout=timeout)

    def close(self) -> None:
        """Close the client's connections."""
        self._transport.close_all()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def enqueue(
        self,
        workflow: str,
        input: Any = None,
        *,
        idempotency_key: str | None = None,
        entities: Mapping[str, str] | None = None,
        priority: int | None = None,
    ) -> Run:
        """Enqueue a run; with an ``idempotency_key`` a second enqueue returns the first run.

        ``priority`` (-100..100, default the workflow's) orders claims: higher
        goes first, aged by 10 s a step so that none starves; the server
        refuses one out of range.
        """
        body: dict[str, Any] = {"workflow": workflow, "input": input}
        if priority is not None:
            body["priority"] = priority
        if idempotency_key:
            body["idempotency_key"] = idempotency_key
        if entities:
            body["entities"] = dict(entities)
        answer = _m(self._transport.request("POST", API_PREFIX + "/runs", body, idempotent=bool(idempotency_key)))
        return Run.from_wire(_m(answer.get("run")))

    def run_detail(self, run_id: str) -> RunDetail:
        """A run with its step log, attempts and events."""
        path = API_PREFIX + "/runs/" + urllib.parse.quote(run_id, safe="")
        return RunDetail.from_wire(_m(self._transport.request("GET", path, idempotent=True)))

    def run(self, run_id: str) -> Run:
        """A run as it is now."""
        return self.run_detail(run_id).run

    def cancel(self, run_id: str, reason: str = "") -> Run:
        """Cancel a run for good; a running one loses its lease and its worker stops it."""
        path = API_PREFIX + "/runs/" + urllib.parse.quote(run_id, safe="") + "/cancel"
        body = {"reason": reason} if reason else {}
        return Run.from_wire(_m(self._transport.request("POST", path, body, idempotent=True)))

    def await_run(self, run_id: str, timeout: float = 60.0, *, poll: float = 0.1) -> Run:
        """Wait until the run is completed, dead or cancelled; ``TimeoutError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run.status in TERMINAL_STATUSES:
                return run
            if time.monotonic() >= deadline:
                raise TimeoutError(f"run {run_id} is still {run.status} after {timeout:g}s")
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))

    def dead_letters(
        self,
        *,
        workflow: str | None = None,
        classes: Iterable[str] | None = None,
        states: Iterable[str] | None = None,
        run: str | None = None,
        entities: Mapping[str, str] | None = None,
        limit: int = 50,
    ) -> list[DeadLetter]:
        """Dead-letter entries, newest first, filtered as the API allows."""
        query: dict[str, Any] = {"limit": limit}
        if workflow:
            query["workflow"] = workflow
        if classes:
            query["class"] = ",".join(classes)
        if states:
            query["state"] = ",".join(states)
        if run:
            query["run"] = run
        if entities:
            query["entity"] = [f"{k}={v}" for k, v in entities.items()]
        answer = _m(self._transport.request("GET", API_PREFIX + "/dlq", query=query, idempotent=True))
        return [DeadLetter.from_wire(_m(e)) for e in _l(answer.get("entries"))]

    def signal(self, run_id: str, name: str, payload: Any = None, *, idempotency_key: str | None = None) -> SignalResult:
        """Send a signal named ``name`` with a JSON ``payload`` to a run.

        A run waiting on the name (``ctx.wait_for_signal``) takes it at once
        (``consumed``); otherwise the run keeps it for its next wait of that
        name. With an ``idempotency_key`` a repeated send answers with the
        first signal, ``duplicate`` true. Raises :class:`~klaxon.NotFound`
        for an unknown run, :class:`~klaxon.SignalRefused` when the run will
        not take it (it ended, waits on that name for a timer or an approval,
        keeps one of that name already), :class:`~klaxon.InvalidRequest` for
        a payload that does not fit the waiting type; ``TypeError`` or
        ``ValueError`` (before sending) for a payload that is not JSON.
        """
        path = API_PREFIX + "/runs/" + urllib.parse.quote(run_id, safe="") + "/signals/" + urllib.parse.quote(name, safe="")
        answer = self._transport.request(
            "POST", path, _json(payload), idempotent=bool(idempotency_key), headers=_idempotency_header(idempotency_key)
        )
        return SignalResult.from_wire(answer)

    def signal_entity(
        self, key: str, value: str, name: str, payload: Any = None, *, idempotency_key: str | None = None
    ) -> list[SignalResult]:
        """Send a signal to the runs labelled with the entity ``key=value``, one result a run.

        Every such run waiting on the name takes it; if none waits, the
        entity's one open run keeps it. Raises :class:`~klaxon.NotFound`
        when the entity has no open run, :class:`~klaxon.SignalRefused` when
        it has several and none waits.
        """
        path = API_PREFIX + "/signals/" + urllib.parse.quote(name, safe="")
        answer = _m(
            self._transport.request(
                "POST",
                path,
                _json(payload),
                query={"entity": f"{key}={value}"},
                idempotent=bool(idempotency_key),
                headers=_idempotency_header(idempotency_key),
            )
        )
        return [SignalResult.from_wire(r) for r in _l(answer.get("results"))]

    def approvals(self, limit: int | None = None) -> list[Wait]:
        """The approval requests waiting for a decision, oldest first; ``None`` is the server's default limit."""
        query = {"limit": limit} if limit is not None else None
        answer = _m(self._transport.request("GET", API_PREFIX + "/approvals", query=query, idempotent=True))
        return [Wait.from_wire(w) for w in _l(answer.get("approvals"))]

    def decide_approval(
        self, run_id: str, name: str, approved: bool, comment: str = "", data: Any = None
    ) -> ApprovalDecision:
        """Approve or reject a run's approval request, as this client's token.

        ``data`` is the request's data as edited by the approver (``None``
        keeps it as asked). Raises :class:`~klaxon.NotFound` when the run has
        no open request of that name, :class:`~klaxon.NotApprover` when the
        request does not name this client's token among its approvers.
        """
        path = API_PREFIX + "/runs/" + urllib.parse.quote(run_id, safe="") + "/approvals/" + urllib.parse.quote(name, safe="")
        body: dict[str, Any] = {"decision": "approve" if approved else "reject"}
        if comment:
            body["comment"] = comment
        if data is not None:
            body["data"] = data
        # Not retried: a decision whose answer was lost is recorded, and a
        # second one would be refused as no longer open.
        return ApprovalDecision.from_wire(self._transport.request("POST", path, body, idempotent=False))


def _json(payload: Any) -> bytes:
    """A signal's payload as the request's body: JSON, ``null`` for ``None``;
    NaN and infinities are refused here, since the server would refuse them."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _idempotency_header(key: str | None) -> dict[str, str] | None:
    return {"Idempotency-Key": key} if key else None
