"""Rate limits shared by every worker of the database, acquired over the worker protocol.

The server judges each acquisition (a GCRA per key, in the database), so a
Python worker and a Go worker drawing on the same key share one budget.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING

from .waits import parse_time

if TYPE_CHECKING:
    from .context import RunCore

__all__ = ["RateLimitGrant"]


class RateLimitGrant:
    """Capacity of a rate limit reserved for one call; a context manager.

    ``waited`` is how long the acquisition waited (seconds). Report the tokens
    the call used with :meth:`used`; on leaving the ``with`` block they are
    charged to the limit against the estimate reserved, so the limit's token
    budget holds over time.
    """

    def __init__(self, core: RunCore, key: str, reserved: int, waited: float) -> None:
        self._core = core
        self.key = key
        self.reserved = reserved
        self.waited = waited
        self._used: int | None = None

    def used(self, tokens: int) -> None:
        """Record the tokens the call used (input plus output)."""
        self._used = tokens

    def settle(self) -> None:
        """Charge the limit the tokens used against those reserved (done on leaving the ``with`` block)."""
        if self._used is None or self._used == self.reserved:
            return
        used, self._used = self._used, None
        self._core.protocol.rate_limit_settle(self._core.worker_id, self.key, self.reserved, used)

    def __enter__(self) -> RateLimitGrant:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.settle()


def acquire(core: RunCore, key: str, tokens: int) -> RateLimitGrant:
    """Wait until the limit grants one call, then return the reservation.

    The wait is in process: the worker's heartbeat thread keeps the run's
    lease meanwhile. (A Go step whose wait is long releases its worker
    instead; over the protocol the run stays claimed.)
    """
    if not key:
        raise ValueError("a rate limit needs a key")
    if tokens < 0:
        raise ValueError(f"rate limit {key!r}: the token estimate cannot be negative, not {tokens}")
    begin = time.monotonic()
    while True:
        answer = core.protocol.rate_limit_acquire(core.worker_id, core.run.run_id, key, tokens)
        if answer.granted:
            if answer.wait_ms > 0:
                time.sleep(answer.wait_ms / 1000)
            return RateLimitGrant(core, key, answer.tokens, time.monotonic() - begin)
        due = parse_time(answer.retry_at)
        delay = 1.0 if due is None else (due - datetime.now(timezone.utc)).total_seconds()
        time.sleep(min(max(delay, 0.0), 30.0))
