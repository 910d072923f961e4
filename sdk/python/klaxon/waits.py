"""Durable waits: what a wait hands back, and its times on the wire.

A wait (``ctx.sleep``, ``ctx.wait_for_signal``, ``ctx.await_approval``) is a
step: the server keeps its rules (deadlines, kept signals, timeouts), and the
run waits holding no worker. :class:`ApprovalDecision` is a person's answer
to an approval request, as Go's ``klaxon.ApprovalDecision``. :class:`Wait`,
:class:`Signal` and :class:`SignalResult` are what the public API answers
about waits (``Client.approvals``, ``Client.signal``, a run's detail), as
Go's ``klaxontype.Wait``, ``klaxontype.Signal`` and ``klaxon.SignalResult``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, cast

__all__ = ["ApprovalDecision", "ApprovalRequest", "Wait", "Signal", "SignalResult", "parse_time", "format_time"]


def _m(value: object) -> Mapping[str, Any]:
    return cast(Mapping[str, Any], value) if isinstance(value, Mapping) else {}


def _l(value: object) -> list[Any]:
    return cast(list[Any], value) if isinstance(value, list) else []

_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def parse_time(text: str) -> datetime | None:
    """A time as the server writes it (RFC 3339, nanoseconds, ``Z``), aware; ``None`` when empty or unreadable."""
    if not text:
        return None
    normalized = _FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00").replace("z", "+00:00")
    try:
        return datetime.fromisoformat(normalized)
    except ValueError:
        return None


def format_time(when: datetime) -> str:
    """An aware datetime as RFC 3339 in UTC; a naive one is refused, since its zone would be a guess."""
    if when.tzinfo is None or when.tzinfo.utcoffset(when) is None:
        raise ValueError(f"{when!r} has no time zone: give an aware datetime (datetime.now(timezone.utc) + …)")
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ApprovalDecision:
    """A person's answer to ``ctx.await_approval``: a rejection is a decision, not an error.

    ``data`` is the request's data as the approver edited it, or ``None``
    when they did not edit it.
    """

    approved: bool
    by: str
    at: datetime | None
    comment: str = ""
    data: Any = None

    @property
    def decision(self) -> str:
        """``"approved"`` or ``"rejected"``."""
        return "approved" if self.approved else "rejected"

    @classmethod
    def from_wire(cls, wire: object) -> ApprovalDecision:
        m = _m(wire)
        return cls(
            approved=bool(m.get("approved", False)),
            by=str(m.get("by") or ""),
            at=parse_time(str(m.get("at") or "")),
            comment=str(m.get("comment") or ""),
            data=m.get("data"),
        )


@dataclass(frozen=True)
class ApprovalRequest:
    """What an approval asks a person: a one-line ``title``, a ``body``, the
    ``data`` the decision is about, and the token names (``approvers``) who
    may decide it (empty: any operate or admin token)."""

    title: str
    body: str = ""
    data: Any = None
    approvers: tuple[str, ...] = ()

    @classmethod
    def from_wire(cls, wire: object) -> ApprovalRequest | None:
        m = _m(wire)
        if not m:
            return None
        return cls(
            title=str(m.get("title") or ""),
            body=str(m.get("body") or ""),
            data=m.get("data"),
            approvers=tuple(str(a) for a in _l(m.get("approvers"))),
        )


@dataclass(frozen=True)
class Wait:
    """One durable wait a run began, at a step's sequence number.

    ``kind`` is ``sleep``, ``signal`` or ``approval``; ``state`` is
    ``waiting``, ``satisfied`` or ``timed_out``. ``deadline`` is absolute:
    when a sleep is due, or when a wait for a signal or a decision times out.
    ``request`` is what an approval asks; ``ended_by`` who answered (the
    signal's sender, the approver, ``timer``, ``deadline``).
    """

    run_id: str
    workflow: str
    seq: int
    name: str
    kind: str
    state: str
    started_at: datetime | None
    deadline: datetime | None
    request: ApprovalRequest | None = None
    entities: Mapping[str, str] = field(default_factory=lambda: {})
    step_key: str = ""
    ended_at: datetime | None = None
    ended_by: str = ""
    raw: Mapping[str, Any] = field(default_factory=lambda: {}, repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: object) -> Wait:
        m = _m(wire)
        return cls(
            run_id=str(m.get("run_id") or ""),
            workflow=str(m.get("workflow") or ""),
            seq=int(m.get("seq") or 0),
            name=str(m.get("name") or ""),
            kind=str(m.get("kind") or ""),
            state=str(m.get("state") or ""),
            started_at=parse_time(str(m.get("started_at") or "")),
            deadline=parse_time(str(m.get("deadline") or "")),
            request=ApprovalRequest.from_wire(m.get("request")),
            entities={str(k): str(v) for k, v in _m(m.get("entities")).items()},
            step_key=str(m.get("step_key") or ""),
            ended_at=parse_time(str(m.get("ended_at") or "")),
            ended_by=str(m.get("ended_by") or ""),
            raw=m,
        )


@dataclass(frozen=True)
class Signal:
    """A named message sent to a run: taken by the run's wait of that name
    (``consumed_seq`` is its sequence number), or kept until its next one
    begins (``consumed_seq`` 0)."""

    id: int
    run_id: str
    name: str
    payload: Any
    actor: str
    sent_at: datetime | None
    idempotency_key: str = ""
    consumed_seq: int = 0
    consumed_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=lambda: {}, repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: object) -> Signal:
        m = _m(wire)
        return cls(
            id=int(m.get("id") or 0),
            run_id=str(m.get("run_id") or ""),
            name=str(m.get("name") or ""),
            payload=m.get("payload"),
            actor=str(m.get("actor") or ""),
            sent_at=parse_time(str(m.get("sent_at") or "")),
            idempotency_key=str(m.get("idempotency_key") or ""),
            consumed_seq=int(m.get("consumed_seq") or 0),
            consumed_at=parse_time(str(m.get("consumed_at") or "")),
            raw=m,
        )


@dataclass(frozen=True)
class SignalResult:
    """What became of a signal sent: ``consumed`` when a wait of its name took
    it at once (false: the run keeps it for its next one), ``duplicate`` when
    its idempotency key named one sent before (nothing new recorded)."""

    signal: Signal
    consumed: bool
    duplicate: bool

    @classmethod
    def from_wire(cls, wire: object) -> SignalResult:
        m = _m(wire)
        return cls(
            signal=Signal.from_wire(m.get("signal")),
            consumed=bool(m.get("consumed", False)),
            duplicate=bool(m.get("duplicate", False)),
        )
