"""Failure classes as exceptions, and the errors of the SDK itself.

A workflow says what kind of failure it met by raising a :class:`Failure`
(or one of its subclasses). The server decides what follows from the class:
retries, backoff, dead-letter routing. Any other exception is reported as it
is, and the server classifies it as the Go engine does.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "FAILURE_CLASSES",
    "Failure",
    "Transient",
    "RateLimited",
    "Timeout",
    "DeadlineExceeded",
    "WaitTimedOut",
    "Permanent",
    "PolicyViolation",
    "ContextOverflow",
    "Semantic",
    "BudgetExceeded",
    "PartialCompletion",
    "Nondeterminism",
    "CompensationFailed",
    "Cancelled",
    "KlaxonError",
    "TransportError",
    "ProblemError",
    "LeaseLost",
    "StepExists",
    "NondeterminismProblem",
    "ManifestConflict",
    "InvalidRequest",
    "InvalidOutput",
    "NotFound",
    "UnknownWorkflow",
    "SignalRefused",
    "NotApprover",
]

FAILURE_CLASSES: Final = frozenset(
    {
        "transient",
        "rate_limited",
        "timeout",
        "permanent",
        "policy_violation",
        "context_overflow",
        "semantic",
        "budget_exceeded",
        "partial_completion",
        "nondeterminism",
        "compensation_failed",
        "cancelled",
    }
)


class Failure(Exception):
    """A failure that says its own class: ``Failure("permanent", "bad input")``.

    ``class_`` is one of :data:`FAILURE_CLASSES`; the server retries and
    routes by it.
    """

    class_: str

    def __init__(self, class_: str, message: str = "") -> None:
        if class_ not in FAILURE_CLASSES:
            raise ValueError(f"{class_!r} is not a failure class ({', '.join(sorted(FAILURE_CLASSES))})")
        super().__init__(message)
        self.class_ = class_
        self.message = message

    def __str__(self) -> str:
        return self.message or self.class_


class _Classed(Failure):
    """A failure whose class is fixed by its type."""

    CLASS: str = "transient"

    def __init__(self, message: str = "") -> None:
        super().__init__(self.CLASS, message)


class Transient(_Classed):
    """May pass by itself (an outage, an overload): retried with backoff."""

    CLASS = "transient"


class RateLimited(_Classed):
    """The provider asked to slow down; retried no sooner than ``retry_after`` seconds."""

    CLASS = "rate_limited"

    def __init__(self, message: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Timeout(_Classed):
    """A step or the run ran past its deadline."""

    CLASS = "timeout"


class DeadlineExceeded(Timeout):
    """Raised by the SDK when a step or the run passed its timeout (reported as kind ``timeout``)."""


class WaitTimedOut(Timeout):
    """A wait for a signal or an approval passed its deadline unanswered (Go's ``klaxon.ErrWaitTimedOut``).

    Raised by ``ctx.wait_for_signal`` and ``ctx.await_approval``, the same
    on every replay. A workflow may catch it and take another branch;
    otherwise the run dead-letters, class ``timeout``, to the review channel,
    without retries: waiting again would not make anyone answer.
    """


class Permanent(_Classed):
    """A retry cannot fix it: bad input, wrong credentials, a bug."""

    CLASS = "permanent"


class PolicyViolation(_Classed):
    """Refused by a content filter or a policy."""

    CLASS = "policy_violation"


class ContextOverflow(_Classed):
    """The prompt is longer than the model's context window."""

    CLASS = "context_overflow"


class Semantic(_Classed):
    """An answer arrived but is wrong: a validator rejected it."""

    CLASS = "semantic"


class BudgetExceeded(_Classed):
    """The run has spent its budget: no new step may begin."""

    CLASS = "budget_exceeded"


class PartialCompletion(_Classed):
    """The workflow returned without every step of its manifest."""

    CLASS = "partial_completion"


class Nondeterminism(_Classed):
    """The workflow called another step than its log recorded at that sequence."""

    CLASS = "nondeterminism"


class CompensationFailed(_Classed):
    """Undoing a completed step failed."""

    CLASS = "compensation_failed"


class Cancelled(_Classed):
    """The run was stopped on purpose."""

    CLASS = "cancelled"


class KlaxonError(Exception):
    """An error of the SDK or of its exchange with the server (not a workflow's failure)."""


class TransportError(KlaxonError):
    """The server could not be reached, or answered something that is not the protocol."""


class ProblemError(KlaxonError):
    """The server refused a request with an ``application/problem+json`` answer."""

    TYPE: str = ""

    def __init__(self, status: int, type_: str, title: str, detail: str) -> None:
        super().__init__(f"{status} {title}: {detail}" if detail else f"{status} {title}")
        self.status = status
        self.type = type_
        self.title = title
        self.detail = detail


class LeaseLost(ProblemError):
    """The run is no longer this worker's: another took it over, or it was cancelled."""

    TYPE = "urn:klaxon:problem:lease-lost"


class StepExists(LeaseLost):
    """The step was recorded by an earlier attempt: treated as a lost lease."""

    TYPE = "urn:klaxon:problem:step-exists"


class NondeterminismProblem(ProblemError):
    """The server's log holds another step at this sequence."""

    TYPE = "urn:klaxon:problem:nondeterminism"


class ManifestConflict(ProblemError):
    """A registration conflicts with the stored one of the same name and version."""

    TYPE = "urn:klaxon:problem:manifest-conflict"


class InvalidRequest(ProblemError):
    """The request is malformed; ``detail`` names the field."""

    TYPE = "urn:klaxon:problem:invalid"


class InvalidOutput(ProblemError):
    """An output fails its registered JSON Schema."""

    TYPE = "urn:klaxon:problem:invalid-output"


class NotFound(ProblemError):
    """No such run (or entry)."""

    TYPE = "urn:klaxon:problem:not-found"


class UnknownWorkflow(NotFound):
    """The workflow was never registered."""

    TYPE = "urn:klaxon:problem:unknown-workflow"


class SignalRefused(ProblemError):
    """A signal the run would not take, nothing recorded: the run ended, waits on
    that name for a timer or an approval, keeps a signal of that name already,
    or its workflow's manifest has no step of that name."""

    TYPE = "urn:klaxon:problem:signal-refused"


class NotApprover(ProblemError):
    """The approval request does not name this client's token among its approvers."""

    TYPE = "urn:klaxon:problem:not-approver"


def go_duration(seconds: float) -> str:
    """A duration written as Go writes one (300ms, 1.5s, 2m0s), so that a
    timeout reads the same in every language's runs."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{int(minutes)}m{rest:g}s"
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}h{minutes}m{rest:g}s"
