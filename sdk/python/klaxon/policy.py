"""The policies a workflow registers: its budget and its retry policy.

They are declarations only: the server enforces them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["Budget", "RetryPolicy"]


@dataclass(frozen=True)
class Budget:
    """Caps on what a run may spend: ``tokens`` in total, ``usd`` in dollars. ``None`` caps nothing."""

    tokens: int | None = None
    usd: float | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        if self.tokens is not None:
            wire["tokens"] = self.tokens
        if self.usd is not None:
            wire["usd"] = self.usd
        return wire

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any] | None) -> Budget | None:
        if not wire:
            return None
        tokens = wire.get("tokens")
        usd = wire.get("usd", wire.get("cost_usd"))
        return cls(tokens=int(tokens) if tokens is not None else None, usd=float(usd) if usd is not None else None)


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a run gets and how long it waits between them (seconds).

    ``classes`` overrides the attempts of a failure class, e.g. ``{"semantic": 2}``.
    Fields left ``None`` take the engine's defaults.
    """

    max_attempts: int | None = None
    initial_backoff: float | None = None
    max_backoff: float | None = None
    max_retry_after: float | None = None
    classes: Mapping[str, int] = field(default_factory=lambda: dict[str, int]())

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        if self.max_attempts is not None:
            wire["max_attempts"] = self.max_attempts
        if self.initial_backoff is not None:
            wire["initial_backoff_ms"] = _ms(self.initial_backoff)
        if self.max_backoff is not None:
            wire["max_backoff_ms"] = _ms(self.max_backoff)
        if self.max_retry_after is not None:
            wire["max_retry_after_ms"] = _ms(self.max_retry_after)
        if self.classes:
            wire["classes"] = dict(self.classes)
        return wire


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))
