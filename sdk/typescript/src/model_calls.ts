/**
 * Reading model calls by duck typing: usage and errors of the OpenAI and
 * Anthropic Node SDKs (mirrors sdk/python/klaxon/model_calls.py).
 *
 * Works on the response and error objects of the official `openai` and
 * `@anthropic-ai/sdk` packages and on plain objects of their wire formats,
 * without importing either package. Usage is counted as Go's `llm` adapters
 * count it: OpenAI's `prompt_tokens` include its cached tokens; Anthropic's
 * input is `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`,
 * of which `cache_read_input_tokens` are cached.
 */

import { ContextOverflow, Failure, Permanent, PolicyViolation, RateLimited, Transient } from "./errors.js";
import type { JSONValue, ModelCall } from "./protocol.js";

function get(obj: unknown, name: string): unknown {
  if (obj === null || obj === undefined || (typeof obj !== "object" && typeof obj !== "function")) return undefined;
  return (obj as Record<string, unknown>)[name];
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? Math.trunc(value) : 0;
}

/** The model call a response reports, or `undefined` when it carries no usage. */
export function readUsage(response: unknown, provider?: string, model?: string): ModelCall | undefined {
  const usage = get(response, "usage");
  if (usage === undefined || usage === null) return undefined;
  const name = model || (typeof get(response, "model") === "string" ? (get(response, "model") as string) : "") || "unknown";
  if (get(usage, "prompt_tokens") != null || get(usage, "completion_tokens") != null) {
    // OpenAI chat completions.
    return {
      provider: provider || "openai",
      model: name,
      inputTokens: num(get(usage, "prompt_tokens")),
      outputTokens: num(get(usage, "completion_tokens")),
      cachedInputTokens: num(get(get(usage, "prompt_tokens_details"), "cached_tokens")),
    };
  }
  if (get(usage, "input_tokens_details") != null || provider === "openai") {
    // OpenAI responses API: input_tokens include the cached ones.
    return {
      provider: provider || "openai",
      model: name,
      inputTokens: num(get(usage, "input_tokens")),
      outputTokens: num(get(usage, "output_tokens")),
      cachedInputTokens: num(get(get(usage, "input_tokens_details"), "cached_tokens")),
    };
  }
  if (get(usage, "input_tokens") != null || get(usage, "output_tokens") != null) {
    // Anthropic messages: input_tokens exclude the cache reads and writes.
    const read = num(get(usage, "cache_read_input_tokens"));
    const written = num(get(usage, "cache_creation_input_tokens"));
    return {
      provider: provider || "anthropic",
      model: name,
      inputTokens: num(get(usage, "input_tokens")) + read + written,
      outputTokens: num(get(usage, "output_tokens")),
      cachedInputTokens: read,
    };
  }
  return undefined;
}

/** The response as a JSON object (what a replay of the step returns). */
export function jsonableResponse(response: unknown): { [key: string]: JSONValue } {
  let value: unknown;
  try {
    value = JSON.parse(JSON.stringify(response ?? null)) as unknown;
  } catch {
    value = String(response);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { value: value as JSONValue };
  return value as { [key: string]: JSONValue };
}

function header(headers: unknown, name: string): string | undefined {
  if (headers === null || headers === undefined) return undefined;
  const getter = get(headers, "get");
  if (typeof getter === "function") {
    const value: unknown = (getter as (key: string) => unknown).call(headers, name);
    if (value !== null && value !== undefined) return String(value);
  }
  if (typeof headers === "object") {
    for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
      if (key.toLowerCase() === name.toLowerCase() && value !== undefined && value !== null) return String(value);
    }
  }
  return undefined;
}

/** `retry-after-ms`, or `Retry-After` in seconds or as an HTTP date, in milliseconds; `undefined` when absent. */
export function retryAfterMs(headers: unknown): number | undefined {
  const millis = header(headers, "retry-after-ms");
  if (millis !== undefined && Number.isFinite(Number(millis))) return Math.max(0, Number(millis));
  const value = header(headers, "retry-after");
  if (value === undefined) return undefined;
  if (value.trim() !== "" && Number.isFinite(Number(value))) return Math.max(0, Number(value) * 1000);
  const when = Date.parse(value);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, when - Date.now());
}

function status(error: unknown): number {
  for (const name of ["status", "statusCode", "status_code"]) {
    const value = get(error, name);
    if (typeof value === "number" && Number.isInteger(value)) return value;
  }
  const value = get(get(error, "response"), "status");
  return typeof value === "number" && Number.isInteger(value) ? value : 0;
}

/** The error's code and type, from the error's fields and its body. */
function codes(error: unknown): Set<string> {
  const found = new Set<string>();
  const body = get(error, "error");
  for (const source of [error, body, get(body, "error"), get(error, "body")]) {
    for (const name of ["code", "type"]) {
      const value = get(source, name);
      if (typeof value === "string" && value) found.add(value.toLowerCase());
    }
  }
  return found;
}

const OVERFLOW_WORDS = ["context_length_exceeded", "context length", "context window", "prompt is too long", "too many tokens"];
const POLICY_CODES = ["content_filter", "content_policy_violation", "content_policy", "safety", "moderation"];

/**
 * The failure a provider's error means, or the error itself when it says nothing known.
 *
 * 429 → {@link RateLimited} (with the response's Retry-After),
 * `context_length_exceeded` → {@link ContextOverflow}, a content filter or
 * policy refusal → {@link PolicyViolation}, other 4xx → {@link Permanent}
 * (408 and 409 → {@link Transient}), 5xx → {@link Transient}.
 */
export function classifyModelError(error: unknown): unknown {
  if (error instanceof Failure) return error;
  const code = status(error);
  const found = codes(error);
  const message = error instanceof Error ? error.message || error.name : String(error);
  const lowered = message.toLowerCase();
  const options = { cause: error };
  const has = (words: readonly string[]): boolean => [...found].some((c) => words.some((w) => c.includes(w)));
  if (code === 429 || found.has("rate_limit_error") || found.has("rate_limit_exceeded")) {
    let headers = get(error, "headers");
    if (headers === undefined || headers === null) headers = get(get(error, "response"), "headers");
    return new RateLimited(message, retryAfterMs(headers), options);
  }
  if (has(OVERFLOW_WORDS) || OVERFLOW_WORDS.some((w) => lowered.includes(w))) return new ContextOverflow(message, options);
  if (has(POLICY_CODES) || lowered.includes("content filter") || lowered.includes("content_filter")) {
    return new PolicyViolation(message, options);
  }
  if (code >= 500 || found.has("overloaded_error") || found.has("api_error")) return new Transient(message, options);
  if (code === 408 || code === 409) return new Transient(message, options);
  if (code >= 400 && code < 500) return new Permanent(message, options);
  return error;
}
