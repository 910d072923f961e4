"""The Klaxon demo's document pipeline, in Python: extract, classify, enrich, transform, store.

The same workflow as the Go demo's (cmd/klaxon/demo/pipeline.go): the same
name, version, step manifest, retry policy, budget and validators, so runs
enqueued by either demo can be worked by either language. classify and enrich
ask an OpenAI-compatible model (the demo's fake server by default) over
urllib, in the chat-completions wire format.

    python3 document_pipeline.py --server http://127.0.0.1:7070 --model-url http://127.0.0.1:PORT/v1

``klaxon demo --workers python`` starts it for you. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
import urllib.error
import urllib.request
from typing import Any, Callable, cast

import klaxon

WORKFLOW = "process-document"
STEPS = ["extract", "classify", "enrich", "transform", "store"]
CATEGORIES = ["invoice", "contract", "report", "email"]
# The model sometimes invents a SKU that is not in the catalogue.
CATALOGUE = ["SKU-1001", "SKU-1002", "SKU-2040", "SKU-3300", "SKU-4711"]
LOOKUP_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_catalogue",
        "description": "Search the product catalogue. Results come a page at a time.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "page": {"type": "integer", "minimum": 1}},
            "required": ["query"],
        },
    },
}


class ModelAPIError(Exception):
    """An error answer of an OpenAI-compatible server, shaped like the ``openai`` package's.

    ``klaxon`` reads ``status_code``, ``code``, ``type`` and ``headers`` by duck
    typing: 429 becomes ``RateLimited`` with the Retry-After,
    ``context_length_exceeded`` ``ContextOverflow``, a content filter
    ``PolicyViolation``, 5xx ``Transient``.
    """

    def __init__(self, status_code: int, error: dict[str, Any], headers: Any) -> None:
        super().__init__(f"{status_code}: {error.get('message') or 'model server error'}")
        self.status_code = status_code
        self.code = error.get("code")
        self.type = error.get("type")
        self.body = {"error": error}
        self.headers = headers


class Model:
    """An OpenAI-compatible chat-completions endpoint, and the demo's buggy client code around it."""

    def __init__(self, base_url: str, name: str, api_key: str, timeout: float, panic_rate: float, seed: int) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.name = name
        self.api_key = api_key
        self.timeout = timeout
        self.panic_rate = panic_rate
        self._rand = random.Random(seed or None)
        self._lock = threading.Lock()

    def complete(self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """One chat completion as the wire format's dict; an error answer raises ModelAPIError."""
        with self._lock:
            crash = self._rand.random() < self.panic_rate
        if crash:
            # A bug in the client code: reported as a panic, permanent, as in the Go demo.
            raise AttributeError("simulated model client bug: nil response body")
        body: dict[str, Any] = {"model": self.name, "messages": [{"role": "system", "content": system}, *messages]}
        if tools:
            body["tools"] = tools
        request = urllib.request.Request(
            self.url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"},
            method="POST",
        )
        try:
            # A little over the step's timeout: the abandoned call ends soon after.
            with urllib.request.urlopen(request, timeout=self.timeout + 1) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            error: dict[str, Any] = {}
            try:
                parsed: Any = json.loads(exc.read())
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                inner: Any = cast(dict[str, Any], parsed).get("error")
                if isinstance(inner, dict):
                    error = cast(dict[str, Any], inner)
            raise ModelAPIError(exc.code, error, exc.headers) from None


def choose(answer: str, choices: list[str]) -> str | None:
    """The choice an answer names, forgiving case, spaces, quotes and a final full stop."""
    trimmed = answer.strip().strip(".\"'` ")
    for choice in choices:
        if trimmed.lower() == choice.lower():
            return choice
    return None


def one_of(choices: list[str]) -> Callable[[str], klaxon.Semantic | None]:
    def validate(answer: str) -> klaxon.Semantic | None:
        if choose(answer, choices) is None:
            return klaxon.Semantic(f"model answered {answer[:40]!r}, which is not one of {', '.join(choices)}")
        return None

    return validate


def _message(response: dict[str, Any]) -> dict[str, Any]:
    choices: list[dict[str, Any]] = response.get("choices") or [{}]
    message: dict[str, Any] = choices[0].get("message") or {}
    return message


def content_of(response: dict[str, Any]) -> str:
    content: str = _message(response).get("content") or ""
    return content


def tool_calls_of(response: dict[str, Any]) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = _message(response).get("tool_calls") or []
    return calls


def search_catalogue(arguments: str) -> dict[str, Any]:
    """lookup_catalogue: a page of products, and always a next page."""
    query: dict[str, Any] = json.loads(arguments or "{}")
    page = max(int(query.get("page") or 1), 1)
    results: list[dict[str, Any]] = []
    for i in range(16):
        sku = CATALOGUE[i] if page == 1 and i < len(CATALOGUE) else f"SKU-{5000 + page * 100 + i}"
        results.append({"sku": sku, "name": f"Product line {page}, model {i}",
                        "description": "A product of the catalogue, with a description long enough to cost tokens when a model reads it."})
    return {"query": query.get("query", ""), "page": page, "results": results, "next_page": page + 1}


def build_worker(args: argparse.Namespace) -> klaxon.Worker:
    model = Model(args.model_url, args.model, args.api_key, args.step_timeout, args.panic_rate, args.seed)
    worker = klaxon.Worker(server=args.server, token=args.token, concurrency=args.concurrency, lease=3, claim_wait=1.0,
                           grace_period=5.0)

    def ask(ctx: klaxon.Context, step: str, system: str, user: str, choices: list[str]) -> str:
        """A model call as a step whose output is the answer, as in the Go demo, so that a person
        resolving it from the dead-letter queue supplies the answer ("invoice"). Its usage is
        recorded for the server to price, and provider errors become failure classes."""

        def call() -> str:
            try:
                response = model.complete(system, [{"role": "user", "content": user}])
            except ModelAPIError as exc:
                raise klaxon.classify_model_error(exc) from exc
            usage = klaxon.read_usage(response, provider="openai", model=model.name)
            if usage is not None:
                ctx.record_spend(provider=usage.provider, model=usage.model, input_tokens=usage.input_tokens,
                                 output_tokens=usage.output_tokens, cached_input_tokens=usage.cached_input_tokens)
            answer = content_of(response)
            return choose(answer, choices) or answer

        return ctx.step(step, call, timeout=args.step_timeout, validate=one_of(choices))

    def look_up_product(ctx: klaxon.Context, user: str) -> str:
        """enrich as an agent: each turn a recorded model call named enrich, each tool call a step,
        until the model names a product. The fake model never stops: the run's budget stops it."""
        system = ("You match documents to the product catalogue. The document names no product: search the catalogue with "
                  "lookup_catalogue, then answer with exactly one of: " + ", ".join(CATALOGUE) + ". Nothing else.")
        messages: list[dict[str, Any]] = [{"role": "user", "content": user}]
        answer_ok = one_of(CATALOGUE)

        def turn_ok(response: dict[str, Any]) -> klaxon.Semantic | None:
            return None if tool_calls_of(response) else answer_ok(content_of(response))

        while True:
            response = ctx.model_call("enrich", lambda: model.complete(system, messages, [LOOKUP_TOOL]),
                                      provider="openai", model=model.name, timeout=args.step_timeout, validate=turn_ok)
            calls = tool_calls_of(response)
            if not calls:
                return choose(content_of(response), CATALOGUE) or ""
            messages.append({"role": "assistant", "content": content_of(response) or None, "tool_calls": calls})
            for call in calls:
                function: dict[str, Any] = call.get("function") or {}
                call_id, name, arguments = str(call.get("id")), str(function.get("name")), str(function.get("arguments") or "{}")

                def execute_tool() -> dict[str, Any]:
                    # Recorded as a step: a retry replays the result instead of searching again.
                    return {"call_id": call_id, "name": name, "arguments": arguments, "result": search_catalogue(arguments)}

                result = ctx.step("tool:" + name, execute_tool)
                messages.append({"role": "tool", "tool_call_id": call_id, "content": json.dumps(result["result"])})

    @worker.workflow(
        WORKFLOW,
        expect_steps=STEPS,
        retry=klaxon.RetryPolicy(max_attempts=4, initial_backoff=0.05, max_backoff=1.0),
        budget=klaxon.Budget(tokens=5000),
        run_timeout=max(30.0, 10 * args.step_timeout),
    )
    def process_document(ctx: klaxon.Context, doc: dict[str, Any]) -> dict[str, Any]:
        def extract() -> dict[str, Any]:
            normalized = " ".join((str(doc["title"]) + " " + str(doc["text"])).split())
            return {"words": len(normalized.split()), "text": normalized}

        text = ctx.step("extract", extract)
        words: int = text["words"]
        normalized: str = text["text"]
        category = ask(ctx, "classify",
                       "You classify business documents. Answer with exactly one of: " + ", ".join(CATEGORIES) + ". Nothing else.",
                       normalized, CATEGORIES)
        enrich_prompt = "Category: " + category + "\n\n" + normalized
        if doc.get("look_up"):
            product = look_up_product(ctx, enrich_prompt)
        else:
            product = ask(ctx, "enrich",
                          "You match documents to the product catalogue. Answer with exactly one of: " + ", ".join(CATALOGUE) + ". Nothing else.",
                          enrich_prompt, CATALOGUE)
        def transform() -> dict[str, Any]:
            return {"document_id": doc["id"], "category": category, "product": product, "words": words, "stored_as": ""}

        record = ctx.step("transform", transform)

        def store() -> dict[str, Any]:
            # A real store step would hand this key to its database or API, so
            # a write repeated after a crash is recognised as the same write.
            return {**record, "stored_as": "documents/" + ctx.idempotency_key()}

        return ctx.step("store", store)

    return worker


def main() -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--server", default=env("KLAXON_SERVER", "http://127.0.0.1:7070"), help="Klaxon server URL (KLAXON_SERVER)")
    parser.add_argument("--token", default=env("KLAXON_TOKEN"), help="a worker token (KLAXON_TOKEN); the demo's server needs none")
    parser.add_argument("--model-url", default=env("KLAXON_DEMO_MODEL_URL"), required=env("KLAXON_DEMO_MODEL_URL") is None,
                        help="OpenAI-compatible base URL with its /v1 (KLAXON_DEMO_MODEL_URL)")
    parser.add_argument("--model", default=env("KLAXON_DEMO_MODEL", "gpt-4o-mini"), help="model named in requests (KLAXON_DEMO_MODEL)")
    parser.add_argument("--api-key", default=env("OPENAI_API_KEY", "sk-klaxon-demo"), help="sent as Bearer (OPENAI_API_KEY)")
    parser.add_argument("--step-timeout", type=float, default=0.25, help="seconds per model call (the fake server: 0.25)")
    parser.add_argument("--panic-rate", type=float, default=0.01, help="chance the client code crashes (a panic)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated crashes (0: random)")
    parser.add_argument("--concurrency", type=int, default=16, help="runs worked at once")
    args = parser.parse_args()
    worker = build_worker(args)
    print(f"document_pipeline.py: worker {worker.worker_id} for {args.server}, model at {args.model_url}", flush=True)
    worker.run()


if __name__ == "__main__":
    main()
