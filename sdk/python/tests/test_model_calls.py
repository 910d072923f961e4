"""Reading usage and errors of OpenAI and Anthropic responses by duck typing (no server needed)."""

from __future__ import annotations

import unittest
from dataclasses import dataclass, field
from typing import Any

import harness  # pyright: ignore[reportUnusedImport]  # puts the SDK on sys.path

import klaxon


@dataclass
class _PromptDetails:
    cached_tokens: int


@dataclass
class _OpenAIUsage:
    prompt_tokens: int
    completion_tokens: int
    prompt_tokens_details: _PromptDetails


@dataclass
class _OpenAICompletion:
    """Shaped like openai.types.chat.ChatCompletion (a pydantic model)."""

    model: str
    usage: _OpenAIUsage
    choices: list[dict[str, Any]] = field(default_factory=lambda: list[dict[str, Any]]())

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        return {"model": self.model, "choices": self.choices, "usage": {"prompt_tokens": self.usage.prompt_tokens}}


class _Response:
    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status_code = status
        self.headers = headers


class _APIStatusError(Exception):
    """Shaped like openai.APIStatusError / anthropic.APIStatusError."""

    def __init__(self, message: str, status: int, body: Any = None, code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status
        self.body = body
        self.code = code
        self.response = _Response(status, headers or {})


class UsageTest(unittest.TestCase):
    def test_openai_dict(self) -> None:
        call = klaxon.read_usage(
            {"model": "gpt-4o-mini", "usage": {"prompt_tokens": 10, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 4}}}
        )
        self.assertEqual(call, klaxon.ModelCall("openai", "gpt-4o-mini", 10, 3, 4))

    def test_openai_object_and_its_dump(self) -> None:
        response = _OpenAICompletion("gpt-4o", _OpenAIUsage(7, 2, _PromptDetails(1)))
        self.assertEqual(klaxon.read_usage(response), klaxon.ModelCall("openai", "gpt-4o", 7, 2, 1))
        self.assertEqual(klaxon.jsonable_response(response)["usage"], {"prompt_tokens": 7})

    def test_anthropic_dict_counts_cache_reads_and_writes_as_input(self) -> None:
        call = klaxon.read_usage(
            {
                "type": "message",
                "model": "claude-sonnet-4",
                "usage": {"input_tokens": 5, "output_tokens": 9, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 20},
            }
        )
        self.assertEqual(call, klaxon.ModelCall("anthropic", "claude-sonnet-4", 125, 9, 100))

    def test_no_usage(self) -> None:
        self.assertIsNone(klaxon.read_usage({"model": "x"}))

    def test_vars_when_there_is_no_dump(self) -> None:
        class Plain:
            def __init__(self) -> None:
                self.text = "hi"

        self.assertEqual(klaxon.jsonable_response(Plain()), {"text": "hi"})


class ErrorTest(unittest.TestCase):
    def test_429_is_rate_limited_with_retry_after(self) -> None:
        failure = klaxon.classify_model_error(_APIStatusError("slow down", 429, headers={"retry-after": "7"}))
        assert isinstance(failure, klaxon.RateLimited)
        self.assertEqual(failure.retry_after, 7.0)

    def test_retry_after_ms(self) -> None:
        failure = klaxon.classify_model_error(_APIStatusError("slow down", 429, headers={"retry-after-ms": "1500"}))
        assert isinstance(failure, klaxon.RateLimited)
        self.assertEqual(failure.retry_after, 1.5)

    def test_context_length_exceeded_is_context_overflow(self) -> None:
        exc = _APIStatusError("too long", 400, code="context_length_exceeded")
        self.assertIsInstance(klaxon.classify_model_error(exc), klaxon.ContextOverflow)

    def test_anthropic_prompt_too_long(self) -> None:
        body = {"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long: 300000 tokens"}}
        exc = _APIStatusError("prompt is too long: 300000 tokens > 200000 maximum", 400, body=body)
        self.assertIsInstance(klaxon.classify_model_error(exc), klaxon.ContextOverflow)

    def test_content_filter_is_policy_violation(self) -> None:
        exc = _APIStatusError("refused", 400, code="content_filter")
        self.assertIsInstance(klaxon.classify_model_error(exc), klaxon.PolicyViolation)

    def test_400_is_permanent_and_5xx_transient(self) -> None:
        self.assertIsInstance(klaxon.classify_model_error(_APIStatusError("bad", 400)), klaxon.Permanent)
        self.assertIsInstance(klaxon.classify_model_error(_APIStatusError("down", 503)), klaxon.Transient)
        self.assertIsInstance(klaxon.classify_model_error(_APIStatusError("overloaded", 529)), klaxon.Transient)

    def test_an_unknown_error_is_left_alone(self) -> None:
        exc = ValueError("x")
        self.assertIs(klaxon.classify_model_error(exc), exc)


if __name__ == "__main__":
    unittest.main()
