"""Klaxon's Python SDK: host durable AI-agent workflows for a Klaxon server.

    import klaxon

    worker = klaxon.Worker(server="http://127.0.0.1:7070", concurrency=16)

    @worker.workflow("summarize", expect_steps=["fetch", "summarize"])
    def summarize(ctx: klaxon.Context, url: str) -> str:
        page = ctx.step("fetch", lambda: fetch(url))
        return ctx.step("summarize", lambda: call_model(page))

    worker.run()
"""

from .children import ChildFailed, ChildRun
from .client import Attempt, ChildLink, Client, DeadLetter, Event, Run, RunDetail, RunFailure, StepRecord
from .context import PANIC_TYPES, Context
from .errors import (
    FAILURE_CLASSES,
    BudgetExceeded,
    Cancelled,
    CompensationFailed,
    ContextOverflow,
    DeadlineExceeded,
    Failure,
    InvalidOutput,
    InvalidRequest,
    KlaxonError,
    LeaseLost,
    ManifestConflict,
    Nondeterminism,
    NotApprover,
    NotFound,
    PartialCompletion,
    Permanent,
    PolicyViolation,
    ProblemError,
    RateLimited,
    Semantic,
    SignalRefused,
    StepExists,
    Timeout,
    Transient,
    TransportError,
    UnknownWorkflow,
    WaitTimedOut,
)
from .model_calls import classify_model_error, jsonable_response, read_usage
from .policy import Budget, RetryPolicy
from .protocol import ModelCall
from .rate_limits import RateLimitGrant
from .waits import ApprovalDecision, ApprovalRequest, Signal, SignalResult, Wait
from .worker import SDK_VERSION, Worker

__version__ = SDK_VERSION

__all__ = [
    "Worker",
    "Context",
    "Client",
    "Budget",
    "RetryPolicy",
    "ModelCall",
    "RateLimitGrant",
    "ApprovalDecision",
    "ApprovalRequest",
    "Wait",
    "Signal",
    "SignalResult",
    "Run",
    "RunDetail",
    "ChildLink",
    "RunFailure",
    "StepRecord",
    "Attempt",
    "Event",
    "DeadLetter",
    "FAILURE_CLASSES",
    "PANIC_TYPES",
    "Failure",
    "Transient",
    "RateLimited",
    "Timeout",
    "DeadlineExceeded",
    "WaitTimedOut",
    "ChildFailed",
    "ChildRun",
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
    "ManifestConflict",
    "InvalidRequest",
    "InvalidOutput",
    "NotFound",
    "UnknownWorkflow",
    "SignalRefused",
    "NotApprover",
    "read_usage",
    "jsonable_response",
    "classify_model_error",
    "SDK_VERSION",
    "__version__",
]
