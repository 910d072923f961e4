"""Reading model calls by duck typing: usage and errors of OpenAI and Anthropic.

Works on the response and error objects of the official ``openai`` and
``anthropic`` packages and on plain dicts of their wire formats, without
importing either package. Usage is counted as Go's ``llm`` adapters count it:
OpenAI's ``prompt_tokens`` include its cached tokens; Anthropic's input is
``input_tokens + cache_read_input_tokens + cache_creation_input_tokens``, of
which ``cache_read_input_tokens`` are cached.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any, Mapping, cast

from .errors import ContextOverflow, Failure, Permanent, PolicyViolation, RateLimited, Transient
from .protocol import ModelCall

__all__ = ["read_usage", "jsonable_response", "classify_model_error", "retry_after_seconds"]


def _get(obj: object, name: str) -> Any:
    """``obj[name]`` for a mapping, ``obj.name`` otherwise; ``None`` when absent."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return cast(Mapping[str, Any], obj).get(name)
    return getattr(obj, name, None)


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    return 0


def read_usage(response: object, *, provider: str | None = None, model: str | None = None) -> ModelCall | None:
    """The model call a response reports, or ``None`` when it carries no usage."""
    usage = _get(response, "usage")
    if usage is None:
        return None
    model = model or str(_get(response, "model") or "") or "unknown"
    if _get(usage, "prompt_tokens") is not None or _get(usage, "completion_tokens") is not None:
        # OpenAI chat completions.
        cached = _int(_get(_get(usage, "prompt_tokens_details"), "cached_tokens"))
        return ModelCall(
            provider=provider or "openai",
            model=model,
            input_tokens=_int(_get(usage, "prompt_tokens")),
            output_tokens=_int(_get(usage, "completion_tokens")),
            cached_input_tokens=cached,
        )
    if _get(usage, "input_tokens_details") is not None or (provider or "") == "openai":
        # OpenAI responses API: input_tokens include the cached ones.
        return ModelCall(
            provider=provider or "openai",
            model=model,
            input_tokens=_int(_get(usage, "input_tokens")),
            output_tokens=_int(_get(usage, "output_tokens")),
            cached_input_tokens=_int(_get(_get(usage, "input_tokens_details"), "cached_tokens")),
        )
    if _get(usage, "input_tokens") is not None or _get(usage, "output_tokens") is not None:
        # Anthropic messages: input_tokens exclude the cache reads and writes.
        read = _int(_get(usage, "cache_read_input_tokens"))
        written = _int(_get(usage, "cache_creation_input_tokens"))
        return ModelCall(
            provider=provider or "anthropic",
            model=model,
            input_tokens=_int(_get(usage, "input_tokens")) + read + written,
            output_tokens=_int(_get(usage, "output_tokens")),
            cached_input_tokens=read,
        )
    return None


def jsonable_response(response: object) -> dict[str, Any]:
    """The response as a JSON-able dict: ``model_dump()``, else ``to_dict()``, else ``vars()``."""
    if isinstance(response, Mapping):
        data: object = dict(cast(Mapping[str, Any], response))
    else:
        dump = getattr(response, "model_dump", None)
        to_dict = getattr(response, "to_dict", None)
        if callable(dump):
            try:
                data = dump(mode="json")
            except TypeError:
                data = dump()
        elif callable(to_dict):
            data = to_dict()
        else:
            try:
                data = dict(vars(response))
            except TypeError:
                data = {"value": response}
    value = json.loads(json.dumps(data, default=_fallback))
    if not isinstance(value, dict):
        return {"value": value}
    return cast(dict[str, Any], value)


def _fallback(value: object) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump()
    if hasattr(value, "__dict__"):
        return vars(value)
    return str(value)


def _header(headers: object, name: str) -> str | None:
    if headers is None:
        return None
    get = getattr(headers, "get", None)
    if callable(get):
        for key in (name, name.lower(), name.title()):
            value = get(key)
            if value is not None:
                return str(value)
    if isinstance(headers, Mapping):
        for key, value in cast(Mapping[Any, Any], headers).items():
            if str(key).lower() == name.lower():
                return str(value)
    return None


def retry_after_seconds(headers: object) -> float | None:
    """``retry-after-ms``, or ``Retry-After`` in seconds or as an HTTP date; ``None`` when absent."""
    millis = _header(headers, "retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = _header(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _status(exc: object) -> int:
    for name in ("status_code", "status", "http_status"):
        value = _get(exc, name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    response = _get(exc, "response")
    value = _get(response, "status_code") if response is not None else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return 0


def _codes(exc: object) -> set[str]:
    """The error's code and type, from the exception's fields and its body."""
    found: set[str] = set()
    for source in (exc, _get(exc, "body"), _get(_get(exc, "body"), "error"), _get(exc, "error")):
        for name in ("code", "type"):
            value = _get(source, name)
            if isinstance(value, str) and value:
                found.add(value.lower())
    return found


_OVERFLOW_WORDS = ("context_length_exceeded", "context length", "context window", "prompt is too long", "too many tokens")
_POLICY_CODES = ("content_filter", "content_policy_violation", "content_policy", "safety", "moderation")


def classify_model_error(exc: BaseException) -> BaseException:
    """The failure a provider's error means, or ``exc`` itself when it says nothing known.

    429 → :class:`RateLimited` (with the response's Retry-After),
    ``context_length_exceeded`` → :class:`ContextOverflow`, a content filter or
    policy refusal → :class:`PolicyViolation`, other 4xx → :class:`Permanent`
    (408 and 409 → :class:`Transient`), 5xx → :class:`Transient`.
    """
    if isinstance(exc, Failure):
        return exc
    status = _status(exc)
    codes = _codes(exc)
    message = str(exc) or type(exc).__name__
    lowered = message.lower()
    if status == 429 or "rate_limit_error" in codes or "rate_limit_exceeded" in codes:
        response = _get(exc, "response")
        headers = _get(response, "headers") if response is not None else None
        if headers is None:
            headers = _get(exc, "headers")
        return RateLimited(message, retry_after=retry_after_seconds(headers))
    if any(word in code for code in codes for word in _OVERFLOW_WORDS) or any(w in lowered for w in _OVERFLOW_WORDS):
        return ContextOverflow(message)
    if any(word in code for code in codes for word in _POLICY_CODES) or "content filter" in lowered or "content_filter" in lowered:
        return PolicyViolation(message)
    if status >= 500 or "overloaded_error" in codes or "api_error" in codes:
        return Transient(message)
    if status in (408, 409):
        return Transient(message)
    if 400 <= status < 500:
        return Permanent(message)
    return exc
