"""Durable waits: what a wait hands back, and its times on the wire.

A wait (``ctx.sleep``, ``ctx.wait_for_signal``, ``ctx.await_approval``) is a
step: the server keeps its rules (deadlines, kept signals, timeouts), and the
run waits holding no worker. :class:`ApprovalDecision` is a person's answer
to an approval request, as Go's ``klaxon.ApprovalDecision``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, cast

__all__ = ["ApprovalDecision", "parse_time", "format_time"]

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
        m: Mapping[str, Any] = cast(Mapping[str, Any], wire) if isinstance(wire, Mapping) else {}
        return cls(
            approved=bool(m.get("approved", False)),
            by=str(m.get("by") or ""),
            at=parse_time(str(m.get("at") or "")),
            comment=str(m.get("comment") or ""),
            data=m.get("data"),
        )
