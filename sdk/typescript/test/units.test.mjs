// Pure functions, without a server: durations as Go writes them, error kinds,
// and the OpenAI and Anthropic shapes read by duck typing.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ContextOverflow,
  DeadlineExceeded,
  Failure,
  Permanent,
  PolicyViolation,
  RateLimited,
  Transient,
  classifyModelError,
  errorInfo,
  goDuration,
  readUsage,
} from "../dist/index.js";

test("durations are written as Go writes them", () => {
  assert.equal(goDuration(300), "300ms");
  assert.equal(goDuration(1500), "1.5s");
  assert.equal(goDuration(30_000), "30s");
  assert.equal(goDuration(90_000), "1m30s");
  assert.equal(goDuration(120_000), "2m0s");
  assert.equal(goDuration(3_600_000), "1h0m0s");
});

test("failure classes are checked and carried as failureClass", () => {
  assert.equal(new Permanent("x").failureClass, "permanent");
  assert.equal(new Permanent("x").name, "Permanent");
  assert.equal(new RateLimited("slow down", 1500).retryAfterMs, 1500);
  assert.throws(() => new Failure("nope", "x"), TypeError);
  assert.ok(new DeadlineExceeded("t") instanceof Failure);
});

test("error kinds: failure, timeout, panic, error", () => {
  assert.equal(errorInfo(new Transient("x")).kind, "failure");
  assert.equal(errorInfo(new RateLimited("x", 1200)).retryAfterMs, 1200);
  assert.equal(errorInfo(new DeadlineExceeded("t")).kind, "timeout");
  assert.equal(errorInfo(new TypeError("x is not a function")).kind, "panic");
  assert.equal(errorInfo(new RangeError("bad")).kind, "panic");
  assert.equal(errorInfo(new TypeError("fetch failed", { cause: new Error("ECONNREFUSED") })).kind, "error");
  assert.equal(errorInfo(new Error("connection reset by peer")).kind, "error");
  const info = errorInfo("a string", "step", 3);
  assert.deepEqual([info.kind, info.message, info.step, info.seq], ["error", "a string", "step", 3]);
});

test("usage of OpenAI chat completions, the responses API and Anthropic messages", () => {
  assert.deepEqual(
    readUsage({ model: "gpt-4o-mini", usage: { prompt_tokens: 100, completion_tokens: 20, prompt_tokens_details: { cached_tokens: 40 } } }),
    { provider: "openai", model: "gpt-4o-mini", inputTokens: 100, outputTokens: 20, cachedInputTokens: 40 },
  );
  assert.deepEqual(
    readUsage({ model: "gpt-4.1", usage: { input_tokens: 50, output_tokens: 5, input_tokens_details: { cached_tokens: 10 } } }),
    { provider: "openai", model: "gpt-4.1", inputTokens: 50, outputTokens: 5, cachedInputTokens: 10 },
  );
  assert.deepEqual(
    readUsage({
      model: "claude-sonnet-4-5",
      usage: { input_tokens: 10, output_tokens: 7, cache_read_input_tokens: 100, cache_creation_input_tokens: 5 },
    }),
    { provider: "anthropic", model: "claude-sonnet-4-5", inputTokens: 115, outputTokens: 7, cachedInputTokens: 100 },
  );
  assert.equal(readUsage({ choices: [] }), undefined);
});

test("provider errors become failure classes", () => {
  const err = (status, extra = {}) => Object.assign(new Error(`${status} error`), { status }, extra);
  // OpenAI Node SDK: headers as a Headers object; Anthropic's: a plain record.
  const limited = classifyModelError(err(429, { headers: new Headers({ "retry-after": "2" }) }));
  assert.ok(limited instanceof RateLimited);
  assert.equal(limited.retryAfterMs, 2000);
  assert.equal(classifyModelError(err(429, { headers: { "retry-after-ms": "250" } })).retryAfterMs, 250);
  assert.ok(classifyModelError(err(400, { error: { code: "context_length_exceeded" } })) instanceof ContextOverflow);
  assert.ok(classifyModelError(err(400, { error: { type: "error", error: { type: "invalid_request_error", message: "prompt is too long" } } })) instanceof Permanent);
  assert.ok(classifyModelError(Object.assign(new Error("prompt is too long: 210000 tokens"), { status: 400 })) instanceof ContextOverflow);
  assert.ok(classifyModelError(err(400, { code: "content_filter" })) instanceof PolicyViolation);
  assert.ok(classifyModelError(err(529, { error: { type: "error", error: { type: "overloaded_error" } } })) instanceof Transient);
  assert.ok(classifyModelError(err(503)) instanceof Transient);
  assert.ok(classifyModelError(err(401)) instanceof Permanent);
  const plain = new Error("something else");
  assert.equal(classifyModelError(plain), plain);
});
